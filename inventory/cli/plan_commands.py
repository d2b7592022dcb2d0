"""``inventory backtest``: the static and the demand policy on the same demand."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from inventory.app.backtest.compare import DEFAULT_SUPPLIER
from inventory.app.backtest.demand import DEFAULT_SHAPE, Profile
from inventory.cli.declare import command, fail
from inventory.cli.flow_commands import say
from inventory.cli.param_types import Count, PositiveFloat
from inventory.cli.simulation_options import (
    shape_from,
    shape_options,
    supplier_from,
    supplier_options,
)
from inventory.core.settings import Settings

PLOT_SUFFIXES = (".html", ".svg")


@command(
    "backtest",
    "replay demand under the static and the demand policy and compare them",
    details="Every key is replayed through the flow's own reorder logic twice, under its "
    "catalog's static threshold and target and under the demand policy, with a simulated "
    "supplier; prints stock-out minutes, fill rate, average on hand, days of cover and "
    "purchase orders per policy. docs/analysts.md tells how to read them.",
)
@click.option(
    "--source",
    type=click.Choice(["generated", "events"]),
    default="generated",
    help="a generated demand profile, or the sales recorded in the events table",
)
@click.option("--days", type=Count(1), default=28, help="days of demand to replay")
@click.option(
    "--warmup-days",
    type=click.FloatRange(0),
    default=None,
    show_default="INVENTORY_DEMAND_MIN_DAYS",
    help="replayed but not counted (the demand policy's cold start)",
)
@click.option("--seed", type=int, default=42, help="generated profile: catalog and demand")
@click.option("--skus", type=Count(1), default=100, help="generated profile: SKUs")
@click.option("--warehouses", type=Count(1), default=3, help="generated profile: warehouses")
@click.option(
    "--orders-per-day",
    type=PositiveFloat(),
    default=Profile.orders_per_day,
    help="generated profile: shoppers' orders a day over every key (1.2 units each)",
)
@shape_options(DEFAULT_SHAPE)
@supplier_options(DEFAULT_SUPPLIER)
@click.option(
    "--plot",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="draw stock over time of a few keys under both policies (.html or .svg)",
)
@click.option("--plot-keys", type=Count(1), default=4, help="how many keys --plot draws")
def backtest(settings: Settings, **options: Any) -> int:
    from inventory.app.backtest.report import BacktestRequest, run_backtest

    plot: Path | None = options.pop("plot")
    if plot is not None and plot.suffix.lower() not in PLOT_SUFFIXES:
        return fail(f"--plot: {plot.name} is neither .html nor .svg")
    seed = options.pop("seed")
    profile = Profile(
        seed=seed,
        skus=options.pop("skus"),
        warehouses=options.pop("warehouses"),
        days=options["days"],
        orders_per_day=options.pop("orders_per_day"),
        shape=shape_from(options),
    )
    request = BacktestRequest(
        source=options.pop("source"),
        days=options.pop("days"),
        profile=profile,
        supplier=supplier_from(options, seed),
        warmup_days=options.pop("warmup_days"),
        plot=plot,
        plot_keys=options.pop("plot_keys"),
    )
    try:
        _, table = run_backtest(settings, request)
    except ValueError as exc:
        return fail(str(exc))
    click.echo(table)
    sys.stdout.flush()  # before the status line on stderr
    if plot is not None:
        say(f"plot: {plot}")
    return 0


COMMANDS = (backtest,)
