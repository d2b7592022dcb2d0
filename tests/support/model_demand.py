"""Independent model of a key's demand figures (docs/semantics.md, "Reorder points from
live demand" and "Unconstrained demand"), for tests only.

Written from the docs, not the flow: a closed day's out-of-stock time comes from the
on-hand rule evaluated at every instant the accepted events change it (the latest count
at or before the instant, plus the movements after the count up to it), not from an
incremental timeline.
"""

from __future__ import annotations

import bisect
import itertools
import math
from dataclasses import dataclass, field
from statistics import NormalDist

DAY_MS = 86_400_000
HOUR_MS = 3_600_000


def _ewma(mean: float, var: float, count: int, x: float, alpha: float) -> tuple[float, float]:
    """The documented exponentially weighted update of observation number ``count``."""
    if count == 1:
        return x, 0.0
    a = alpha / (1 - (1 - alpha) ** count)
    diff = x - mean
    incr = a * diff
    return mean + incr, (1 - a) * (var + diff * incr)


def weighted(weights: tuple[int, ...], lo: int, hi: int) -> int:
    """Milliseconds of ``[lo, hi)`` weighted by the hour of the UTC day they fall in."""
    return sum(weights[(t % DAY_MS) // HOUR_MS] * (min(hi, t - t % HOUR_MS + HOUR_MS) - t)
               for t in _hour_starts(lo, hi))  # fmt: skip


def _hour_starts(lo: int, hi: int) -> list[int]:
    out = []
    t = lo
    while t < hi:
        out.append(t)
        t = t - t % HOUR_MS + HOUR_MS
    return out


class _OnHand:
    """The on-hand rule at any instant t: the latest count at or before t (by time, then
    event id), plus the movements after it up to t (bisection over the sorted events)."""

    def __init__(self, events: list[tuple[int, str, str, int, int, int]]) -> None:
        self.counts = sorted((e[0], e[2], e[3]) for e in events if e[1] == "count")
        moves = sorted((e[0], e[4]) for e in events if e[1] != "count")
        self.times = [ms for ms, _ in moves]
        self.sums = list(itertools.accumulate((d for _, d in moves), initial=0))

    def at(self, t: int) -> int:
        n = bisect.bisect_right(self.counts, (t, "\U0010ffff"))
        base, after = (self.counts[n - 1][2], self.counts[n - 1][0]) if n else (0, -1)
        upto = bisect.bisect_right(self.times, t)
        since = bisect.bisect_right(self.times, after)
        return base + self.sums[upto] - self.sums[min(since, upto)]


@dataclass
class Demand:
    """Daily demand closed once the lateness horizon passes its day, and received
    orders' lead times, each an exponentially weighted mean and variance."""

    weights: tuple[int, ...] = (1,) * 24
    # (ms, kind, event_id, quantity, delta, refused units) of every accepted event
    events: list[tuple[int, str, str, int, int, int]] = field(default_factory=list)
    first_open: int | None = None  # the first day not closed
    mean: float = 0.0
    var: float = 0.0
    count: int = 0
    lead_mean: float = 0.0
    lead_var: float = 0.0
    lead_count: int = 0
    # day start -> (sold, refused, out_of_stock_ms, lost, demand) of each closed day
    days: dict[int, tuple[int, int, int, float, float]] = field(default_factory=dict)
    # (error mean, abs error mean, count) of the forecast tracking signal
    track: tuple[float, float, int] = (0.0, 0.0, 0)

    def event(
        self, ms: int, kind: str, event_id: str, quantity: int, delta: int, refused: int = 0
    ) -> None:
        day = ms // DAY_MS * DAY_MS
        if self.first_open is None or day < self.first_open:
            self.first_open = day
        self.events.append((ms, kind, event_id, quantity, delta, refused))

    def on_hand_at(self, t: int) -> int:
        """The on-hand rule over the accepted events that occurred at or before ``t``."""
        return _OnHand(self.events).at(t)

    def close(self, cutoff_ms: int, horizon: int, forecast_of=None) -> None:  # type: ignore[no-untyped-def]
        alpha = 2 / (horizon + 1)
        while self.first_open is not None and self.first_open + DAY_MS <= cutoff_ms:
            day = self.first_open
            x = self.figures(day)
            self.days[day] = x
            self.count += 1
            self.mean, self.var = _ewma(self.mean, self.var, self.count, x[4], alpha)
            forecast = forecast_of(day) if forecast_of is not None else None
            if forecast is not None:
                e_mean, a_mean, n = self.track
                n += 1
                e_mean, _ = _ewma(e_mean, 0.0, n, x[4] - forecast, 0.2)
                a_mean, _ = _ewma(a_mean, 0.0, n, abs(x[4] - forecast), 0.2)
                self.track = (e_mean, a_mean, n)
            self.first_open += DAY_MS

    def figures(self, day: int) -> tuple[int, int, int, float, float]:
        """(sold, refused, out_of_stock_ms, lost, demand) of ``day`` (docs)."""
        end = day + DAY_MS
        mine = [e for e in self.events if day <= e[0] < end]
        sold = sum(e[3] for e in mine if e[1] == "sale")
        refused = sum(e[5] for e in mine)
        lo = max(day, min(e[0] for e in self.events))
        points = sorted({lo, end} | {e[0] for e in mine if lo < e[0] < end})
        rule = _OnHand(self.events)
        empty = [(a, b) for a, b in itertools.pairwise(points) if rule.at(a) <= 0]
        out_ms = sum(b - a for a, b in empty)
        estimate = 0.0
        if empty:
            empty_w = sum(weighted(self.weights, a, b) for a, b in empty)
            open_w = weighted(self.weights, lo, end)
            if empty_w > 0 and (open_w - empty_w) * 4 >= open_w:
                estimate = sold * empty_w / (open_w - empty_w)
            elif empty_w > 0:
                before = self.mean if self.count else 0.0
                estimate = before * empty_w / (sum(self.weights) * HOUR_MS)
        lost = max(float(refused), estimate)
        return sold, refused, out_ms, lost, sold + lost

    def lead(self, opened_ms: int, received_ms: int) -> None:
        x = (received_ms - opened_ms) / DAY_MS
        self.lead_count += 1
        self.lead_mean, self.lead_var = _ewma(
            self.lead_mean, self.lead_var, self.lead_count, x, 2 / (10 + 1)
        )

    def lead_time(self, catalog_lead_ms: int, min_receipts: int) -> tuple[float, float]:
        if self.lead_count >= min_receipts:
            return self.lead_mean, self.lead_var
        return catalog_lead_ms / DAY_MS, 0.0

    def levels(self, policy, rules, versions=(), at_ms=-1):  # type: ignore[no-untyped-def]
        """(reorder point, order-up-to level, basis, demand a day, lead time in days,
        forecast version): a ``forecast`` SKU's from the version in effect at the start
        of ``at_ms``'s day, else the ``demand`` policy's (docs)."""
        if policy.replenishment == "forecast":
            found = self._forecast_levels(policy, rules, versions, at_ms)
            if found is not None:
                return found
        d = self.mean if self.count else 0.0
        catalog_lead = rules.lead_ms / DAY_MS
        if policy.replenishment not in ("demand", "forecast"):
            return policy.threshold, policy.target, "static", d, catalog_lead, 0
        if self.count < rules.min_days:
            return policy.threshold, policy.target, "cold_start", d, catalog_lead, 0
        lead, var_lead = self.lead_time(rules.lead_ms, rules.min_receipts)
        z = NormalDist().inv_cdf(policy.service_level or rules.service_level)
        safety = z * math.sqrt(lead * self.var + d * d * var_lead)
        rop = max(math.ceil(d * lead + safety), 0)
        if policy.order_cost > 0 and policy.holding_cost > 0:
            cycle = math.ceil(math.sqrt(2 * 365 * d * policy.order_cost / policy.holding_cost))
        else:
            cycle = math.ceil(d * (policy.review_days or rules.review_days))
        return rop, rop + max(cycle, 1), "demand", d, lead, 0

    def _forecast_levels(self, policy, rules, versions, at_ms):  # type: ignore[no-untyped-def]
        day = at_ms - at_ms % DAY_MS
        live = [v for v in versions if v.effective_ms <= day]
        if not live:
            return None
        v = max(live, key=lambda v: (v.effective_ms, v.version))
        e_mean, a_mean, n = self.track
        if n >= rules.min_days and a_mean > 0 and abs(e_mean / a_mean) > rules.tracking_limit:
            return None
        lead, var_lead = self.lead_time(rules.lead_ms, rules.min_receipts)
        review = policy.review_days or rules.review_days
        during = span_of(v, day, lead)
        after = span_of(v, day + lead * DAY_MS, review)
        if during is None or after is None:
            return None
        mean, variance = during
        rate = mean / lead if lead > 0 else 0.0
        z = NormalDist().inv_cdf(policy.service_level or rules.service_level)
        rop = max(math.ceil(mean + z * math.sqrt(variance + rate * rate * var_lead)), 0)
        if policy.order_cost > 0 and policy.holding_cost > 0:
            per_day = after[0] / review
            eoq = 2 * 365 * per_day * policy.order_cost / policy.holding_cost
            cycle = math.ceil(math.sqrt(eoq))
        else:
            cycle = math.ceil(after[0])
        return rop, rop + max(cycle, 1), "forecast", rate, lead, v.version


def forecast_in_effect(versions, day):  # type: ignore[no-untyped-def]
    """The forecast of ``day`` by the version in effect at its start (None: none)."""
    live = [v for v in versions if v.effective_ms <= day]
    if not live:
        return None
    v = max(live, key=lambda v: (v.effective_ms, v.version))
    k = (day - v.first_day_ms) // DAY_MS
    return v.demand[k] if 0 <= k < len(v.demand) else None


def span_of(v, start, days):  # type: ignore[no-untyped-def]
    """(demand, variance) over ``[start, start + days)``: each day's share (docs)."""
    end = start + days * DAY_MS
    if start < v.first_day_ms or end > v.first_day_ms + len(v.demand) * DAY_MS:
        return None
    mean = variance = 0.0
    for k in range(len(v.demand)):
        lo = v.first_day_ms + k * DAY_MS
        share = (min(lo + DAY_MS, end) - max(lo, start)) / DAY_MS
        if share > 0:
            mean += v.demand[k] * share
            variance += v.variance[k] * share
    return mean, variance
