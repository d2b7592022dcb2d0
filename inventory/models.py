"""Event schema (contracts.md section 1) and the records the dataflow emits.

``InventoryEvent`` is the documented pydantic model (JSON schema, generator side).
The dataflow's hot path uses :mod:`dataflows.decode`, which implements the same
rules per batch without building pydantic objects; a test keeps the two in step.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    StrictInt,
    model_validator,
)

EVENT_TYPES = ("sale", "return", "restock", "adjustment", "count", "reserve", "release")
EventType = Literal["sale", "return", "restock", "adjustment", "count", "reserve", "release"]
# Event types that carry a reservation_id of their own (a sale may carry one).
RESERVATION_TYPES = ("reserve", "release")
CODE_RE = re.compile(r"[A-Za-z0-9._-]{1,64}")
MAX_QUANTITY = 1_000_000_000
MAX_UNIT_PRICE = 1e12
# Accepted occurred_at: [2000-01-01, 2100-01-01); anything outside is an "absurd timestamp".
# The upper bound keeps every derived value storable: Date (sales_daily.day, stockout_daily)
# ends in 2149 and DateTime64(3) in 2299.
MIN_OCCURRED_MS = 946_684_800_000  # 2000-01-01T00:00:00Z
MAX_OCCURRED_MS = 4_102_444_800_000  # 2100-01-01T00:00:00Z, exclusive
MAX_ID_LENGTH = 128
PRICE_SCALE = 10_000  # money is exact integer arithmetic in 1/10,000 units
REVENUE_EXPONENT = -4
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


RFC3339_RE = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})"
)


def _rfc3339(value: object) -> object:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not RFC3339_RE.fullmatch(value):
        raise ValueError("occurred_at must be an RFC 3339 timestamp with offset")
    return value


def _not_absurd(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("occurred_at needs a UTC offset (RFC 3339)")
    ms = to_ms(value)
    if ms < MIN_OCCURRED_MS:
        raise ValueError("occurred_at is before 2000-01-01 (absurd timestamp)")
    if ms >= MAX_OCCURRED_MS:
        raise ValueError("occurred_at is not before 2100-01-01 (absurd timestamp)")
    return value


class InventoryEvent(BaseModel):
    """One inventory movement as written to ``inventory.events``."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    event_id: Annotated[str, Strict()] = Field(min_length=1, max_length=MAX_ID_LENGTH)
    event_type: EventType
    sku: str = Field(pattern=r"^[A-Za-z0-9._-]{1,64}$")
    warehouse_id: str = Field(pattern=r"^[A-Za-z0-9._-]{1,64}$")
    quantity: StrictInt = Field(ge=-MAX_QUANTITY, le=MAX_QUANTITY)
    occurred_at: Annotated[datetime, BeforeValidator(_rfc3339), AfterValidator(_not_absurd)]
    unit_price: Annotated[float, Strict()] | None = Field(
        default=None, ge=0, le=MAX_UNIT_PRICE, allow_inf_nan=False
    )
    order_id: Annotated[str, Strict()] | None = Field(default=None, max_length=MAX_ID_LENGTH)
    # contract v4: holds (reserve/release, and the sale that consumes one) and receipts
    reservation_id: Annotated[str, Strict()] | None = Field(default=None, max_length=MAX_ID_LENGTH)
    expires_at: (
        Annotated[datetime, BeforeValidator(_rfc3339), AfterValidator(_not_absurd)] | None
    ) = None
    po_id: Annotated[str, Strict()] | None = Field(default=None, max_length=MAX_ID_LENGTH)

    @model_validator(mode="after")
    def _quantity_rule(self) -> InventoryEvent:
        problem = quantity_problem(self.event_type, self.quantity) or reservation_problem(
            self.event_type,
            self.reservation_id,
            None if self.expires_at is None else to_ms(self.expires_at),
            to_ms(self.occurred_at),
        )
        if problem:
            raise ValueError(problem)
        return self


def quantity_problem(event_type: str, quantity: int) -> str | None:
    """Contract rule for ``quantity`` by event type; ``None`` when it holds."""
    if not -MAX_QUANTITY <= quantity <= MAX_QUANTITY:
        return f"quantity out of range (|quantity| <= {MAX_QUANTITY})"
    if event_type in ("sale", "return", "restock") and quantity < 1:
        return f"quantity must be >= 1 for {event_type}"
    if event_type == "adjustment" and quantity == 0:
        return "quantity must be non-zero for adjustment"
    if event_type == "count" and quantity < 0:
        return "quantity must be >= 0 for count"
    if event_type == "reserve" and quantity < 1:
        return "quantity must be >= 1 for reserve"
    if event_type == "release" and quantity < 0:
        return "quantity must be >= 0 for release"
    return None


def reservation_problem(
    event_type: str, reservation_id: str | None, expires_ms: int | None, occurred_ms: int
) -> str | None:
    """Contract rule for ``reservation_id`` and ``expires_at``; ``None`` when it holds."""
    if event_type in RESERVATION_TYPES and not reservation_id:
        return f"reservation_id is required for {event_type}"
    if event_type == "reserve":
        if expires_ms is None:
            return "expires_at is required for reserve"
        if expires_ms <= occurred_ms:
            return "expires_at must be after occurred_at"
    return None


def stock_delta(event_type: str, quantity: int) -> int:
    """Signed on-hand effect; ``count`` sets the level instead and has delta 0; a hold
    (``reserve``/``release``) changes what is available, not what is on hand."""
    if event_type == "sale":
        return -quantity
    if event_type in ("count", "reserve", "release"):
        return 0
    return quantity


def to_ms(value: datetime) -> int:
    """Epoch milliseconds of an aware datetime, sub-millisecond digits truncated."""
    return (value - _EPOCH) // _MS


def format_ms(ms: int) -> str:
    """RFC 3339 UTC with milliseconds, e.g. ``2026-11-24T09:15:02.123Z``."""
    dt = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


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
