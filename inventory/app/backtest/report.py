"""What ``inventory backtest`` runs and prints: the demand to replay (generated or
recorded), both policies on it, and the figures side by side."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from generators.demand import DAY_MS
from generators.supplier import SupplierBehaviour
from inventory.app.backtest.compare import Comparison, PolicyFigures, compare_policies
from inventory.app.backtest.demand import Demand, Profile, generated_demand, recorded_demand
from inventory.app.backtest.plot import write_plot
from inventory.clickhouse.client import connect, database_name
from inventory.core.errors import InventoryError
from inventory.core.settings import Settings
from inventory.core.times import format_ms

NEWEST_SALE = (
    "SELECT toUnixTimestamp64Milli(max(occurred_at)), count() "
    "FROM {db:Identifier}.events WHERE event_type = 'sale'"
)


class NoSalesError(InventoryError):
    """``events`` holds no sales to replay."""


@dataclass(frozen=True)
class BacktestRequest:
    """What to replay and how (``inventory backtest --help``)."""

    source: str = "generated"  # or "events"
    days: int = 28
    profile: Profile = field(default_factory=Profile)
    supplier: SupplierBehaviour = field(default_factory=SupplierBehaviour)
    warmup_days: float | None = None  # None: INVENTORY_DEMAND_MIN_DAYS
    plot: Path | None = None
    plot_keys: int = 4


def load_demand(settings: Settings, request: BacktestRequest) -> Demand:
    """The generated profile, or the last ``days`` days of recorded sales.

    :raises NoSalesError: ``events`` has no sales.
    """
    if request.source == "generated":
        return generated_demand(request.profile)
    database = database_name(settings)
    client = connect(settings, database=database)
    try:
        newest, count = client.query(NEWEST_SALE, parameters={"db": database}).result_rows[0]
        if not count:
            raise NoSalesError(f"{database}.events holds no sales to replay")
        until = int(newest) + 1
        since = until - request.days * DAY_MS
        return recorded_demand(client, database, settings, since, until)
    finally:
        client.close()


def run_backtest(settings: Settings, request: BacktestRequest) -> tuple[Comparison, str]:
    """Replay both policies; return the comparison and its table (also drawn to
    ``request.plot``)."""
    demand = load_demand(settings, request)
    comparison = compare_policies(
        demand,
        settings,
        supplier=request.supplier,
        warmup_days=request.warmup_days,
        plot_keys=request.plot_keys if request.plot else 0,
    )
    table = figures_table(comparison, demand)
    if request.plot is not None:
        write_plot(request.plot, comparison, demand.start_ms, demand.end_ms, table)
    return comparison, table


def figures_table(comparison: Comparison, demand: Demand) -> str:
    """Every policy's figures and their ratio to ``static``, as printed."""
    figures = list(comparison.figures.values())
    static = comparison.figures["static"]
    orders = sum(len(k.orders) for k in demand.keys)
    days = (demand.end_ms - demand.start_ms) / DAY_MS

    def ratio(a: float, b: float) -> str:
        return f"{b / a:.2f}" if a else "-"

    def wape(f: PolicyFigures) -> str:
        return "-" if f.forecast_wape is None else f"{f.forecast_wape:.3f}"

    measures: list[tuple[str, Callable[[PolicyFigures], float], Callable[[PolicyFigures], str]]] = [
        ("stock-out minutes", lambda f: f.stockout_minutes, lambda f: f"{f.stockout_minutes:,.0f}"),
        ("fill rate", lambda f: f.fill_rate, lambda f: f"{f.fill_rate:.1%}"),
        ("average on hand (units)", lambda f: f.average_on_hand,
         lambda f: f"{f.average_on_hand:,.0f}"),
        ("days of cover", lambda f: f.days_of_cover, lambda f: f"{f.days_of_cover:.1f}"),
        ("purchase orders", lambda f: f.orders, lambda f: f"{f.orders:,}"),
    ]  # fmt: skip
    others = figures[1:]
    head = f"{'':<24}" + "".join(f"{f.policy:>12}" for f in figures)
    head += "".join(f"{f.policy + '/static':>17}" for f in others)
    rows = [
        f"{name:<24}"
        + "".join(f"{shown(f):>12}" for f in figures)
        + "".join(f"{ratio(value(static), value(f)):>17}" for f in others)
        for name, value, shown in measures
    ]
    if "forecast" in comparison.figures:
        rows.append(f"{'forecast WAPE (days)':<24}" + "".join(f"{wape(f):>12}" for f in figures))
    lines = [
        f"backtest on the {demand.source}: {comparison.keys} keys, {orders:,} shoppers' "
        f"orders, {days:g} days from {format_ms(demand.start_ms)}",
        f"measured over {comparison.measured_days:g} days after a "
        f"{comparison.warmup_days:g}-day warm-up (replayed, not counted); "
        f"{static.demanded:,} units asked for",
        head,
        *rows,
    ]
    return "\n".join(lines)
