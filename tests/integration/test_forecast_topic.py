"""The forecast topic end to end on the local broker and chDB: versions published as
``inventory forecast`` publishes them drive a ``forecast`` SKU's reorder points in the
flow, equal to the independent model (levels, purchase orders, every closed day's
unconstrained demand); the flow's follower takes a version published while it runs and
skips a message that is not a forecast."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import orjson

from dataflows.sources.forecast_topic import ForecastBook, ForecastFollower
from generators.message import Message
from generators.publish import publish_to_kafka
from inventory.app.forecast.publish import publish_versions
from inventory.app.run import run_inventory
from inventory.clickhouse.catalog import CatalogEntry, write_catalog
from inventory.core.forecast_versions import ForecastVersion
from inventory.core.times import format_ms
from inventory.kafka.producer import CheckedProducer
from inventory.kafka.topics import ensure_topics
from tests.support.model import Msg, Policy, expected_tables
from tests.support.paths import ROOT

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
T0 = 1_795_000_000_000 - 1_795_000_000_000 % DAY_MS  # a UTC midnight
WH, SKU = "WH-01", "SKU-F"


def wait_until(check: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def version(number: int, effective_ms: int, level: float) -> ForecastVersion:
    demand = tuple(level * (1.2 if k % 2 else 0.8) for k in range(28))
    return ForecastVersion(WH, SKU, number, effective_ms, effective_ms - DAY_MS, demand,
                           tuple(2 * d for d in demand))  # fmt: skip


def stream() -> list[Message]:
    """A count, then ten days of sales (none while nothing is on hand: a few hours out of
    stock) and two restocks."""
    out = []
    on_hand = 60

    def add(n: int, kind: str, qty: int, at_ms: int) -> None:
        body = {"event_id": f"f{n}", "event_type": kind, "sku": SKU, "warehouse_id": WH,
                "quantity": qty, "occurred_at": format_ms(at_ms)}  # fmt: skip
        out.append(Message(f"{WH}:{SKU}".encode(), orjson.dumps(body)))

    add(0, "count", on_hand, T0 + HOUR_MS)
    for n in range(1, 120):
        wanted = 1 + n % 3
        if on_hand >= wanted:
            add(n, "sale", wanted, T0 + 2 * HOUR_MS + n * 2 * HOUR_MS)
            on_hand -= wanted
        if n in (40, 90):
            add(1000 + n, "restock", 100, T0 + 2 * HOUR_MS + n * 2 * HOUR_MS + 60_000)
            on_hand += 100
    return out


def test_the_flow_reorders_on_the_published_versions_as_the_model_does(
    settings: Any, ch: Any
) -> None:
    ensure_topics(settings, settings.kafka_brokers)
    entries = [CatalogEntry(SKU, "forecast", 5.0, 10, 50, 48.0, replenishment_policy="forecast")]
    write_catalog(ch, settings.clickhouse_database, entries)
    versions = [version(1, T0 + 2 * DAY_MS, 20.0), version(2, T0 + 5 * DAY_MS, 24.0)]
    assert publish_versions(settings, settings.kafka_brokers, versions) == 2
    events = stream()
    publish_to_kafka(events, settings.kafka_brokers, settings.events_topic)
    run_inventory(settings, settings.kafka_brokers, exit_at_end=True)

    expected = expected_tables(
        [Msg(m.key, m.value, 0, n, T0 + 30 * DAY_MS) for n, m in enumerate(events)],
        settings.lateness_seconds * 1000,
        settings.max_future_seconds * 1000,
        policies={SKU: Policy(10, 50, replenishment="forecast")},
        lead_ms={SKU: 48 * HOUR_MS},
        forecasts={(WH, SKU): tuple(versions)},
    )
    row = ch.query(
        "SELECT reorder_point, order_up_to, reorder_basis, forecast_version "
        "FROM stock_levels FINAL WHERE sku = {sku:String}",
        parameters={"sku": SKU},
    ).result_rows
    rop, out, basis, *_ = expected.levels[(WH, SKU)]
    assert row == [(rop, out, basis, expected.forecast_versions[(WH, SKU)])]
    assert basis == "forecast" and expected.forecast_versions[(WH, SKU)] == 2
    orders = ch.query(
        "SELECT po_id, status, quantity FROM purchase_orders FINAL WHERE sku = {sku:String}",
        parameters={"sku": SKU},
    ).result_rows
    assert {p: (s, q) for p, s, q in orders} == {
        p: (o[2], o[3]) for p, o in expected.orders.items()
    }
    days = ch.query(
        "SELECT toUnixTimestamp(day) * 1000, sold, refused, out_of_stock_ms, lost, demand "
        "FROM demand_daily FINAL WHERE sku = {sku:String}",
        parameters={"sku": SKU},
    ).result_rows
    assert {(WH, SKU, d): tuple(rest) for d, *rest in days} == expected.demand_days
    assert any(out_ms > 0 for _, _, _, out_ms, _, _ in days)  # lost sales were estimated

    # the two examples of docs/analysts.md on unconstrained demand and the forecast policy
    doc = (ROOT / "docs" / "analysts.md").read_text().split("**Unconstrained demand** (v12)")[1]
    per_day, on_forecast = [block.split("```")[0] for block in doc.split("```sql\n")[1:3]]
    database = settings.clickhouse_database
    per_day = per_day.replace("inventory.", f"{database}.").replace("today() - 14", "'2000-01-01'")
    rows = ch.query(per_day).result_rows
    assert sum(r[1] for r in rows) == sum(d[1] for d in days) and len(rows) == len(days)
    rows = ch.query(on_forecast.replace("inventory.", f"{database}.")).result_rows
    assert [(r[0], r[1], r[4], r[5]) for r in rows] == [(WH, SKU, "forecast", 2)]


def test_the_follower_takes_a_version_published_while_it_runs(settings: Any) -> None:
    ensure_topics(settings, settings.kafka_brokers)
    publish_versions(settings, settings.kafka_brokers, [version(1, T0, 4.0)])
    book = ForecastBook()
    follower = ForecastFollower(settings, settings.kafka_brokers, book)
    assert follower.load(timeout=30) == 1
    follower.start()
    try:
        assert [v.version for v in book.for_key(WH, SKU)] == [1]
        producer = CheckedProducer(settings.kafka_brokers, 10.0)
        producer.produce(settings.forecast_topic, b"not a forecast", b"x")
        producer.flush_or_raise()
        publish_versions(settings, settings.kafka_brokers, [version(2, T0 + DAY_MS, 5.0)])
        wait_until(lambda: [v.version for v in book.for_key(WH, SKU)] == [1, 2])
        assert follower.applied == 2
    finally:
        follower.stop()


def test_a_missing_topic_is_no_versions_until_it_exists(settings: Any) -> None:
    book = ForecastBook()
    missing = settings.model_copy(update={"forecast_topic": "no-such-forecasts"})
    assert ForecastFollower(missing, settings.kafka_brokers, book).load(timeout=10) == 0
    assert book.for_key(WH, SKU) == ()
