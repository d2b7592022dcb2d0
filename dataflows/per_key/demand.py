"""Demand and lead times per (warehouse_id, sku) in event time, and the reorder point and
order-up-to level they give (docs/semantics.md, "Reorder points from live demand").

Pure functions of a key's accepted events: daily sales close once the lateness horizon
has passed their day (so no late event changes a closed day), exponentially weighted
mean and variance of closed days' units and of received orders' lead times, and the
textbook reorder point with demand and lead-time uncertainty. The arithmetic is the
documented one, step by step, so the independent model in the tests computes the same
doubles.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cache
from statistics import NormalDist

from inventory.core.records import ProductPolicy

DAY_MS = 86_400_000
LEAD_TIME_SPAN = 10  # receipts: alpha = 2 / (10 + 1)


@dataclass(frozen=True, slots=True)
class DemandRules:
    """The flow's demand settings (``INVENTORY_DEMAND_*``, ``…_DEFAULT_SERVICE_LEVEL``,
    ``…_DEFAULT_REVIEW_PERIOD_DAYS``, ``…_LEAD_TIME_MIN_RECEIPTS``)."""

    horizon_days: int = 28
    min_days: int = 7
    min_receipts: int = 3
    service_level: float = 0.95
    review_days: float = 7.0


@dataclass(slots=True)
class Ewma:
    """An exponentially weighted mean and variance, the weights normalised over the
    observations seen (pandas' ``ewm(adjust=True)`` mean; documented update)."""

    mean: float = 0.0
    variance: float = 0.0
    count: int = 0

    def add(self, x: float, alpha: float) -> None:
        """Observation number ``count + 1``: its weight is normalised over the ones seen
        (``a``), so early figures are not pulled towards the first one."""
        self.count += 1
        if self.count == 1:
            self.mean, self.variance = x, 0.0
            return
        a = alpha / (1 - (1 - alpha) ** self.count)
        diff = x - self.mean
        incr = a * diff
        self.mean = self.mean + incr
        self.variance = (1 - a) * (self.variance + diff * incr)

    def copy(self) -> Ewma:
        return Ewma(self.mean, self.variance, self.count)


@dataclass(slots=True)
class DemandState:
    """Picklable per-key state: the days not closed yet (start ms -> units), the first day
    not closed, and the statistics so far."""

    open_days: dict[int, int] = field(default_factory=dict)
    next_day: int = -1  # start of the first day not closed (-1: no event yet)
    demand: Ewma = field(default_factory=Ewma)
    lead: Ewma = field(default_factory=Ewma)

    def copy(self) -> DemandState:
        return DemandState(
            dict(self.open_days), self.next_day, self.demand.copy(), self.lead.copy()
        )


@dataclass(frozen=True, slots=True)
class Levels:
    """What a key reorders on: the reorder point and order-up-to level in effect, their
    basis, and the figures behind them."""

    reorder_point: int
    order_up_to: int
    basis: str  # static, cold_start, demand
    demand_per_day: float
    lead_time_days: float


def day_of(ms: int) -> int:
    return ms - ms % DAY_MS


def note_event(state: DemandState, ms: int) -> None:
    """The key accepted an event at ``ms``: its days start at the earliest one (before a
    day closes, an accepted event may be older than the first; after, none is)."""
    day = ms - ms % DAY_MS
    if state.next_day < 0 or day < state.next_day:
        state.next_day = day


def add_sale(state: DemandState, ms: int, units: int) -> None:
    """An accepted sale (its day is open: a closed day's events would be late)."""
    day = day_of(ms)
    state.open_days[day] = state.open_days.get(day, 0) + units


def close_days(state: DemandState, cutoff_ms: int, horizon_days: int) -> bool:
    """Close every day that ends at or before ``cutoff_ms`` (the key's newest event time
    minus the lateness horizon), in order; True if any closed."""
    if state.next_day < 0 or state.next_day + DAY_MS > cutoff_ms:
        return False
    alpha = 2 / (horizon_days + 1)
    while state.next_day + DAY_MS <= cutoff_ms:
        state.demand.add(state.open_days.pop(state.next_day, 0), alpha)
        state.next_day += DAY_MS
    return True


def add_lead_time(state: DemandState, opened_ms: int, received_ms: int) -> None:
    """A purchase order received in full after ``received_ms - opened_ms``."""
    state.lead.add((received_ms - opened_ms) / DAY_MS, 2 / (LEAD_TIME_SPAN + 1))


def rebuild(
    first_ms: int,
    sales: list[tuple[int, int]],
    cutoff_ms: int,
    receipts: list[tuple[int, int]],
    horizon_days: int,
) -> DemandState:
    """The state a key's events leave, from its tables: its first event's time, its sales
    as (day start, units), the lateness cutoff, its received orders' (opened, received)
    in receipt order. The same arithmetic as event by event."""
    state = DemandState()
    note_event(state, first_ms)
    for day, units in sales:
        state.open_days[day] = state.open_days.get(day, 0) + units
    close_days(state, cutoff_ms, horizon_days)
    for opened_ms, received_ms in receipts:
        add_lead_time(state, opened_ms, received_ms)
    return state


@cache
def z_of(service_level: float) -> float:
    return NormalDist().inv_cdf(service_level)


def levels(state: DemandState, policy: ProductPolicy, rules: DemandRules) -> Levels:
    """The reorder point and order-up-to level in effect for ``policy``."""
    d = state.demand.mean if state.demand.count else 0.0
    catalog_lead = policy.lead_time_ms / DAY_MS
    if policy.replenishment != "demand":
        return Levels(policy.threshold, policy.target_stock, "static", d, catalog_lead)
    if state.demand.count < rules.min_days:
        return Levels(policy.threshold, policy.target_stock, "cold_start", d, catalog_lead)
    if state.lead.count >= rules.min_receipts:
        lead, var_lead = state.lead.mean, state.lead.variance
    else:
        lead, var_lead = catalog_lead, 0.0
    z = z_of(policy.service_level or rules.service_level)
    safety = z * math.sqrt(lead * state.demand.variance + d * d * var_lead)
    reorder_point = max(math.ceil(d * lead + safety), 0)
    if policy.order_cost > 0 and policy.holding_cost > 0:
        cycle = math.ceil(math.sqrt(2 * 365 * d * policy.order_cost / policy.holding_cost))
    else:
        cycle = math.ceil(d * (policy.review_days or rules.review_days))
    return Levels(reorder_point, reorder_point + max(cycle, 1), "demand", d, lead)
