"""Reservations per (warehouse_id, sku): which holds are active, in event time.

Rules (docs/semantics.md, "Reservations"; checked against an independent model):

* A ``reserve`` opens a hold of ``quantity`` units under its ``reservation_id`` until
  ``expires_at``. Several reserves with one id: the latest (by ``occurred_at``, then
  ``event_id``) governs, so a cart can change its quantity or extend its hold.
* A ``release``, or a ``sale`` carrying the ``reservation_id``, closes the governing hold
  if it happened at or after it (``occurred_at >=`` the reserve's). A sale's on-hand
  effect is its own quantity, whatever the hold held.
* Expiry follows event time: a hold is active while its ``expires_at`` is after the
  newest accepted event of the key. ``reserved`` is the sum of the active holds.

So ``reserved`` is a function of the key's accepted events, not of their arrival order,
and a replay rebuilds it exactly. Pruning keeps that: what it drops (closed or expired
holds, and closes, older than the lateness cutoff) can matter only to events that would
be late.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from inventory.core.records import Event

Reserve = tuple[int, str, int, int]  # (occurred_ms, event_id, quantity, expires_ms)


@dataclass
class HoldState:
    """Small picklable state of a key's holds."""

    reserves: dict[str, Reserve] = field(default_factory=dict)  # id -> governing reserve
    closes: dict[str, int] = field(default_factory=dict)  # id -> newest close occurred_ms
    reserved: int = 0

    def copy(self) -> HoldState:
        return HoldState(dict(self.reserves), dict(self.closes), self.reserved)


def apply_hold(state: HoldState, event: Event, newest_ms: int) -> None:
    """Take an accepted event; ``newest_ms`` is the key's newest accepted event time
    (this one included). Events that touch no hold cost one dict check."""
    rid = event.reservation_id
    kind = event.event_type
    if rid is not None and kind == "reserve":
        mine = (event.occurred_ms, event.event_id, event.quantity, event.expires_ms or 0)
        held = state.reserves.get(rid)
        if held is None or mine[:2] > held[:2]:
            state.reserves[rid] = mine
    elif rid is not None and kind in ("release", "sale"):
        if event.occurred_ms > state.closes.get(rid, -1):
            state.closes[rid] = event.occurred_ms
    elif not state.reserves:
        return
    state.reserved = reserved_at(state, newest_ms)


def is_active(state: HoldState, rid: str, newest_ms: int) -> bool:
    ms, _, _, expires_ms = state.reserves[rid]
    return expires_ms > newest_ms and state.closes.get(rid, -1) < ms


def reserved_at(state: HoldState, newest_ms: int) -> int:
    """Units held by the active holds as of ``newest_ms``."""
    return sum(r[2] for rid, r in state.reserves.items() if is_active(state, rid, newest_ms))


def prune_holds(state: HoldState, newest_ms: int, cutoff_ms: int) -> None:
    """Forget inactive holds and closes older than ``cutoff_ms`` (the lateness cutoff)."""
    state.reserves = {
        rid: r
        for rid, r in state.reserves.items()
        if r[0] >= cutoff_ms or is_active(state, rid, newest_ms)
    }
    state.closes = {rid: ms for rid, ms in state.closes.items() if ms >= cutoff_ms}
