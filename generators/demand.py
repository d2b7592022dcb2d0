"""How shoppers' demand varies: daily and weekly seasonality and promotion spikes, on top
of the catalog's fast and slow movers (its Zipf popularity, a discrete Pareto law).

A key's demand rate at event time ``t`` is ``base x season(t) x promotion(sku, t)``:

- ``season(t)`` = daily x weekly factor, each averaging 1: the daily factor is
  ``1 + daily_amplitude x cos(2 pi (hour - 20) / 24)`` (the peak at 20:00 UTC, the trough
  at 08:00); the weekly one is ``1 + weekly_amplitude`` on Saturdays and Sundays and
  ``1 - weekly_amplitude x 2/5`` on weekdays.
- ``promotion(sku, t)``: in each 28-day cycle from ``start_ms`` a SKU is promoted with
  probability ``promotion_share``, for ``promotion_days`` from an hour of the cycle drawn
  uniformly (seeded by the SKU and cycle), multiplying its demand by ``promotion_factor``.

:class:`DemandShape` is a pure function of its fields (the same flags give the same
stream); the event generator and ``inventory backtest``'s generated profile both use it.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
CYCLE_DAYS = 28


@dataclass(frozen=True)
class DemandShape:
    """Seasonality and promotions (module doc); all zero: flat demand."""

    daily_amplitude: float = 0.0  # 0.5: 1.5 x the mean at 20:00 UTC, 0.5 x at 08:00
    weekly_amplitude: float = 0.0  # 0.3: weekends 1.3 x, weekdays 0.88 x
    promotion_share: float = 0.0  # share of SKUs promoted once per 28 days
    promotion_factor: float = 4.0
    promotion_days: float = 3.0
    seed: int = 0
    start_ms: int = 0  # promotion cycles start here
    _windows: dict[tuple[int, int], tuple[int, int] | None] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )

    def __post_init__(self) -> None:
        if not 0 <= self.daily_amplitude < 1 or not 0 <= self.weekly_amplitude < 2.5:
            raise ValueError("daily amplitude must be in [0, 1), weekly in [0, 2.5)")
        if not 0 <= self.promotion_share <= 1 or self.promotion_factor < 1:
            raise ValueError("promotion share must be in [0, 1] and factor >= 1")
        if not 0 < self.promotion_days <= CYCLE_DAYS:
            raise ValueError(f"promotion days must be in (0, {CYCLE_DAYS}]")

    @property
    def flat(self) -> bool:
        return not (self.daily_amplitude or self.weekly_amplitude or self.promotion_share)

    def season(self, ms: int) -> float:
        """Daily x weekly factor at ``ms`` (averages 1 over a week)."""
        return _daily(self.daily_amplitude, (ms % DAY_MS) // 60_000) * self.weekly(ms)

    def weekly(self, ms: int) -> float:
        weekday = (ms // DAY_MS + 3) % 7  # Monday 0 .. Sunday 6
        if weekday >= 5:
            return 1 + self.weekly_amplitude
        return 1 - self.weekly_amplitude * 2 / 5

    @property
    def peak(self) -> float:
        """The largest factor ``season x promotion`` can reach."""
        weekly = 1 + self.weekly_amplitude
        promotion = self.promotion_factor if self.promotion_share else 1.0
        return (1 + self.daily_amplitude) * weekly * promotion

    def promotion_window(self, sku: int, ms: int) -> tuple[int, int] | None:
        """The promotion (start, end) of ``sku``'s cycle holding ``ms``, if it has one."""
        cycle = (ms - self.start_ms) // (CYCLE_DAYS * DAY_MS)
        held = self._windows.get((sku, cycle), ())
        if held != ():
            return held  # type: ignore[return-value]
        rng = random.Random(f"promotion:{self.seed}:{sku}:{cycle}")
        window = None
        if rng.random() < self.promotion_share:
            length = round(self.promotion_days * DAY_MS)
            first = self.start_ms + cycle * CYCLE_DAYS * DAY_MS
            hours = (CYCLE_DAYS * DAY_MS - length) // HOUR_MS
            begin = first + rng.randint(0, hours) * HOUR_MS  # on the hour of the cycle
            window = (begin, begin + length)
        self._windows[(sku, cycle)] = window
        return window

    def promotion(self, sku: int, ms: int) -> float:
        """``promotion_factor`` while ``sku`` is promoted, else 1."""
        if not self.promotion_share:
            return 1.0
        window = self.promotion_window(sku, ms)
        return self.promotion_factor if window and window[0] <= ms < window[1] else 1.0

    def factor(self, sku: int, ms: int) -> float:
        return self.season(ms) * self.promotion(sku, ms)

    def promoted(self, skus: int, ms: int) -> frozenset[int]:
        """Which of SKUs ``0 .. skus-1`` are promoted at ``ms`` (constant within an hour)."""
        if not self.promotion_share:
            return frozenset()
        return frozenset(sku for sku in range(skus) if self.promotion(sku, ms) > 1)


@lru_cache(maxsize=4096)
def _daily(amplitude: float, minute: int) -> float:
    return 1 + amplitude * math.cos(2 * math.pi * (minute / 60 - 20) / 24)


def order_size(rng: random.Random) -> int:
    """Units a shopper buys at once: 1 (85 %), else 2 or 3 (the event generator's rule)."""
    return 1 if rng.random() < 0.85 else rng.choice((2, 3))


def arrivals(
    rate_per_day: float,
    sku: int,
    *,
    shape: DemandShape,
    start_ms: int,
    end_ms: int,
    rng: random.Random,
) -> Iterator[tuple[int, int]]:
    """One key's orders as ``(ms, units)`` in time order: a Poisson process of mean
    ``rate_per_day`` orders a day shaped by ``shape`` (sampled by thinning)."""
    top = rate_per_day * shape.peak / DAY_MS  # orders per ms at the most
    if top <= 0:
        return
    ms = float(start_ms)
    while True:
        ms += rng.expovariate(top)
        if ms >= end_ms:
            return
        at = int(ms)
        if rng.random() * shape.peak < shape.factor(sku, at):
            yield at, order_size(rng)
