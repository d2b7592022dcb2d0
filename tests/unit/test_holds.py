"""Reservations of one key, and its state blob with holds and open purchase orders (unit
level; end to end in the property and integration tests)."""

from __future__ import annotations

from dataflows.per_key.book import KeyBook, decode_state, encode_state
from dataflows.per_key.orders import OrderRules
from inventory.core.records import ProductPolicy, StockLevel
from tests.support.builders import ev

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
    assert len(restored.orders) == 1 and restored.stock.holds.reserved == 1
