"""The stock and catalog changelog topics (contract v7, docs/contracts.md).

``inventory.stock`` (compacted): one message per stock row the pipeline writes, keyed
``warehouse_id:sku``, value a JSON object: ``warehouse_id``, ``sku``, ``on_hand``,
``reserved``, ``available``, ``on_order``, ``next_expected_at`` (RFC 3339 or null),
``updated_at`` (event time of the newest event applied), ``version`` (the row's
``stock_levels.version`` as a decimal string: it exceeds a JSON number's exact range).
Delivery is at-least-once and a replay may publish an older state again: a reader keeps
the highest ``version`` per key.

``inventory.catalog`` (compacted): keyed ``sku``, value ``{"sku", "name", "unit_price",
"oversell_policy", "oversell_limit", "release_at"}`` (price null when the catalog has
none; v10: the oversell policy, a message without it reads ``deny``), published by the
flow when it starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import orjson

from inventory.core.records import StockLevel
from inventory.core.times import format_ms, to_ms


@dataclass(frozen=True, slots=True)
class StockChange:
    """One stock message, decoded."""

    warehouse_id: str
    sku: str
    on_hand: int
    reserved: int
    on_order: int
    next_expected_ms: int  # -1: nothing on order
    updated_ms: int
    version: int


@dataclass(frozen=True, slots=True)
class CatalogItem:
    sku: str
    name: str
    unit_price: float | None
    oversell_policy: str = "deny"  # v10: or backorder, preorder
    oversell_limit: int = 0  # 0: no cap
    release_ms: int = -1  # a preorder's release; -1: none


class ChangeFormatError(ValueError):
    """A changelog message that does not have the documented shape."""


def encode_stock(level: StockLevel) -> tuple[bytes, bytes]:
    """Key and value of ``level``'s stock message."""
    key = f"{level.warehouse_id}:{level.sku}".encode()
    value = {
        "warehouse_id": level.warehouse_id,
        "sku": level.sku,
        "on_hand": level.on_hand,
        "reserved": level.reserved,
        "available": level.available,
        "on_order": level.on_order,
        "next_expected_at": (
            format_ms(level.next_expected_ms) if level.next_expected_ms >= 0 else None
        ),
        "updated_at": format_ms(level.updated_ms),
        "version": str(level.version),
    }
    return key, orjson.dumps(value)


def decode_stock(value: bytes) -> StockChange:
    """The stock message ``value``; raises :class:`ChangeFormatError`."""
    try:
        body = orjson.loads(value)
        expected = body["next_expected_at"]
        return StockChange(
            str(body["warehouse_id"]),
            str(body["sku"]),
            int(body["on_hand"]),
            int(body["reserved"]),
            int(body["on_order"]),
            -1 if expected is None else to_ms(datetime.fromisoformat(expected)),
            to_ms(datetime.fromisoformat(body["updated_at"])),
            int(body["version"]),
        )
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise ChangeFormatError(f"not a stock message: {exc}") from None


def encode_catalog(item: CatalogItem) -> tuple[bytes, bytes]:
    body = {
        "sku": item.sku,
        "name": item.name,
        "unit_price": item.unit_price,
        "oversell_policy": item.oversell_policy,
        "oversell_limit": item.oversell_limit,
        "release_at": format_ms(item.release_ms) if item.release_ms >= 0 else None,
    }
    return item.sku.encode(), orjson.dumps(body)


def decode_catalog(value: bytes) -> CatalogItem:
    """The catalog message ``value``; raises :class:`ChangeFormatError`."""
    try:
        body = orjson.loads(value)
        price = body.get("unit_price")
        release = body.get("release_at")
        return CatalogItem(
            str(body["sku"]),
            str(body["name"]),
            None if price is None else float(price),
            str(body.get("oversell_policy") or "deny"),
            int(body.get("oversell_limit") or 0),
            -1 if release is None else to_ms(datetime.fromisoformat(release)),
        )
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ChangeFormatError(f"not a catalog message: {exc}") from None
