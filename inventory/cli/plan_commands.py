"""``inventory backtest``: the static and the demand policy on the same demand;
``inventory forecast``: the batch layer's demand forecasts."""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime, timedelta
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


@command(
    "forecast",
    "fit each key's daily demand on the batch layer's history and write its forecasts",
    stopped="the forecasts written so far stay; the next run starts again",
    details="Per (warehouse, SKU): a weekday profile, level and trend and promotion uplift "
    "fitted on sales_daily (days mostly out of stock left out), the next days' forecasts "
    "with their variance and 90 % interval in demand_forecasts, what was fitted and its "
    'accuracy on a holdout (WAPE, MASE) in forecast_runs. docs/semantics.md, "Demand '
    'forecasts". Needs the `forecast` extra (statsmodels, utilsforecast).',
)
@click.option(
    "--through",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    show_default="yesterday (UTC)",
    help="the last day of history: the forecast version",
)
@click.option("--history-days", type=Count(14), default=112, help="days of history fitted")
@click.option("--horizon-days", type=Count(1), default=28, help="days forecast")
@click.option("--holdout-days", type=Count(0), default=14, help="days held out for accuracy")
@click.option(
    "--censor-minutes",
    type=Count(0),
    default=60,
    help="a day out of stock longer than this is left out of the fit",
)
@click.option(
    "--every-hours",
    type=PositiveFloat(),
    default=None,
    help="a scheduled job: run again every N hours (each time through yesterday) until "
    "SIGTERM; compose runs it daily",
)
@click.option(
    "--effective-after-days",
    type=Count(1),
    default=2,
    help="published versions apply from the start of --through plus this many days (2: "
    "the day after the first forecast day, so the version is out before it applies)",
)
@click.option(
    "--publish/--no-publish",
    default=True,
    show_default=True,
    help="publish each run's versions to INVENTORY_FORECAST_TOPIC for the flow's forecast "
    "SKUs (the local broker, or INVENTORY_KAFKA_BROKERS)",
)
def forecast(settings: Settings, **options: Any) -> int:
    try:
        from inventory.app.forecast.job import ForecastOptions, run_forecast
    except ImportError as exc:
        return fail(f"{exc.name} is missing: pip install 'inventory-stream[forecast]'")
    from inventory.runtime.stopping import STOP

    through, every = options.pop("through"), options.pop("every_hours")
    publish = options.pop("publish") and bool(settings.forecast_topic)
    brokers: str | None = None
    while True:
        day = through.date() if through else (datetime.now(UTC) - timedelta(days=1)).date()
        summary = run_forecast(settings, ForecastOptions(day, **options), time.time)
        models = ", ".join(f"{name} {n}" for name, n in sorted(summary.by_model.items()))
        accuracy = "n/a" if summary.wape is None else f"{summary.wape:.3f}"
        click.echo(
            f"forecast {summary.version}: {summary.keys} keys ({models or 'none'}), "
            f"{summary.rows} days written; holdout WAPE over all keys {accuracy}"
        )
        if publish and summary.versions:
            from inventory.app.forecast.publish import publish_versions
            from inventory.kafka.local_broker import brokers_for
            from inventory.kafka.topics import ensure_topics

            if brokers is None:  # the first run with something to publish
                brokers = brokers_for(settings)
                ensure_topics(settings, brokers)
            published = publish_versions(settings, brokers, summary.versions)
            click.echo(f"{published} versions published to {settings.forecast_topic}")
        sys.stdout.flush()
        if every is None or STOP.wait(every * 3600):
            return 0


COMMANDS = (backtest, forecast)
