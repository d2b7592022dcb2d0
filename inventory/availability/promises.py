"""What a shopper is offered beyond the stock on hand (contract v10): backorders and
preorders, by the catalog's oversell policy (docs/semantics.md, "Backorders and
preorders"; the flow decides every hold, this only says what to expect).

Per warehouse, the units already promised beyond on-hand are max(reserved - on_hand, 0);
what may still be promised (*room left*):

- ``backorder``: the warehouse's units on order (at most ``oversell_limit`` when > 0)
  minus those promised;
- ``preorder``, before ``release_at`` by this service's clock: ``oversell_limit`` minus
  those promised (no cap when the limit is 0);
- otherwise 0.

A SKU's offer sums the warehouses asked for (no cap if any has none). Its date is, for a
backorder, the earliest expected delivery of the warehouses with room left (a hold's own
answer gives the date of the order covering it), for a preorder the release. The
storefront line, only when nothing is available and room is left: "Backorder: ships by
Tue 8 Dec" ("Backorder: ships soon" once that date has passed) or "Pre-order: ships Wed
9 Dec".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from inventory.availability.rules import day_label
from inventory.availability.store import Promise, WarehouseStock
from inventory.core.times import to_ms


@dataclass(frozen=True, slots=True)
class Offer:
    policy: str  # deny, backorder or preorder
    units: int | None  # room left over the warehouses; None: no cap
    ships_ms: int  # -1: no date
    message: str | None


DENY = Offer("deny", 0, -1, None)


def room_left(promise: Promise, w: WarehouseStock, now_ms: int) -> int | None:
    """Units ``w`` may still promise beyond on-hand (None: no cap)."""
    promised = max(w.reserved - w.on_hand, 0)
    if promise.policy == "backorder":
        room = w.on_order if promise.limit <= 0 else min(w.on_order, promise.limit)
        return max(room - promised, 0)
    if promise.policy == "preorder" and now_ms < promise.release_ms:
        return None if promise.limit <= 0 else max(promise.limit - promised, 0)
    return 0


def offer_of(
    promise: Promise | None, rows: Sequence[WarehouseStock], available: int, now_ms: int
) -> Offer:
    """The SKU's offer over ``rows`` (the warehouses asked for) with ``available`` units."""
    if promise is None:
        return DENY
    rooms = [(w, room_left(promise, w, now_ms)) for w in rows]
    capped = [room for _, room in rooms if room is not None]
    units = None if len(capped) < len(rooms) else sum(capped)
    if promise.policy == "preorder":
        ships = promise.release_ms if now_ms < promise.release_ms else -1
    else:
        dates = [w.next_expected_ms for w, room in rooms if room and w.next_expected_ms >= 0]
        ships = min(dates, default=-1)
    message = None
    if available <= 0 and units != 0 and ships >= 0:
        if promise.policy == "preorder":
            message = f"Pre-order: ships {day_label(ships)}"
        elif ships < now_ms:
            message = "Backorder: ships soon"
        else:
            message = f"Backorder: ships by {day_label(ships)}"
    return Offer(promise.policy, units, ships, message)


def can_promise(promise: Promise | None, w: WarehouseStock, now_ms: int) -> bool:
    """Whether a hold in ``w`` may be granted beyond what it has available."""
    if promise is None:
        return False
    room = room_left(promise, w, now_ms)
    return room is None or room > 0


def with_promise_message(decision: dict[str, Any], promise: Promise | None) -> dict[str, Any]:
    """A grant's decision with units beyond on-hand (``backordered``), with the line the
    storefront shows for it: "Pre-order: ships Wed 9 Dec" (a preorder SKU) or "Backorder:
    2 ship by Tue 8 Dec"; other decisions as they are."""
    units, ships = decision.get("backordered") or 0, decision.get("ships_at")
    if not units or not ships:
        return decision
    day = day_label(to_ms(datetime.fromisoformat(ships)))
    if promise is not None and promise.policy == "preorder":
        line = f"Pre-order: ships {day}"
    else:
        line = f"Backorder: {units} {'ships' if units == 1 else 'ship'} by {day}"
    return {**decision, "promise_message": line}
