"""The trends board's "Demand forecasts" row: the batch layer's latest forecast beside
what sold, and each key's accuracy (docs/semantics.md, "Demand forecasts"). Empty until
``inventory forecast`` has run; the forecast days are in the future, so the panels show
the whole latest version whatever the time range."""

from __future__ import annotations

from grafana_foundation_sdk.builders import table, timeseries
from grafana_foundation_sdk.models import common

from inventory.dashboards.common import Board, colored_cells, threshold_override


def add_forecasts(board: Board) -> None:
    """Append the forecasts row to ``board`` (a board with the warehouse variable)."""
    log = board.log
    board.row("Demand forecasts")
    board.add(
        timeseries.Panel()
        .title("Latest forecast and sales per day")
        .description(
            "Units a day over the keys: the latest forecast version's expected demand and "
            "its 90 % interval (summed), and what sold on the days that have passed"
        )
        .span(14)
        .height(9)
        .with_target(
            log.target(
                "Forecast and sales",
                """
                SELECT toDateTime(f.day) AS time, sum(f.demand) AS forecast,
                       sum(f.lower) AS lower, sum(f.upper) AS upper,
                       sum(s.units_sold) AS sold
                FROM ${database}.latest_forecasts AS f
                LEFT JOIN (SELECT warehouse_id, sku, day, sum(units_sold) AS units_sold
                           FROM ${database}.sales_daily GROUP BY warehouse_id, sku, day) AS s
                    USING (warehouse_id, sku, day)
                WHERE {warehouses}
                GROUP BY time
                ORDER BY time
                """,
                ["time", "forecast", "lower", "upper", "sold"],
                "timeseries",
                may_be_empty=True,  # until inventory forecast has run
            )
        )
        .draw_style(common.GraphDrawStyle.LINE)
        .fill_opacity(10)
    )
    board.add(
        table.Panel()
        .title("Forecast accuracy (latest version)")
        .description(
            "Per key, worst first: the holdout's WAPE and MASE (below 1: better than "
            "last week's same day), the model, the level a day and the promotion uplift"
        )
        .span(10)
        .height(9)
        .with_target(
            log.target(
                "Forecast accuracy",
                """
                SELECT warehouse_id, sku, model, round(wape, 3) AS wape, round(mase, 3) AS mase,
                       round(level, 1) AS level, round(uplift, 2) AS uplift, uplift_source
                FROM ${database}.forecast_runs FINAL
                WHERE forecast_version = (SELECT max(forecast_version)
                                          FROM ${database}.forecast_runs)
                      AND {warehouses}
                ORDER BY wape DESC NULLS LAST, warehouse_id, sku
                LIMIT 100
                """,
                [
                    "warehouse_id",
                    "sku",
                    "model",
                    "wape",
                    "mase",
                    "level",
                    "uplift",
                    "uplift_source",
                ],
                may_be_empty=True,
            )
        )
        .override_by_name(
            "wape",
            [*colored_cells(), threshold_override((None, "green"), (0.3, "orange"), (0.6, "red"))],
        )
    )
