"""Decided holds and oversells (docs/semantics.md, "Decided holds", "Oversell"): the key
book's decisions equal the independent model's on random streams, without a database
(the db-tier property test holds the tables to the same model)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import orjson
from hypothesis import HealthCheck, event, given, settings

from dataflows.decode import decode_batch
from dataflows.per_key.book import KeyBook
from dataflows.per_key.state_codec import KeyState
from inventory.core.records import Event, HoldDecision, ProductPolicy, PurchaseOrder
from inventory.core.times import format_ms, to_ms
from tests.db.test_property_restarts import with_retries
from tests.db.test_property_tables import KEYS, OVERSELL, T0
from tests.support.model import Policy, expected_tables
from tests.support.testing_flow import kafka_messages

POLICY = ProductPolicy(4, 15, 120_000)


def run_books(
    stream: list[tuple[bytes, bytes]], policies: dict[str, ProductPolicy] | None = None
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
            KeyBook(
                lateness_ms=600_000,
                window_ms=60_000,
                policy_for=lambda sku: (policies or {}).get(sku, POLICY),
            ),
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
                        out.backordered,
                        out.ships_ms,
                    )
                )
            elif type(out) is Event and out.oversold:
                oversold.append((out.event_id, out.occurred_ms, out.oversold))
    return decisions, oversold


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(with_retries(), OVERSELL)
def test_decisions_equal_model(
    stream: list[tuple[bytes, bytes]], oversell: tuple[str, int, int]
) -> None:
    """Decisions (backorders and preorders of S2 included) equal the model's."""
    partition_of = {f"{w}:{s}".encode(): n % 2 for n, (w, s) in enumerate(KEYS)}
    _, model_msgs = kafka_messages(stream, partition_of, T0 + 1_000_000)
    expected = expected_tables(
        model_msgs,
        600_000,
        300_000,
        60_000,
        {
            "S2": Policy(
                4, 15, oversell=oversell[0], oversell_limit=oversell[1], release_ms=oversell[2]
            )
        },
        (4, 15),
        default_lead_ms=120_000,
    )
    s2 = replace(POLICY, oversell=oversell[0], oversell_limit=oversell[1], release_ms=oversell[2])
    decisions, oversold = run_books(stream, {"S2": s2})
    assert decisions == expected.decisions
    if any(d[12] for d in decisions):
        event(f"{oversell[0]}: granted beyond on-hand")
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


def _decide_steps(
    policy: ProductPolicy, on_hand: int, orders: tuple[PurchaseOrder, ...], asks: list[int]
) -> list[tuple[str, str, int, str]]:
    """(decision, reason, backordered, ships_at date) of hold requests c1, c2, ... of
    ``asks`` units on a key with ``on_hand`` and ``orders`` open."""
    book = KeyBook(
        lateness_ms=600_000,
        window_ms=60_000,
        policy_for=lambda _: policy,
        state=KeyState(orders=orders, above=True),
    )
    start = to_ms(datetime(2026, 12, 7, 10, tzinfo=UTC))
    events = [(0, "count", "", on_hand)] + [
        (n + 1, "hold_request", f"c{n + 1}", q) for n, q in enumerate(asks)
    ]
    got = []
    for n, kind, rid, qty in events:
        body: dict[str, object] = {
            "event_id": f"e{n}",
            "event_type": kind,
            "sku": "S9",
            "warehouse_id": "W1",
            "quantity": qty,
            "occurred_at": format_ms(start + n * 1000),
        }
        if rid:
            body["reservation_id"] = rid
            body["expires_at"] = format_ms(start + 900_000)
        msgs, _ = kafka_messages([(b"W1:S9", orjson.dumps(body))], {b"W1:S9": 0}, start + 10_000)
        for item in decode_batch(msgs, 300_000):
            assert isinstance(item, Event)
            for out in book.apply_batch([item]):
                if type(out) is HoldDecision:
                    day = format_ms(out.ships_ms)[:10] if out.ships_ms >= 0 else ""
                    got.append((out.decision, out.reason, out.backordered, day))
    return got


def _order(po_id: str, quantity: int, expected: datetime) -> PurchaseOrder:
    at = to_ms(expected)
    return PurchaseOrder(po_id, "W1", "S9", "open", quantity, at - 86_400_000, at, -1, 0, "", "", 0)


def test_the_documented_backorder_and_preorder_examples() -> None:
    """docs/semantics.md, "Backorders and preorders": the two examples."""
    orders = (
        _order("PO-A", 5, datetime(2026, 12, 8, 12, tzinfo=UTC)),
        _order("PO-B", 10, datetime(2026, 12, 11, 12, tzinfo=UTC)),
    )
    backorder = ProductPolicy(0, 1, 3_600_000, oversell="backorder")
    assert _decide_steps(backorder, 2, orders, [2, 4, 3, 9]) == [
        ("granted", "", 0, ""),
        ("granted", "", 4, "2026-12-08"),
        ("granted", "", 3, "2026-12-11"),
        ("refused", "insufficient", 0, ""),
    ]
    capped = replace(backorder, oversell_limit=5)
    assert [d[:2] for d in _decide_steps(capped, 2, orders, [2, 4, 3])][2] == (
        "refused",
        "insufficient",
    )
    release = to_ms(datetime(2026, 12, 9, tzinfo=UTC))
    preorder = ProductPolicy(
        0, 1, 3_600_000, oversell="preorder", oversell_limit=5, release_ms=release
    )
    assert _decide_steps(preorder, 0, (), [3, 3]) == [
        ("granted", "", 3, "2026-12-09"),
        ("refused", "insufficient", 0, ""),
    ]
    # at or after the release: as deny
    released = replace(preorder, release_ms=to_ms(datetime(2026, 12, 7, tzinfo=UTC)))
    assert _decide_steps(released, 0, (), [1]) == [("refused", "insufficient", 0, "")]
    # without an open order a backorder SKU promises nothing beyond on-hand
    assert _decide_steps(backorder, 1, (), [2]) == [("refused", "insufficient", 0, "")]
