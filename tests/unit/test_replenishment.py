"""Replenishment of one key, hand-computed from docs/semantics.md ("Replenishment"):
requests on the inventory position, receipts with and without po_id, partial and
over-receipts, cancellations, expiry, case packs and order limits, history in a
backfill, and the state across a snapshot and an older state format."""

from __future__ import annotations

import pickle

from dataflows.per_key.book import KeyBook, Seed, decode_state, encode_state
from dataflows.per_key.orders import OrderRules
from dataflows.per_key.stock import StockState
from inventory.core.records import Alert, ProductPolicy, PurchaseOrder, StockLevel
from tests.support.builders import T0, ev

HOUR_MS = 3_600_000
# the worked example's SKU: reorder point 10, target 50, case pack 12, lead time 72 h
EXAMPLE = ProductPolicy(threshold=10, target_stock=50, lead_time_ms=72 * HOUR_MS, case_pack=12)
RULES = OrderRules(grace_ms=24 * HOUR_MS, expiry_ms=168 * HOUR_MS)


def book(policy: ProductPolicy = EXAMPLE, rules: OrderRules = RULES) -> KeyBook:
    return KeyBook(lateness_ms=10**12, window_ms=60_000, policy_for=lambda _: policy, rules=rules)


def of(kind: type, out: list[object]) -> list:  # type: ignore[type-arg]
    return [o for o in out if isinstance(o, kind)]


def alerts(out: list[object]) -> list[tuple[str, int, int, str]]:
    return [(a.kind, a.on_hand, a.reorder_quantity, a.event_id) for a in of(Alert, out)]


def level(out: list[object]) -> tuple[int, int, int]:
    (stock,) = of(StockLevel, out)
    return stock.on_hand, stock.on_order, stock.inventory_position


def test_the_worked_example() -> None:
    k = book()
    assert alerts(k.apply_batch([ev("c", "count", 60, 0)])) == []
    out = k.apply_batch([ev("s1", "sale", 52, 1)])
    assert alerts(out) == [("low_stock", 8, 48, "s1")]  # 50 - 8 = 42, 4 cases of 12
    (a,) = of(PurchaseOrder, out)
    assert (a.status, a.quantity, a.opened_ms, a.expected_ms) == (
        "open",
        48,
        T0 + 1000,
        T0 + 1000 + 72 * HOUR_MS,
    )
    assert level(out) == (8, 48, 56)
    out = k.apply_batch([ev("s2", "sale", 8, 2)])
    (out_of_stock,) = of(Alert, out)
    assert (out_of_stock.kind, out_of_stock.reorder_quantity) == ("out_of_stock", 0)
    assert (out_of_stock.po_id, out_of_stock.expected_ms) == (a.po_id, a.expected_ms)
    out = k.apply_batch([ev("r", "restock", 20, 3)])  # no po_id: the oldest open order
    (partial,) = of(PurchaseOrder, out)
    assert (partial.status, partial.received_quantity, partial.remaining) == (
        "partially_received",
        20,
        28,
    )
    assert alerts(out) == [("back_in_stock", 20, 0, "r")]
    assert level(out) == (20, 28, 48)
    out = k.apply_batch([ev("s3", "sale", 15, 4)])
    (low,) = of(Alert, out)
    assert (low.kind, low.reorder_quantity, low.po_id) == ("low_stock", 0, a.po_id)
    out = k.apply_batch([ev("x", "cancel", 0, 5, po=a.po_id)])
    cancelled, b = of(PurchaseOrder, out)
    assert (cancelled.status, cancelled.cancelled_quantity, cancelled.remaining) == (
        "cancelled",
        28,
        0,
    )
    assert cancelled.closed_ms == T0 + 5000
    assert alerts(out) == [("reorder", 5, 48, "x")]  # 50 - 5 = 45 -> 48
    assert (b.status, b.quantity) == ("open", 48) and of(Alert, out)[0].po_id == b.po_id
    assert level(out) == (5, 48, 53)
    expiry_s = 5 + (72 + 168) * 3600
    out = k.apply_batch([ev("late", "adjustment", 1, expiry_s)])
    expired, c = of(PurchaseOrder, out)
    assert (expired.po_id, expired.status, expired.remaining) == (b.po_id, "expired", 0)
    assert alerts(out) == [("reorder_expired", 6, 0, "late"), ("reorder", 6, 48, "late")]
    assert c.status == "open" and level(out) == (6, 48, 54)


def test_one_request_per_shortfall_and_a_new_one_after_recovering() -> None:
    policy = ProductPolicy(threshold=10, target_stock=50)
    k = book(policy)
    k.apply_batch([ev("c", "count", 50, 0)])
    out = k.apply_batch([ev(f"s{n}", "sale", 5, n) for n in range(1, 9)])  # 45 ... 10
    assert [a.kind for a in of(Alert, out)] == ["low_stock"]
    (po,) = of(PurchaseOrder, out)
    assert po.quantity == 40  # position 10: up to 50
    out = k.apply_batch([ev(f"t{n}", "sale", 1, 10 + n) for n in range(1, 6)])  # position down
    assert of(PurchaseOrder, out) == [] and of(Alert, out) == []  # still above 10 (45 ... 45)
    out = k.apply_batch([ev("r", "restock", 40, 20, po=po.po_id)])  # received in full
    assert [o.status for o in of(PurchaseOrder, out)] == ["received"]
    assert level(out) == (45, 0, 45)
    out = k.apply_batch([ev(f"u{n}", "sale", 5, 20 + n) for n in range(1, 8)])  # 40 ... 10
    (second,) = of(PurchaseOrder, out)  # the key ran low again: a new request
    assert second.po_id != po.po_id and second.quantity == 40


def test_a_drop_while_on_order_requests_only_what_the_position_lacks() -> None:
    policy = ProductPolicy(threshold=10, target_stock=50)
    k = book(policy)
    k.apply_batch([ev("c", "count", 12, 0)])
    (first,) = of(PurchaseOrder, k.apply_batch([ev("s", "sale", 3, 1)]))  # 9: order 41
    assert first.quantity == 41
    out = k.apply_batch([ev("big", "sale", 45, 2)])  # -36: position 5 <= 10
    (second,) = of(PurchaseOrder, out)
    assert second.quantity == 45  # 50 - 5: only what the position lacks
    assert level(out) == (-36, 86, 50)


def test_receipts_by_po_id_plain_restocks_and_over_receipts() -> None:
    k = book(ProductPolicy(threshold=10, target_stock=50))
    k.apply_batch([ev("c", "count", 12, 0)])
    (older,) = of(PurchaseOrder, k.apply_batch([ev("s1", "sale", 4, 1)]))  # 8: order 42
    (newer,) = of(PurchaseOrder, k.apply_batch([ev("s2", "sale", 40, 2)]))  # -32: order 40
    out = k.apply_batch([ev("r0", "restock", 5, 3, po="po-unknown")])  # no open order
    assert of(PurchaseOrder, out) == [] and level(out) == (-27, 82, 55)
    out = k.apply_batch([ev("r1", "restock", 50, 4, po=newer.po_id)])  # an over-receipt
    (got,) = of(PurchaseOrder, out)
    assert (got.po_id, got.status, got.received_quantity, got.remaining) == (
        newer.po_id,
        "received",
        50,
        0,
    )
    assert level(out) == (23, 42, 65)  # the older order is still on order
    out = k.apply_batch([ev("r2", "restock", 42, 5)])  # no po_id: the oldest open one
    assert [(o.po_id, o.status) for o in of(PurchaseOrder, out)] == [(older.po_id, "received")]


def test_with_receipts_needing_po_ids_a_restock_without_one_is_plain() -> None:
    rules = OrderRules(receipts_need_po_id=True)
    k = book(ProductPolicy(threshold=10, target_stock=50), rules)
    k.apply_batch([ev("c", "count", 12, 0)])
    k.apply_batch([ev("s", "sale", 4, 1)])  # 8: an order of 42
    out = k.apply_batch([ev("r", "restock", 42, 2)])
    assert of(PurchaseOrder, out) == [] and level(out) == (50, 42, 92)


def test_a_partial_cancel_keeps_the_rest_on_order() -> None:
    k = book(ProductPolicy(threshold=10, target_stock=50))
    k.apply_batch([ev("c", "count", 12, 0)])
    (po,) = of(PurchaseOrder, k.apply_batch([ev("s", "sale", 4, 1)]))  # 42 on order
    out = k.apply_batch([ev("x1", "cancel", 10, 2, po=po.po_id)])
    (less,) = of(PurchaseOrder, out)
    assert (less.status, less.cancelled_quantity, less.remaining) == ("open", 10, 32)
    assert level(out) == (8, 32, 40) and of(Alert, out) == []
    out = k.apply_batch([ev("x2", "cancel", 5, 3, po="po-other")])  # names no open order
    assert of(PurchaseOrder, out) == []


def test_overdue_warns_once_then_the_order_expires_and_a_new_request_follows() -> None:
    policy = ProductPolicy(threshold=10, target_stock=50, lead_time_ms=2 * HOUR_MS)
    k = book(policy, OrderRules(grace_ms=HOUR_MS, expiry_ms=5 * HOUR_MS))
    k.apply_batch([ev("c", "count", 12, 0)])
    k.apply_batch([ev("s", "sale", 4, 1)])  # 8: an order, expected at 2 h
    overdue_s = 1 + 3 * 3600  # expected + 1 h of grace
    assert of(Alert, k.apply_batch([ev("a1", "adjustment", 1, overdue_s - 1)])) == []  # 9
    out = k.apply_batch([ev("a2", "adjustment", -1, overdue_s)])  # 8
    assert alerts(out) == [("reorder_overdue", 8, 0, "a2")]
    assert [o.status for o in of(PurchaseOrder, out)] == ["overdue"]
    assert of(Alert, k.apply_batch([ev("a3", "adjustment", 1, overdue_s + 1)])) == []  # once
    out = k.apply_batch([ev("a4", "adjustment", -1, 1 + 7 * 3600)])  # 8; expected + 5 h
    assert [o.status for o in of(PurchaseOrder, out)] == ["expired", "open"]
    assert alerts(out) == [("reorder_expired", 8, 0, "a4"), ("reorder", 8, 42, "a4")]


def test_case_packs_minimum_and_maximum_and_a_billion_unit_sale() -> None:
    assert ProductPolicy(10, 50, case_pack=12).order_quantity(8) == 48
    assert ProductPolicy(10, 50, min_order=100).order_quantity(8) == 100
    assert ProductPolicy(10, 50, max_order=30).order_quantity(8) == 30
    assert ProductPolicy(10, 50).order_quantity(-(10**9)) == 500  # 10 x the target
    k = book(ProductPolicy(threshold=10, target_stock=50))
    k.apply_batch([ev("c", "count", 60, 0)])
    out = k.apply_batch([ev("huge", "sale", 10**9, 1)])
    (po,) = of(PurchaseOrder, out)
    assert po.quantity == 500
    out = k.apply_batch([ev(f"s{n}", "sale", 1, 1 + n) for n in range(1, 20)])
    assert of(PurchaseOrder, out) == []  # capped: no order per event while still short
    out = k.apply_batch([ev("r", "restock", 500, 30)])  # the order is received ...
    (received, again) = of(PurchaseOrder, out)  # ... and the shortfall is asked for again
    assert received.status == "received" and again.quantity == 500


def test_a_backfill_records_requests_as_history_never_on_order() -> None:
    k = book(ProductPolicy(threshold=10, target_stock=50), OrderRules(historical=True))
    k.apply_batch([ev("c", "count", 12, 0)])
    out = k.apply_batch([ev("s1", "sale", 4, 1), ev("s2", "sale", 1, 2)])
    (po,) = of(PurchaseOrder, out)  # one request for the shortfall
    assert (po.status, po.remaining, po.closed_ms) == ("historical", 0, T0 + 1000)
    assert level(out) == (7, 0, 7)
    out = k.apply_batch([ev("r", "restock", 43, 3), ev("s3", "sale", 45, 4)])
    assert [o.status for o in of(PurchaseOrder, out)] == ["historical"]  # recovered, low again


def test_a_seed_brings_its_open_orders_and_the_state_survives_a_snapshot() -> None:
    k = book(ProductPolicy(threshold=10, target_stock=50))
    k.apply_batch([ev("c", "count", 12, 0)])
    (po,) = of(PurchaseOrder, k.apply_batch([ev("s", "sale", 4, 1)]))
    state = k.snapshot()
    assert decode_state(encode_state(state)) == state
    seeded = book(ProductPolicy(threshold=10, target_stock=50))
    seeded.adopt(Seed("W", "S", state.stock.copy(), {}, (po,)))
    out = seeded.apply_batch([ev("r", "restock", 42, 2)])
    assert [(o.po_id, o.status) for o in of(PurchaseOrder, out)] == [(po.po_id, "received")]


def test_a_state_of_format_3_resumes_with_its_open_order() -> None:
    k = book(ProductPolicy(threshold=10, target_stock=50))
    k.apply_batch([ev("c", "count", 12, 0)])
    (po,) = of(PurchaseOrder, k.apply_batch([ev("s", "sale", 4, 1)]))
    fields = list(pickle.loads(encode_state(k.snapshot(), pickled=True)))
    v4_po = tuple(getattr(po, name) for name in PurchaseOrder.__struct_fields__)[:12]
    old = pickle.dumps((3, *fields[1:12], v4_po))  # format 3: one open order, no flag
    state = decode_state(old)
    assert state.above is None and [o.po_id for o in state.orders] == [po.po_id]
    resumed = KeyBook(
        lateness_ms=10**12,
        window_ms=60_000,
        policy_for=lambda _: ProductPolicy(threshold=10, target_stock=50),
        state=state,
    )
    out = resumed.apply_batch([ev("s2", "sale", 1, 2)])  # position 49: no second request
    assert of(PurchaseOrder, out) == [] and level(out) == (7, 42, 49)
    assert isinstance(state.stock, StockState)
