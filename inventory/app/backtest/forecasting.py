"""The forecast job inside a backtest replay: one key's ``inventory forecast`` run every
day on the replay's own history (docs/analysts.md, "Backtest: three policies").

After day D of the replay ends, the key's model (:mod:`inventory.app.forecast.model`) is
fitted on its days so far as the job fits them: a day the book closed counts its
unconstrained demand (left out when more than 18 hours out of stock), a day not closed
yet its units sold (left out when more than ``censor_minutes`` out of stock), from its
first full day with a sale; the planned promotions' shares; the version (D, YYYYMMDD)
forecasts D + 1 on and
takes effect at the start of D + 2, as the job publishes it. The flow's per-key logic
reads the versions through :attr:`KeyForecaster.versions`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from inventory.app.forecast.history import Promotion, planned_uplift, promotion_shares
from inventory.app.forecast.model import KeyHistory, fit, forecast
from inventory.app.forecast.publish import EFFECTIVE_AFTER_DAYS
from inventory.clickhouse.promotions import PromotionEntry
from inventory.core.forecast_versions import DAY_MS, ForecastVersion
from inventory.core.records import DemandDay
from inventory.core.times import format_ms

KEEP_VERSIONS = 8  # as the flow's forecast book keeps them


@dataclass(frozen=True)
class ForecastPlan:
    """How the replayed job runs (``inventory forecast``'s defaults)."""

    history_days: int = 112
    horizon_days: int = 28
    censor_minutes: int = 60


@dataclass
class KeyForecaster:
    """One key's daily forecast runs in a replay starting at ``start_ms`` (a day start)."""

    warehouse_id: str
    sku: str
    start_ms: int
    promotions: Sequence[Promotion] = ()
    plan: ForecastPlan = field(default_factory=ForecastPlan)
    versions: tuple[ForecastVersion, ...] = ()
    sold: dict[int, int] = field(default_factory=dict)  # day start -> units sold
    out_of_stock: dict[int, int] = field(default_factory=dict)  # day start -> ms
    next_run_ms: int = -1
    closed: dict[int, tuple[float, int]] = field(default_factory=dict)  # demand, out ms
    used: dict[int, float] = field(default_factory=dict)  # day start -> forecast in effect

    def __post_init__(self) -> None:
        self.next_run_ms = self.start_ms + DAY_MS

    def closed_day(self, day: DemandDay) -> None:
        """A day the book closed (its unconstrained demand)."""
        self.closed[day.day_ms] = (day.demand, day.out_of_stock_ms)

    def sale(self, ms: int, units: int) -> None:
        day = ms - ms % DAY_MS
        self.sold[day] = self.sold.get(day, 0) + units

    def empty(self, lo: int, hi: int) -> None:
        """Nothing on hand over ``[lo, hi)``."""
        while lo < hi:
            day = lo - lo % DAY_MS
            end = min(hi, day + DAY_MS)
            self.out_of_stock[day] = self.out_of_stock.get(day, 0) + end - lo
            lo = end

    @property
    def first_full_day(self) -> int:
        return -(-self.start_ms // DAY_MS) * DAY_MS

    def _day(self, day: int) -> tuple[float, bool]:
        """(demand, left out) of ``day`` as the job reads it."""
        if day in self.closed:
            demand, out_ms = self.closed[day]
            return demand, out_ms * 4 > 3 * DAY_MS
        out_ms = self.out_of_stock.get(day, 0)
        return float(self.sold.get(day, 0)), out_ms > self.plan.censor_minutes * 60_000

    def catch_up(self, ms: int, flush: Callable[[int], None]) -> None:
        """Run every job due by ``ms`` (one after each day that ended); ``flush(t)``
        brings the stock-out time up to ``t`` first."""
        while self.next_run_ms <= ms:
            flush(self.next_run_ms)
            self._run(self.next_run_ms - DAY_MS)
            self.next_run_ms += DAY_MS

    def _run(self, through_ms: int) -> None:
        since = max(through_ms - (self.plan.history_days - 1) * DAY_MS, self.first_full_day)
        sold_days = [d for d in self.sold if since <= d <= through_ms]
        if not sold_days:
            return
        first = min(sold_days)
        days = range(first, through_ms + DAY_MS, DAY_MS)
        key = (self.warehouse_id, self.sku)
        observed = [self._day(d) for d in days]
        history = KeyHistory(
            np.array([units for units, _ in observed], dtype=float),
            np.array([censored for _, censored in observed], dtype=bool),
            _shares(self.promotions, key, first, len(days)),
            _weekday(first),
        )
        model = fit(history, planned_uplift(self.promotions, key))
        ahead = _shares(self.promotions, key, through_ms + DAY_MS, self.plan.horizon_days)
        figures = forecast(model, _weekday(through_ms + DAY_MS), ahead)
        version = ForecastVersion(
            self.warehouse_id,
            self.sku,
            int(format_ms(through_ms)[:10].replace("-", "")),
            through_ms + EFFECTIVE_AFTER_DAYS * DAY_MS,
            through_ms + DAY_MS,
            tuple(mean for mean, *_ in figures),
            tuple(variance for _, variance, *_ in figures),
        )
        self.versions = (*self.versions, version)[-KEEP_VERSIONS:]
        self.used[version.effective_ms] = version.demand[EFFECTIVE_AFTER_DAYS - 1]


def _weekday(ms: int) -> int:
    return int((ms // DAY_MS + 3) % 7)  # 1970-01-01 was a Thursday


def _shares(
    promotions: Sequence[Promotion], key: tuple[str, str], first_ms: int, days: int
) -> np.ndarray:
    first = date(1970, 1, 1) + timedelta(days=first_ms // DAY_MS)
    return promotion_shares(promotions, key, first, days)


def promotions_of(entries: Sequence[PromotionEntry]) -> list[Promotion]:
    return [Promotion(e.sku, e.warehouse_id, e.starts_ms, e.ends_ms, e.uplift) for e in entries]
