"""Independent model of decided holds and oversells (docs/semantics.md, "Decided holds",
"Oversell"), for tests only: a key's accepted events (facts as decided) kept as the docs
state them, written apart from the flow's code."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from inventory.core.contract import InventoryEvent, stock_delta
from inventory.core.times import to_ms

DECIDED = ("hold_request", "hold_checkout", "hold_release")
# (reservation_id, request, decision, reason, quantity, expires_ms, backordered, ships_ms)
Verdict = tuple[str, str, str, str, int, int, int, int]
# docs/semantics.md, "Backorders and preorders": at a decision's time, the units the key
# may promise beyond on-hand and the deliveries covering them ((expected_ms, units), in
# the order they cover), or None
Room = Callable[[int], tuple[int, list[tuple[int, int]]] | None]


def _ms(e: InventoryEvent) -> int:
    return to_ms(e.occurred_at)


def _at(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


class KeyView:
    """One key's accepted events as the docs describe them, kept as they are accepted
    (counts and movements by event time, the governing reserve and latest close per id)."""

    def __init__(self) -> None:
        self.count: tuple[int, str, int] | None = None  # (ms, event_id, quantity)
        self.moves: list[tuple[int, int]] = []  # (ms, delta) of every movement
        self.after = 0  # the deltas strictly after the latest count
        self.newest = -1
        self.size = 0
        self.governing: dict[str, InventoryEvent] = {}
        self.closes: dict[str, int] = {}
        self.candidates: set[str] = set()  # ids whose hold may be active

    def add(self, e: InventoryEvent) -> None:
        ms = _ms(e)
        self.size += 1
        self.newest = max(self.newest, ms)
        if e.event_type == "count":
            if self.count is None or (ms, e.event_id) > self.count[:2]:
                self.count = (ms, e.event_id, e.quantity)
                self.after = sum(d for t, d in self.moves if t > ms)
        else:
            delta = stock_delta(e.event_type, e.quantity)
            self.moves.append((ms, delta))
            if self.count is None or ms > self.count[0]:
                self.after += delta
        rid = e.reservation_id
        if rid is None:
            return
        if e.event_type == "reserve":
            held = self.governing.get(rid)
            if held is None or (ms, e.event_id) > (_ms(held), held.event_id):
                self.governing[rid] = e
                self.candidates.add(rid)
        elif e.event_type in ("release", "sale"):
            self.closes[rid] = max(self.closes.get(rid, -1), ms)

    def on_hand(self) -> int:
        return (self.count[2] if self.count else 0) + self.after

    def is_closed(self, rid: str) -> bool:
        return self.closes.get(rid, -1) >= _ms(self.governing[rid])

    def active(self, at_ms: int) -> dict[str, int]:
        """Reservation id -> units of the holds active at ``at_ms``; one inactive at or
        before the newest event time stays inactive (no longer a candidate)."""
        out = {}
        for rid in list(self.candidates):
            e = self.governing[rid]
            assert e.expires_at is not None
            if to_ms(e.expires_at) > at_ms and not self.is_closed(rid):
                out[rid] = e.quantity
            elif at_ms <= self.newest:
                self.candidates.discard(rid)
        return out

    def available(self) -> int:
        return self.on_hand() - sum(self.active(self.newest).values())


def decide(
    view: KeyView, request: InventoryEvent, lateness_ms: int, room: Room | None = None
) -> tuple[InventoryEvent, Verdict]:
    """The fact a request becomes (itself when refused) and its verdict."""
    rid = request.reservation_id
    assert rid is not None
    kind, ms = request.event_type, _ms(request)
    before = view.newest
    hold = view.governing.get(rid)
    if hold is not None and _ms(hold) < max(before, ms) - lateness_ms:
        expires = to_ms(hold.expires_at) if hold.expires_at else 0
        if view.is_closed(rid) or expires <= max(before, ms):
            hold = None  # forgotten by event time
    if kind == "hold_request":
        at = ms
        if hold is not None and (ms, request.event_id) <= (_ms(hold), hold.event_id):
            at = _ms(hold) + 1
        at = max(at, view.closes.get(rid, -2) + 1)
    else:
        at = ms if hold is None else max(ms, _ms(hold))
    now = max(before, at)
    reason = ""
    promised = (0, -1)  # (units beyond on-hand, when expected)
    if hold is not None and view.is_closed(rid):
        reason = "closed"
    elif hold is not None and to_ms(hold.expires_at) <= now:  # type: ignore[arg-type]
        reason = "expired"
    elif hold is None and kind != "hold_request":
        reason = "unknown"
    elif kind == "hold_request":
        assert request.expires_at is not None
        mine = hold.quantity if hold is not None else 0
        free = view.on_hand() - sum(view.active(now).values())
        if to_ms(request.expires_at) <= now:
            reason = "expired"
        elif request.quantity > free + mine:
            extra = room(now) if room is not None else None
            beyond = request.quantity - free - mine  # promised beyond on-hand after it
            if extra is None or beyond > extra[0]:
                reason = "insufficient"
            else:
                covered, when = 0, -1
                for expected_ms, units in extra[1]:
                    covered += units
                    if covered >= beyond:
                        when = expected_ms
                        break
                promised = (min(beyond, request.quantity), when)
    if reason:
        if hold is not None:
            expires_ms = to_ms(hold.expires_at)  # type: ignore[arg-type]
        else:
            expires_ms = to_ms(request.expires_at) if request.expires_at else -1
        return request, (rid, kind, "refused", reason, request.quantity, expires_ms, 0, -1)
    if kind == "hold_request":
        fact = request.model_copy(update={"event_type": "reserve", "occurred_at": _at(at)})
        expires_ms = to_ms(request.expires_at)  # type: ignore[arg-type]
        return fact, (rid, kind, "granted", "", request.quantity, expires_ms, *promised)
    assert hold is not None
    fact_type, decision = {
        "hold_checkout": ("sale", "checked_out"),
        "hold_release": ("release", "released"),
    }[kind]
    fact = request.model_copy(
        update={"event_type": fact_type, "quantity": hold.quantity, "occurred_at": _at(at)}
    )
    expires_ms = to_ms(hold.expires_at)  # type: ignore[arg-type]
    return fact, (rid, kind, decision, "", hold.quantity, expires_ms, 0, -1)


def expired(view: KeyView, then: dict[str, int]) -> list[Verdict]:
    """Of the holds active before an event (``then``), those its time expired (not
    closed), by reservation id."""
    still = view.active(view.newest)
    out = []
    for rid in sorted(then):
        if rid not in still and not view.is_closed(rid):
            hold = view.governing[rid]
            expires_ms = to_ms(hold.expires_at)  # type: ignore[arg-type]
            out.append((rid, "", "expired", "", hold.quantity, expires_ms, 0, -1))
    return out


def oversold(was: int, now: int) -> int:
    """A sale's units beyond what was available (how far it took available below 0)."""
    return max(0, min(was - now, -now))
