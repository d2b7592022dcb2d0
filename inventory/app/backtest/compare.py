"""Both policies on the same demand: every key replayed under its catalog's ``static``
policy and under ``demand`` (the same catalog values as the cold start), and the
figures a planner compares (docs/analysts.md, "Backtest: static against demand").

- **stock-out minutes**: summed over keys, the time each had nothing on hand;
- **fill rate**: units sold / units asked for;
- **average on hand**: units, summed over keys, averaged over time; **days of cover** =
  average on hand / units asked for per day;
- **purchase orders** opened.

All over the measured period: after ``warmup_days`` (the demand policy's cold start,
``INVENTORY_DEMAND_MIN_DAYS``, by default), which both policies replay but neither counts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from dataflows.flow import order_rules
from generators.demand import DAY_MS
from generators.supplier import SupplierBehaviour
from inventory.app.backtest.demand import Demand, KeyDemand
from inventory.app.backtest.simulate import KeyResult, Replay, replay_key
from inventory.core.settings import Settings

POLICIES = ("static", "demand")
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

    def add(self, result: KeyResult) -> None:
        self.demanded += result.demanded
        self.served += result.served
        self.stockout_ms += result.stockout_ms
        self.unit_ms += result.unit_ms
        self.orders += result.orders

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
    figures = {name: PolicyFigures(name, measured_days) for name in POLICIES}
    comparison = Comparison(demand.source, len(demand.keys), measured_days, warmup, figures)
    for done, key in enumerate(demand.keys, 1):
        ident = (key.warehouse_id, key.sku)
        for name in POLICIES:
            policy = replace(key.policy, replenishment=name)
            result = replay_key(
                key.warehouse_id,
                key.sku,
                key.orders,
                policy=policy,
                initial=key.policy.target_stock,
                replay=replays[ident in wanted],
            )
            figures[name].add(result)
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
