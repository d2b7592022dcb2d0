"""Per-key windows and alerts on top of stock (unit level; end to end in integration)."""

from __future__ import annotations

import pickle

import pytest

from dataflows.per_key.alerts import alert_id, band
from dataflows.per_key.book import KeyBook, decode_state, encode_state
from inventory.core.records import (
    Alert,
    DeadLetter,
    ProductPolicy,
    PurchaseOrder,
    SalesWindow,
    StockLevel,
)
from tests.support.builders import T0, ev

POLICY = ProductPolicy(threshold=5, target_stock=20)


def book() -> KeyBook:
    return KeyBook(lateness_ms=300_000, window_ms=60_000, policy_for=lambda _: POLICY)


def windows(out: list[object]) -> list[tuple[int, int, int, int, int]]:
    return [
        ((w.window_start_ms - T0) // 1000, w.units_sold, w.revenue_e4, w.orders, w.version)
        for w in out
        if isinstance(w, SalesWindow)
    ]


def test_batch_output_order_and_running_window_totals() -> None:
    k = book()
    out = k.apply_batch(
        [
            ev("c", "count", 30, 0),
            ev("s1", "sale", 2, 10, order="o1"),
            ev("s2", "sale", 1, 20, order="o1"),
            ev("s3", "sale", 4, 70),
        ]
    )
    kinds = [type(o).__name__ for o in out]
    assert kinds == ["Event"] * 4 + ["StockLevel", "SalesWindow", "SalesWindow"]
    # price 2.5 -> 25_000 per unit in 1/10,000; two sales of one order count one order
    assert windows(out) == [(0, 3, 75_000, 1, 2), (60, 4, 100_000, 1, 1)]


def test_late_sale_reopens_its_window_with_the_full_total() -> None:
    k = book()
    k.apply_batch([ev("s1", "sale", 2, 10), ev("s2", "sale", 1, 100)])
    out = k.apply_batch([ev("s0", "sale", 5, 30, price=None)])  # late, same first window
    assert windows(out) == [(0, 7, 50_000, 2, 2)]  # unpriced sale adds units, not revenue


def test_windows_before_the_cutoff_are_forgotten() -> None:
    k = book()
    k.apply_batch([ev("s1", "sale", 1, 10)])
    k.apply_batch([ev("r", "restock", 1, 400)])  # cutoff now 100 s: window [0, 60) is final
    assert list(k.windows.open) == []
    out = k.apply_batch([ev("s2", "sale", 1, 50)])  # so a sale for it is late, not lost
    assert len(out) == 1 and isinstance(out[0], DeadLetter) and out[0].error.startswith("late")


def test_one_alert_per_crossing_and_requests_on_the_inventory_position() -> None:
    k = book()
    out = k.apply_batch(
        [
            ev("c", "count", 8, 0),  # ok (starts ok, 8 > 5); position 8
            ev("s1", "sale", 3, 1),  # 5: low_stock; position 5 <= 5: request 15, PO A
            ev("s2", "sale", 1, 2),  # 4: still low, no alert; position 19
            ev("s3", "sale", 6, 3),  # -2: 2 oversold; out_of_stock naming A; position 13
            ev("r1", "restock", 4, 4),  # no po_id: against A (4 of 15); out -> low: no alert
            ev("r2", "restock", 10, 5),  # A: 14 of 15; 12: back_in_stock; position 13
            ev("a", "adjustment", -12, 6),  # 0: out_of_stock; position 1: request 19, PO B
        ]
    )
    alerts = [o for o in out if isinstance(o, Alert)]
    assert alerts[1].kind == "oversell" and alerts[1].event_id == "s3"
    del alerts[1]
    assert [(a.kind, a.on_hand, a.threshold, a.reorder_quantity, a.event_id) for a in alerts] == [
        ("low_stock", 5, 5, 15, "s1"),
        ("out_of_stock", -2, 5, 0, "s3"),
        ("back_in_stock", 12, 5, 0, "r2"),
        ("out_of_stock", 0, 5, 19, "a"),
    ]
    assert alerts[0].alert_id == alert_id("W", "S", "low_stock", "s1")
    assert alerts[0].raised_ms == T0 + 1000
    orders = [o for o in out if isinstance(o, PurchaseOrder)]
    first, second = orders[0].po_id, orders[-1].po_id
    assert [(o.po_id, o.status, o.received_quantity) for o in orders] == [
        (first, "open", 0),
        (first, "partially_received", 4),
        (first, "partially_received", 14),
        (second, "open", 0),
    ]
    assert alerts[1].po_id == first and alerts[1].expected_ms == orders[0].expected_ms
    assert alerts[3].po_id == second != first
    assert (orders[0].quantity, orders[0].opened_ms) == (15, T0 + 1000)
    assert orders[0].expected_ms == T0 + 1000 + POLICY.lead_time_ms
    assert alerts[0].expected_ms == orders[0].expected_ms
    levels = [o for o in out if isinstance(o, StockLevel)]
    assert len(levels) == 1 and (levels[0].on_hand, levels[0].on_order) == (0, 1 + 19)
    assert levels[0].inventory_position == 20


def test_snapshot_round_trip_continues_identically() -> None:
    first, second = book(), book()
    batch1 = [ev("c", "count", 8, 0), ev("s1", "sale", 3, 1, order="o")]
    batch2 = [ev("s2", "sale", 9, 2, order="o"), ev("r", "restock", 30, 3)]
    first.apply_batch(batch1)
    second.apply_batch(batch1)
    restored = KeyBook(
        lateness_ms=300_000,
        window_ms=60_000,
        policy_for=lambda _: POLICY,
        state=pickle.loads(pickle.dumps(second.snapshot())),
    )
    assert first.apply_batch(batch2) == restored.apply_batch(batch2)


def test_bands() -> None:
    assert [band(x, 5) for x in (-1, 0, 1, 5, 6)] == ["out", "out", "low", "low", "ok"]
    assert [band(x, 0) for x in (0, 1)] == ["out", "ok"]


def test_compact_blob_round_trip_and_old_snapshots_resume() -> None:
    first, second = book(), book()
    batch1 = [ev("c", "count", 8, 0), ev("s1", "sale", 3, 1, order="o")]
    batch2 = [ev("s2", "sale", 9, 2, order="o"), ev("r", "restock", 30, 3), ev("s1", "sale", 3, 1)]
    first.apply_batch(batch1)
    second.apply_batch(batch1)
    blob = second.encode()
    assert len(blob) < 320  # v12 keeps the open day's movements (unconstrained demand)
    restored = KeyBook(
        lateness_ms=300_000, window_ms=60_000, policy_for=lambda _: POLICY, state=decode_state(blob)
    )
    assert first.apply_batch(batch2) == restored.apply_batch(batch2)
    # a snapshot from before the blob format (a KeyState) encodes to the same blob
    assert encode_state(second.snapshot()) == blob


def test_unknown_blob_format_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown key state format"):
        decode_state(pickle.dumps((99,)))
