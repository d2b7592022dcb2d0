"""One key's stock under one policy, replayed through the flow's own per-key logic.

The shoppers' orders (``(ms, units)``) arrive in time order. Each is served from what is on
hand (lost sales: what is not there is not sold); the units not there are asked for as
a ``hold_request`` the book refuses ``insufficient`` (what a storefront on decided holds
sends, docs/semantics.md "Decided holds": observed lost demand, and event time moves on
while the key is out of stock); every unit served is a ``sale`` event applied by
:class:`~dataflows.per_key.book.KeyBook`, so requests, purchase orders, demand figures and
reorder points are exactly the pipeline's. Each purchase order the book opens is delivered
by the simulated supplier (:class:`~generators.supplier.SupplierBehaviour`) as a
``restock`` carrying its ``po_id`` at ``opened + actual lead time``. The key opens with a
``count`` of ``initial`` units at ``start_ms``.

With a ``forecaster`` (a ``forecast`` policy), the forecast job runs after every day
of the replay on the key's own sales and stock-outs
(:mod:`inventory.app.backtest.forecasting`) and the book reorders on its versions.

Figures are taken over ``[measure_from_ms, end_ms)`` (the warm-up before is replayed but
not counted): units demanded and served, time with nothing on hand, the time integral
of on-hand units, and purchase orders opened.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dataflows.per_key.book import KeyBook, no_forecasts
from dataflows.per_key.orders import OrderRules
from generators.supplier import SupplierBehaviour
from inventory.core.records import DemandDay, Event, ProductPolicy, PurchaseOrder, Source

if TYPE_CHECKING:  # the forecast extra is optional
    from inventory.app.backtest.forecasting import KeyForecaster

SOURCE = Source("backtest", 0, 0, 0)
WINDOW_MS = 60_000
HOLD_MS = 900_000  # a refused hold request's expires_at: 15 minutes on


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

    def __init__(
        self,
        replay: Replay,
        result: KeyResult,
        on_hand: int,
        forecaster: KeyForecaster | None = None,
    ) -> None:
        self.replay, self.result = replay, result
        self.at = replay.start_ms
        self.on_hand = on_hand
        self.forecaster = forecaster

    def advance(self, ms: int, on_hand: int) -> None:
        """Time passes to ``ms``; from then on ``on_hand`` is on hand."""
        if self.forecaster is not None and self.on_hand <= 0 and ms > self.at:
            self.forecaster.empty(self.at, ms)
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
    forecaster: KeyForecaster | None = None,
) -> KeyResult:
    """Replay ``orders`` (``(ms, units)`` in time order) for one key under ``policy``.

    :arg initial: units on hand at the start (a ``count``).
    :arg replay: the period, rules and supplier shared by every key.
    :arg forecaster: the forecast job's daily runs (a ``forecast`` policy).
    """
    run = _KeyReplay((warehouse_id, sku), policy, replay, forecaster)
    run.apply("count", replay.start_ms, initial)
    run.clock = _Clock(replay, run.result, initial, forecaster)
    if replay.timeline:
        run.result.timeline.append((replay.start_ms, initial))
    for ms, units in orders:
        if ms >= replay.end_ms:
            break
        run.serve(ms, units)
    run.deliver_until(replay.end_ms - 1)
    run.clock.advance(replay.end_ms, run.book.stock.state.on_hand)
    return run.result


class _KeyReplay:
    """One key's replay: the book, the supplier's pending deliveries, the figures."""

    def __init__(
        self,
        key: tuple[str, str],
        policy: ProductPolicy,
        replay: Replay,
        forecaster: KeyForecaster | None,
    ) -> None:
        self.key, self.replay, self.forecaster = key, replay, forecaster
        self.book = KeyBook(
            lateness_ms=replay.lateness_ms,
            window_ms=WINDOW_MS,
            policy_for=lambda _sku: policy,
            rules=replay.rules,
            forecasts_for=(lambda _w, _s: forecaster.versions) if forecaster else no_forecasts,
        )
        self.result = KeyResult()
        self.serial = iter(range(1 << 62))
        self.pending: list[tuple[int, str, int]] = []  # (due ms, po_id, units)
        self.seen: set[str] = set()
        self.clock: _Clock = _Clock(replay, self.result, 0)

    def serve(self, ms: int, units: int) -> None:
        """A shopper asks for ``units`` at ``ms``: sold from what is on hand, the rest
        asked to be held (and refused)."""
        self.deliver_until(ms)
        if self.forecaster is not None:
            self.forecaster.catch_up(ms, self.flush)
        on_hand = self.book.stock.state.on_hand
        served = min(units, max(on_hand, 0))
        if ms >= self.replay.measure_from_ms:
            self.result.demanded += units
            self.result.served += served
        if served:
            self.clock.advance(ms, on_hand - served)
            self.apply("sale", ms, served)
            if self.forecaster is not None:
                self.forecaster.sale(ms, served)
        if units > served:  # the storefront asks to hold the rest: refused, insufficient
            self.apply("hold_request", ms, units - served)

    def apply(self, kind: str, ms: int, units: int, po_id: str | None = None) -> None:
        wh, sku = self.key
        event_id = (
            f"sup-{po_id}" if po_id else f"{self.replay.id_prefix}{wh}-{sku}-{next(self.serial)}"
        )
        delta = {"sale": -units, "restock": units}.get(kind, 0)
        held = kind == "hold_request"
        event = Event(
            event_id, kind, sku, wh, units, delta, ms, None, None, SOURCE, None, b"",
            po_id=po_id,
            reservation_id=f"r-{event_id}" if held else None,
            expires_ms=ms + HOLD_MS if held else None,
        )  # fmt: skip
        if self.replay.record:
            self.result.events.append(event)
        for out in self.book.apply_batch([event]):
            if type(out) is DemandDay and self.forecaster is not None:
                self.forecaster.closed_day(out)
            if type(out) is PurchaseOrder and out.po_id not in self.seen and out.status == "open":
                self.ordered(out)

    def ordered(self, po: PurchaseOrder) -> None:
        """The book opened ``po``: the supplier will deliver it."""
        self.seen.add(po.po_id)
        if po.opened_ms >= self.replay.measure_from_ms:
            self.result.orders += 1
        lead, delivered = self.replay.supplier.delivery(
            po.po_id, po.expected_ms - po.opened_ms, po.quantity
        )
        heapq.heappush(self.pending, (po.opened_ms + lead, po.po_id, delivered))

    def deliver_until(self, ms: int) -> None:
        while self.pending and self.pending[0][0] <= ms:
            due, po_id, units = heapq.heappop(self.pending)
            if self.forecaster is not None:
                self.forecaster.catch_up(due, self.flush)
            self.clock.advance(due, self.book.stock.state.on_hand + units)
            self.apply("restock", due, units, po_id)

    def flush(self, ms: int) -> None:
        self.clock.advance(ms, self.clock.on_hand)
