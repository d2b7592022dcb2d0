"""Stock per (warehouse_id, sku): dedup, lateness and on-hand in event-time order.

Rules (documented in docs/semantics.md, enforced here and checked against an
independent model in the tests):

* **Lateness** - an event whose ``occurred_at`` is more than ``lateness_ms`` before
  the newest accepted event of its key is *late*: it is dead-lettered with a
  reason and changes nothing.
* **Dedup** - an event whose ``event_id`` was accepted for this key at an
  ``occurred_at`` within the horizon of the key's newest event time (this event's
  included) is dropped. Ids are forgotten by event time only, never by how many the key
  holds or when it was pruned or restarted: a copy re-stamped past the horizon of the
  accepted one is a new event.
* **On-hand** - ``count`` sets on-hand as of its ``occurred_at`` and reflects
  every movement with ``occurred_at <=`` it; later counts (by ``occurred_at``, then
  ``event_id``) win. On-hand = latest count (0 if none) + sum of deltas after it.
  This makes on-hand a function of the accepted set, not of arrival order.
* **Holds** - reservations change ``reserved`` (and so available = on-hand - reserved),
  never on-hand: see :mod:`dataflows.per_key.holds`. Hold requests, checkouts and
  releases are decided first and applied as the facts they decided
  (:mod:`dataflows.per_key.decisions`); holds that the event's time expires are noted.
* **Oversell** - a sale that takes available below 0 records the units beyond it
  (``Event.oversold``, summed in ``oversold``).
* **Already applied** - a key whose state was rebuilt from the tables (a seed, see
  :mod:`dataflows.seeds`) knows, per source partition, the last message it holds; the
  replay of those messages is skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from msgspec import structs

from dataflows.per_key.decisions import (
    RoomAt,
    Verdict,
    active_holds,
    decide,
    expired_since,
    oversold_units,
)
from dataflows.per_key.holds import HoldState, apply_hold, prune_holds
from inventory.core.contract import DECIDED_TYPES
from inventory.core.records import DeadLetter, Event, StockLevel, stock_version

# Ids and moves are pruned (those past the lateness cutoff dropped) once a key holds this
# many ids, then at twice what survived: amortized O(1) per event, and a quiet key keeps
# at most a few ids.
MIN_PRUNE_AT = 8
SourcePartition = tuple[str, str, int]  # (topic, topic_id, partition)


@dataclass
class StockState:
    """Small picklable state of one key."""

    on_hand: int = 0
    accepted: int = 0  # accepted events applied to the key, ever
    newest: tuple[int, str] = (-1, "")  # (occurred_ms, event_id) of the newest event
    count: tuple[int, str] | None = None  # (occurred_ms, event_id) of the governing count
    seen: dict[str, int] = field(default_factory=dict)  # event_id -> occurred_ms
    moves: list[tuple[int, int]] = field(default_factory=list)  # (occurred_ms, delta) > count
    prune_at: int = MIN_PRUNE_AT
    # (topic, topic_id, partition) -> offset of the last message a seed already holds
    applied_upto: dict[SourcePartition, int] = field(default_factory=dict)
    holds: HoldState = field(default_factory=HoldState)
    oversold: int = 0  # units sold beyond what was available, ever

    @property
    def version(self) -> int:
        """``stock_levels.version`` of this state (:func:`stock_version`)."""
        return stock_version(self.newest[0], self.accepted)

    def copy(self) -> StockState:
        return StockState(
            self.on_hand,
            self.accepted,
            self.newest,
            self.count,
            dict(self.seen),
            list(self.moves),
            self.prune_at,
            dict(self.applied_upto),
            self.holds.copy(),
            self.oversold,
        )


class StockBook:
    """Applies events of one key to its :class:`StockState`. After each :meth:`apply`,
    :attr:`verdicts` holds the decisions it made: the request's, then the holds its
    time expired."""

    __slots__ = ("lateness_ms", "state", "verdicts")

    def __init__(self, lateness_ms: int, state: StockState | None = None) -> None:
        self.lateness_ms = lateness_ms
        self.state = state if state is not None else StockState()
        self.verdicts: list[Verdict] = []

    def cutoff(self) -> int:
        """Events before this occurred_ms are late for this key."""
        newest = self.state.newest[0]
        return newest - self.lateness_ms if newest >= 0 else -1

    def apply(self, event: Event, room_at: RoomAt | None = None) -> Event | DeadLetter | None:
        """Apply one event: the accepted event (a decided request: the fact it decided;
        a sale: with its ``oversold`` units), a late dead letter, or None (a duplicate,
        or a message the state already holds). ``room_at``: a backorder or preorder
        SKU's room beyond on-hand (:func:`~dataflows.per_key.decisions.decide`)."""
        st = self.state
        if self.verdicts:
            self.verdicts = []
        if st.applied_upto and self._already_applied(event):
            return None
        ms = event.occurred_ms
        if ms < self.cutoff():
            return DeadLetter(
                event.source,
                event.key,
                event.payload,
                f"late: occurred_at is more than {self.lateness_ms // 1000} s before the newest "
                f"event of {event.warehouse_id}:{event.sku}",
            )
        seen_ms = st.seen.get(event.event_id)
        if seen_ms is not None and seen_ms >= max(st.newest[0], ms) - self.lateness_ms:
            return None  # a duplicate: its accepted copy is within the horizon
        holds = st.holds
        if event.event_type in DECIDED_TYPES:
            event, verdict = decide(
                event, holds, st.on_hand, st.newest[0], self.lateness_ms, room_at=room_at
            )
            self.verdicts.append(verdict)
            ms = event.occurred_ms
        # a hold can only expire when the newest time moves or its reservation is touched
        active = None
        if holds.reserves and (ms > st.newest[0] or event.reservation_id in holds.reserves):
            active = active_holds(holds, st.newest[0])
        available = st.on_hand - holds.reserved
        st.seen[event.event_id] = ms
        st.accepted += 1
        order = (ms, event.event_id)
        st.newest = max(st.newest, order)
        if event.event_type == "count":
            if st.count is None or order > st.count:
                st.count = order
                st.moves = [m for m in st.moves if m[0] > ms]
                st.on_hand = event.quantity + sum(delta for _, delta in st.moves)
        elif st.count is None or ms > st.count[0]:
            st.on_hand += event.delta
            st.moves.append((ms, event.delta))
        if event.reservation_id is not None or holds.reserves:
            apply_hold(holds, event, st.newest[0])
        if active:
            self.verdicts += expired_since(holds, active, st.newest[0])
        if event.event_type == "sale" and st.on_hand - holds.reserved < 0:
            oversold = oversold_units(available, st.on_hand - holds.reserved)
            if oversold:
                st.oversold += oversold
                event = structs.replace(event, oversold=oversold)
        if len(st.seen) >= st.prune_at:
            self._prune()
        return event

    def _already_applied(self, event: Event) -> bool:
        """True for a message at or before the seed's last one of its partition; the
        first message after it ends the skipping for that partition."""
        src = event.source
        where = (src.topic, src.topic_id, src.partition)
        upto = self.state.applied_upto.get(where)
        if upto is None:
            return False
        if src.offset <= upto:
            return True
        del self.state.applied_upto[where]
        return False

    def _prune(self) -> None:
        """Forget ids and moves older than the cutoff; no later accepted event needs them."""
        st = self.state
        cutoff = self.cutoff()
        st.seen = {eid: ms for eid, ms in st.seen.items() if ms >= cutoff}
        st.moves = [m for m in st.moves if m[0] >= cutoff]
        prune_holds(st.holds, st.newest[0], cutoff)
        st.prune_at = max(MIN_PRUNE_AT, 2 * len(st.seen))

    def level(self, warehouse_id: str, sku: str, lineage: str = "") -> StockLevel:
        st = self.state
        return StockLevel(
            warehouse_id=warehouse_id,
            sku=sku,
            on_hand=st.on_hand,
            version=st.version,
            updated_ms=st.newest[0],
            last_event_id=st.newest[1],
            lineage=lineage,
            reserved=st.holds.reserved,
            oversold=st.oversold,
        )
