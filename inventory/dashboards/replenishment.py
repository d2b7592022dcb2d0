"""The live board's "Replenishment" row: what a planner checks about incoming stock.

Days of cover, projected stock-outs in the next 7 days (with the reorder point in effect
beside the catalog's threshold, and whether the next delivery comes first), and purchase
orders late by supplier. Figures are the pipeline's (docs/semantics.md, "Reorder points
from live demand"); the 7 days and "late" are by the clock.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import stat, table
from grafana_foundation_sdk.builders.common import ReduceDataOptions
from grafana_foundation_sdk.models import common

from inventory.dashboards.common import (
    Board,
    colored_cells,
    mapping_override,
    threshold_override,
    thresholds,
)

BASIS_COLORS = {
    "demand": ("Demand", "blue"),
    "forecast": ("Forecast", "green"),
    "cold_start": ("Cold start", "purple"),
    "static": ("Static", "text"),
}
COVERED_COLORS = {
    "yes": ("Delivery first", "green"),
    "no": ("Stock-out first", "red"),
    "nothing on order": ("Nothing on order", "orange"),
}


def add_replenishment(board: Board) -> None:
    """Append the replenishment row to ``board`` (the live board's variables)."""
    log = board.log
    board.row("Replenishment")
    board.add(
        stat.Panel()
        .title("Replenishment")
        .description(
            "Items under 7 days of cover, items projected to run out within 7 days "
            "(on hand / demand per day), purchase orders past their expected date, and "
            "items whose reorder point follows their live demand or the batch forecast."
        )
        .span(24)
        .height(4)
        .with_target(
            log.target(
                "Replenishment",
                """
                SELECT countIf(days_of_cover < 7) AS under_7_days_of_cover,
                       countIf(projected_stockout_at < now() + INTERVAL 7 DAY)
                           AS stockouts_within_7_days,
                       (SELECT count() FROM ${database}.open_purchase_orders
                        WHERE hours_late > 0 AND {warehouses}) AS late_purchase_orders,
                       countIf(reorder_basis = 'demand') AS demand_driven,
                       countIf(reorder_basis = 'forecast') AS forecast_driven
                FROM ${database}.current_stock
                WHERE {warehouses}
                """,
                [
                    "under_7_days_of_cover",
                    "stockouts_within_7_days",
                    "late_purchase_orders",
                    "demand_driven",
                    "forecast_driven",
                ],
            )
        )
        .color_mode(common.BigValueColorMode.BACKGROUND)
        .graph_mode(common.BigValueGraphMode.NONE)
        .text_mode(common.BigValueTextMode.VALUE_AND_NAME)
        .reduce_options(ReduceDataOptions().calcs(["lastNotNull"]).values(False))
        .thresholds(thresholds((None, "green"), (1, "orange")))
        .override_by_name("demand_driven", [threshold_override((None, "blue"))])
        .override_by_name("forecast_driven", [threshold_override((None, "green"))])
    )
    board.add(
        table.Panel()
        .title("Projected stock-outs (next 7 days)")
        .description(
            "Soonest first: when on hand runs out at the current demand, and whether the "
            "next delivery comes first. Reorder point and order-up-to are those in effect "
            "(learned from demand for demand SKUs, after a cold start on the catalog's; "
            "from the forecast version in effect for forecast SKUs); the threshold is the "
            "catalog's."
        )
        .span(16)
        .height(10)
        .with_target(
            log.target(
                "Projected stock-outs",
                """
                SELECT warehouse_id, sku, on_hand, on_order, round(days_of_cover, 1)
                           AS days_of_cover,
                       projected_stockout_at, next_expected_at,
                       multiIf(on_order <= 0, 'nothing on order',
                               next_expected_at <= projected_stockout_at, 'yes', 'no')
                           AS covered,
                       round(demand_per_day, 2) AS demand_per_day,
                       round(lead_time_days, 1) AS lead_time_days,
                       reorder_point, low_stock_threshold, order_up_to, reorder_basis
                FROM ${database}.current_stock
                WHERE projected_stockout_at < now() + INTERVAL 7 DAY AND {warehouses}
                ORDER BY projected_stockout_at, warehouse_id, sku
                LIMIT 200
                """,
                [
                    "warehouse_id",
                    "sku",
                    "on_hand",
                    "on_order",
                    "days_of_cover",
                    "projected_stockout_at",
                    "next_expected_at",
                    "covered",
                    "demand_per_day",
                    "lead_time_days",
                    "reorder_point",
                    "low_stock_threshold",
                    "order_up_to",
                    "reorder_basis",
                ],
                may_be_empty=True,  # no demand per day until a day has closed
            )
        )
        .filterable(True)
        .override_by_name("covered", [*colored_cells(), mapping_override(COVERED_COLORS)])
        .override_by_name("reorder_basis", [mapping_override(BASIS_COLORS)])
        .override_by_name(
            "days_of_cover",
            [*colored_cells(), threshold_override((None, "red"), (3, "orange"), (7, "green"))],
        )
    )
    board.add(
        table.Panel()
        .title("Purchase orders late by supplier")
        .description(
            "Open purchase orders past their expected date, by the catalog's supplier: how "
            "many, the units they still owe and the most hours late (by the clock)."
        )
        .span(8)
        .height(10)
        .with_target(
            log.target(
                "Late by supplier",
                """
                SELECT supplier, late_orders, late_units, round(most_hours_late, 1)
                           AS most_hours_late
                FROM ${database}.late_purchase_orders_by_supplier
                ORDER BY late_orders DESC, supplier
                """,
                ["supplier", "late_orders", "late_units", "most_hours_late"],
                may_be_empty=True,
            )
        )
        .override_by_name(
            "late_orders", [*colored_cells(), threshold_override((None, "orange"), (5, "red"))]
        )
    )
