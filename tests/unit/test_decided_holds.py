"""Decided holds and oversells (docs/semantics.md, "Decided holds", "Oversell"): the key
book's decisions equal the independent model's on random streams, without a database
(the db-tier property test holds the tables to the same model)."""

from __future__ import annotations

import orjson
from hypothesis import HealthCheck, given, settings

from dataflows.decode import decode_batch
from dataflows.per_key.book import KeyBook
from inventory.core.records import Event, HoldDecision, ProductPolicy
from inventory.core.times import format_ms
from tests.db.test_property_restarts import with_retries
from tests.db.test_property_tables import KEYS, T0
from tests.support.model import expected_tables
from tests.support.testing_flow import kafka_messages

POLICY = ProductPolicy(4, 15, 120_000)


def run_books(
    stream: list[tuple[bytes, bytes]],
) -> tuple[set[tuple[object, ...]], list[tuple[str, int, int]]]:
    partition_of = {f"{w}:{s}".encode(): n % 2 for n, (w, s) in enumerate(KEYS)}
    kafka_msgs, _ = kafka_messages(stream, partition_of, T0 + 1_000_000)
    books: dict[str, KeyBook] = {}
    decisions: set[tuple[object, ...]] = set()
    oversold: list[tuple[str, int, int]] = []
    for item in decode_batch(kafka_msgs, 300_000):
        if not isinstance(item, Event):
            continue
        book = books.setdefault(
            item.stock_key,
            KeyBook(lateness_ms=600_000, window_ms=60_000, policy_for=lambda _: POLICY),
        )
        for out in book.apply_batch([item]):
            if type(out) is HoldDecision:
                decisions.add(
                    (
                        out.reservation_id,
                        out.warehouse_id,
                        out.sku,
                        out.event_id,
                        out.request,
                        out.decision,
                        out.reason,
                        out.quantity,
                        out.available,
                        out.expires_ms,
                        out.decided_ms,
                        out.version,
                    )
                )
            elif type(out) is Event and out.oversold:
                oversold.append((out.event_id, out.occurred_ms, out.oversold))
    return decisions, oversold


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(with_retries())
def test_decisions_equal_model(stream: list[tuple[bytes, bytes]]) -> None:
    partition_of = {f"{w}:{s}".encode(): n % 2 for n, (w, s) in enumerate(KEYS)}
    _, model_msgs = kafka_messages(stream, partition_of, T0 + 1_000_000)
    expected = expected_tables(model_msgs, 600_000, 300_000, 60_000, {}, (4, 15))
    decisions, oversold = run_books(stream)
    assert decisions == expected.decisions
    assert sorted(oversold) == sorted(expected.sales_oversold)


def test_the_documented_example() -> None:
    """docs/semantics.md, "Decided holds": on-hand 3, no holds."""
    steps = [
        ("count", "", 3, "count", ""),
        ("hold_request", "c1", 2, "granted", ""),
        ("hold_request", "c2", 2, "refused", "insufficient"),
        ("hold_request", "c1", 3, "granted", ""),
        ("hold_checkout", "c1", 0, "checked_out", ""),
        ("hold_checkout", "c1", 0, "refused", "closed"),
        ("hold_release", "c2", 0, "refused", "unknown"),
    ]
    stream = []
    for n, (kind, rid, qty, _, _) in enumerate(steps):
        body: dict[str, object] = {
            "event_id": f"e{n}",
            "event_type": kind,
            "sku": "S1",
            "warehouse_id": "W1",
            "quantity": qty,
            "occurred_at": format_ms(T0 + n * 1000),
        }
        if rid:
            body["reservation_id"] = rid
        if kind == "hold_request":
            body["expires_at"] = format_ms(T0 + 900_000)
        stream.append((b"W1:S1", orjson.dumps(body)))
    decisions, _ = run_books(stream)
    got = sorted((d[3], d[5], d[6], d[7], d[8]) for d in decisions)
    assert got == [
        ("e1", "granted", "", 2, 1),
        ("e2", "refused", "insufficient", 2, 1),
        ("e3", "granted", "", 3, 0),
        ("e4", "checked_out", "", 3, 0),
        ("e5", "refused", "closed", 0, 0),
        ("e6", "refused", "unknown", 0, 0),
    ]
    assert [s[3] for s in steps[1:]] == [g[1] for g in got]
