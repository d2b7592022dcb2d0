"""Everything computed per (warehouse_id, sku), in one stateful step.

For each accepted event in arrival order: stock (dedup, lateness, event-time on-hand,
holds), the sales window, then replenishment (docs/semantics.md, "Replenishment"): this
event's receipt or cancellation, the open purchase orders' deadlines, the band alert and
the request on the inventory position. Per batch the key emits, in order: the accepted
events, late dead letters, purchase-order changes and alerts as they happen, then one
:class:`StockLevel` and one :class:`SalesWindow` per window the batch touched.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from dataflows.per_key.alerts import OK, band, crossing, event_alert_id
from dataflows.per_key.holds import HoldState
from dataflows.per_key.orders import OrderBook, OrderRules
from dataflows.per_key.stock import StockBook, StockState
from dataflows.per_key.windows import SalesWindows, WindowTotals
from inventory.core.records import (
    Alert,
    DeadLetter,
    Event,
    ProductPolicy,
    PurchaseOrder,
    SalesWindow,
    StockLevel,
)


@dataclass(frozen=True, slots=True)
class Seed:
    """A key's state rebuilt from the tables; flows through ``per-key`` ahead of the
    key's events. ``windows`` are the open sales windows."""

    warehouse_id: str
    sku: str
    stock: StockState
    windows: dict[int, WindowTotals]
    orders: tuple[PurchaseOrder, ...] = ()  # the open purchase orders, oldest first

    @property
    def version(self) -> int:
        return self.stock.version


KeyOutput = Event | DeadLetter | StockLevel | SalesWindow | Alert | PurchaseOrder
KeyInput = Event | Seed
DEFAULT_ORDER_RULES = OrderRules()


@dataclass
class KeyState:
    """Picklable state of one key (the recovery snapshot)."""

    stock: StockState = field(default_factory=StockState)
    windows: dict[int, WindowTotals] = field(default_factory=dict)
    band: str = OK
    orders: tuple[PurchaseOrder, ...] = ()  # the open purchase orders, oldest first
    above: bool | None = True  # position above the reorder point (None: not known)


class KeyBook:
    """Applies batches of one key's events; see the module docstring for the order."""

    __slots__ = (
        "band",
        "duplicates",
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
    ) -> None:
        state = state if state is not None else KeyState()
        self.stock = StockBook(lateness_ms, state.stock)
        self.windows = SalesWindows(window_ms, state.windows)
        self.band = state.band
        self.orders = OrderBook(list(state.orders), state.above)
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
        if self.orders.above is None:  # a state of an older format: as it stands now
            position = stock.state.on_hand + self.orders.on_order
            self.orders.above = position > policy.threshold
        before = stock.state.accepted
        for event in events:
            result = stock.apply(event)
            if result is None:
                self.duplicates += 1
                continue
            out.append(result)
            if result is not event:
                continue  # late: dead-lettered, nothing else happens
            if event.event_type == "sale":
                self.windows.add(event)
            self._replenish(event, policy, out)
        if stock.state.accepted != before:
            first = events[0]
            level = stock.level(first.warehouse_id, first.sku, self.lineage)
            on_order = self.orders.on_order
            out.append(replace(level, on_order=on_order) if on_order else level)
            out.extend(self.windows.flush(first.warehouse_id, first.sku, stock.cutoff()))
        return out

    def _replenish(self, event: Event, policy: ProductPolicy, out: list[KeyOutput]) -> None:
        """Receipt or cancellation, deadlines, band alert, request (the documented order)."""
        state = self.stock.state
        orders = self.orders
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
        self.band, band_alert = crossing(self.band, state.on_hand, policy, event)
        alerts, opened = orders.request(
            band_alert,
            event,
            on_hand=state.on_hand,
            policy=policy,
            rules=self.rules,
            version=state.version,
            closed=closed,
            alert_id=event_alert_id,
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
        stock.state = seed.stock.copy()
        self.windows.open = {start: t.copy() for start, t in seed.windows.items()}
        self.windows.touched.clear()
        self.band = band(stock.state.on_hand, self.policy.threshold)
        on_order = sum(po.remaining for po in seed.orders)
        self.orders = OrderBook(
            list(seed.orders), stock.state.on_hand + on_order > self.policy.threshold
        )

    def snapshot(self) -> KeyState:
        return KeyState(
            self.stock.state.copy(),
            self.windows.snapshot(),
            self.band,
            tuple(self.orders.open),
            self.orders.above,
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
            )
        )


# Idle keys are held as one pickled tuple of plain values: about 170 bytes for a key
# with a count and a sale, against about 2 KB as live objects. Format version first:
# 1 (before seeds) has no applied_upto; 2 appends it; 3 appends the holds (reserves,
# closes, reserved) and the open purchase order (its field values, or None); 4 (contract
# v5) has the open purchase orders (a tuple of their field values) and whether the
# position was above the reorder point.
_FORMAT = 4


def encode_state(state: KeyState) -> bytes:
    """Pickle ``state`` as a tuple of builtins (stable across Python versions)."""
    st = state.stock
    windows = {
        start: (t.units, t.revenue_e4, t.sales, t.orders) for start, t in state.windows.items()
    }
    return pickle.dumps(
        (
            _FORMAT,
            st.on_hand,
            st.accepted,
            st.newest,
            st.count,
            st.seen,
            st.moves,
            st.prune_at,
            windows,
            state.band,
            st.applied_upto,
            (st.holds.reserves, st.holds.closes, st.holds.reserved),
            tuple(_order_fields(po) for po in state.orders),
            state.above,
        ),
        protocol=5,
    )


def _order_fields(order: PurchaseOrder) -> tuple[object, ...]:
    return tuple(getattr(order, name) for name in PurchaseOrder.__slots__)


def decode_state(blob: bytes) -> KeyState:
    """Inverse of :func:`encode_state` (formats 1 to 4); raises ``ValueError`` on an
    unknown format. An older state's position flag is left to the key's next batch."""
    fields = pickle.loads(blob)  # noqa: S301 (our own recovery store)
    if fields[0] == 1:
        fields = (*fields, {})
    if fields[0] in (1, 2):
        fields = (*fields, ({}, {}, 0), None)
    if fields[0] in (1, 2, 3):
        order = fields[12]
        fields = (*fields[:12], () if order is None else (order,), None)
    elif fields[0] != _FORMAT:
        raise ValueError(f"unknown key state format {fields[0]!r}")
    _, on_hand, accepted, newest, count, seen, moves, prune_at, windows, band, upto = fields[:11]
    (reserves, closes, reserved), orders, above = fields[11:]
    return KeyState(
        StockState(
            on_hand,
            accepted,
            newest,
            count,
            seen,
            moves,
            prune_at,
            upto,
            HoldState(reserves, closes, reserved),
        ),
        {start: WindowTotals(*totals) for start, totals in windows.items()},
        band,
        tuple(_order(values) for values in orders),
        above,
    )


def _order(values: tuple[object, ...]) -> PurchaseOrder:
    """A purchase order from its field values (a v4 one has no cancellation fields, and
    its ``overdue`` status stays)."""
    return PurchaseOrder(*values)  # type: ignore[arg-type]
