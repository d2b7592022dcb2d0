"""The records the dataflow passes between its steps and writes: accepted events, dead
letters, stock levels, sales windows, alerts, purchase orders, and the per-SKU policy.

Every record is a frozen slots dataclass that pickles as its class and field values
(records cross processes in a cluster).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from inventory.core.times import format_ms


def _reduce_by_fields(record: Any) -> tuple[type, tuple[Any, ...]]:
    """Pickle a frozen slots dataclass as its class and field values: the dataflow pickles
    every record it exchanges between processes, and the dataclass default (a state dict
    set field by field) costs several times as much."""
    return type(record), tuple(getattr(record, name) for name in record.__slots__)


@dataclass(frozen=True, slots=True)
class Source:
    """Where a Kafka message came from; ``timestamp_ms`` is the broker/producer time and
    ``topic_id`` the Kafka topic id ("" where unknown), which tells a re-created topic of
    the same name apart."""

    __reduce__ = _reduce_by_fields

    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    topic_id: str = ""


@dataclass(frozen=True, slots=True)
class Event:
    """An event that passed decoding. ``delta`` is the signed stock effect (0 for count
    and holds); ``expires_ms`` is a reserve's ``expires_at``."""

    __reduce__ = _reduce_by_fields

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

    @property
    def stock_key(self) -> str:
        return f"{self.warehouse_id}:{self.sku}"


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A rejected message: original bytes, where it came from and why."""

    __reduce__ = _reduce_by_fields

    source: Source
    key: bytes | None
    payload: bytes | None
    error: str


VERSION_SHIFT = 64  # stock version = newest event ms << 64 | accepted events


def stock_version(newest_ms: int, accepted: int) -> int:
    """The ``stock_levels.version`` of a state: the newest event's time first, then the
    number of accepted events, so the state that includes the newest event wins FINAL."""
    return (max(newest_ms, 0) << VERSION_SHIFT) | accepted


@dataclass(frozen=True, slots=True)
class StockLevel:
    """On-hand of one (warehouse, sku); ``version`` is :func:`stock_version` of its state
    and ``lineage`` says who computed it (``flow:<id>`` or ``backfill:<id>``).
    ``reserved`` is the units of active holds; ``available`` = on-hand - reserved."""

    __reduce__ = _reduce_by_fields

    warehouse_id: str
    sku: str
    on_hand: int
    version: int
    updated_ms: int
    last_event_id: str
    lineage: str = ""
    reserved: int = 0

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


@dataclass(frozen=True, slots=True)
class SalesWindow:
    """Running totals of one event-time window of one key after ``version`` sales.

    ``revenue_e4`` is revenue in units of 1/10,000 (exact integer arithmetic).
    """

    __reduce__ = _reduce_by_fields

    warehouse_id: str
    sku: str
    window_start_ms: int
    window_end_ms: int
    units_sold: int
    revenue_e4: int
    orders: int
    version: int


ALERT_KINDS = ("low_stock", "out_of_stock", "back_in_stock", "reorder_overdue")


@dataclass(frozen=True, slots=True)
class Alert:
    """A threshold crossing, or an overdue purchase order. ``reorder_quantity`` > 0 when
    the alert requests a reorder (it opened purchase order ``po_id``, expected at
    ``expected_ms``); a low_stock/out_of_stock while a PO is open carries that PO's id
    and requests nothing."""

    __reduce__ = _reduce_by_fields

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
        }


PO_STATUSES = ("open", "overdue", "received")


@dataclass(frozen=True, slots=True)
class PurchaseOrder:
    """The state of one purchase order after the key's event ``version`` (the stock
    version, so a later state of the PO wins FINAL). ``received_ms`` is -1 until a
    restock carrying ``po_id`` receives it."""

    __reduce__ = _reduce_by_fields

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


@dataclass(frozen=True, slots=True)
class ProductPolicy:
    """Per-SKU stock policy from the catalog: alert below ``threshold``, reorder up to
    ``target_stock``, the supplier delivers ``lead_time_ms`` after the order."""

    threshold: int
    target_stock: int
    lead_time_ms: int = 72 * 3_600_000
