"""The availability API's documents: the JSON shapes it answers with (pydantic models,
for the OpenAPI schema) and :func:`availability_of`, which builds one from a snapshot by
the display rules (:mod:`inventory.availability.rules`)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints

from inventory.availability.promises import offer_of
from inventory.availability.rules import (
    Status,
    available,
    display_message,
    expected_back_ms,
    restock_message,
    status_for,
)
from inventory.availability.store import StockSnapshot
from inventory.core.contract import CODE_RE
from inventory.core.times import format_ms

CODE_PATTERN = "^" + CODE_RE.pattern + "$"
Code = Annotated[str, StringConstraints(pattern=CODE_PATTERN)]  # a SKU or warehouse id


class WarehouseAvailability(BaseModel):
    warehouse_id: str
    on_hand: int = Field(description="Stock the pipeline counts; negative when oversold.")
    reserved: int = Field(0, description="Units held by active cart and checkout holds.")
    available: int = Field(description="max(on_hand - reserved, 0)")
    on_order: int = Field(0, description="Units of this warehouse's open purchase orders.")
    next_expected_at: str | None = Field(
        None, description="Earliest expected delivery of those orders (RFC 3339, UTC, ms)."
    )
    updated_at: str = Field(
        description="occurred_at of the newest event applied (RFC 3339, UTC, ms)."
    )
    version: str = Field(
        "0",
        description="stock_levels.version of this state (a decimal integer): answers never "
        "go back to a lower one.",
    )


class Availability(BaseModel):
    sku: str
    name: str | None = Field(description="Catalog name, if the SKU is in the catalog.")
    available: int = Field(description="Sum of available units over the warehouses asked for.")
    status: Status
    message: str = Field(examples=["In stock", "Only 2 left in stock", "Out of stock"])
    incoming: int = Field(0, description="Units on open purchase orders of these warehouses.")
    expected_back_at: str | None = Field(
        None,
        description="For a low or out-of-stock SKU with units incoming: the earliest "
        "expected delivery (RFC 3339, UTC); otherwise null.",
    )
    restock_message: str | None = Field(
        None,
        examples=["Back in stock by Tue 8 Dec", "More arriving Wed 9 Dec", "Back in stock soon"],
        description="The storefront's restock line for a low or out-of-stock SKU with "
        "units incoming (soon: the delivery is late); otherwise null.",
    )
    oversell_policy: str = Field(
        "deny", description="The catalog's: deny, backorder or preorder (v10)."
    )
    backorderable: int | None = Field(
        0,
        description="Units a hold may still take beyond what is available (backorder or "
        "preorder room left); null: no cap.",
    )
    ships_by: str | None = Field(
        None,
        description="A backorder: the earliest expected delivery of the warehouses with "
        "room left; a preorder: the release (RFC 3339, UTC); otherwise null.",
    )
    promise_message: str | None = Field(
        None,
        examples=["Backorder: ships by Tue 8 Dec", "Pre-order: ships Wed 9 Dec"],
        description="When nothing is available and a hold may still be promised; else null.",
    )
    warehouses: list[WarehouseAvailability]
    updated_at: str | None = Field(description="Newest stock change of these warehouses.")
    as_of: str = Field(
        description="When this service was last known current: its last poll of the stock "
        "topic (or read of ClickHouse, with the clickhouse source)."
    )
    age_seconds: float = Field(description="Seconds since as_of: how stale the answer may be.")


class AvailabilityList(BaseModel):
    items: list[Availability]
    not_found: list[str]


class Product(BaseModel):
    sku: str
    name: str | None
    unit_price: float | None = Field(None, description="Catalog price (topic source only).")


class ProductList(BaseModel):
    items: list[Product]


class Problem(BaseModel):
    detail: str


class Health(BaseModel):
    status: str
    as_of: str
    skus: int


def availability_of(
    snapshot: StockSnapshot, sku: str, warehouse: str | None, few_left: int, now_ms: int
) -> dict[str, Any]:
    """One known SKU as an :class:`Availability` document (display rules in ``rules``)."""
    rows = [
        w for w in snapshot.stock.get(sku, ()) if warehouse is None or w.warehouse_id == warehouse
    ]
    total = sum(available(w.on_hand, w.reserved) for w in rows)
    status = status_for(total, few_left)
    incoming = sum(w.on_order for w in rows)
    dates = [w.next_expected_ms for w in rows if w.on_order > 0 and w.next_expected_ms >= 0]
    next_expected = min(dates, default=-1)
    back = expected_back_ms(status, incoming, next_expected)
    offer = offer_of(snapshot.promises.get(sku), rows, total, now_ms)
    return {
        "sku": sku,
        "name": snapshot.names.get(sku),
        "available": total,
        "status": status,
        "message": display_message(total, few_left),
        "incoming": incoming,
        "expected_back_at": None if back is None else format_ms(back),
        "restock_message": restock_message(status, incoming, next_expected, now_ms),
        "oversell_policy": offer.policy,
        "backorderable": offer.units,
        "ships_by": format_ms(offer.ships_ms) if offer.ships_ms >= 0 else None,
        "promise_message": offer.message,
        "warehouses": [
            {
                "warehouse_id": w.warehouse_id,
                "on_hand": w.on_hand,
                "reserved": w.reserved,
                "available": available(w.on_hand, w.reserved),
                "on_order": w.on_order,
                "next_expected_at": (
                    format_ms(w.next_expected_ms) if w.next_expected_ms >= 0 else None
                ),
                "updated_at": format_ms(w.updated_ms),
                "version": str(w.version),
            }
            for w in rows
        ],
        "updated_at": format_ms(max(w.updated_ms for w in rows)) if rows else None,
        "as_of": format_ms(snapshot.read_ms),
        "age_seconds": max(now_ms - snapshot.read_ms, 0) / 1000,
    }
