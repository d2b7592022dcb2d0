"""Event-time tumbling windows of sales per key, emitted as running totals.

Each emitted :class:`SalesWindow` carries the totals of every accepted sale in the
window so far and ``version`` = their count; ``sales_rates`` keeps the highest version
per window (ReplacingMergeTree), so a window reopened by a late event, re-emitted after
a restart or replayed still reads as its exact total. No window is ever "closed": its
state is dropped once the key's lateness cutoff passes its end, after which no event
can reach it (older events are dead-lettered as late).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from inventory.core.contract import PRICE_SCALE
from inventory.core.records import Event, SalesWindow


def price_e4(unit_price: float | None) -> int:
    """Unit price in 1/10,000 units; a sale without a price adds no revenue."""
    return 0 if unit_price is None else round(unit_price * PRICE_SCALE)


@dataclass
class WindowTotals:
    units: int = 0
    revenue_e4: int = 0
    sales: int = 0
    orders: set[str] = field(default_factory=set)

    def copy(self) -> WindowTotals:
        return WindowTotals(self.units, self.revenue_e4, self.sales, set(self.orders))


def order_key(event_id: str, order_id: str | None) -> str:
    """Distinct orders: by ``order_id``; a sale without one is an order of its own."""
    return order_id if order_id is not None else "\x00" + event_id


class SalesWindows:
    """The open windows of one key. ``touched`` lists windows changed since ``flush``."""

    __slots__ = ("length_ms", "open", "touched")

    def __init__(self, length_ms: int, open_windows: dict[int, WindowTotals] | None = None):
        self.length_ms = length_ms
        self.open: dict[int, WindowTotals] = open_windows if open_windows is not None else {}
        self.touched: set[int] = set()

    def add(self, sale: Event) -> None:
        start = sale.occurred_ms - sale.occurred_ms % self.length_ms
        totals = self.open.get(start)
        if totals is None:
            totals = self.open[start] = WindowTotals()
        totals.units += sale.quantity
        totals.revenue_e4 += sale.quantity * price_e4(sale.unit_price)
        totals.sales += 1
        totals.orders.add(order_key(sale.event_id, sale.order_id))
        self.touched.add(start)

    def flush(self, warehouse_id: str, sku: str, cutoff_ms: int) -> list[SalesWindow]:
        """Rows for windows touched since the last flush; forget windows before cutoff."""
        rows = []
        for start in sorted(self.touched):
            t = self.open[start]
            rows.append(
                SalesWindow(
                    warehouse_id,
                    sku,
                    start,
                    start + self.length_ms,
                    t.units,
                    t.revenue_e4,
                    len(t.orders),
                    t.sales,
                )
            )
        self.touched.clear()
        for start in [s for s in self.open if s + self.length_ms <= cutoff_ms]:
            del self.open[start]
        return rows

    def snapshot(self) -> dict[int, WindowTotals]:
        return {start: totals.copy() for start, totals in self.open.items()}
