"""A key's daily history for :mod:`inventory.app.forecast.model`, from the rows the batch
layer holds: each day's demand (the flow's unconstrained demand from ``demand_daily``,
else the units sold from ``sales_daily``), minutes out of stock (those queries say which
count) and the planned promotions (``promotions``). Pure: rows in, arrays out.

Per key with any units sold in the window: the days from its first sale day in the
window to ``through``, 0 where nothing sold; a day out of stock more than
``censor_minutes`` is left out of the fit; a day's promotion share is the part of it
(UTC) covered by the promotions of its SKU in its warehouse or all warehouses (at most 1).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np

from inventory.app.forecast.model import KeyHistory

DAY_MS = 86_400_000
Key = tuple[str, str]  # (warehouse_id, sku)


@dataclass(frozen=True)
class Promotion:
    sku: str
    warehouse_id: str  # '': every warehouse
    starts_ms: int
    ends_ms: int
    uplift: float


def day_ms(day: date) -> int:
    return (day - date(1970, 1, 1)).days * DAY_MS


def promotion_shares(
    promotions: Sequence[Promotion], key: Key, first: date, days: int
) -> np.ndarray:
    """Each day's share under a promotion of ``key``, from ``first`` on."""
    shares = np.zeros(days)
    start = day_ms(first)
    for p in promotions:
        if p.sku != key[1] or p.warehouse_id not in ("", key[0]):
            continue
        for i in range(max((p.starts_ms - start) // DAY_MS, 0), days):
            lo, hi = start + i * DAY_MS, start + (i + 1) * DAY_MS
            if lo >= p.ends_ms:
                break
            shares[i] += max(min(hi, p.ends_ms) - max(lo, p.starts_ms), 0) / DAY_MS
    return np.minimum(shares, 1.0)


def planned_uplift(promotions: Sequence[Promotion], key: Key) -> float | None:
    """The mean planned uplift of ``key``'s promotions (None: it has none)."""
    mine = [p.uplift for p in promotions if p.sku == key[1] and p.warehouse_id in ("", key[0])]
    return sum(mine) / len(mine) if mine else None


def histories(
    sales: Iterable[Sequence[Any]],
    stockouts: Iterable[Sequence[Any]],
    promotions: Sequence[Promotion],
    *,
    through: date,
    censor_minutes: int,
) -> dict[Key, KeyHistory]:
    """Each key's history up to ``through`` (module doc); ``sales`` and ``stockouts``
    are rows (warehouse_id, sku, day, units or minutes)."""
    sold: dict[Key, dict[date, float]] = defaultdict(dict)
    for wh, sku, day, units in sales:
        sold[(wh, sku)][day] = float(units)
    out_of_stock = {
        (wh, sku, day) for wh, sku, day, minutes in stockouts if minutes > censor_minutes
    }
    out = {}
    for key, by_day in sorted(sold.items()):
        first = min(by_day)
        n = (through - first).days + 1
        days = [first + timedelta(days=i) for i in range(n)]
        out[key] = KeyHistory(
            np.array([by_day.get(d, 0) for d in days], dtype=float),
            np.array([(key[0], key[1], d) in out_of_stock for d in days], dtype=bool),
            promotion_shares(promotions, key, first, n),
            first.weekday(),
        )
    return out
