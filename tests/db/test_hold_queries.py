"""The analysts' hold query (inventory/clickhouse/sql/analyst/hold_conversion.sql) on the
flow's own decisions: real chDB, the flow over Bytewax's TestingSource."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
from bytewax.testing import TestingSource
from clickhouse_connect.driver.client import Client

from inventory.clickhouse.catalog import PolicyBook
from inventory.core.records import ProductPolicy
from inventory.core.settings import Settings
from inventory.core.times import format_ms
from tests.support.paths import ROOT
from tests.support.tables import truncate_tables
from tests.support.testing_flow import kafka_messages, run_flow

T0 = 1_795_000_000_000


def request(n: int, kind: str, rid: str, quantity: int, at_s: int) -> tuple[bytes, bytes]:
    body: dict[str, Any] = {
        "event_id": f"e{n}",
        "event_type": kind,
        "sku": "S1",
        "warehouse_id": "W1",
        "quantity": quantity,
        "occurred_at": format_ms(T0 + at_s * 1000),
    }
    if rid:
        body["reservation_id"] = rid
    if kind == "hold_request":
        body["expires_at"] = format_ms(T0 + (at_s + 60) * 1000)
    return b"W1:S1", orjson.dumps(body)


def test_hold_conversion_counts_what_the_flow_decided(migrated: tuple[Settings, Client]) -> None:
    cfg, ch = migrated
    truncate_tables(ch, cfg.clickhouse_database)
    stream = [
        request(0, "count", "", 5, 0),
        request(1, "hold_request", "a", 2, 1),  # granted
        request(2, "hold_request", "b", 2, 2),  # granted
        request(3, "hold_request", "c", 4, 3),  # refused: 1 available
        request(4, "hold_checkout", "a", 0, 4),  # checked out
        request(5, "hold_release", "b", 0, 5),  # released
        request(6, "hold_request", "d", 3, 6),  # granted (3 available again)
        request(7, "sale", "", 1, 200),  # d expired by now
    ]
    messages, _ = kafka_messages(stream, {b"W1:S1": 0}, T0 + 1_000_000)
    run_flow(cfg, PolicyBook(cfg, {}), TestingSource(messages))
    sql = (ROOT / "inventory/clickhouse/sql/analyst/hold_conversion.sql").read_text()
    result = ch.query(sql)
    rows = [dict(zip(result.column_names, row, strict=True)) for row in result.result_rows]
    assert rows == [
        {
            "warehouse_id": "W1",
            "sku": "S1",
            "holds": 3,
            "refused_requests": 1,
            "refused_units": 4,
            "checked_out": 1,
            "released": 1,
            "expired": 1,
            "conversion": 0.333,
        }
    ]
    # the two examples of docs/analysts.md, "Holds"
    doc = (ROOT / "docs/analysts.md").read_text().split("## Holds (contract v9)")[1]
    first, second = [block.split("```")[0] for block in doc.split("```sql\n")[1:3]]
    database = f"{cfg.clickhouse_database}."
    refused = ch.query(first.replace("inventory.", database)).result_rows
    assert refused == [("S1", 4, 1)]
    lasted = ch.query(second.replace("inventory.", database)).result_rows
    assert lasted == [("S1", 3.0, 1)]  # a: granted at 1 s, checked out at 4 s


def test_backordered_units_by_ship_day(migrated: tuple[Settings, Client]) -> None:
    """docs/analysts.md, "Holds", the third example: a backorder SKU (reorder point 4,
    target 15, lead time 2 days) counted at 2 orders 13 units; a hold of 5 promises 3 of
    them, shipping the day the order is expected."""
    cfg, ch = migrated
    truncate_tables(ch, cfg.clickhouse_database)
    stream = [
        request(0, "count", "", 2, 0),  # position 2 <= 4: a purchase order of 13
        request(1, "hold_request", "a", 5, 1),  # 2 on hand + 3 backordered
        request(2, "hold_request", "b", 11, 2),  # refused: 10 more on order, not 11
    ]
    policy = ProductPolicy(4, 15, 2 * 86_400_000, oversell="backorder")
    messages, _ = kafka_messages(stream, {b"W1:S1": 0}, T0 + 1_000_000)
    run_flow(cfg, PolicyBook(cfg, {"S1": policy}), TestingSource(messages))
    doc = (ROOT / "docs/analysts.md").read_text().split("## Holds (contract v9)")[1]
    third = doc.split("```sql\n")[3].split("```")[0]
    rows = ch.query(third.replace("inventory.", f"{cfg.clickhouse_database}.")).result_rows
    ships_on = datetime.fromtimestamp(T0 / 1000 + 2 * 86_400, UTC).date()
    assert rows == [("S1", ships_on, 3, 1)]
    refused = ch.query("SELECT reason FROM hold_decisions FINAL WHERE reservation_id = 'b'")
    assert refused.result_rows == [("insufficient",)]
