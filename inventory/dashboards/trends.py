"""The "Inventory / Historical trends" dashboard: the batch layer's views over weeks."""

from __future__ import annotations

from grafana_foundation_sdk.builders import stat, table, timeseries
from grafana_foundation_sdk.models import common

from inventory.dashboards.common import (
    Board,
    colored_cells,
    config,
    fixed_color,
    mapping_override,
    threshold_override,
    thresholds,
    warehouse_variable,
)
from inventory.dashboards.forecasts import add_forecasts

UID = "inventory-trends"

ABC_COLORS = {"A": ("A", "green"), "B": ("B", "yellow"), "C": ("C", "text")}


def build() -> Board:
    board = Board(
        UID,
        "Inventory / Historical trends",
        "Daily sales, top and slow movers, days of cover, stockouts and reconciliation "
        "(refreshable views are rebuilt nightly).",
    )
    log = board.log
    board.builder.refresh("1m").time("now-30d", "now")
    board.builder.with_variable(warehouse_variable(log))

    board.add(
        timeseries.Panel()
        .title("Daily sales")
        .description("Units sold and revenue per day (event time, UTC days)")
        .span(16)
        .height(9)
        .with_target(
            log.target(
                "Daily sales",
                """
                SELECT toDateTime(day) AS time, sum(units_sold) AS units_sold,
                       toFloat64(sum(revenue)) AS revenue
                FROM ${database}.daily_sales
                WHERE $__dateFilter(day) AND {warehouses}
                GROUP BY time
                ORDER BY time
                """,
                ["time", "units_sold", "revenue"],
                "timeseries",
            )
        )
        .draw_style(common.GraphDrawStyle.BARS)
        .fill_opacity(70)
        .override_by_name(
            "revenue",
            [
                config("custom.drawStyle", "line"),
                config("custom.axisPlacement", "right"),
                config("unit", "currencyUSD"),
            ],
        )
    )
    board.add(
        stat.Panel()
        .title("Reconciliation")
        .description(
            "Stream stock (stock_levels) against stock recomputed from the raw events; "
            "any mismatch means lost or double-applied events"
        )
        .span(8)
        .height(9)
        .with_target(
            log.target(
                "Reconciliation",
                """
                SELECT countIf(status != 'ok') AS mismatches, count() AS keys_checked
                FROM ${database}.stock_reconciliation
                """,
                ["mismatches", "keys_checked"],
            )
        )
        .color_mode(common.BigValueColorMode.BACKGROUND)
        .graph_mode(common.BigValueGraphMode.NONE)
        .text_mode(common.BigValueTextMode.VALUE_AND_NAME)
        .thresholds(thresholds((None, "blue")))
        .override_by_name("mismatches", [threshold_override((None, "green"), (1, "red"))])
    )
    board.add(
        table.Panel()
        .title("Top movers")
        .description("Most units sold in the time range")
        .span(12)
        .height(10)
        .with_target(
            log.target(
                "Top movers",
                """
                SELECT sku, sum(units_sold) AS units_sold, toFloat64(sum(revenue)) AS revenue,
                       sum(orders) AS orders
                FROM ${database}.daily_sales
                WHERE $__dateFilter(day) AND {warehouses}
                GROUP BY sku
                ORDER BY units_sold DESC, sku
                LIMIT 20
                """,
                ["sku", "units_sold", "revenue", "orders"],
            )
        )
        .override_by_name("revenue", [config("unit", "currencyUSD")])
    )
    board.add(
        table.Panel()
        .title("Slow movers")
        .description("Items in stock that sold least in the time range")
        .span(12)
        .height(10)
        .with_target(
            log.target(
                "Slow movers",
                """
                SELECT s.warehouse_id AS warehouse_id, s.sku AS sku, s.on_hand AS on_hand,
                       ifNull(d.units_sold, 0) AS units_sold
                FROM
                (
                    SELECT warehouse_id, sku, on_hand FROM ${database}.current_stock
                    WHERE on_hand > 0 AND {warehouses}
                ) AS s
                LEFT JOIN
                (
                    SELECT warehouse_id, sku, sum(units_sold) AS units_sold
                    FROM ${database}.daily_sales
                    WHERE $__dateFilter(day)
                    GROUP BY warehouse_id, sku
                ) AS d ON s.warehouse_id = d.warehouse_id AND s.sku = d.sku
                ORDER BY units_sold, on_hand DESC, warehouse_id, sku
                LIMIT 20
                """,
                ["warehouse_id", "sku", "on_hand", "units_sold"],
            )
        )
    )
    board.add(
        table.Panel()
        .title("Days of cover")
        .description(
            "On-hand divided by the 7-day average daily sales, as of the newest day with "
            "sales (product_trends, refreshed daily); shortest cover first"
        )
        .span(24)
        .height(10)
        .with_target(
            log.target(
                "Days of cover",
                """
                SELECT warehouse_id, sku, on_hand, avg_daily_sales_7d, days_of_cover,
                       abc_class, as_of
                FROM ${database}.product_trends
                WHERE days_of_cover IS NOT NULL AND {warehouses}
                ORDER BY days_of_cover, warehouse_id, sku
                LIMIT 100
                """,
                [
                    "warehouse_id",
                    "sku",
                    "on_hand",
                    "avg_daily_sales_7d",
                    "days_of_cover",
                    "abc_class",
                    "as_of",
                ],
            )
        )
        .override_by_name(
            "days_of_cover",
            [
                *colored_cells(),
                threshold_override((None, "red"), (3, "orange"), (7, "green")),
                config("decimals", 1),
            ],
        )
        .override_by_name("avg_daily_sales_7d", [config("decimals", 2)])
        .override_by_name("abc_class", [*colored_cells(), mapping_override(ABC_COLORS)])
    )
    board.add(
        timeseries.Panel()
        .title("Stockout minutes per day")
        .description("Minutes at or below zero on-hand, summed over items (stockout_daily)")
        .span(12)
        .height(9)
        .with_target(
            log.target(
                "Stockout minutes per day",
                """
                SELECT toDateTime(day) AS time, sum(stockout_minutes) AS stockout_minutes
                FROM ${database}.stockout_daily
                WHERE $__dateFilter(day) AND {warehouses}
                GROUP BY time
                ORDER BY time
                """,
                ["time", "stockout_minutes"],
                "timeseries",
            )
        )
        .draw_style(common.GraphDrawStyle.BARS)
        .fill_opacity(70)
        .color_scheme(fixed_color("red"))
        .unit("m")
    )
    board.add(
        table.Panel()
        .title("Longest stockouts")
        .description("Items with the most minutes out of stock in the time range")
        .span(12)
        .height(9)
        .with_target(
            log.target(
                "Longest stockouts",
                """
                SELECT warehouse_id, sku, sum(stockout_minutes) AS stockout_minutes,
                       count() AS days_with_stockout
                FROM ${database}.stockout_daily
                WHERE $__dateFilter(day) AND {warehouses}
                GROUP BY warehouse_id, sku
                HAVING stockout_minutes > 0
                ORDER BY stockout_minutes DESC, warehouse_id, sku
                LIMIT 20
                """,
                ["warehouse_id", "sku", "stockout_minutes", "days_with_stockout"],
            )
        )
        .override_by_name("stockout_minutes", [config("unit", "m")])
    )
    board.add(
        table.Panel()
        .title("Reconciliation mismatches")
        .description("Keys where the stream and the recomputation disagree (empty is good)")
        .span(24)
        .height(7)
        .with_target(
            log.target(
                "Reconciliation mismatches",
                """
                SELECT warehouse_id, sku, stream_on_hand, batch_on_hand, difference, status,
                       checked_at
                FROM ${database}.stock_reconciliation
                WHERE status != 'ok' AND {warehouses}
                ORDER BY abs(difference) DESC, warehouse_id, sku
                LIMIT 100
                """,
                [
                    "warehouse_id",
                    "sku",
                    "stream_on_hand",
                    "batch_on_hand",
                    "difference",
                    "status",
                    "checked_at",
                ],
                may_be_empty=True,
            )
        )
    )
    board.add(
        table.Panel()
        .title("Supplier lead times")
        .description(
            "Per SKU, from received purchase orders: how long the supplier took from the "
            "reorder request to the receiving restock, and how often by the expected time"
        )
        .span(24)
        .height(8)
        .with_target(
            log.target(
                "Supplier lead times",
                """
                SELECT sku, received_orders, round(avg_lead_time_hours, 2) AS avg_hours,
                       round(median_lead_time_hours, 2) AS median_hours,
                       round(max_lead_time_hours, 2) AS max_hours,
                       round(on_time_share * 100, 1) AS on_time_percent, received_units
                FROM ${database}.supplier_lead_times
                ORDER BY avg_lead_time_hours DESC, sku
                LIMIT 200
                """,
                [
                    "sku",
                    "received_orders",
                    "avg_hours",
                    "median_hours",
                    "max_hours",
                    "on_time_percent",
                    "received_units",
                ],
                may_be_empty=True,
            )
        )
    )
    add_forecasts(board)
    return board
