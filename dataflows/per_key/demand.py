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

from dataflows.per_key.unconstrained import FLAT_PROFILE, ClosedDay, Move, Timeline, close_day
from inventory.core.forecast_versions import ForecastVersion, in_effect
from inventory.core.records import Event, ProductPolicy

DAY_MS = 86_400_000
LEAD_TIME_SPAN = 10  # receipts: alpha = 2 / (10 + 1)
TRACKING_ALPHA = 0.2  # the forecast tracking signal's smoothing (docs/semantics.md)


@dataclass(frozen=True, slots=True)
class DemandRules:
    """The flow's demand settings (``INVENTORY_DEMAND_*``, ``…_DEFAULT_SERVICE_LEVEL``,
    ``…_DEFAULT_REVIEW_PERIOD_DAYS``, ``…_LEAD_TIME_MIN_RECEIPTS``,
    ``…_FORECAST_TRACKING_LIMIT``)."""

    horizon_days: int = 28
    min_days: int = 7
    min_receipts: int = 3
    service_level: float = 0.95
    review_days: float = 7.0
    tracking_limit: float = 0.5
    intraday_weights: tuple[int, ...] = FLAT_PROFILE


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
    """Picklable per-key state: the days not closed yet (start ms -> units sold), the
    first day not closed, and the statistics so far; v12: the forecast's smoothed error
    and absolute error (:func:`track_day`), and what the open days' unconstrained demand
    needs (:mod:`dataflows.per_key.unconstrained`): units refused per open day, the
    event-time on-hand timeline and the key's first event time."""

    open_days: dict[int, int] = field(default_factory=dict)
    next_day: int = -1  # start of the first day not closed (-1: no event yet)
    demand: Ewma = field(default_factory=Ewma)
    lead: Ewma = field(default_factory=Ewma)
    track_error: Ewma = field(default_factory=Ewma)
    track_abs: Ewma = field(default_factory=Ewma)
    refused: dict[int, int] = field(default_factory=dict)  # day start -> units refused
    timeline: Timeline = field(default_factory=Timeline)
    first_ms: int = -1  # the key's earliest accepted event time while in an open day

    def copy(self) -> DemandState:
        return DemandState(
            dict(self.open_days),
            self.next_day,
            self.demand.copy(),
            self.lead.copy(),
            self.track_error.copy(),
            self.track_abs.copy(),
            dict(self.refused),
            self.timeline.copy(),
            self.first_ms,
        )


@dataclass(frozen=True, slots=True)
class Levels:
    """What a key reorders on: the reorder point and order-up-to level in effect, their
    basis, and the figures behind them."""

    reorder_point: int
    order_up_to: int
    basis: str  # static, cold_start, demand, forecast
    demand_per_day: float
    lead_time_days: float
    forecast_version: int = 0  # the version the levels come from (0: none)


def day_of(ms: int) -> int:
    return ms - ms % DAY_MS


def note_event(state: DemandState, ms: int) -> None:
    """The key accepted an event at ``ms``: its days start at the earliest one (before a
    day closes, an accepted event may be older than the first; after, none is)."""
    day = ms - ms % DAY_MS
    if state.next_day < 0:
        state.next_day, state.first_ms = day, ms
        return
    state.next_day = min(state.next_day, day)
    state.first_ms = min(state.first_ms, ms)


def note_move(state: DemandState, ms: int, is_count: int, event_id: str, value: int) -> None:
    """An accepted count (``value``: its quantity) or stock movement (the delta)."""
    state.timeline.pending.append((ms, is_count, event_id, value))


def note_accepted(state: DemandState, event: Event) -> None:
    """An accepted event, in one call (the hot path): :func:`note_event`, its count or
    movement (:func:`note_move`) and, a sale, its units in its day."""
    ms, kind, delta = event.occurred_ms, event.event_type, event.delta
    day = ms - ms % DAY_MS
    if state.next_day < 0:
        state.next_day, state.first_ms = day, ms
    else:
        if day < state.next_day:  # noqa: PLR1730 (an if is cheaper than min() here)
            state.next_day = day
        if ms < state.first_ms:  # noqa: PLR1730
            state.first_ms = ms
    if kind == "count":
        state.timeline.pending.append((ms, 1, event.event_id, event.quantity))
    elif delta:
        state.timeline.pending.append((ms, 0, "", delta))
        if kind == "sale":
            open_days = state.open_days
            open_days[day] = open_days.get(day, 0) + event.quantity


def closing(state: DemandState, cutoff_ms: int) -> bool:
    """Whether :func:`close_days` has anything to do at ``cutoff_ms`` (a day to close, or
    movements to fold)."""
    next_day = state.next_day
    return (next_day >= 0 and next_day + DAY_MS <= cutoff_ms) or len(
        state.timeline.pending
    ) >= state.timeline.fold_at


def add_refused(state: DemandState, ms: int, units: int) -> None:
    """A hold request of ``units`` refused ``insufficient`` at ``ms``."""
    day = ms - ms % DAY_MS
    state.refused[day] = state.refused.get(day, 0) + units


NOTHING_CLOSED: list[ClosedDay] = []  # shared, never appended to


def close_days(
    state: DemandState,
    cutoff_ms: int,
    rules: DemandRules,
    forecasts: tuple[ForecastVersion, ...] = (),
) -> list[ClosedDay]:
    """Close every day that ends at or before ``cutoff_ms`` (the key's newest event time
    minus the lateness horizon), in order; the days closed. Each day's unconstrained
    demand enters the mean; ``forecasts``: the key's forecast versions, whose errors the
    tracking signal follows (:func:`track_day`)."""
    timeline = state.timeline
    if state.next_day < 0 or state.next_day + DAY_MS > cutoff_ms:
        if len(timeline.pending) >= timeline.fold_at:  # keep the pending movements few
            timeline.fold(cutoff_ms, state.first_ms, rules.intraday_weights)
        return NOTHING_CLOSED
    timeline.fold(cutoff_ms, state.first_ms, rules.intraday_weights)
    alpha = 2 / (rules.horizon_days + 1)
    closed = []
    while state.next_day + DAY_MS <= cutoff_ms:
        day = state.next_day
        figures = close_day(
            day,
            sold=state.open_days.pop(day, 0),
            refused=state.refused.pop(day, 0),
            empty=timeline.empty.pop(day, (0, 0)),
            first_ms=state.first_ms,
            mean_before=state.demand.mean if state.demand.count else 0.0,
            weights=rules.intraday_weights,
        )
        state.demand.add(figures.demand, alpha)
        if forecasts:
            track_day(state, forecasts, day, figures.demand)
        closed.append(figures)
        state.next_day += DAY_MS
    if state.first_ms < state.next_day:
        state.first_ms = -1  # before every open day: no longer needed
    return closed


def track_day(
    state: DemandState, versions: tuple[ForecastVersion, ...], day_ms: int, units: float
) -> None:
    """A day closed with ``units`` of unconstrained demand: when the version in effect at
    its start forecast it, its error (units - forecast) enters the smoothed error and
    absolute error."""
    v = in_effect(versions, day_ms)
    if v is None or not v.first_day_ms <= day_ms < v.end_ms:
        return
    e = units - v.demand[(day_ms - v.first_day_ms) // DAY_MS]
    state.track_error.add(e, TRACKING_ALPHA)
    state.track_abs.add(abs(e), TRACKING_ALPHA)


def tracking_signal(state: DemandState) -> float:
    """Smoothed error / smoothed absolute error, in [-1, 1] (0 before any day)."""
    m = state.track_abs.mean
    return state.track_error.mean / m if state.track_abs.count and m > 0 else 0.0


def add_lead_time(state: DemandState, opened_ms: int, received_ms: int) -> None:
    """A purchase order received in full after ``received_ms - opened_ms``."""
    state.lead.add((received_ms - opened_ms) / DAY_MS, 2 / (LEAD_TIME_SPAN + 1))


def rebuild(
    first_ms: int,
    cutoff_ms: int,
    receipts: list[tuple[int, int]],
    rules: DemandRules,
    *,
    sales: list[tuple[int, int]],
    moves: list[Move],
    refused: list[tuple[int, int]],
    forecasts: tuple[ForecastVersion, ...] = (),
) -> DemandState:
    """The state a key's events leave, from its tables: its first event's time, the
    lateness cutoff, its received orders' (opened, received) in receipt order, its sales
    as (day start, units), its counts and movements, its refused requests as (time,
    units), its forecast versions. The same arithmetic as event by event."""
    state = DemandState()
    note_event(state, first_ms)
    for day, units in sales:
        state.open_days[day] = state.open_days.get(day, 0) + units
    for move in moves:
        note_move(state, *move)
    for ms, units in refused:
        add_refused(state, ms, units)
    close_days(state, cutoff_ms, rules, forecasts)
    for opened_ms, received_ms in receipts:
        add_lead_time(state, opened_ms, received_ms)
    return state


@cache
def z_of(service_level: float) -> float:
    return NormalDist().inv_cdf(service_level)


def lead_time(state: DemandState, policy: ProductPolicy, rules: DemandRules) -> tuple[float, float]:
    """The lead time's mean and variance in days: learned after ``min_receipts`` orders
    received in full, else the catalog's with no variance."""
    if state.lead.count >= rules.min_receipts:
        return state.lead.mean, state.lead.variance
    return policy.lead_time_ms / DAY_MS, 0.0


def levels(state: DemandState, policy: ProductPolicy, rules: DemandRules) -> Levels:
    """The reorder point and order-up-to level in effect for ``policy`` (a ``forecast``
    SKU's fallback: its ``demand`` levels)."""
    d = state.demand.mean if state.demand.count else 0.0
    catalog_lead = policy.lead_time_ms / DAY_MS
    if policy.replenishment not in ("demand", "forecast"):
        return Levels(policy.threshold, policy.target_stock, "static", d, catalog_lead)
    if state.demand.count < rules.min_days:
        return Levels(policy.threshold, policy.target_stock, "cold_start", d, catalog_lead)
    lead, var_lead = lead_time(state, policy, rules)
    z = z_of(policy.service_level or rules.service_level)
    safety = z * math.sqrt(lead * state.demand.variance + d * d * var_lead)
    reorder_point = max(math.ceil(d * lead + safety), 0)
    if policy.order_cost > 0 and policy.holding_cost > 0:
        cycle = math.ceil(math.sqrt(2 * 365 * d * policy.order_cost / policy.holding_cost))
    else:
        cycle = math.ceil(d * (policy.review_days or rules.review_days))
    return Levels(reorder_point, reorder_point + max(cycle, 1), "demand", d, lead)
