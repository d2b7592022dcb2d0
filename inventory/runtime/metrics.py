"""Prometheus metrics of the dataflow and the availability API (``prometheus-client``).

The dataflow process serves them on ``INVENTORY_METRICS_PORT`` (0: off; compose uses
9108) at ``/metrics``; the availability API serves the same registry at its own
``/metrics`` (with ``run --serve``, the flow's too). Counting is per batch, never per
event on the hot path. Names and labels are part of the contract (docs/contracts.md);
Grafana's pipeline-health dashboard and Prometheus alert queries use them.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from prometheus_client import REGISTRY, Counter, Gauge, Histogram, start_http_server

from inventory.core.reasons import reason_code
from inventory.core.settings import Settings, SettingsError

logger = logging.getLogger(__name__)

MESSAGES_READ = Counter(
    "inventory_messages_read", "Kafka messages read by the dataflow's source", ["topic"]
)
EVENTS_ACCEPTED = Counter(
    "inventory_events_accepted", "Events accepted (decoded, not late, not duplicates)"
)
DEAD_LETTERS = Counter(
    "inventory_dead_letters", "Messages dead-lettered, by reason code", ["reason"]
)
OFF_KEY_EVENTS = Counter(
    "inventory_events_off_key",
    "Decoded events whose Kafka message key is not their warehouse_id:sku (a topic "
    "where this stays 0 keeps each key in one partition: docs/scaling.md)",
)
DUPLICATES_DROPPED = Counter(
    "inventory_duplicates_dropped",
    "Events dropped as duplicates (an event_id the key already accepted)",
)
LATE_EVENTS = Counter("inventory_late_events", "Events dead-lettered as late")
ALERTS = Counter("inventory_alerts", "Alerts raised, by kind", ["kind"])
ROWS_WRITTEN = Counter("inventory_rows_written", "Rows written to ClickHouse", ["table"])
SINK_BATCH_SECONDS = Histogram(
    "inventory_sink_batch_seconds",
    "Time of one ClickHouse insert (one table of one batch), retries included",
    ["table"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
CLICKHOUSE_RETRIES = Counter(
    "inventory_clickhouse_retries", "ClickHouse inserts retried after a transient error", ["table"]
)
CONSUMER_LAG = Gauge(
    "inventory_consumer_lag_messages",
    "Messages between the source's position and the partition's end",
    ["topic", "partition"],
)
SNAPSHOT_KEYS = Counter(
    "inventory_snapshot_keys",
    "(warehouse, sku) key states written by the shards' incremental snapshots and evictions",
)
OFF_SHARD_EVENTS = Counter(
    "inventory_events_off_shard",
    "Events read from a partition other than their key's shard: each crosses Bytewax's "
    "exchange to the shard's worker (0 on a well-keyed topic: docs/scaling.md)",
)
KEYS_IN_STATE = Gauge("inventory_keys_in_state", "(warehouse, sku) keys the dataflow holds")
LAST_SNAPSHOT = Gauge(
    "inventory_last_snapshot_timestamp_seconds", "When the source last took a snapshot"
)
API_REQUESTS = Counter(
    "inventory_api_requests", "Availability API requests, by route and status", ["route", "status"]
)
API_LATENCY = Histogram(
    "inventory_api_request_seconds",
    "Availability API request latency",
    ["route"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1),
)
API_SNAPSHOT_AGE = Gauge(
    "inventory_api_snapshot_age_seconds", "Age of the availability API's stock snapshot"
)
API_TOPIC_LAG = Gauge(
    "inventory_api_topic_lag_messages",
    "Stock changelog messages the availability API has not read yet (all partitions)",
)
API_CHANGE_DELAY = Histogram(
    "inventory_api_change_delay_seconds",
    "From a stock change's publication (its Kafka timestamp) to the API answering with it",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
API_STALE_CHANGES = Counter(
    "inventory_api_stale_changes",
    "Stock changes the availability API ignored: not newer than what it holds (replays)",
)
HOLD_DECISIONS = Counter(
    "inventory_hold_decisions",
    "Decisions on holds (v9), by decision and refusal reason ('' unless refused)",
    ["decision", "reason"],
)
API_DECISION_WAIT = Histogram(
    "inventory_api_decision_wait_seconds",
    "From a cart request produced to the flow's decision on it (or the wait's end)",
    ["outcome"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
ALERT_NOTIFICATIONS = Counter(
    "inventory_alert_notifications", "Grafana alert notifications received, by status", ["status"]
)


def count_dead_letters(errors: list[str]) -> None:
    """Count a batch's dead-letter reasons (late ones also in ``LATE_EVENTS``)."""
    for error in errors:
        reason = reason_code(error)
        DEAD_LETTERS.labels(reason).inc()
        if reason == "late":
            LATE_EVENTS.inc()


_server_lock = threading.Lock()
_server: Any = None


def serve_metrics(settings: Settings, offset: int = 0) -> int | None:
    """Serve ``/metrics`` on ``INVENTORY_METRICS_HOST``:``INVENTORY_METRICS_PORT`` +
    ``offset`` (process k of a local cluster: port + k), once per process; the port, or
    None when off. Raises :class:`SettingsError` if it is taken."""
    global _server
    if settings.metrics_port == 0:
        return None
    port = settings.metrics_port + offset
    with _server_lock:
        if _server is None:
            try:
                _server, _ = start_http_server(port, addr=settings.metrics_host, registry=REGISTRY)
            except OSError as exc:
                raise SettingsError(
                    f"INVENTORY_METRICS_PORT: cannot serve metrics on "
                    f"{settings.metrics_host}:{port} ({exc.strerror})"
                ) from None
            logger.info("metrics on http://%s:%d/metrics", settings.metrics_host, port)
        return int(_server.server_port)
