"""The policies on the same demand: every key replayed under its catalog's ``static``
policy, under ``demand`` (the same catalog values as the cold start) and, with the
``forecast`` extra, under ``forecast`` (the forecast job run after every day on the key's
own replayed history, :mod:`inventory.app.backtest.forecasting`), and the figures a
planner compares (docs/analysts.md, "Backtest: three policies").

- **stock-out minutes**: summed over keys, the time each had nothing on hand;
- **fill rate**: units sold / units asked for;
- **average on hand**: units, summed over keys, averaged over time; **days of cover** =
  average on hand / units asked for per day;
- **purchase orders** opened;
- **forecast accuracy** (``forecast``): WAPE of the versions in effect against the units
  asked for (not sold: demand lost to stock-outs included) per measured day.

All over the measured period: after ``warmup_days`` (the demand policy's cold start,
``INVENTORY_DEMAND_MIN_DAYS``, by default), which both policies replay but neither counts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from dataflows.flow import order_rules
from generators.demand import DAY_MS
from generators.supplier import SupplierBehaviour
from inventory.app.backtest.demand import Demand, KeyDemand
from inventory.app.backtest.simulate import KeyResult, Replay, replay_key
from inventory.core.settings import Settings

POLICIES = ("static", "demand", "forecast")
DEFAULT_SUPPLIER = SupplierBehaviour(
    lead_time_cv=0.3, late_share=0.1, late_hours=48.0, short_share=0.05, short_fill=0.5
)


@dataclass
class PolicyFigures:
    """One policy's figures over every key (module doc)."""

    policy: str
    measured_days: float
    demanded: int = 0
    served: int = 0
    stockout_ms: int = 0
    unit_ms: float = 0.0
    orders: int = 0
    forecast_error: float = 0.0  # sum of |forecast - asked for| over forecast key-days
    forecast_asked: int = 0  # units asked for on those key-days

    def add(self, result: KeyResult) -> None:
        self.demanded += result.demanded
        self.served += result.served
        self.stockout_ms += result.stockout_ms
        self.unit_ms += result.unit_ms
        self.orders += result.orders

    @property
    def forecast_wape(self) -> float | None:
        return self.forecast_error / self.forecast_asked if self.forecast_asked else None

    @property
    def stockout_minutes(self) -> float:
        return self.stockout_ms / 60_000

    @property
    def fill_rate(self) -> float:
        return self.served / self.demanded if self.demanded else 1.0

    @property
    def average_on_hand(self) -> float:
        return self.unit_ms / (self.measured_days * DAY_MS)

    @property
    def days_of_cover(self) -> float:
        per_day = self.demanded / self.measured_days
        return self.average_on_hand / per_day if per_day else float("inf")


@dataclass
class Comparison:
    """Both policies' figures, and the timelines of the keys asked to keep them."""

    source: str
    keys: int
    measured_days: float
    warmup_days: float
    figures: dict[str, PolicyFigures]
    timelines: dict[tuple[str, str], dict[str, list[tuple[int, int]]]] = field(default_factory=dict)


def compare_policies(
    demand: Demand,
    settings: Settings,
    *,
    supplier: SupplierBehaviour = DEFAULT_SUPPLIER,
    warmup_days: float | None = None,
    plot_keys: int = 0,
    on_key: Callable[[int], None] | None = None,
) -> Comparison:
    """Replay every key of ``demand`` under both policies.

    :arg supplier: how deliveries differ from the orders (lead-time spread, late, short).
    :arg warmup_days: replayed but not counted (default ``INVENTORY_DEMAND_MIN_DAYS``).
    :arg plot_keys: keep the stock timelines of this many keys (see :func:`plotted`).
    :arg on_key: called with the number of keys done (progress).
    :raises ValueError: when the warm-up leaves nothing to measure.
    """
    warmup = settings.demand_min_days if warmup_days is None else warmup_days
    measure_from = demand.start_ms + round(warmup * DAY_MS)
    if measure_from >= demand.end_ms:
        raise ValueError(f"a warm-up of {warmup:g} days leaves nothing of the period to measure")
    measured_days = (demand.end_ms - measure_from) / DAY_MS
    picked = plotted(demand.keys, plot_keys)
    wanted = set(picked)
    replays = {
        keep: Replay(
            demand.start_ms,
            demand.end_ms,
            measure_from,
            order_rules(settings),
            settings.lateness_seconds * 1000,
            supplier,
            timeline=keep,
        )
        for keep in (False, True)
    }
    policies = available_policies()
    promotions = _promotions(demand) if "forecast" in policies else []
    day_start = demand.start_ms - demand.start_ms % DAY_MS
    figures = {name: PolicyFigures(name, measured_days) for name in policies}
    comparison = Comparison(demand.source, len(demand.keys), measured_days, warmup, figures)
    for done, key in enumerate(demand.keys, 1):
        ident = (key.warehouse_id, key.sku)
        for name in policies:
            policy = replace(key.policy, replenishment=name)
            forecaster = None
            if name == "forecast":
                forecaster = _forecaster(key, day_start, promotions)
            result = replay_key(
                key.warehouse_id,
                key.sku,
                key.orders,
                policy=policy,
                initial=key.policy.target_stock,
                replay=replays[ident in wanted],
                forecaster=forecaster,
            )
            figures[name].add(result)
            if forecaster is not None:
                _score(figures[name], forecaster.used, key, measure_from, demand.end_ms)
            if ident in wanted:
                comparison.timelines.setdefault(ident, {})[name] = result.timeline
        if on_key is not None:
            on_key(done)
    comparison.timelines = {key: comparison.timelines[key] for key in picked}  # busiest first
    return comparison


def plotted(keys: list[KeyDemand], count: int) -> list[tuple[str, str]]:
    """The keys a plot shows, busiest first: the busiest, then ones down the top 30 % of
    the demand ranking (where the policies differ; the slow movers rarely reorder)."""
    if count <= 0:
        return []
    ranked = sorted(keys, key=lambda k: (-k.units, k.warehouse_id, k.sku))
    ranked = [k for k in ranked if k.units > 0]
    if len(ranked) <= count:
        return [(k.warehouse_id, k.sku) for k in ranked]
    last = (len(ranked) - 1) * 0.3
    picks = dict.fromkeys(round(last * (i / max(count - 1, 1)) ** 2) for i in range(count))
    return [(ranked[i].warehouse_id, ranked[i].sku) for i in picks]


def available_policies() -> tuple[str, ...]:
    """Every policy; ``forecast`` only with the forecast extra installed."""
    try:
        import inventory.app.backtest.forecasting  # noqa: F401
    except ImportError:
        return POLICIES[:2]
    return POLICIES


def _promotions(demand: Demand) -> list[Any]:
    from inventory.app.backtest.forecasting import promotions_of

    return promotions_of(demand.promotions)


def _forecaster(key: KeyDemand, day_start: int, promotions: list[Any]) -> Any:
    from inventory.app.backtest.forecasting import KeyForecaster

    return KeyForecaster(key.warehouse_id, key.sku, day_start, promotions)


def _score(
    figures: PolicyFigures, used: dict[int, float], key: KeyDemand, since: int, until: int
) -> None:
    """Add the forecast error of ``key``'s whole measured days that had a forecast."""
    asked: dict[int, int] = {}
    for ms, units in key.orders:
        asked[ms - ms % DAY_MS] = asked.get(ms - ms % DAY_MS, 0) + units
    for day, forecast in used.items():
        if day >= since and day + DAY_MS <= until:
            figures.forecast_error += abs(forecast - asked.get(day, 0))
            figures.forecast_asked += asked.get(day, 0)
