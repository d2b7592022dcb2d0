"""Backorders and preorders (contract v10): what a hold may promise beyond on-hand.

Rules (docs/semantics.md, "Backorders and preorders"; checked against an independent
model):

* A SKU's ``oversell_policy`` is ``deny`` (the default: a hold is granted only within
  what is available), ``backorder`` or ``preorder``.
* ``backorder``: the key may promise beyond on-hand up to the units its open purchase
  orders still bring (``on_order``, as the orders stand after the previous event),
  at most ``oversell_limit`` units when that is > 0.
* ``preorder``: while the decision's time is before the SKU's ``release_at``, up to
  ``oversell_limit`` units beyond on-hand (0: no cap); from ``release_at`` on, as ``deny``.
* The units promised beyond on-hand (``-(on_hand - reserved)`` after a grant, so units
  sold beyond on-hand, owed to buyers, come first) are covered first-in-first-out by the
  open orders taken by ``expected_at``, then ``po_id``: a grant's date (``ships_at``) is
  the ``expected_at`` of the order that covers its last unit; a preorder's is the
  release. Nothing is taken back when an order is cancelled or expires: new requests
  are refused until the promised units fit again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from inventory.core.records import ProductPolicy, PurchaseOrder

NO_CAP = 1 << 62  # a preorder without a limit


@dataclass(frozen=True, slots=True)
class Beyond:
    """What the key may promise beyond on-hand at one decision: ``room`` units in all,
    and ``dates``: (units covered so far, when), by expected delivery."""

    room: int
    dates: tuple[tuple[int, int], ...]

    def ships_ms(self, short: int) -> int:
        """When the ``short``-th unit promised beyond on-hand is expected (-1: none)."""
        for upto, at_ms in self.dates:
            if short <= upto:
                return at_ms
        return -1


def beyond_on_hand(
    policy: ProductPolicy, open_orders: Iterable[PurchaseOrder], now_ms: int
) -> Beyond | None:
    """The room beyond on-hand of a ``backorder`` or ``preorder`` SKU at ``now_ms``
    (None: the key may promise nothing beyond what is available)."""
    if policy.oversell == "backorder":
        covered, dates = 0, []
        for po in sorted(open_orders, key=lambda po: (po.expected_ms, po.po_id)):
            if po.remaining > 0:
                covered += po.remaining
                dates.append((covered, po.expected_ms))
        if policy.oversell_limit > 0:
            covered = min(covered, policy.oversell_limit)
        return Beyond(covered, tuple(dates)) if covered > 0 else None
    if policy.oversell == "preorder" and now_ms < policy.release_ms:
        room = policy.oversell_limit if policy.oversell_limit > 0 else NO_CAP
        return Beyond(room, ((room, policy.release_ms),))
    return None
