"""Issue 3 on real parts: a scripted stream with duplicates, out-of-order and late events,
counts and adjustments crossing thresholds, through the local broker into chDB.
Every expected number below is worked out by hand from the documented rules."""

from __future__ import annotations

from decimal import Decimal

import orjson
import pytest
from clickhouse_connect.driver.client import Client

from generators.events import Message
from generators.publish import publish_to_kafka
from inventory.app.run import run_inventory
from inventory.clickhouse.catalog import CatalogEntry, write_catalog
from inventory.core.settings import Settings
from inventory.core.times import format_ms
from inventory.kafka.topics import ensure_topics
from tests.support.kafka import read_topic

T = 1_795_000_020_000 - 1_795_000_020_000 % 60_000  # start of a 1-minute window


def event(
    eid: str,
    kind: str,
    qty: int,
    at_s: int,
    *,
    sku: str = "SKU-A",
    price: float | None = None,
    order: str | None = None,
) -> Message:
    body: dict[str, object] = {
        "event_id": eid,
        "event_type": kind,
        "sku": sku,
        "warehouse_id": "WH-A",
        "quantity": qty,
        "occurred_at": format_ms(T + at_s * 1000),
    }
    if price is not None:
        body["unit_price"] = price
    if order is not None:
        body["order_id"] = order
    return Message(f"WH-A:{sku}".encode(), orjson.dumps(body))


SCRIPT = [
    event("e1", "count", 10, 0),  # 10 ok
    event("e2", "sale", 3, 10, price=2.0, order="o1"),  # 7
    event("e3", "sale", 2, 20, price=2.0, order="o1"),  # 5: low_stock, reorder 20-5=15
    event("e3", "sale", 2, 20, price=2.0, order="o1"),  # duplicate: nothing
    event("e4", "sale", 1, 70, price=2.0, order="o2"),  # 4
    event("e5", "sale", 4, 65, price=2.5),  # out of order, 0: out_of_stock, reorder 20
    event("e6", "adjustment", 3, 80),  # 3: out -> low, no alert
    event("e7", "count", 12, 75),  # late count: 12 + e6 (after it) = 15: back_in_stock
    event("e8", "sale", 10, 30, price=1.0, order="o3"),  # before the count: absorbed (15)
    event("e9", "restock", 5, 700),  # 20; receives 5 of e3's PO; lateness cutoff T+100 s
    event("e10", "sale", 1, 50, price=2.0),  # late: dead-lettered, changes nothing
    event("e11", "sale", 16, 710, price=1.0),  # 4: low_stock; position 4 + 10: no reorder
    event("e11", "sale", 16, 710, price=1.0),  # duplicate
    # SKU-B: target below threshold (misconfigured catalog) and a drop from ok to out
    event("b1", "count", 9, 0, sku="SKU-B"),  # 9 ok (threshold 5)
    event("b2", "adjustment", -9, 5, sku="SKU-B"),  # 0: out_of_stock straight from ok, 3
    event("b3", "restock", 9, 6, sku="SKU-B"),  # 9: back_in_stock; receives b2's PO (over)
    event("b4", "adjustment", -5, 7, sku="SKU-B"),  # 4: low_stock, reorder max(3-4, 1) = 1
]


@pytest.fixture
def flow_output(settings: Settings, ch: Client) -> tuple[Settings, Client]:
    brokers = settings.kafka_brokers or ""
    ensure_topics(settings, brokers)
    write_catalog(
        ch,
        settings.clickhouse_database,
        [
            CatalogEntry("SKU-A", "A", 2.0, low_stock_threshold=5, target_stock=20),
            CatalogEntry("SKU-B", "B", 1.0, low_stock_threshold=5, target_stock=3),
        ],
    )
    publish_to_kafka(SCRIPT, brokers, settings.events_topic)
    run_inventory(settings, brokers, exit_at_end=True)
    return settings, ch


def test_sales_rates_are_exact_per_window(flow_output: tuple[Settings, Client]) -> None:
    _, ch = flow_output
    rows = ch.query(
        "SELECT toUnixTimestamp64Milli(window_start) - {t:Int64}, "
        "toUnixTimestamp64Milli(window_end) - {t:Int64}, units_sold, revenue, orders "
        "FROM sales_rates FINAL WHERE sku = 'SKU-A' ORDER BY window_start",
        parameters={"t": T},
    ).result_rows
    assert rows == [
        (0, 60_000, 15, Decimal("20.0000"), 2),  # e2, e3, late-but-allowed e8; orders o1, o3
        (60_000, 120_000, 5, Decimal("12.0000"), 2),  # e4 (o2) + unordered e5
        (660_000, 720_000, 16, Decimal("16.0000"), 1),  # e11
    ]


def test_alert_sequence_is_one_per_crossing(flow_output: tuple[Settings, Client]) -> None:
    settings, ch = flow_output
    rows = ch.query(
        "SELECT sku, kind, on_hand, threshold, reorder_quantity, event_id, "
        "toUnixTimestamp64Milli(raised_at) - {t:Int64} FROM alerts FINAL "
        "ORDER BY sku, raised_at",
        parameters={"t": T},
    ).result_rows
    expected = [
        ("SKU-A", "low_stock", 5, 5, 15, "e3", 20_000),
        ("SKU-A", "out_of_stock", 0, 5, 0, "e5", 65_000),  # e3's PO still open
        ("SKU-A", "back_in_stock", 15, 5, 0, "e7", 75_000),
        ("SKU-A", "low_stock", 4, 5, 0, "e11", 710_000),  # e3's PO still brings 10
        ("SKU-B", "out_of_stock", 0, 5, 3, "b2", 5_000),
        ("SKU-B", "back_in_stock", 9, 5, 0, "b3", 6_000),
        ("SKU-B", "low_stock", 4, 5, 1, "b4", 7_000),  # b2's PO received: a new request
    ]
    assert rows == expected
    published = [
        orjson.loads(m.value())
        for m in read_topic(settings.kafka_brokers or "", settings.alerts_topic)
    ]
    assert sorted((a["sku"], a["kind"], a["event_id"]) for a in published) == sorted(
        (sku, kind, eid) for sku, kind, _, _, _, eid, _ in expected
    )
    ids = ch.query("SELECT alert_id FROM alerts FINAL").result_rows
    assert {a["alert_id"] for a in published} == {r[0] for r in ids}


def test_stock_dedup_and_late_routing(flow_output: tuple[Settings, Client]) -> None:
    _, ch = flow_output
    assert ch.query(
        "SELECT sku, on_hand, version % toUInt128('18446744073709551616') "  # accepted events
        "FROM stock_levels FINAL ORDER BY sku"
    ).result_rows == [("SKU-A", 4, 10), ("SKU-B", 4, 4)]
    assert ch.query("SELECT count(), uniqExact(event_id) FROM events FINAL").result_rows == [
        (14, 14)
    ]
    late = ch.query(
        "SELECT JSONExtractString(payload, 'event_id'), error FROM dead_letters"
    ).result_rows
    assert len(late) == 1 and late[0][0] == "e10" and late[0][1].startswith("late:")
