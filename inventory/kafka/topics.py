"""The contract topics: created if missing, idempotently, once the brokers answer.

A command that needs Kafka fails within ``INVENTORY_KAFKA_CONNECT_TIMEOUT_SECONDS`` when
no broker answers, with one line naming the address and where it came from
(:class:`BrokersUnreachable`, exit 1)."""

from __future__ import annotations

import logging
import time
from typing import Any

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from inventory.core.errors import InventoryError
from inventory.core.settings import Settings
from inventory.kafka.config import admin_config, kafka_connection
from inventory.kafka.librdkafka_log import LibrdkafkaLog

logger = logging.getLogger(__name__)

# the changelog topics keep the latest message per key (Kafka's log compaction)
COMPACTED = {"cleanup.policy": "compact"}
# hold decisions: the latest per reservation, for a week (a hold lasts at most one)
DECISIONS = {"cleanup.policy": "compact,delete", "retention.ms": str(7 * 24 * 3_600_000)}
# forecast versions: each (warehouse, sku, version) once, for 60 days
FORECASTS = {"cleanup.policy": "compact,delete", "retention.ms": str(60 * 24 * 3_600_000)}


def _metadata(admin: AdminClient, settings: Settings, brokers: str, log: LibrdkafkaLog) -> Any:
    """The cluster's metadata, asked in short tries until
    ``INVENTORY_KAFKA_CONNECT_TIMEOUT_SECONDS`` (librdkafka's log lines are served
    between them); raises :class:`BrokersUnreachable`."""
    wait = settings.kafka_connect_timeout_seconds
    deadline = time.monotonic() + wait
    while True:
        try:
            return admin.list_topics(timeout=max(min(1.0, deadline - time.monotonic()), 0.1))
        except KafkaException as exc:
            admin.poll(0)
            if time.monotonic() < deadline:
                continue
            where = (
                "the local broker (`inventory broker status`)"
                if settings.use_local_broker
                else "INVENTORY_KAFKA_BROKERS"
            )
            reason = log.last_error or exc.args[0].str()
            raise BrokersUnreachable(
                f"no Kafka broker answered at {brokers} ({where}) within {wait:g} s: {reason}"
            ) from None


class BrokersUnreachable(InventoryError):  # noqa: N818 (a state, not a failure)
    """No Kafka broker answered at the configured address in time."""


def ensure_topics(settings: Settings, brokers: str, timeout: float = 30.0) -> None:
    """Create the contract topics if missing (idempotent): the stock and catalog
    changelogs with ``cleanup.policy=compact``, the hold decisions compacted and deleted
    after a week, the forecast versions after 60 days; raises :class:`BrokersUnreachable` if no
    broker answers."""
    log = LibrdkafkaLog()
    admin = AdminClient(admin_config(kafka_connection(settings, brokers), logger=log))
    existing = _metadata(admin, settings, brokers, log).topics
    configs: dict[str, dict[str, str]] = {
        settings.events_topic: {},
        settings.alerts_topic: {},
        settings.dlq_topic: {},
        settings.stock_topic: COMPACTED,
        settings.catalog_topic: COMPACTED,
        settings.hold_decisions_topic: DECISIONS,
        settings.forecast_topic: FORECASTS,
    }
    wanted = [
        NewTopic(
            topic,
            num_partitions=settings.topic_partitions,
            replication_factor=1,
            config=config,
        )
        for topic, config in configs.items()
        if topic and topic not in existing
    ]
    if not wanted:
        return
    for topic, future in admin.create_topics(wanted, operation_timeout=timeout).items():
        try:
            future.result(timeout)
            logger.info("created topic %s", topic)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise
