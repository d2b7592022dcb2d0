"""Prometheus metrics, scraped over HTTP during a real run and checked against the tables;
and the availability API's request metrics."""

from __future__ import annotations

import threading
import time
import urllib.request
from collections import Counter
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from generators.events import EventGenerator, GeneratorConfig
from generators.publish import publish_to_kafka
from inventory.app.run import run_inventory
from inventory.availability.api import create_app
from inventory.availability.server import BackgroundServer
from inventory.availability.store import AvailabilityStore, StockRow
from inventory.core.reasons import reason_code
from inventory.core.settings import Settings
from inventory.kafka.local_broker import free_port
from inventory.kafka.topics import ensure_topics
from inventory.runtime.metrics import serve_metrics
from inventory.runtime.stopping import STOP
from tests.support.fakes import FakeReader
from tests.support.http import get_json

CONFIG = GeneratorConfig(
    seed=8, skus=25, warehouses=2, rate=100.0, malformed_share=0.03, late_share=0.03,
    late_max_seconds=900, duplicate_share=0.02,
)  # fmt: skip
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(url: str) -> Samples:
    with urllib.request.urlopen(url, timeout=10) as response:
        text = response.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def delta(after: Samples, before: Samples, name: str, **labels: str) -> float:
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0.0) - before.get(key, 0.0)


def test_dataflow_metrics_match_the_tables(settings: Settings, ch: Any) -> None:
    brokers = settings.kafka_brokers or ""
    ensure_topics(settings, brokers)
    count = 4000
    publish_to_kafka(EventGenerator(CONFIG).messages(count), brokers, settings.events_topic)
    port = serve_metrics(settings.model_copy(update={"metrics_port": free_port()}))
    url = f"http://127.0.0.1:{port}/metrics"
    before = scrape(url)

    errors: list[BaseException] = []

    def run() -> None:
        try:
            run_inventory(settings, brokers, exit_at_end=False)  # tailing, as in production
        except BaseException as exc:
            errors.append(exc)

    flow = threading.Thread(target=run, daemon=True)
    flow.start()
    try:
        deadline = time.monotonic() + 120
        while True:  # scraped while the flow runs
            during = scrape(url)
            read = delta(
                during, before, "inventory_messages_read_total", topic=settings.events_topic
            )
            lags = [
                value
                for (name, labels), value in during.items()
                if name == "inventory_consumer_lag_messages"
                and ("topic", settings.events_topic) in labels
            ]
            if read == count and lags and max(lags) == 0:
                break
            assert not errors and time.monotonic() < deadline, (read, errors)
            time.sleep(0.3)
        time.sleep(2 * settings.epoch_seconds)  # the last batch's rows are written
        after = scrape(url)
    finally:
        STOP.request(15)  # a clean stop (what SIGTERM does)
        flow.join(60)
        STOP.clear()
    assert not errors

    events = ch.query("SELECT count() FROM events FINAL").result_rows[0][0]
    assert delta(after, before, "inventory_events_accepted_total") == events
    assert delta(after, before, "inventory_rows_written_total", table="events") == events
    dead = Counter(
        reason_code(error)
        for (error,) in ch.query("SELECT error FROM dead_letters FINAL").result_rows
    )
    assert sum(dead.values()) > 0
    for reason, n in dead.items():
        assert delta(after, before, "inventory_dead_letters_total", reason=reason) == n, reason
    late = delta(after, before, "inventory_late_events_total")
    assert late == dead["late"] > 0
    alerts = Counter(kind for (kind,) in ch.query("SELECT kind FROM alerts FINAL").result_rows)
    for kind, n in alerts.items():
        assert delta(after, before, "inventory_alerts_total", kind=kind) == n, kind
    keys = ch.query("SELECT count() FROM stock_levels FINAL").result_rows[0][0]
    assert delta(after, before, "inventory_keys_in_state") == keys
    inserts = delta(after, before, "inventory_sink_batch_seconds_count", table="events")
    assert inserts >= 1
    snapshot = after[("inventory_last_snapshot_timestamp_seconds", ())]
    assert time.time() - snapshot < 30


def test_api_metrics_count_requests_by_route_and_status() -> None:
    reader = FakeReader([StockRow("SKU-1", "WH-1", 3, 1_795_000_000_000, 1, 0)])
    store = AvailabilityStore(reader, 60.0)
    store.refresh()
    server = BackgroundServer(create_app(store, few_left=5), "127.0.0.1", 0).start()
    try:
        before = scrape(f"{server.url}/metrics")
        for path in ("/v1/availability/SKU-1", "/v1/availability/SKU-1", "/v1/availability/NOPE"):
            get_json(server.url + path)
        get_json(server.url + "/v1/availability/bad%20sku")
        after = scrape(f"{server.url}/metrics")
    finally:
        server.stop()
    route = "/v1/availability/{sku}"
    requests = "inventory_api_requests_total"
    assert delta(after, before, requests, route=route, status="200") == 2
    assert delta(after, before, requests, route=route, status="404") == 1
    assert delta(after, before, requests, route=route, status="422") == 1
    assert delta(after, before, "inventory_api_request_seconds_count", route=route) == 4
    assert ("inventory_api_snapshot_age_seconds", ()) in after
