"""What a shopper is told about a SKU's stock: the documented display rules.

Per warehouse, *available* = max(on_hand - reserved, 0), reserved being the units of
active cart and checkout holds (docs/semantics.md, "Reservations"): an oversold or
overheld warehouse shows 0 and does not hide another warehouse's stock. A SKU's total
is the sum over the warehouses asked for (all by default). Then, with ``few_left`` =
``INVENTORY_AVAILABILITY_FEW_LEFT`` (default 5):

- total <= 0: status ``out_of_stock``, "Out of stock";
- 1 <= total <= few_left: status ``low``, "Only N left in stock";
- total > few_left: status ``in_stock``, "In stock".

Incoming stock (contract v6): *incoming* is the sum of the units on open purchase orders
of those warehouses. For a SKU that is ``low`` or ``out_of_stock`` with units incoming,
*expected back* is the earliest expected delivery of those orders, and the restock line:

- out of stock: "Back in stock by <date>"; low: "More arriving <date>";
- the date is the expected delivery's day in UTC ("Tue 8 Dec"); when that moment has
  passed (the order is late), "Back in stock soon" / "More arriving soon";
- otherwise (in stock, or nothing incoming) no restock line and no date.

The storefront's default grid (:func:`showcase`) shows every status, scarce and incoming
first: up to a third of the grid each for scarce ("Only N left", fewest units first) and
out-of-stock products (those with units incoming first, soonest expected first), the
rest in stock; ties in SKU order; a short group leaves its places to the others.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Literal

Status = Literal["in_stock", "low", "out_of_stock"]


def available(on_hand: int, reserved: int = 0) -> int:
    """Units a shopper can buy from one warehouse."""
    return max(on_hand - reserved, 0)


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


def expected_back_ms(status: Status, incoming: int, next_expected_ms: int) -> int | None:
    """When a low or out-of-stock SKU with ``incoming`` units is expected back (the
    earliest expected delivery, ``-1`` if unknown); ``None`` when there is no such date."""
    if status == "in_stock" or incoming <= 0 or next_expected_ms < 0:
        return None
    return next_expected_ms


def restock_message(
    status: Status, incoming: int, next_expected_ms: int, now_ms: int
) -> str | None:
    """The storefront's restock line (module doc), or ``None``."""
    if status == "in_stock" or incoming <= 0:
        return None
    lead = "Back in stock by" if status == "out_of_stock" else "More arriving"
    if next_expected_ms < now_ms:
        return "Back in stock soon" if status == "out_of_stock" else "More arriving soon"
    return f"{lead} {day_label(next_expected_ms)}"


def day_label(ms: int) -> str:
    """The day of ``ms`` in UTC as the storefront shows it: "Tue 8 Dec"."""
    day = datetime.fromtimestamp(ms / 1000, UTC)
    return f"{day:%a} {day.day} {day:%b}"


SHOWCASE_ORDER: tuple[Status, ...] = ("low", "out_of_stock", "in_stock")


def showcase(
    totals: Mapping[str, int],
    limit: int,
    few_left: int,
    expected: Mapping[str, int] | None = None,
) -> list[str]:
    """Up to ``limit`` SKUs of ``totals`` (SKU -> available units) for a grid that shows
    every status: scarce (fewest first), then out of stock (with ``expected`` deliveries,
    SKU -> the earliest expected epoch ms, first), then in stock (see the module doc)."""
    expected = expected or {}
    never = 1 << 62

    def rank(sku: str) -> tuple[int, int, str]:
        return max(totals[sku], 0), expected.get(sku, never), sku

    groups: dict[Status, list[str]] = {status: [] for status in SHOWCASE_ORDER}
    for sku in sorted(totals, key=rank):
        groups[status_for(totals[sku], few_left)].append(sku)
    share = -(-limit // 3)  # a third, rounded up
    picked = {status: groups[status][:share] for status in ("low", "out_of_stock")}
    picked["in_stock"] = groups["in_stock"][: limit - sum(map(len, picked.values()))]
    for status in SHOWCASE_ORDER:  # fill what a short group left
        room = limit - sum(map(len, picked.values()))
        if room <= 0:
            break
        picked[status] += groups[status][len(picked[status]) :][:room]
    return [sku for status in SHOWCASE_ORDER for sku in picked[status]]
