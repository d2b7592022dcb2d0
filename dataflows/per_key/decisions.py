"""Decided holds (contract v9): the flow decides each hold request, checkout and release.

Rules (docs/semantics.md, "Decided holds"; checked against an independent model):

* Per key, in arrival order, an accepted ``hold_request``, ``hold_checkout`` or
  ``hold_release`` is decided against the key's state as it stands, so a replay decides
  the same. ``now`` is the key's newest event time with the request's (recorded) one.
* A hold the key no longer needs is forgotten by event time only: one whose governing
  ``reserve`` occurred before ``now`` - the lateness horizon and that is not active
  counts as no hold (so pruning and rebuilding from the tables decide alike).
* A request whose reservation's governing hold is closed (checked out or released) is
  refused ``closed``; whose hold has expired (``expires_at <= now``) ``expired``; a
  checkout or release of a reservation the key holds nothing under ``unknown``.
* A ``hold_request`` of ``q`` units (also a change of an active hold's quantity) is
  granted when ``q <= available + current`` (available = on-hand - reserved at ``now``,
  current = the units its active hold already keeps), else refused ``insufficient``;
  one whose own ``expires_at <= now`` is refused ``expired``.
* A granted request is recorded as the fact it decided, and the v4 hold rules
  (:mod:`dataflows.per_key.holds`) apply it: a granted ``hold_request`` as a ``reserve``
  (at its ``occurred_at``, or 1 ms after the hold it replaces when that one is not
  older, or after the id's latest close, so it governs and is open), a checkout as a
  ``sale`` of the hold's units carrying the reservation id, a release as a ``release``
  (both at the later of their ``occurred_at`` and the hold's, so they close it). A
  refused request changes nothing: it is recorded as itself, delta 0.
* A ``backorder`` or ``preorder`` SKU may grant beyond available up to the room of
  :mod:`dataflows.per_key.backorders`; such a grant carries its units beyond on-hand
  and when they are expected.
"""

from __future__ import annotations

from collections.abc import Callable

from msgspec import structs

from dataflows.per_key.backorders import Beyond
from dataflows.per_key.holds import HoldState, reserved_at
from inventory.core.records import Event

# (reservation_id, request type ('' for an expiry), decision, reason, quantity, expires_ms,
#  units beyond on-hand, ships_ms)
Verdict = tuple[str, str, str, str, int, int, int, int]
# the room beyond on-hand of the key's SKU at a decision's time (None: deny)
RoomAt = Callable[[int], Beyond | None]
_FACT = {"hold_request": "reserve", "hold_checkout": "sale", "hold_release": "release"}
_DONE = {"hold_request": "granted", "hold_checkout": "checked_out", "hold_release": "released"}


def decide(
    event: Event,
    holds: HoldState,
    on_hand: int,
    newest_ms: int,
    lateness_ms: int,
    *,
    room_at: RoomAt | None = None,
) -> tuple[Event, Verdict]:
    """The event to apply (the decided fact, or the refused request as is) and the
    verdict; ``newest_ms`` is the key's newest event time before this event,
    ``room_at`` what a backorder or preorder SKU may promise beyond on-hand."""
    rid = event.reservation_id
    assert rid is not None  # the contract requires it
    kind = event.event_type
    ms = event.occurred_ms
    held = holds.reserves.get(rid)
    if held is not None and held[0] < max(newest_ms, ms) - lateness_ms:
        closed = holds.closes.get(rid, -1) >= held[0]
        if closed or held[3] <= max(newest_ms, ms):
            held = None  # forgotten: inactive and out of the horizon
    if kind == "hold_request":  # after the hold it replaces and any close of the id
        at = ms if held is None or (ms, event.event_id) > held[:2] else held[0] + 1
        at = max(at, holds.closes.get(rid, -2) + 1)
    else:
        at = ms if held is None else max(ms, held[0])
    now = max(newest_ms, at)
    reason = ""
    free = 0
    beyond = None
    if held is not None and holds.closes.get(rid, -1) >= held[0]:
        reason = "closed"
    elif held is not None and held[3] <= now:
        reason = "expired"
    elif held is None and kind != "hold_request":
        reason = "unknown"
    elif kind == "hold_request":
        current = held[2] if held is not None else 0
        free = on_hand - reserved_at(holds, now) + current
        if (event.expires_ms or 0) <= now:
            reason = "expired"
        elif event.quantity > free:
            beyond = room_at(now) if room_at is not None else None
            if beyond is None or event.quantity > free + beyond.room:
                reason = "insufficient"
    if reason:
        expires = held[3] if held is not None else (event.expires_ms or -1)
        return event, (rid, kind, "refused", reason, event.quantity, expires, 0, -1)
    if kind == "hold_request":
        fact = structs.replace(event, event_type="reserve", occurred_ms=at)
        short = event.quantity - free  # units promised beyond on-hand after the grant
        late = (min(event.quantity, short), beyond.ships_ms(short)) if beyond else (0, -1)
        return fact, (rid, kind, "granted", "", event.quantity, event.expires_ms or -1, *late)
    assert held is not None
    units = held[2]
    fact = structs.replace(
        event,
        event_type=_FACT[kind],
        quantity=units,
        delta=-units if kind == "hold_checkout" else 0,
        occurred_ms=at,
    )
    return fact, (rid, kind, _DONE[kind], "", units, held[3], 0, -1)


def active_holds(holds: HoldState, newest_ms: int) -> list[str]:
    """The reservations whose hold is active as of ``newest_ms``."""
    closes = holds.closes
    return [
        rid
        for rid, (ms, _, _, expires_ms) in holds.reserves.items()
        if expires_ms > newest_ms and closes.get(rid, -1) < ms
    ]


def expired_since(holds: HoldState, active: list[str], newest_ms: int) -> list[Verdict]:
    """Of the holds ``active`` before an event, those the event's time expired (not
    closed, ``expires_at <= newest_ms``), by reservation id."""
    out: list[Verdict] = []
    for rid in sorted(active):
        ms, _, units, expires_ms = holds.reserves[rid]
        if expires_ms <= newest_ms and holds.closes.get(rid, -1) < ms:
            out.append((rid, "", "expired", "", units, expires_ms, 0, -1))
    return out


def oversold_units(available_before: int, available_after: int) -> int:
    """Units of a sale beyond what was available: how far it took available below 0."""
    return max(0, min(available_before - available_after, -available_after))
