"""What a shopper is told about a SKU's stock: the documented display rules.

Per warehouse, *available* = max(on_hand, 0): an oversold warehouse (negative on-hand)
shows 0 and does not hide another warehouse's stock. A SKU's total is the sum over the
warehouses asked for (all by default). Then, with ``few_left`` =
``INVENTORY_AVAILABILITY_FEW_LEFT`` (default 5):

- total <= 0: status ``out_of_stock``, "Out of stock";
- 1 <= total <= few_left: status ``low``, "Only N left in stock";
- total > few_left: status ``in_stock``, "In stock".
"""

from __future__ import annotations

from typing import Literal

Status = Literal["in_stock", "low", "out_of_stock"]


def available(on_hand: int) -> int:
    """Units a shopper can buy from one warehouse."""
    return max(on_hand, 0)


def status_for(total: int, few_left: int) -> Status:
    if total <= 0:
        return "out_of_stock"
    if total <= few_left:
        return "low"
    return "in_stock"


def display_message(total: int, few_left: int) -> str:
    """The storefront text for ``total`` available units."""
    status = status_for(total, few_left)
    if status == "out_of_stock":
        return "Out of stock"
    if status == "low":
        return f"Only {total} left in stock"
    return "In stock"
