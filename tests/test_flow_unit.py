"""The dataflow's wiring, with Bytewax's TestingSource/TestingSink instead of Kafka and
ClickHouse (the integration tests use the real ones)."""

from __future__ import annotations

import orjson
from bytewax.connectors.kafka import KafkaSourceMessage
from bytewax.testing import TestingSink, TestingSource, run_main

from dataflows.inventory import build_flow
from inventory.models import DeadLetter, Event, StockLevel, format_ms
from inventory.settings import Settings

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


def run(messages: list[KafkaSourceMessage]) -> tuple[list[object], list[DeadLetter]]:
    rows: list[object] = []
    dead: list[DeadLetter] = []
    settings = Settings(_env_file=None, lateness_seconds=60)  # type: ignore[call-arg]
    flow = build_flow(
        settings,
        "unused:9092",
        source=TestingSource(messages, batch_size=3),
        rows_sink=TestingSink(rows),
        dlq_sink=TestingSink(dead),
    )
    run_main(flow)
    return rows, dead


def test_flow_routes_events_levels_and_dead_letters() -> None:
    rows, dead = run(
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
    final = {}
    for level in (r for r in rows if isinstance(r, StockLevel)):
        final[(level.warehouse_id, level.sku)] = (level.on_hand, level.version)
    assert final == {("W1", "S1"): (7, 2), ("W2", "S1"): (5, 1)}
    assert sorted((d.source.offset, d.error.split(":")[0]) for d in dead) == [
        (1, "invalid JSON"),
        (4, "late"),
    ]
    assert sorted(d.source.offset for d in rows if isinstance(d, DeadLetter)) == [1, 4]
