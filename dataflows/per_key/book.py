"""Everything computed per (warehouse_id, sku), in one stateful step.

For each accepted event in arrival order: stock (dedup, lateness, decided holds,
event-time on-hand, holds), the sales window, then replenishment (docs/semantics.md,
"Replenishment"): this event's receipt or cancellation, the open purchase orders'
deadlines, the band alert and the request on the inventory position. Per batch the key
emits, in order: the accepted events (a decided request as the fact it decided), late
dead letters, hold decisions, an ``oversell`` alert, purchase-order changes and alerts
as they happen, then one :class:`StockLevel` and one :class:`SalesWindow` per window the
batch touched.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from msgspec import structs

from dataflows.per_key.alerts import band, crossing, event_alert_id
from dataflows.per_key.backorders import Beyond, beyond_on_hand
from dataflows.per_key.decisions import Verdict
from dataflows.per_key.demand import (
    DAY_MS,
    DemandState,
    Levels,
    add_lead_time,
    add_refused,
    close_days,
    closing,
    note_accepted,
)
from dataflows.per_key.forecast_policy import levels_in_effect
from dataflows.per_key.orders import OrderBook, OrderRules
from dataflows.per_key.state_codec import KeyState, decode_state, encode_state
from dataflows.per_key.stock import StockBook, StockState
from dataflows.per_key.unconstrained import ClosedDay
from dataflows.per_key.windows import SalesWindows, WindowTotals
from inventory.core.contract import DECIDED_TYPES
from inventory.core.forecast_versions import ForecastVersion
from inventory.core.records import (
    Alert,
    DeadLetter,
    DemandDay,
    Event,
    HoldDecision,
    ProductPolicy,
    PurchaseOrder,
    SalesWindow,
    StockLevel,
)

__all__ = [  # the codec lives in state_codec; its names stay importable from here
    "DEFAULT_ORDER_RULES",
    "ForecastsFor",
    "KeyBook",
    "KeyInput",
    "KeyOutput",
    "KeyState",
    "Seed",
    "decode_state",
    "encode_state",
    "no_forecasts",
]


@dataclass(frozen=True, slots=True)
class Seed:
    """A key's state rebuilt from the tables; flows through ``per-key`` ahead of the
    key's events. ``windows`` are the open sales windows."""

    warehouse_id: str
    sku: str
    stock: StockState
    windows: dict[int, WindowTotals]
    orders: tuple[PurchaseOrder, ...] = ()  # the open purchase orders, oldest first
    demand: DemandState = field(default_factory=DemandState)

    @property
    def version(self) -> int:
        return self.stock.version


KeyOutput = (
    Event | DeadLetter | StockLevel | SalesWindow | Alert | PurchaseOrder | HoldDecision | DemandDay
)
KeyInput = Event | Seed
DEFAULT_ORDER_RULES = OrderRules()
COMPUTED = frozenset(("demand", "forecast"))  # bases whose levels requests follow
ForecastsFor = Callable[[str, str], tuple[ForecastVersion, ...]]


def no_forecasts(_warehouse_id: str, _sku: str) -> tuple[ForecastVersion, ...]:
    return ()


class KeyBook:
    """Applies batches of one key's events; see the module docstring for the order."""

    __slots__ = (
        "band",
        "demand",
        "duplicates",
        "forecasts",
        "forecasts_for",
        "levels",
        "levels_day",
        "lineage",
        "orders",
        "policy",
        "policy_for",
        "rules",
        "stock",
        "windows",
    )

    def __init__(
        self,
        *,
        lateness_ms: int,
        window_ms: int,
        policy_for: Callable[[str], ProductPolicy],
        state: KeyState | None = None,
        lineage: str = "",
        rules: OrderRules = DEFAULT_ORDER_RULES,
        forecasts_for: ForecastsFor = no_forecasts,
    ) -> None:
        state = state if state is not None else KeyState()
        self.stock = StockBook(lateness_ms, state.stock)
        self.windows = SalesWindows(window_ms, state.windows)
        self.band = state.band
        self.orders = OrderBook(list(state.orders), state.above)
        self.demand = state.demand
        self.levels: Levels | None = None  # in effect; recomputed when the figures change
        self.levels_day = -1  # a forecast SKU's levels hold for the day of its newest event
        self.forecasts_for = forecasts_for
        self.forecasts: tuple[ForecastVersion, ...] = ()  # the key's, looked up per batch
        self.policy_for = policy_for
        self.policy: ProductPolicy | None = None  # looked up on the first batch
        self.lineage = lineage
        self.rules = rules
        self.duplicates = 0  # events dropped as duplicates since the owner last took them

    def apply_items(self, items: list[KeyInput]) -> list[KeyOutput]:
        """Events and seeds in arrival order (see :meth:`apply_batch`, :meth:`adopt`)."""
        out: list[KeyOutput] = []
        events: list[Event] = []
        for item in items:
            if type(item) is Seed:
                if events:
                    out.extend(self.apply_batch(events))
                    events = []
                self.adopt(item)
            else:
                events.append(item)  # type: ignore[arg-type]
        if events:
            out.extend(self.apply_batch(events))
        return out

    def apply_batch(self, events: list[Event]) -> list[KeyOutput]:
        out: list[KeyOutput] = []
        stock = self.stock
        policy = self.policy
        if policy is None:
            policy = self.policy = self.policy_for(events[0].sku)
        self._follow_forecasts(events[0])
        if self.orders.above is None:  # a state of an older format: as it stands now
            position = stock.state.on_hand + self.orders.on_order
            self.orders.above = position > self._levels(policy).reorder_point
        demand, demand_rules = self.demand, self.rules.demand
        before = stock.state.accepted
        room_at = self._room_at if policy.oversell != "deny" else None
        for given in events:
            result = stock.apply(given, room_at)
            if result is None:
                self.duplicates += 1
                continue
            out.append(result)
            if type(result) is not Event:  # late: dead-lettered, nothing else happens
                if given.event_type in DECIDED_TYPES:  # a request is told it was refused
                    rid = given.reservation_id or ""
                    verdict = (rid, given.event_type, "refused", "late", given.quantity, -1, 0, -1)
                    out.append(self._decision(given, verdict))
                continue
            event = result  # a decided request: the fact it decided
            ms = event.occurred_ms
            for verdict in stock.verdicts:
                out.append(self._decision(event, verdict))
                if verdict[3] == "insufficient":
                    add_refused(demand, ms, verdict[4])
            if event.oversold:
                out.append(self._oversell(event, policy))
            kind = event.event_type
            note_accepted(demand, event)
            if kind == "sale":
                self.windows.add(event)
            cutoff = stock.cutoff()
            if closing(demand, cutoff):
                closed = close_days(demand, cutoff, demand_rules, self.forecasts)
                if closed:
                    self.levels = None
                    out.extend(self._days(event, closed))
            self._replenish(event, policy, out)
        if stock.state.accepted != before:
            first = events[0]
            out.append(self._level(first.warehouse_id, first.sku, policy))
            out.extend(self.windows.flush(first.warehouse_id, first.sku, stock.cutoff()))
        return out

    @staticmethod
    def _days(event: Event, closed: list[ClosedDay]) -> list[DemandDay]:
        wh, sku = event.warehouse_id, event.sku
        return [
            DemandDay(wh, sku, d.day_ms, d.sold, d.refused, d.out_of_stock_ms, d.lost, d.demand)
            for d in closed
        ]

    def _decision(self, event: Event, verdict: Verdict) -> HoldDecision:
        """The record of ``verdict``, made at ``event`` (the request, or the event whose
        time expired a hold)."""
        st = self.stock.state
        rid, request, decision, reason, quantity, expires_ms, backordered, ships_ms = verdict
        return HoldDecision(
            reservation_id=rid,
            warehouse_id=event.warehouse_id,
            sku=event.sku,
            event_id=event.event_id,
            request=request,
            decision=decision,
            reason=reason,
            quantity=quantity,
            available=st.on_hand - st.holds.reserved,
            expires_ms=expires_ms,
            decided_ms=event.occurred_ms if request else st.newest[0],
            version=st.version,
            backordered=backordered,
            ships_ms=ships_ms,
        )

    def _room_at(self, now_ms: int) -> Beyond | None:
        """What the key may promise beyond on-hand at ``now_ms`` (backorders, preorders)."""
        assert self.policy is not None  # set by the batch
        return beyond_on_hand(self.policy, self.orders.open, now_ms)

    def _oversell(self, event: Event, policy: ProductPolicy) -> Alert:
        """The ``oversell`` alert of a sale beyond what was available."""
        return Alert(
            alert_id=event_alert_id(event, "oversell"),
            kind="oversell",
            warehouse_id=event.warehouse_id,
            sku=event.sku,
            on_hand=self.stock.state.on_hand,
            threshold=policy.threshold,
            reorder_quantity=0,
            event_id=event.event_id,
            raised_ms=event.occurred_ms,
        )

    def _follow_forecasts(self, first: Event) -> None:
        """The key's forecast versions as the book knows them now (a new one: levels
        recomputed)."""
        found = self.forecasts_for(first.warehouse_id, first.sku)
        if found is not self.forecasts:
            self.forecasts, self.levels = found, None

    def _levels(self, policy: ProductPolicy) -> Levels:
        levels_now = self.levels
        if policy.replenishment == "forecast":
            newest = self.stock.state.newest[0]
            day = newest - newest % DAY_MS
            if day != self.levels_day:
                self.levels_day, levels_now = day, None
        if levels_now is None:
            levels_now = self.levels = levels_in_effect(
                self.demand, policy, self.rules.demand, self.forecasts, self.levels_day
            )
        return levels_now

    def stock_row(self, warehouse_id: str, sku: str) -> StockLevel:
        """The key's stock row as it stands (a seeded key's, for the fold)."""
        assert self.policy is not None  # set by the first batch or an adopted seed
        return self._level(warehouse_id, sku, self.policy)

    def _level(self, warehouse_id: str, sku: str, policy: ProductPolicy) -> StockLevel:
        """The key's stock row: on-hand, holds, on order and what reorders follow."""
        level = self.stock.level(warehouse_id, sku, self.lineage)
        in_effect = self._levels(policy)
        open_orders = self.orders.open
        return structs.replace(
            level,
            on_order=self.orders.on_order,
            next_expected_ms=min((po.expected_ms for po in open_orders), default=-1),
            reorder_point=in_effect.reorder_point,
            order_up_to=in_effect.order_up_to,
            reorder_basis=in_effect.basis,
            demand_per_day=in_effect.demand_per_day,
            lead_time_days=in_effect.lead_time_days,
            forecast_version=in_effect.forecast_version,
        )

    def _replenish(self, event: Event, policy: ProductPolicy, out: list[KeyOutput]) -> None:
        """Receipt or cancellation, deadlines, band alert, request (the documented order)."""
        state = self.stock.state
        orders = self.orders
        if not orders.open and band(state.on_hand, policy.threshold) == self.band:
            # The common case, decided as the general path below decides it: nothing to
            # settle, no band change, so a request is all that could happen; none does
            # while the position (on-hand: nothing is on order) is above the reorder
            # point in effect or was not above it after the previous event.
            in_effect = self._levels(policy)
            point = in_effect.reorder_point if in_effect.basis in COMPUTED else policy.threshold
            above = state.on_hand > point
            if above or orders.above is False:
                orders.above = above
                return
        closed = False
        if orders.open:
            done = orders.settle(
                event,
                newest_ms=state.newest[0],
                on_hand=state.on_hand,
                policy=policy,
                rules=self.rules,
                version=state.version,
                alert_id=event_alert_id,
            )
            out.extend(done.changed)
            out.extend(done.alerts)
            closed = done.closed
            for po in done.changed:
                if po.status == "received":  # received in full: a lead time learned
                    add_lead_time(self.demand, po.opened_ms, po.received_ms)
                    self.levels = None
        self.band, band_alert = crossing(self.band, state.on_hand, policy, event)
        in_effect = self._levels(policy)
        band_threshold = policy.threshold
        if in_effect.basis in COMPUTED:  # requests follow the computed levels
            policy = replace(
                policy, threshold=in_effect.reorder_point, target_stock=in_effect.order_up_to
            )
        alerts, opened = orders.request(
            band_alert,
            event,
            on_hand=state.on_hand,
            policy=policy,
            rules=self.rules,
            version=state.version,
            closed=closed,
            alert_id=event_alert_id,
            band_threshold=band_threshold,
        )
        out.extend(alerts)
        if opened is not None:
            out.append(opened)

    def adopt(self, seed: Seed) -> None:
        """Take ``seed`` (the key's state rebuilt from the tables) if it is newer than the
        state held (a new key holds version 0). Nothing is emitted: the tables already
        hold that state; the key's next accepted event writes a row of this lineage."""
        stock = self.stock
        if seed.version <= stock.state.version:
            return
        if self.policy is None:
            self.policy = self.policy_for(seed.sku)
        self.forecasts = self.forecasts_for(seed.warehouse_id, seed.sku)
        stock.state = seed.stock.copy()
        self.windows.open = {start: t.copy() for start, t in seed.windows.items()}
        self.windows.touched.clear()
        self.band = band(stock.state.on_hand, self.policy.threshold)
        self.demand, self.levels = seed.demand.copy(), None
        on_order = sum(po.remaining for po in seed.orders)
        reorder_point = self._levels(self.policy).reorder_point
        self.orders = OrderBook(list(seed.orders), stock.state.on_hand + on_order > reorder_point)

    def snapshot(self) -> KeyState:
        return KeyState(
            self.stock.state.copy(),
            self.windows.snapshot(),
            self.band,
            tuple(self.orders.open),
            self.orders.above,
            self.demand.copy(),
        )

    def encode(self) -> bytes:
        """The state as a compact immutable blob (see :func:`encode_state`)."""
        return encode_state(
            KeyState(
                self.stock.state,
                self.windows.open,
                self.band,
                tuple(self.orders.open),
                self.orders.above,
                self.demand,
            )
        )
