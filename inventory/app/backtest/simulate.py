"""One key's stock under one policy, replayed through the flow's own per-key logic.

The shoppers' orders (``(ms, units)``) arrive in time order. Each is served from what is on
hand (lost sales: what is not there is not sold, and the flow sees only the units sold,
as it would in a shop); every unit served is a ``sale`` event applied by
:class:`~dataflows.per_key.book.KeyBook`, so requests, purchase orders, demand figures and
reorder points are exactly the pipeline's. Each purchase order the book opens is delivered
by the simulated supplier (:class:`~generators.supplier.SupplierBehaviour`) as a
``restock`` carrying its ``po_id`` at ``opened + actual lead time``. The key opens with a
``count`` of ``initial`` units at ``start_ms``.

Figures are taken over ``[measure_from_ms, end_ms)`` (the warm-up before is replayed but
not counted): units demanded and served, time with nothing on hand, the time integral
of on-hand units, and purchase orders opened.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass, field

from dataflows.per_key.book import KeyBook
from dataflows.per_key.orders import OrderRules
from generators.supplier import SupplierBehaviour
from inventory.core.records import Event, ProductPolicy, PurchaseOrder, Source

SOURCE = Source("backtest", 0, 0, 0)
WINDOW_MS = 60_000


@dataclass(frozen=True)
class Replay:
    """What every key's replay shares: the period, the rules and the supplier."""

    start_ms: int
    end_ms: int
    measure_from_ms: int
    rules: OrderRules
    lateness_ms: int
    supplier: SupplierBehaviour = field(default_factory=SupplierBehaviour)
    timeline: bool = False  # keep (ms, on_hand) after every change, for plots
    record: bool = False  # keep every event applied (a history to publish)
    id_prefix: str = "bt-"  # of the events' ids (a restock's is the supplier's, sup-<po_id>)


@dataclass
class KeyResult:
    """One key under one policy over the measured period."""

    demanded: int = 0  # units shoppers asked for
    served: int = 0  # units sold
    stockout_ms: int = 0  # time with nothing on hand
    unit_ms: float = 0.0  # integral of max(on_hand, 0) over time
    orders: int = 0  # purchase orders opened
    timeline: list[tuple[int, int]] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)  # with ``Replay.record``


class _Clock:
    """Accumulates the time-weighted figures of the measured period."""

    def __init__(self, replay: Replay, result: KeyResult, on_hand: int) -> None:
        self.replay, self.result = replay, result
        self.at = replay.start_ms
        self.on_hand = on_hand

    def advance(self, ms: int, on_hand: int) -> None:
        """Time passes to ``ms``; from then on ``on_hand`` is on hand."""
        lo = max(self.at, self.replay.measure_from_ms)
        hi = min(ms, self.replay.end_ms)
        if hi > lo:
            if self.on_hand <= 0:
                self.result.stockout_ms += hi - lo
            else:
                self.result.unit_ms += self.on_hand * (hi - lo)
        self.at = max(self.at, ms)
        if on_hand != self.on_hand and self.replay.timeline:
            self.result.timeline.append((ms, on_hand))
        self.on_hand = on_hand


def replay_key(
    warehouse_id: str,
    sku: str,
    orders: Iterable[tuple[int, int]],
    *,
    policy: ProductPolicy,
    initial: int,
    replay: Replay,
) -> KeyResult:
    """Replay ``orders`` (``(ms, units)`` in time order) for one key under ``policy``.

    :arg initial: units on hand at the start (a ``count``).
    :arg replay: the period, rules and supplier shared by every key.
    """
    book = KeyBook(
        lateness_ms=replay.lateness_ms,
        window_ms=WINDOW_MS,
        policy_for=lambda _sku: policy,
        rules=replay.rules,
    )
    result = KeyResult()
    serial = iter(range(1 << 62))
    pending: list[tuple[int, str, int]] = []  # (due ms, po_id, units)
    seen: set[str] = set()

    def apply(kind: str, ms: int, units: int, po_id: str | None = None) -> None:
        delta = {"sale": -units, "restock": units}.get(kind, 0)
        event_id = (
            f"sup-{po_id}" if po_id else f"{replay.id_prefix}{warehouse_id}-{sku}-{next(serial)}"
        )
        event = Event(
            event_id, kind, sku, warehouse_id, units, delta, ms,
            None, None, SOURCE, None, b"", po_id=po_id,
        )  # fmt: skip
        if replay.record:
            result.events.append(event)
        for out in book.apply_batch([event]):
            if type(out) is PurchaseOrder and out.po_id not in seen and out.status == "open":
                seen.add(out.po_id)
                if out.opened_ms >= replay.measure_from_ms:
                    result.orders += 1
                lead, delivered = replay.supplier.delivery(
                    out.po_id, out.expected_ms - out.opened_ms, out.quantity
                )
                heapq.heappush(pending, (out.opened_ms + lead, out.po_id, delivered))

    def deliver_until(ms: int) -> None:
        while pending and pending[0][0] <= ms:
            due, po_id, units = heapq.heappop(pending)
            clock.advance(due, book.stock.state.on_hand + units)
            apply("restock", due, units, po_id)

    apply("count", replay.start_ms, initial)
    clock = _Clock(replay, result, initial)
    if replay.timeline:
        result.timeline.append((replay.start_ms, initial))
    for ms, units in orders:
        if ms >= replay.end_ms:
            break
        deliver_until(ms)
        on_hand = book.stock.state.on_hand
        served = min(units, max(on_hand, 0))
        if ms >= replay.measure_from_ms:
            result.demanded += units
            result.served += served
        if served:
            clock.advance(ms, on_hand - served)
            apply("sale", ms, served)
    deliver_until(replay.end_ms - 1)
    clock.advance(replay.end_ms, book.stock.state.on_hand)
    return result
