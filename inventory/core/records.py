"""The records the dataflow passes between its steps and writes: accepted events, dead
letters, stock levels, sales windows, alerts, purchase orders, and the per-SKU policy.

Every record the flow makes per event or per key is a frozen :class:`msgspec.Struct`:
built in C (a tenth of a frozen dataclass's cost, which sets each field through
``object.__setattr__``), immutable, compared and hashed by value, and pickled as its
class and field values (records cross processes in a cluster). Change one with
:func:`msgspec.structs.replace`. ``ProductPolicy`` (read once per SKU) stays a dataclass.
"""

from __future__ import annotations

from dataclasses import dataclass

import msgspec

from inventory.core.times import format_ms


class Source(msgspec.Struct, frozen=True, gc=False):
    """Where a Kafka message came from; ``timestamp_ms`` is the broker/producer time and
    ``topic_id`` the Kafka topic id ("" where unknown), which tells a re-created topic of
    the same name apart."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    topic_id: str = ""


class Event(msgspec.Struct, frozen=True, gc=False):
    """An event that passed decoding. ``delta`` is the signed stock effect (0 for count
    and holds); ``expires_ms`` is a reserve's ``expires_at``."""

    event_id: str
    event_type: str
    sku: str
    warehouse_id: str
    quantity: int
    delta: int
    occurred_ms: int
    unit_price: float | None
    order_id: str | None
    source: Source
    key: bytes | None
    payload: bytes
    reservation_id: str | None = None
    expires_ms: int | None = None
    po_id: str | None = None
    oversold: int = 0  # v9: units of this sale beyond what was available (set by the flow)

    @property
    def stock_key(self) -> str:
        return f"{self.warehouse_id}:{self.sku}"


class DeadLetter(msgspec.Struct, frozen=True, gc=False):
    """A rejected message: original bytes, where it came from and why."""

    source: Source
    key: bytes | None
    payload: bytes | None
    error: str


VERSION_SHIFT = 64  # stock version = newest event ms << 64 | accepted events


def stock_version(newest_ms: int, accepted: int) -> int:
    """The ``stock_levels.version`` of a state: the newest event's time first, then the
    number of accepted events, so the state that includes the newest event wins FINAL."""
    return (max(newest_ms, 0) << VERSION_SHIFT) | accepted


class DemandDay(msgspec.Struct, frozen=True, gc=False):
    """A closed day of one (warehouse, sku): units sold, refused for want of stock, time
    out of stock and the unconstrained demand (v12; docs/semantics.md, "Unconstrained
    demand")."""

    warehouse_id: str
    sku: str
    day_ms: int
    sold: int
    refused: int
    out_of_stock_ms: int
    lost: float
    demand: float


class StockLevel(msgspec.Struct, frozen=True, gc=False):
    """On-hand of one (warehouse, sku); ``version`` is :func:`stock_version` of its state
    and ``lineage`` says who computed it (``flow:<id>`` or ``backfill:<id>``).
    ``reserved`` is the units of active holds (available = on-hand - reserved),
    ``on_order`` what the open purchase orders still bring (position = on-hand +
    on order)."""

    warehouse_id: str
    sku: str
    on_hand: int
    version: int
    updated_ms: int
    last_event_id: str
    lineage: str = ""
    reserved: int = 0
    on_order: int = 0
    # what reorders follow (docs/semantics.md, "Reorder points from live demand")
    next_expected_ms: int = -1  # the earliest expected_at of the open orders
    reorder_point: int = 0
    order_up_to: int = 0
    reorder_basis: str = "static"
    demand_per_day: float = 0.0
    lead_time_days: float = 0.0
    oversold: int = 0  # v9: units sold beyond what was available, ever
    forecast_version: int = 0  # v12: the forecast version the levels come from (0: none)

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved

    @property
    def days_of_cover(self) -> float | None:
        """On-hand divided by the daily demand (None while there is none)."""
        return self.on_hand / self.demand_per_day if self.demand_per_day > 0 else None

    @property
    def projected_stockout_ms(self) -> int | None:
        """When on-hand runs out at the daily demand (None while there is none)."""
        if self.demand_per_day <= 0:
            return None
        return self.updated_ms + round(max(self.on_hand, 0) / self.demand_per_day * 86_400_000)

    @property
    def inventory_position(self) -> int:
        return self.on_hand + self.on_order


class SalesWindow(msgspec.Struct, frozen=True, gc=False):
    """Running totals of one event-time window of one key after ``version`` sales.

    ``revenue_e4`` is revenue in units of 1/10,000 (exact integer arithmetic).
    """

    warehouse_id: str
    sku: str
    window_start_ms: int
    window_end_ms: int
    units_sold: int
    revenue_e4: int
    orders: int
    version: int


ALERT_KINDS = (
    "oversell",
    "low_stock",
    "out_of_stock",
    "back_in_stock",
    "reorder",
    "reorder_overdue",
    "reorder_expired",
)


class Alert(msgspec.Struct, frozen=True, gc=False):
    """A threshold crossing of on-hand, a reorder request (``reorder_quantity`` > 0: it
    opened purchase order ``po_id``, expected at ``expected_ms``), or a purchase order
    overdue or expired. A ``low_stock``/``out_of_stock`` that requests nothing names the
    key's oldest open purchase order, if any (docs/semantics.md, "Replenishment")."""

    alert_id: str
    kind: str
    warehouse_id: str
    sku: str
    on_hand: int
    threshold: int
    reorder_quantity: int
    event_id: str
    raised_ms: int
    po_id: str = ""
    expected_ms: int = -1
    reorder_point: int = -1  # the reorder point a request was made at; -1: no request

    def to_json(self) -> dict[str, object]:
        return {
            "alert_id": self.alert_id,
            "kind": self.kind,
            "warehouse_id": self.warehouse_id,
            "sku": self.sku,
            "on_hand": self.on_hand,
            "threshold": self.threshold,
            "reorder_quantity": self.reorder_quantity,
            "event_id": self.event_id,
            "raised_at": format_ms(self.raised_ms),
            "po_id": self.po_id or None,
            "expected_at": format_ms(self.expected_ms) if self.expected_ms >= 0 else None,
            "reorder_point": self.reorder_point if self.reorder_quantity > 0 else None,
        }


DECISIONS = ("granted", "refused", "checked_out", "released", "expired")
REFUSALS = ("insufficient", "unknown", "closed", "expired", "late")
OVERSELL_POLICIES = ("deny", "backorder", "preorder")  # products.oversell_policy (v10)


class HoldDecision(msgspec.Struct, frozen=True, gc=False):
    """The flow's decision on a hold request, checkout or release of one reservation
    (docs/semantics.md, "Decided holds"), or a hold's expiry. ``event_id`` is the
    request's (for ``expired``: the event whose time passed ``expires_ms``); ``quantity``
    the units held, checked out, released or expired (a refusal: the units asked);
    ``available`` the key's on-hand - reserved after the decision; ``version`` the stock
    version after it."""

    reservation_id: str
    warehouse_id: str
    sku: str
    event_id: str
    request: str  # the request's event type; '' for an expiry
    decision: str  # DECISIONS
    reason: str  # '' unless refused: REFUSALS
    quantity: int
    available: int
    expires_ms: int  # the hold's expires_at; -1: none
    decided_ms: int  # the request's occurred_at as recorded; an expiry: the key's newest time
    version: int
    backordered: int = 0  # v10: a grant's units beyond on-hand (backorder or preorder)
    ships_ms: int = -1  # v10: when those units are expected (docs/semantics.md); -1: none

    def to_json(self) -> dict[str, object]:
        return {
            "reservation_id": self.reservation_id,
            "warehouse_id": self.warehouse_id,
            "sku": self.sku,
            "event_id": self.event_id,
            "request": self.request or None,
            "decision": self.decision,
            "reason": self.reason or None,
            "quantity": self.quantity,
            "available": self.available,
            "expires_at": format_ms(self.expires_ms) if self.expires_ms >= 0 else None,
            "decided_at": format_ms(self.decided_ms),
            "version": str(self.version),
            "backordered": self.backordered,
            "ships_at": format_ms(self.ships_ms) if self.ships_ms >= 0 else None,
        }


OPEN_STATUSES = ("open", "partially_received", "overdue")  # on order
CLOSED_STATUSES = ("received", "cancelled", "expired", "historical")
PO_STATUSES = OPEN_STATUSES + CLOSED_STATUSES


class PurchaseOrder(msgspec.Struct, frozen=True):
    """The state of one purchase order after the key's event ``version`` (the stock
    version, so a later state of the PO wins FINAL). ``received_ms`` is -1 until a
    receipt; ``closed_ms`` is -1 while it is open."""

    po_id: str
    warehouse_id: str
    sku: str
    status: str
    quantity: int
    opened_ms: int
    expected_ms: int
    received_ms: int
    received_quantity: int
    receipt_event_id: str
    alert_id: str
    version: int
    cancelled_quantity: int = 0
    closed_ms: int = -1

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def remaining(self) -> int:
        """Units still on order (0 once closed)."""
        if not self.is_open:
            return 0
        return max(self.quantity - self.received_quantity - self.cancelled_quantity, 0)


DEFAULT_MAX_ORDER_TARGETS = 10  # max_order_quantity 0: this many times the target stock


@dataclass(frozen=True, slots=True)
class ProductPolicy:
    """Per-SKU replenishment policy from the catalog: alert and reorder at or below
    ``threshold`` (the reorder point), order up to ``target_stock``, in multiples of
    ``case_pack``, at least ``min_order`` and at most ``max_order`` units (0: 10 x the
    target); the supplier delivers ``lead_time_ms`` after the order. With
    ``replenishment`` ``demand`` the reorder point and target come from the key's demand
    and lead times instead (:mod:`dataflows.per_key.demand`)."""

    threshold: int
    target_stock: int
    lead_time_ms: int = 72 * 3_600_000
    case_pack: int = 1
    min_order: int = 0
    max_order: int = 0
    replenishment: str = "static"  # or "demand": computed levels (v6), "forecast" (v12)
    service_level: float = 0.0  # 0: INVENTORY_DEFAULT_SERVICE_LEVEL
    review_days: float = 0.0  # 0: INVENTORY_DEFAULT_REVIEW_PERIOD_DAYS
    order_cost: float = 0.0  # with holding_cost: the order-up-to level from the EOQ
    holding_cost: float = 0.0  # per unit and year
    oversell: str = "deny"  # v10: OVERSELL_POLICIES (docs/semantics.md, "Backorders and preorders")
    oversell_limit: int = 0  # v10: units a hold may promise beyond on-hand; 0: no cap
    release_ms: int = -1  # v10: a preorder SKU's release; -1: none

    def order_quantity(self, position: int) -> int:
        """What a request asks for at inventory ``position`` (docs/semantics.md)."""
        wanted = max(self.target_stock - position, 1)
        pack = max(self.case_pack, 1)
        wanted = -(-wanted // pack) * pack
        wanted = max(wanted, self.min_order)
        ceiling = self.max_order or DEFAULT_MAX_ORDER_TARGETS * self.target_stock
        return max(min(wanted, ceiling), 1)
