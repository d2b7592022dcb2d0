"""Independent model of decided holds and oversells (docs/semantics.md, "Decided holds",
"Oversell"), for tests only: every figure is recomputed from a key's whole accepted list
(facts as decided), never kept incrementally."""

from __future__ import annotations

from datetime import UTC, datetime

from inventory.core.contract import InventoryEvent, stock_delta
from inventory.core.times import to_ms

DECIDED = ("hold_request", "hold_checkout", "hold_release")
# (reservation_id, request, decision, reason, quantity, expires_ms)
Verdict = tuple[str, str, str, str, int, int]


def _ms(e: InventoryEvent) -> int:
    return to_ms(e.occurred_at)


def _at(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def governing(accepted: list[InventoryEvent]) -> dict[str, InventoryEvent]:
    """Per reservation id, its latest reserve by (occurred_at, event_id)."""
    out: dict[str, InventoryEvent] = {}
    for e in accepted:
        if e.event_type == "reserve" and e.reservation_id is not None:
            held = out.get(e.reservation_id)
            if held is None or (_ms(e), e.event_id) > (_ms(held), held.event_id):
                out[e.reservation_id] = e
    return out


def closes(accepted: list[InventoryEvent]) -> dict[str, int]:
    """Per reservation id, the latest release or sale carrying it."""
    out: dict[str, int] = {}
    for e in accepted:
        if e.event_type in ("release", "sale") and e.reservation_id is not None:
            out[e.reservation_id] = max(out.get(e.reservation_id, -1), _ms(e))
    return out


def is_closed(rid: str, accepted: list[InventoryEvent]) -> bool:
    hold = governing(accepted)[rid]
    return closes(accepted).get(rid, -1) >= _ms(hold)


def active(accepted: list[InventoryEvent], at_ms: int) -> dict[str, int]:
    """Reservation id -> units of the holds active at ``at_ms``."""
    closed = closes(accepted)
    return {
        rid: e.quantity
        for rid, e in governing(accepted).items()
        if e.expires_at is not None and to_ms(e.expires_at) > at_ms and closed.get(rid, -1) < _ms(e)
    }


def on_hand(accepted: list[InventoryEvent]) -> int:
    """Latest count plus the deltas after it (docs/semantics.md, "Stock")."""
    counts = [e for e in accepted if e.event_type == "count"]
    if counts:
        last = max(counts, key=lambda e: (_ms(e), e.event_id))
        base, after = last.quantity, _ms(last)
    else:
        base, after = 0, -1
    return base + sum(
        stock_delta(e.event_type, e.quantity)
        for e in accepted
        if e.event_type != "count" and _ms(e) > after
    )


def newest(accepted: list[InventoryEvent]) -> int:
    return max((_ms(e) for e in accepted), default=-1)


def available(accepted: list[InventoryEvent]) -> int:
    return on_hand(accepted) - sum(active(accepted, newest(accepted)).values())


def decide(
    accepted: list[InventoryEvent], request: InventoryEvent, lateness_ms: int
) -> tuple[InventoryEvent, Verdict]:
    """The fact a request becomes (itself when refused) and its verdict."""
    rid = request.reservation_id
    assert rid is not None
    kind, ms = request.event_type, _ms(request)
    before = newest(accepted)
    hold = governing(accepted).get(rid)
    if hold is not None and _ms(hold) < max(before, ms) - lateness_ms:
        expires = to_ms(hold.expires_at) if hold.expires_at else 0
        if is_closed(rid, accepted) or expires <= max(before, ms):
            hold = None  # forgotten by event time
    if kind == "hold_request":
        at = ms
        if hold is not None and (ms, request.event_id) <= (_ms(hold), hold.event_id):
            at = _ms(hold) + 1
        at = max(at, closes(accepted).get(rid, -2) + 1)
    else:
        at = ms if hold is None else max(ms, _ms(hold))
    now = max(before, at)
    reason = ""
    if hold is not None and is_closed(rid, accepted):
        reason = "closed"
    elif hold is not None and to_ms(hold.expires_at) <= now:  # type: ignore[arg-type]
        reason = "expired"
    elif hold is None and kind != "hold_request":
        reason = "unknown"
    elif kind == "hold_request":
        assert request.expires_at is not None
        mine = hold.quantity if hold is not None else 0
        free = on_hand(accepted) - sum(active(accepted, now).values())
        if to_ms(request.expires_at) <= now:
            reason = "expired"
        elif request.quantity > free + mine:
            reason = "insufficient"
    if reason:
        if hold is not None:
            expires_ms = to_ms(hold.expires_at)  # type: ignore[arg-type]
        else:
            expires_ms = to_ms(request.expires_at) if request.expires_at else -1
        return request, (rid, kind, "refused", reason, request.quantity, expires_ms)
    if kind == "hold_request":
        fact = request.model_copy(update={"event_type": "reserve", "occurred_at": _at(at)})
        expires_ms = to_ms(request.expires_at)  # type: ignore[arg-type]
        return fact, (rid, kind, "granted", "", request.quantity, expires_ms)
    assert hold is not None
    fact_type, decision = {
        "hold_checkout": ("sale", "checked_out"),
        "hold_release": ("release", "released"),
    }[kind]
    fact = request.model_copy(
        update={"event_type": fact_type, "quantity": hold.quantity, "occurred_at": _at(at)}
    )
    expires_ms = to_ms(hold.expires_at)  # type: ignore[arg-type]
    return fact, (rid, kind, decision, "", hold.quantity, expires_ms)


def expired(before: list[InventoryEvent], after: list[InventoryEvent]) -> list[Verdict]:
    """Holds active before an event that its time expired (not closed)."""
    then = active(before, newest(before)) if before else {}
    now_ms = newest(after)
    still = active(after, now_ms)
    out = []
    reserves = governing(after)
    for rid in sorted(then):
        if rid not in still and not is_closed(rid, after):
            hold = reserves[rid]
            out.append((rid, "", "expired", "", hold.quantity, to_ms(hold.expires_at)))  # type: ignore[arg-type]
    return out


def oversold(before: list[InventoryEvent], after: list[InventoryEvent]) -> int:
    """A sale's units beyond what was available (how far it took available below 0)."""
    was = available(before) if before else 0
    now = available(after)
    return max(0, min(was - now, -now))
