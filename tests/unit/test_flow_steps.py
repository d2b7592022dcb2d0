"""The dataflow's wiring, with Bytewax's TestingSource/TestingSink instead of Kafka and
ClickHouse (the integration tests use the real ones)."""

from __future__ import annotations

import orjson
from bytewax.connectors.kafka import KafkaSourceMessage
from bytewax.testing import TestingSink, TestingSource, run_main

from dataflows.flow import build_flow
from inventory.app.progress import metric_sum
from inventory.core.records import Alert, DeadLetter, Event, SalesWindow, StockLevel
from inventory.core.settings import Settings
from inventory.core.times import format_ms

T0 = 1_795_000_000_000


def msg(offset: int, value: bytes | None, at_ms: int = T0) -> KafkaSourceMessage:
    return KafkaSourceMessage(
        key=b"k",
        value=value,
        topic="inventory.events",
        partition=0,
        offset=offset,
        timestamp=(1, at_ms),
    )


def event(event_id: str, kind: str, qty: int, at_s: int, wh: str = "W1") -> bytes:
    return orjson.dumps(
        {
            "event_id": event_id,
            "event_type": kind,
            "sku": "S1",
            "warehouse_id": wh,
            "quantity": qty,
            "occurred_at": format_ms(T0 + at_s * 1000),
        }
    )


def run(
    messages: list[KafkaSourceMessage],
) -> tuple[list[object], list[DeadLetter], list[Alert]]:
    rows: list[object] = []
    dead: list[DeadLetter] = []
    alerts: list[Alert] = []
    published: list[StockLevel] = []
    settings = Settings(_env_file=None, lateness_seconds=60)  # type: ignore[call-arg]
    flow = build_flow(
        settings,
        "unused:9092",
        source=TestingSource(messages, batch_size=3),
        rows_sink=TestingSink(rows),
        dlq_sink=TestingSink(dead),
        alerts_sink=TestingSink(alerts),
        stock_sink=TestingSink(published),
        decisions_sink=TestingSink([]),
    )
    run_main(flow)
    # the stock changelog carries exactly the stock rows ClickHouse gets
    assert published == [r for r in rows if isinstance(r, StockLevel)]
    return rows, dead, alerts


def test_flow_routes_events_levels_and_dead_letters() -> None:
    duplicates_before = metric_sum("inventory_duplicates_dropped_total")
    rows, dead, alerts = run(
        [
            msg(0, event("c", "count", 10, 0)),
            msg(1, b"not json"),
            msg(2, event("s1", "sale", 3, 100)),
            msg(3, event("s1", "sale", 3, 100)),  # duplicate
            msg(4, event("old", "sale", 1, 30)),  # 70 s behind the newest: late
            msg(5, event("r", "restock", 5, 101, wh="W2")),
        ]
    )
    events = [r for r in rows if isinstance(r, Event)]
    assert sorted(e.event_id for e in events) == ["c", "r", "s1"]
    assert metric_sum("inventory_duplicates_dropped_total") == duplicates_before + 1
    final = {}
    for level in (r for r in rows if isinstance(r, StockLevel)):
        final[(level.warehouse_id, level.sku)] = (level.on_hand, level.version % 2**64)
    assert final == {("W1", "S1"): (7, 2), ("W2", "S1"): (5, 1)}
    assert sorted((d.source.offset, d.error.split(":")[0]) for d in dead) == [
        (1, "invalid JSON"),
        (4, "late"),
    ]
    assert sorted(d.source.offset for d in rows if isinstance(d, DeadLetter)) == [1, 4]
    # keys start "ok"; count 10 and restock 5 are <= the default threshold 10: low,
    # with reorders up to the default target 50
    assert sorted((a.warehouse_id, a.kind, a.on_hand, a.reorder_quantity) for a in alerts) == [
        ("W1", "low_stock", 10, 40),
        ("W2", "low_stock", 5, 45),
    ]
    assert [a for a in rows if isinstance(a, Alert)] == alerts
    windows = [w for w in rows if isinstance(w, SalesWindow)]
    assert [(w.units_sold, w.orders, w.version) for w in windows] == [(3, 1, 1)]
