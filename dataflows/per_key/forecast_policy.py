"""The ``forecast`` replenishment policy: reorder points from the batch layer's forecast
versions, watched by a tracking signal (docs/semantics.md, "The forecast policy").

Pure functions of a key's forecast versions, its closed days and its learned lead time.
Sums run over forecast days in day order, so the independent model in the tests computes
the same doubles.
"""

from __future__ import annotations

import math

from dataflows.per_key.demand import (
    DAY_MS,
    DemandRules,
    DemandState,
    Levels,
    lead_time,
    levels,
    tracking_signal,
    z_of,
)
from inventory.core.forecast_versions import ForecastVersion, in_effect
from inventory.core.records import ProductPolicy


def over(v: ForecastVersion, start_ms: float, days: float) -> tuple[float, float] | None:
    """Forecast (demand, variance) over ``[start_ms, start_ms + days)``: each forecast
    day's figures times the share of it inside the span, summed in day order; None when
    the version does not cover the span."""
    end_ms = start_ms + days * DAY_MS
    if start_ms < v.first_day_ms or end_ms > v.end_ms:
        return None
    mean = variance = 0.0
    k = int((start_ms - v.first_day_ms) // DAY_MS)
    while k < len(v.demand):
        lo = v.first_day_ms + k * DAY_MS
        if lo >= end_ms:
            break
        share = (min(lo + DAY_MS, end_ms) - max(lo, start_ms)) / DAY_MS
        mean += v.demand[k] * share
        variance += v.variance[k] * share
        k += 1
    return mean, variance


def forecast_levels(
    state: DemandState,
    policy: ProductPolicy,
    rules: DemandRules,
    versions: tuple[ForecastVersion, ...],
    at_ms: int,
) -> Levels | None:
    """The levels of the version in effect at ``at_ms`` from the start of its day; None
    (the ``demand`` policy applies) without a version, when it does not cover the lead
    time and review period, or when the tracking signal is beyond its limit."""
    v = in_effect(versions, at_ms)
    if v is None:
        return None
    if (
        state.track_abs.count >= rules.min_days
        and abs(tracking_signal(state)) > rules.tracking_limit
    ):
        return None
    day = at_ms - at_ms % DAY_MS
    lead, var_lead = lead_time(state, policy, rules)
    review = policy.review_days or rules.review_days
    during = over(v, day, lead)
    after = over(v, day + lead * DAY_MS, review)
    if during is None or after is None:
        return None
    mean, variance = during
    rate = mean / lead if lead > 0 else 0.0
    z = z_of(policy.service_level or rules.service_level)
    safety = z * math.sqrt(variance + rate * rate * var_lead)
    reorder_point = max(math.ceil(mean + safety), 0)
    if policy.order_cost > 0 and policy.holding_cost > 0:
        per_day = after[0] / review
        cycle = math.ceil(math.sqrt(2 * 365 * per_day * policy.order_cost / policy.holding_cost))
    else:
        cycle = math.ceil(after[0])
    return Levels(reorder_point, reorder_point + max(cycle, 1), "forecast", rate, lead, v.version)


def levels_in_effect(
    state: DemandState,
    policy: ProductPolicy,
    rules: DemandRules,
    versions: tuple[ForecastVersion, ...],
    at_ms: int,
) -> Levels:
    """What a key reorders on at ``at_ms``: a ``forecast`` SKU's forecast levels, else
    (and as its fallback) :func:`~dataflows.per_key.demand.levels`."""
    if policy.replenishment == "forecast":
        found = forecast_levels(state, policy, rules, versions, at_ms)
        if found is not None:
            return found
    return levels(state, policy, rules)
