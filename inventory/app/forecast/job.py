"""``inventory forecast``: fit every key's demand model on the batch layer's history and
write ``forecast_runs`` and ``demand_forecasts`` (docs/semantics.md, "Demand forecasts").

The forecast version is the last day of history (``through``, YYYYMMDD): running the job
again over the same history rewrites the same rows (latest ``trained_at`` wins FINAL).
Accuracy: the last ``holdout_days`` of history are forecast from the days before them
(the same rules), then WAPE and MASE (seasonality 7) are computed by utilsforecast over
the holdout days not left out as out of stock. Raises what the ClickHouse client raises.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pandas as pd
from utilsforecast.losses import mase, wape

from inventory.app.forecast.history import Promotion, day_ms, histories, planned_uplift
from inventory.app.forecast.history import promotion_shares as shares_of
from inventory.app.forecast.model import KeyHistory, fit, forecast
from inventory.app.forecast.publish import versions_of
from inventory.clickhouse.client import connect, database_name
from inventory.clickhouse.queries import query
from inventory.core.forecast_versions import ForecastVersion
from inventory.core.settings import Settings

logger = logging.getLogger(__name__)

RUN_COLUMNS = (
    "warehouse_id", "sku", "forecast_version", "model", "history_days", "censored_days",
    "level", "trend", "weekday_factors", "uplift", "uplift_source", "dispersion",
    "holdout_days", "wape", "mase", "trained_at",
)  # fmt: skip
FORECAST_COLUMNS = (
    "warehouse_id", "sku", "forecast_version", "day", "demand", "variance", "lower",
    "upper", "promotion", "trained_at",
)  # fmt: skip


@dataclass(frozen=True)
class ForecastOptions:
    through: date  # the last day of history
    history_days: int = 112
    horizon_days: int = 28
    holdout_days: int = 14
    censor_minutes: int = 60
    effective_after_days: int = 2  # published versions apply from through + this


@dataclass(frozen=True)
class ForecastSummary:
    version: int
    keys: int
    by_model: dict[str, int]
    wape: float | None  # over every key's holdout days
    rows: int
    versions: list[ForecastVersion] = field(default_factory=list)  # for the flow's topic


def version_of(day: date) -> int:
    return day.year * 10_000 + day.month * 100 + day.day


def run_forecast(
    settings: Settings, options: ForecastOptions, clock: Callable[[], float]
) -> ForecastSummary:
    """Read the history, fit, write; what was written."""
    since = options.through - timedelta(days=options.history_days - 1)
    until = options.through + timedelta(days=options.horizon_days + 1)
    client = connect(settings, database=database_name(settings))
    try:
        dates = {"since": since, "through": options.through}
        sales = client.query(query("forecast_sales"), parameters=dates).result_rows
        stockouts = client.query(query("forecast_stockouts"), parameters=dates).result_rows
        span = {"since_ms": day_ms(since), "until_ms": day_ms(until)}
        promotions = [
            Promotion(str(s), str(w), int(a), int(b), float(u))
            for s, w, a, b, u in client.query(
                query("forecast_promotions"), parameters=span
            ).result_rows
        ]
        runs, days, holdout, training = _fit_all(
            sales, stockouts, promotions, options, datetime.fromtimestamp(clock(), UTC)
        )
        accuracy = _accuracy(holdout, training)
        runs = [(*r[:13], *accuracy.get((r[0], r[1]), (None, None)), r[13]) for r in runs]
        if runs:
            client.insert("forecast_runs", runs, column_names=list(RUN_COLUMNS))
            client.insert("demand_forecasts", days, column_names=list(FORECAST_COLUMNS))
    finally:
        client.close()
    by_model: dict[str, int] = {}
    for r in runs:
        by_model[str(r[3])] = by_model.get(str(r[3]), 0) + 1
    total = sum(y for y in (holdout["y"] if len(holdout) else []))
    error = float((holdout["y"] - holdout["forecast"]).abs().sum()) if len(holdout) else 0.0
    summary = ForecastSummary(
        version_of(options.through), len(runs), by_model, error / total if total else None,
        len(days),
        versions_of(
            version_of(options.through), options.through, days, options.effective_after_days
        ),
    )  # fmt: skip
    logger.info("forecast %d: %d keys, %d days written", summary.version, len(runs), len(days))
    return summary


def _fit_all(
    sales: Sequence[Sequence[Any]],
    stockouts: Sequence[Sequence[Any]],
    promotions: list[Promotion],
    options: ForecastOptions,
    now: datetime,
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], pd.DataFrame, pd.DataFrame]:
    """Rows of forecast_runs (without accuracy) and demand_forecasts, and the holdout
    and training frames the accuracy is measured on."""
    version = version_of(options.through)
    first_day = options.through + timedelta(days=1)
    runs, days = [], []
    held: list[tuple[str, int, float, float]] = []
    trained: list[tuple[str, int, float]] = []
    keyed = histories(
        sales, stockouts, promotions, through=options.through, censor_minutes=options.censor_minutes
    )
    for key, history in keyed.items():
        planned = planned_uplift(promotions, key)
        model = fit(history, planned)
        future = shares_of(promotions, key, first_day, options.horizon_days)
        for k, (mean, variance, lower, upper) in enumerate(
            forecast(model, first_day.weekday(), future)
        ):
            day = first_day + timedelta(days=k)
            days.append((*key, version, day, mean, variance, lower, upper, float(future[k]), now))
        runs.append(
            (*key, version, model.model, model.history_days, model.censored_days, model.level,
             model.trend, list(model.weekday), model.uplift, model.uplift_source,
             model.dispersion, options.holdout_days, now)
        )  # fmt: skip
        some_held, some_trained = _holdout(f"{key[0]}:{key[1]}", history, planned, options)
        held += some_held
        trained += some_trained
    holdout = pd.DataFrame(held, columns=["unique_id", "ds", "y", "forecast"])
    training = pd.DataFrame(trained, columns=["unique_id", "ds", "y"])
    return runs, days, holdout, training


def _holdout(
    name: str, history: KeyHistory, planned: float | None, options: ForecastOptions
) -> tuple[list[tuple[str, int, float, float]], list[tuple[str, int, float]]]:
    """The last ``holdout_days`` of ``history`` forecast from the rest (module doc):
    (day, actual, forecast) of those not left out, and (day, units) of the rest."""
    cut = len(history.units) - options.holdout_days
    if options.holdout_days <= 0 or cut <= 0:
        return [], []
    first = replace(
        history,
        units=history.units[:cut],
        censored=history.censored[:cut],
        promotion=history.promotion[:cut],
    )
    model = fit(first, planned)
    weekday = (history.first_weekday + cut) % 7
    predicted = forecast(model, weekday, history.promotion[cut:])
    held = [
        (name, cut + k, float(history.units[cut + k]), mean)
        for k, (mean, *_) in enumerate(predicted)
        if not history.censored[cut + k]
    ]
    return held, [(name, t, float(history.units[t])) for t in range(cut)]


def _accuracy(
    holdout: pd.DataFrame, training: pd.DataFrame
) -> dict[tuple[str, str], tuple[float | None, float | None]]:
    """(WAPE, MASE) per key from utilsforecast; None where undefined (no units in the
    holdout; a seasonal-naive scale of 0 or no full season of training)."""
    if holdout.empty:
        return {}
    errors = wape(holdout, models=["forecast"]).set_index("unique_id")["forecast"]
    scaled = mase(holdout, models=["forecast"], seasonality=7, train_df=training)
    scaled = scaled.set_index("unique_id")["forecast"]
    out = {}
    for name in errors.index:
        wh, sku = str(name).split(":", 1)
        out[(wh, sku)] = (_finite(errors.get(name)), _finite(scaled.get(name)))
    return out


def _finite(value: Any) -> float | None:
    number = None if value is None else float(value)
    return number if number is not None and math.isfinite(number) else None
