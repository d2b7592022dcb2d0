"""One key's daily demand model (docs/semantics.md, "Demand forecasts"): a Poisson GLM
with log link (statsmodels) of the units sold per day on a level, a trend, the weekday and
the share of the day under a promotion; days mostly out of stock are left out (their sales
are not their demand).

The fitted mean of day ``t`` is ``exp(b0 + b1 t + b_weekday + b_p p_t)``; it is kept as
``level x (1 + trend)^k x weekday factor x uplift^p`` (``k`` days after the last day of
history, the weekday factors averaging 1), which :meth:`Fit.mean` evaluates. The
variance of a day's units is ``dispersion x mean`` (Pearson chi-square over the residual
degrees of freedom, at least 1); the 90 % interval its normal approximation.

Rules: fewer than ``MIN_DAYS`` days to fit, or no units at all: the ``mean`` model (the
average of the days fitted, flat). A weekday profile only when the key sells at least
``WEEKDAY_MIN_MEAN`` units a day on average and sold on every weekday of its history (a
weekday with none has no finite factor); a trend only from ``TREND_MIN_DAYS`` days; a
fitted uplift only when the history has at least one day's worth of promotion with units
sold and units sold outside promotions, and the fitted uplift lies within
``1 / UPLIFT_BOUND`` .. ``UPLIFT_BOUND``, else the planned one (the promotions table),
else none.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import statsmodels.api as sm

MIN_DAYS = 14
TREND_MIN_DAYS = 28
WEEKDAY_MIN_MEAN = 1.0
UPLIFT_BOUND = 20.0
Z90 = 1.6448536269514722  # the normal 95th percentile: a central 90 % interval


@dataclass(frozen=True)
class KeyHistory:
    """Consecutive days of one key, the first on weekday ``first_weekday`` (Monday 0):
    units sold, whether each day is left out (censored), and its promotion share."""

    units: np.ndarray
    censored: np.ndarray
    promotion: np.ndarray
    first_weekday: int


@dataclass(frozen=True)
class Fit:
    model: str  # poisson_glm or mean
    level: float  # mean units a day at the last day of history (weekday average, no promotion)
    trend: float  # relative change per day
    weekday: tuple[float, ...]  # Monday .. Sunday, averaging 1
    uplift: float
    uplift_source: str  # fitted, planned or none
    dispersion: float
    history_days: int
    censored_days: int

    def mean(self, days_after: int, weekday: int, promotion: float) -> float:
        """Expected units ``days_after`` days after the last day of history."""
        growth = math.pow(1 + self.trend, days_after)
        return self.level * growth * self.weekday[weekday] * math.pow(self.uplift, promotion)

    def interval(self, mean: float) -> tuple[float, float, float]:
        """(variance, lower, upper) of a day with this ``mean``."""
        variance = self.dispersion * mean
        half = Z90 * math.sqrt(variance)
        return variance, max(mean - half, 0.0), mean + half


def fit(history: KeyHistory, planned_uplift: float | None) -> Fit:
    """The model of one key (module doc); ``planned_uplift``: the promotions table's."""
    keep = ~history.censored
    y = history.units[keep].astype(float)
    n = len(history.units)
    t = np.arange(n, dtype=float)[keep]
    weekday = (np.arange(n) + history.first_weekday)[keep] % 7
    share = history.promotion[keep].astype(float)
    censored = int(n - keep.sum())
    planned = (planned_uplift, "planned") if planned_uplift else (1.0, "none")
    if len(y) < MIN_DAYS or y.sum() <= 0:
        return _mean_fit(y, planned, censored)
    columns = [np.ones_like(y)]
    use_trend = len(y) >= TREND_MIN_DAYS
    if use_trend:
        columns.append(t - (n - 1))  # the intercept is then the last day's level
    present = [d for d in range(7) if (weekday == d).any()]
    profiled = y.mean() >= WEEKDAY_MIN_MEAN and all(y[weekday == d].sum() > 0 for d in present)
    days = [d for d in present if d > 0] if profiled else []
    columns += [(weekday == d).astype(float) for d in days]
    use_uplift = (
        share.sum() >= 1
        and float((y * (share > 0)).sum()) > 0
        and float((y * (share == 0)).sum()) > 0
    )
    if use_uplift:
        columns.append(share)
    design = np.column_stack(columns)
    try:
        result = sm.GLM(y, design, family=sm.families.Poisson()).fit()
    except (ValueError, np.linalg.LinAlgError):
        return _mean_fit(y, planned, censored)
    params = np.asarray(result.params, dtype=float)
    if not np.isfinite(params).all():
        return _mean_fit(y, planned, censored)
    raw = [1.0] * 7
    offset = 2 if use_trend else 1
    for i, d in enumerate(days):
        raw[d] = math.exp(params[offset + i])
    if not days:  # a flat profile: Monday's column is the intercept, like every day's
        raw = [1.0] * 7
    average = sum(raw) / 7
    dispersion = max(float(result.pearson_chi2) / max(float(result.df_resid), 1.0), 1.0)
    fitted = math.exp(params[-1]) if use_uplift else 0.0
    uplift = (fitted, "fitted") if 1 / UPLIFT_BOUND <= fitted <= UPLIFT_BOUND else planned
    return Fit(
        "poisson_glm",
        math.exp(params[0]) * average,
        math.exp(params[1]) - 1 if use_trend else 0.0,
        tuple(f / average for f in raw),
        *uplift,
        dispersion,
        len(y),
        censored,
    )


def _mean_fit(y: np.ndarray, planned: tuple[float, str], censored: int) -> Fit:
    mean = float(y.mean()) if len(y) else 0.0
    variance = float(y.var(ddof=1)) if len(y) > 1 else mean
    dispersion = max(variance / mean, 1.0) if mean > 0 else 1.0
    return Fit("mean", mean, 0.0, (1.0,) * 7, *planned, dispersion, len(y), censored)


def forecast(
    model: Fit, first_weekday: int, promotion: Sequence[float] | np.ndarray
) -> list[tuple[float, float, float, float]]:
    """(mean, variance, lower, upper) of the days after history; ``first_weekday`` is
    the first one's, ``promotion`` each one's promotion share."""
    out = []
    for k, share in enumerate(promotion):
        mean = model.mean(k + 1, (first_weekday + k) % 7, float(share))
        out.append((mean, *model.interval(mean)))
    return out
