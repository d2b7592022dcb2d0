"""Purchase orders and reservations of one key (unit level; end to end in the property
and integration tests)."""

from __future__ import annotations

from dataflows.per_key.book import KeyBook, decode_state, encode_state
from dataflows.per_key.orders import OrderRules
from inventory.core.records import Alert, ProductPolicy, PurchaseOrder, StockLevel
from tests.support.builders import T0, ev

HOUR_MS = 3_600_000
POLICY = ProductPolicy(threshold=5, target_stock=20, lead_time_ms=2 * HOUR_MS)


def book() -> KeyBook:
    return KeyBook(
        lateness_ms=300_000,
        window_ms=60_000,
        policy_for=lambda _: POLICY,
        rules=OrderRules(grace_ms=HOUR_MS),
    )


def of(kind: type, out: list[object]) -> list:  # type: ignore[type-arg]
    return [o for o in out if isinstance(o, kind)]


def test_a_restock_carrying_the_po_id_receives_it_and_reorders_resume() -> None:
    k = book()
    out = k.apply_batch([ev("c", "count", 8, 0), ev("s1", "sale", 4, 1)])  # 4: low, PO
    (po,) = of(PurchaseOrder, out)
    out = k.apply_batch([ev("r0", "restock", 1, 2, po="po-other")])  # not this PO: plain
    assert of(PurchaseOrder, out) == [] and k.order is not None
    out = k.apply_batch([ev("r1", "restock", 16, 3600, po=po.po_id)])
    (received,) = of(PurchaseOrder, out)
    assert (received.po_id, received.status, received.received_quantity) == (
        po.po_id,
        "received",
        16,
    )
    assert received.received_ms == T0 + 3_600_000 and received.receipt_event_id == "r1"
    assert received.version > po.version
    assert [a.kind for a in of(Alert, out)] == ["back_in_stock"]
    out = k.apply_batch([ev("s2", "sale", 20, 3700)])  # 1: low again, a new PO
    (alert,) = of(Alert, out)
    (second,) = of(PurchaseOrder, out)
    assert alert.reorder_quantity == 19 and alert.po_id == second.po_id != po.po_id


def test_a_po_not_received_by_expected_plus_grace_raises_reorder_overdue_once() -> None:
    k = book()
    k.apply_batch([ev("c", "count", 8, 0), ev("s1", "sale", 4, 1)])
    deadline_s = 1 + 3 * 3600  # lead time 2 h + grace 1 h after the alert
    out = k.apply_batch([ev("s2", "sale", 1, deadline_s - 1)])
    assert of(Alert, out) == []
    out = k.apply_batch([ev("s3", "sale", 1, deadline_s), ev("s4", "sale", 1, deadline_s + 5)])
    (alert,) = of(Alert, out)
    (po,) = of(PurchaseOrder, out)
    assert (alert.kind, alert.event_id, alert.reorder_quantity) == ("reorder_overdue", "s3", 0)
    assert alert.po_id == po.po_id and po.status == "overdue"
    out = k.apply_batch([ev("r", "restock", 20, deadline_s + 10, po=po.po_id)])
    assert [o.status for o in of(PurchaseOrder, out)] == ["received"]


def test_holds_reduce_available_until_released_consumed_or_expired() -> None:
    k = book()
    k.apply_batch([ev("c", "count", 10, 0)])
    out = k.apply_batch(
        [
            ev("h1", "reserve", 2, 1, reservation="cart-1", expires_s=600),
            ev("h2", "reserve", 3, 2, reservation="cart-2", expires_s=60),
        ]
    )
    (level,) = of(StockLevel, out)
    assert (level.on_hand, level.reserved, level.available) == (10, 5, 5)
    out = k.apply_batch([ev("s", "sale", 2, 30, reservation="cart-1")])  # consumes cart-1
    (level,) = of(StockLevel, out)
    assert (level.on_hand, level.reserved, level.available) == (8, 3, 5)
    out = k.apply_batch([ev("x", "adjustment", 1, 60)])  # event time reaches cart-2's expiry
    (level,) = of(StockLevel, out)
    assert (level.on_hand, level.reserved) == (9, 0)


def test_a_release_that_arrives_before_its_reserve_still_closes_it() -> None:
    k = book()
    k.apply_batch([ev("c", "count", 10, 0), ev("rel", "release", 0, 5, reservation="r")])
    out = k.apply_batch([ev("h", "reserve", 4, 3, reservation="r", expires_s=600)])
    assert of(StockLevel, out)[0].reserved == 0
    # a later reserve under the same id governs: the earlier release does not close it
    out = k.apply_batch([ev("h2", "reserve", 6, 9, reservation="r", expires_s=600)])
    assert of(StockLevel, out)[0].reserved == 6


def test_holds_and_open_po_survive_the_state_blob() -> None:
    k = book()
    k.apply_batch(
        [
            ev("c", "count", 8, 0),
            ev("s1", "sale", 4, 1),
            ev("h", "reserve", 1, 2, reservation="r", expires_s=900),
        ]
    )
    restored = decode_state(encode_state(k.snapshot()))
    assert restored == k.snapshot()
    assert restored.order is not None and restored.stock.holds.reserved == 1
