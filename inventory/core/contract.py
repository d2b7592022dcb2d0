"""The event contract (docs/contracts.md section 1): what a valid inventory event is.

``InventoryEvent`` is the documented pydantic model (JSON schema, generator side).
The dataflow's hot path uses :mod:`dataflows.decode`, which implements the same
rules per batch without building pydantic objects; a test keeps the two in step.
Rules a model cannot state alone (``quantity`` by event type, holds) are functions
here that both use.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal, get_args

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

from inventory.core.times import to_ms

EventType = Literal[
    "sale",
    "return",
    "restock",
    "adjustment",
    "count",
    "reserve",
    "release",
    "cancel",
    "hold_request",
    "hold_checkout",
    "hold_release",
]
EVENT_TYPES: tuple[str, ...] = get_args(EventType)
# contract v9: requests the flow decides per key (docs/semantics.md, "Decided holds")
DECIDED_TYPES = ("hold_request", "hold_checkout", "hold_release")
# Event types that carry a reservation_id of their own (a sale may carry one).
RESERVATION_TYPES = ("reserve", "release", *DECIDED_TYPES)
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
        problem = (
            quantity_problem(self.event_type, self.quantity)
            or reservation_problem(
                self.event_type,
                self.reservation_id,
                None if self.expires_at is None else to_ms(self.expires_at),
                to_ms(self.occurred_at),
            )
            or po_problem(self.event_type, self.po_id)
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
    if event_type in ("reserve", "hold_request") and quantity < 1:
        return f"quantity must be >= 1 for {event_type}"
    if event_type in ("release", "cancel", "hold_checkout", "hold_release") and quantity < 0:
        return f"quantity must be >= 0 for {event_type}"
    return None


def reservation_problem(
    event_type: str, reservation_id: str | None, expires_ms: int | None, occurred_ms: int
) -> str | None:
    """Contract rule for ``reservation_id`` and ``expires_at``; ``None`` when it holds."""
    if event_type in RESERVATION_TYPES and not reservation_id:
        return f"reservation_id is required for {event_type}"
    if event_type in ("reserve", "hold_request"):
        if expires_ms is None:
            return f"expires_at is required for {event_type}"
        if expires_ms <= occurred_ms:
            return "expires_at must be after occurred_at"
    return None


def po_problem(event_type: str, po_id: str | None) -> str | None:
    """Contract rule for ``po_id`` (v5: a ``cancel`` names the purchase order it cancels);
    ``None`` when it holds."""
    if event_type == "cancel" and not po_id:
        return "po_id is required for cancel"
    return None


def stock_delta(event_type: str, quantity: int) -> int:
    """Signed on-hand effect; ``count`` sets the level instead and has delta 0; a hold
    (``reserve``/``release``) changes what is available, not what is on hand; a
    ``cancel`` changes what is on order; a decided request's effect is the flow's
    decision (0 until decided: see ``dataflows.per_key.decisions``)."""
    if event_type == "sale":
        return -quantity
    if event_type in ("count", "reserve", "release", "cancel", *DECIDED_TYPES):
        return 0
    return quantity
