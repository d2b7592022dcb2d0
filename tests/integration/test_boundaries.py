"""Every value decoding accepts is storable in every table and view it reaches.

Each bound of docs/semantics.md ("Decoding") is sent through the real broker, the flow
and chDB; the tables, the materialized views (incremental and refreshable) and the
analyst views are checked, and ordinary events behind the extreme ones still flow.
"""

from __future__ import annotations

import time
from datetime import date
from decimal import Decimal
from typing import Any

import orjson
from clickhouse_connect.driver.client import Client

from inventory.app.run import run_inventory
from inventory.core.contract import MAX_QUANTITY, MAX_UNIT_PRICE
from inventory.core.settings import Settings
from inventory.core.times import format_ms
from inventory.kafka.producer import CheckedProducer
from inventory.kafka.topics import ensure_topics
from tests.support.kafka import read_topic
from tests.support.model import Msg, expected_for

EARLIEST = "2000-01-01T00:00:00Z"
LATEST = "2099-12-31T23:59:59.999Z"
LATEST_MS = 4_102_444_799_999
MAX_ID = "注文🛒é" * 32  # 128 characters, 1-4 bytes each
SKU64, WH64 = "S" * 64, "W." * 32
MAX_REVENUE = Decimal(MAX_QUANTITY) * Decimal(int(MAX_UNIT_PRICE))  # 10^21


def event(event_id: str, kind: str, qty: int, at: str, **extra: Any) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "event_type": kind,
        "sku": extra.pop("sku", SKU64),
        "warehouse_id": extra.pop("warehouse_id", WH64),
        "quantity": qty,
        "occurred_at": at,
        **extra,
    }


def padded(body: dict[str, Any], size: int) -> bytes:
    """``body`` as JSON of exactly ``size`` bytes (an ignored extra field pads it)."""
    raw = orjson.dumps({**body, "pad": ""})
    return orjson.dumps({**body, "pad": "x" * (size - len(raw))})


def produce(settings: Settings, records: list[tuple[bytes, int]]) -> None:
    brokers = settings.kafka_brokers or ""
    ensure_topics(settings, brokers)
    producer = CheckedProducer(brokers, 30.0)
    for value, timestamp_ms in records:
        key = orjson.loads(value).get("warehouse_id", "") + ":" + orjson.loads(value)["sku"]
        producer.produce(settings.events_topic, value, key.encode(), timestamp=timestamp_ms)
    producer.flush_or_raise()


def decimals(ch: Client, query: str) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in ch.query(query).result_rows]


def test_every_bound_reaches_every_table_and_the_flow_goes_on(
    settings: Settings, ch: Client
) -> None:
    now = int(time.time() * 1000) // 1000 * 1000
    at = format_ms(now - 60_000)
    biggest = event(
        "max-sale", "sale", MAX_QUANTITY, at, unit_price=MAX_UNIT_PRICE, order_id=MAX_ID
    )
    records = [
        (orjson.dumps(event("max-count", "count", MAX_QUANTITY, format_ms(now - 90_000))), now),
        (orjson.dumps(biggest), now),
        (orjson.dumps(event(MAX_ID, "adjustment", -MAX_QUANTITY, format_ms(now - 50_000))), now),
        (orjson.dumps(event("max-restock", "restock", MAX_QUANTITY, format_ms(now - 40_000))), now),
        # the earliest and the latest accepted occurred_at, on keys of their own
        (orjson.dumps(event("early", "sale", 3, EARLIEST, sku="OLD", unit_price=1e12)), now),
        (
            orjson.dumps(event("late", "sale", 2, LATEST, sku="NEW", unit_price=0.0001)),
            LATEST_MS - 60_000,  # the future bound is relative to the message timestamp
        ),
        # the largest accepted message, and one byte more
        (padded(event("big", "sale", 1, at, sku="BIG", unit_price=1.5), 65536), now),
        (padded(event("too-big", "sale", 1, at, sku="BIG"), 65537), now),
    ]
    # ordinary events behind the extreme ones
    records += [
        (orjson.dumps(event(f"n{i}", "restock", 5, format_ms(now - 30_000 + i), sku="N")), now)
        for i in range(20)
    ]
    produce(settings, records)

    run_inventory(settings, settings.kafka_brokers or "", exit_at_end=True)

    msgs = [
        Msg(m.key(), m.value(), m.partition(), m.offset(), m.timestamp()[1])
        for m in read_topic(settings.kafka_brokers or "", settings.events_topic)
    ]
    expected = expected_for(settings, msgs)
    assert len(expected.accepted) == len(records) - 1

    # events: every accepted value as sent
    rows = {
        r[0]: r[1:]
        for r in ch.query(
            "SELECT event_id, quantity, unit_price, order_id, "
            "toUnixTimestamp64Milli(occurred_at) FROM events FINAL"
        ).result_rows
    }
    assert set(rows) == set(expected.accepted)
    assert rows["max-sale"] == (MAX_QUANTITY, MAX_UNIT_PRICE, MAX_ID, now - 60_000)
    assert rows[MAX_ID][0] == -MAX_QUANTITY
    assert rows["early"][3] == 946_684_800_000 and rows["late"][3] == LATEST_MS

    stock = {
        (r[0], r[1]): (r[2], r[3], r[4])
        for r in ch.query(
            "SELECT warehouse_id, sku, on_hand, toUnixTimestamp64Milli(updated_at), "
            "last_event_id FROM stock_levels FINAL"
        ).result_rows
    }
    assert stock == {key: (s[0], s[2], s[3]) for key, s in expected.stock.items()}
    assert stock[(WH64, SKU64)][0] == 0  # count 1e9, sale -1e9, adjustment -1e9, restock +1e9
    assert stock[(WH64, "N")][0] == 100

    # sales windows, ledger and the incremental rollups: the largest sale is exact
    windows = {
        (r[0], r[1], r[2]): (r[3], r[4], r[5])
        for r in ch.query(
            "SELECT warehouse_id, sku, toUnixTimestamp64Milli(window_start), units_sold, "
            "revenue, orders FROM sales_rates FINAL"
        ).result_rows
    }
    assert windows == {
        key: (units, Decimal(revenue_e4).scaleb(-4), orders)
        for key, (units, revenue_e4, orders, _) in expected.windows.items()
    }
    assert windows[(WH64, SKU64, (now - 60_000) // 60_000 * 60_000)][1] == MAX_REVENUE
    ledger = dict(decimals(ch, "SELECT event_id, revenue FROM sales_ledger FINAL"))
    assert ledger["max-sale"] == MAX_REVENUE
    assert ledger["early"] == Decimal(3 * 10**12) and ledger["late"] == Decimal("0.0002")
    for view in ("daily_sales", "hourly_sales", "minute_sales"):
        total = decimals(ch, f"SELECT sum(units_sold), sum(revenue) FROM {view}")
        assert total == [
            (MAX_QUANTITY + 3 + 2 + 1, MAX_REVENUE + 3 * 10**12 + Decimal("1.5002"))
        ], view
    assert decimals(ch, "SELECT min(day), max(day) FROM daily_sales") == [
        (date(2000, 1, 1), date(2099, 12, 31))
    ]

    # alerts follow the model; the oversized message is the only dead letter
    alerts = ch.query(
        "SELECT warehouse_id, sku, kind, on_hand, event_id FROM alerts FINAL"
    ).result_rows
    assert sorted(alerts) == sorted(
        (key[0], key[1], a[0], a[1], a[4]) for key, items in expected.alerts.items() for a in items
    )
    dead = ch.query("SELECT error, length(payload) FROM dead_letters FINAL").result_rows
    assert dead == [("message larger than 65536 bytes", 65537)]

    # the refreshable batch layer and the analyst views read all of it
    for view in ("stock_reconciliation", "stockout_daily", "product_trends"):
        ch.command(f"SYSTEM REFRESH VIEW {view}")
        ch.command(f"SYSTEM WAIT VIEW {view}")
        status = ch.query(
            "SELECT exception FROM system.view_refreshes WHERE view = {v:String} "
            "AND database = currentDatabase()",
            parameters={"v": view},
        ).result_rows
        assert status == [("",)], view
    assert ch.query("SELECT * FROM stock_reconciliation WHERE status != 'ok'").result_rows == []
    assert ch.query("SELECT revenue_28d FROM product_trends WHERE sku = 'NEW'").result_rows == [
        (Decimal("0.0002"),)
    ]
    for view in ("current_stock", "alert_log"):
        assert ch.query(f"SELECT count() FROM {view}").result_rows[0][0] > 0
