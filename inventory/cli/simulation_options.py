"""Options shared by the commands that simulate shoppers and suppliers (``generate``,
``supplier``, ``demo``, ``backtest``): demand seasonality and promotions
(:class:`~generators.demand.DemandShape`), and an unreliable supplier
(:class:`~generators.supplier.SupplierBehaviour`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import click

from generators.demand import DemandShape
from generators.supplier import SupplierBehaviour
from inventory.cli.param_types import PositiveFloat, Share

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def shape_options(defaults: DemandShape) -> Decorator:
    """``--daily-amplitude``, ``--weekly-amplitude``, ``--promotions``,
    ``--promotion-factor``, ``--promotion-days`` (defaults from ``defaults``)."""
    options = [
        click.option(
            "--daily-amplitude",
            type=click.FloatRange(0, 1, max_open=True),
            default=defaults.daily_amplitude,
            help="daily seasonality: 0.5 makes 20:00 UTC 1.5x and 08:00 0.5x the mean",
        ),
        click.option(
            "--weekly-amplitude",
            type=click.FloatRange(0, 2.5, max_open=True),
            default=defaults.weekly_amplitude,
            help="weekly seasonality: 0.3 makes weekends 1.3x, weekdays 0.88x",
        ),
        click.option(
            "--promotions",
            type=Share(),
            default=defaults.promotion_share,
            help="share of SKUs promoted once every 28 days",
        ),
        click.option(
            "--promotion-factor",
            type=click.FloatRange(1),
            default=defaults.promotion_factor,
            help="demand of a promoted SKU, times its usual",
        ),
        click.option(
            "--promotion-days",
            type=click.FloatRange(0, 28, min_open=True),
            default=defaults.promotion_days,
            help="how long a promotion lasts",
        ),
    ]
    return _all(options)


def shape_from(options: dict[str, Any], seed: int = 0, start_ms: int = 0) -> DemandShape:
    """Pop the shape options from ``options``."""
    return DemandShape(
        daily_amplitude=options.pop("daily_amplitude"),
        weekly_amplitude=options.pop("weekly_amplitude"),
        promotion_share=options.pop("promotions"),
        promotion_factor=options.pop("promotion_factor"),
        promotion_days=options.pop("promotion_days"),
        seed=seed,
        start_ms=start_ms,
    )


def supplier_options(defaults: SupplierBehaviour) -> Decorator:
    """``--lead-time-cv``, ``--late-deliveries``, ``--late-hours``,
    ``--short-deliveries``, ``--short-fill`` (defaults from ``defaults``)."""
    options = [
        click.option(
            "--lead-time-cv",
            type=click.FloatRange(0),
            default=defaults.lead_time_cv,
            help="spread of the supplier's lead times (coefficient of variation)",
        ),
        click.option(
            "--late-deliveries",
            type=Share(),
            default=defaults.late_share,
            help="share of orders delivered late",
        ),
        click.option(
            "--late-hours",
            type=PositiveFloat(),
            default=defaults.late_hours,
            help="a late order comes up to this much later",
        ),
        click.option(
            "--short-deliveries",
            type=Share(),
            default=defaults.short_share,
            help="share of orders delivered short (the rest never comes)",
        ),
        click.option(
            "--short-fill",
            type=click.FloatRange(0, 1, min_open=True),
            default=defaults.short_fill,
            help="a short delivery brings at least this share of the order",
        ),
    ]
    return _all(options)


def supplier_from(options: dict[str, Any], seed: int = 0) -> SupplierBehaviour:
    """Pop the supplier options from ``options``."""
    return SupplierBehaviour(
        lead_time_cv=options.pop("lead_time_cv"),
        late_share=options.pop("late_deliveries"),
        late_hours=options.pop("late_hours"),
        short_share=options.pop("short_deliveries"),
        short_fill=options.pop("short_fill"),
        seed=seed,
    )


def _all(options: Sequence[Callable[[Any], Any]]) -> Decorator:
    def apply(func: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(options):
            func = option(func)
        return func

    return apply
