"""The "Inventory / Live stock" dashboard: what ops watch during the day (refresh 5 s),
ending with the replenishment row (:mod:`inventory.dashboards.replenishment`)."""

from __future__ import annotations

from grafana_foundation_sdk.builders import stat, table, timeseries
from grafana_foundation_sdk.builders.common import ReduceDataOptions, VizLegendOptions
from grafana_foundation_sdk.models import common

from inventory.dashboards.common import (
    Board,
    colored_cells,
    few_left_variable,
    mapping_override,
    sku_variable,
    stacked,
    threshold_override,
    thresholds,
    warehouse_variable,
)
from inventory.dashboards.replenishment import add_replenishment

UID = "inventory-live-stock"

STATUS_COLORS = {
    "out": ("Out of stock", "red"),
    "low": ("Low", "orange"),
    "ok": ("OK", "green"),
}
PO_COLORS = {
    "overdue": ("Overdue", "red"),
    "partially_received": ("Partially received", "yellow"),
    "open": ("Open", "blue"),
}
ALERT_COLORS = {
    "out_of_stock": ("Out of stock", "red"),
    "low_stock": ("Low stock", "orange"),
    "back_in_stock": ("Back in stock", "green"),
    "reorder": ("Reorder", "blue"),
    "reorder_overdue": ("Reorder overdue", "purple"),
    "reorder_expired": ("Reorder expired", "dark-red"),
    "oversell": ("Oversell", "red"),
}


def build() -> Board:
    board = Board(
        UID,
        "Inventory / Live stock",
        "Current stock per warehouse and SKU, sales rates, alerts and dead letters.",
    )
    log = board.log
    board.builder.refresh("5s").time("now-6h", "now")
    board.builder.with_variable(warehouse_variable(log)).with_variable(sku_variable(log))
    board.builder.with_variable(few_left_variable())

    board.add(
        stat.Panel()
        .title("Stock status")
        .description("Items (warehouse and SKU) by stock band; low = at or below the threshold")
        .span(8)
        .height(4)
        .with_target(
            log.target(
                "Stock status",
                """
                SELECT countIf(status = 'out') AS out_of_stock,
                       countIf(status = 'low') AS low_stock,
                       count() AS items
                FROM ${database}.current_stock
                WHERE {warehouses}
                """,
                ["out_of_stock", "low_stock", "items"],
            )
        )
        .color_mode(common.BigValueColorMode.BACKGROUND)
        .graph_mode(common.BigValueGraphMode.NONE)
        .text_mode(common.BigValueTextMode.VALUE_AND_NAME)
        .reduce_options(ReduceDataOptions().calcs(["lastNotNull"]).values(False))
        .thresholds(thresholds((None, "blue")))
        .override_by_name("out_of_stock", [threshold_override((None, "green"), (1, "red"))])
        .override_by_name("low_stock", [threshold_override((None, "green"), (1, "orange"))])
    )
    board.add(
        stat.Panel()
        .title("Dead letters")
        .description("Messages rejected in the time range (invalid or too late), by receipt time")
        .span(8)
        .height(4)
        .with_target(
            log.target(
                "Dead letters",
                """
                SELECT count() AS dead_letters,
                       countIf(reason = 'late') AS late_events
                FROM ${database}.dead_letters FINAL
                WHERE $__timeFilter(received_at)
                """,
                ["dead_letters", "late_events"],
            )
        )
        .color_mode(common.BigValueColorMode.BACKGROUND)
        .graph_mode(common.BigValueGraphMode.NONE)
        .text_mode(common.BigValueTextMode.VALUE_AND_NAME)
        .thresholds(thresholds((None, "green"), (1, "red")))
    )
    board.add(
        stat.Panel()
        .title("Holds and oversells")
        .description(
            "Cart holds the flow granted and refused in the time range (by decision time), "
            "and units sold beyond what was available, ever (sales from other systems: "
            "docs/semantics.md, Oversell)"
        )
        .span(8)
        .height(4)
        .with_target(
            log.target(
                "Holds and oversells",
                """
                SELECT
                    (SELECT countIf(decision = 'granted')
                     FROM ${database}.hold_decisions FINAL
                     WHERE $__timeFilter(decided_at) AND {warehouses}) AS holds_granted,
                    (SELECT countIf(decision = 'refused')
                     FROM ${database}.hold_decisions FINAL
                     WHERE $__timeFilter(decided_at) AND {warehouses}) AS holds_refused,
                    (SELECT sum(oversold)
                     FROM ${database}.stock_levels FINAL
                     WHERE {warehouses}) AS oversold_units
                """,
                ["holds_granted", "holds_refused", "oversold_units"],
            )
        )
        .color_mode(common.BigValueColorMode.BACKGROUND)
        .graph_mode(common.BigValueGraphMode.NONE)
        .text_mode(common.BigValueTextMode.VALUE_AND_NAME)
        .thresholds(thresholds((None, "blue")))
        .override_by_name("oversold_units", [threshold_override((None, "green"), (1, "red"))])
    )
    board.add(
        table.Panel()
        .title("Current stock")
        .description(
            "Lowest first. Availability is the storefront's rule on available = on hand - "
            "held in carts: 'Only N left in stock' up to $few_left units "
            "(INVENTORY_AVAILABILITY_FEW_LEFT). Status is the reorder band of on hand."
        )
        .span(24)
        .height(11)
        .with_target(
            log.target(
                "Current stock",
                """
                SELECT warehouse_id, sku, on_hand, reserved, available, status,
                       multiIf(greatest(available, 0) <= 0, 'Out of stock',
                               greatest(available, 0) <= ${few_left},
                               concat('Only ', toString(greatest(available, 0)),
                                      ' left in stock'),
                               'In stock') AS availability,
                       low_stock_threshold, target_stock, updated_at
                FROM ${database}.current_stock
                WHERE {warehouses}
                ORDER BY status = 'ok', on_hand, warehouse_id, sku
                LIMIT 500
                """,
                [
                    "warehouse_id",
                    "sku",
                    "on_hand",
                    "reserved",
                    "available",
                    "status",
                    "availability",
                    "low_stock_threshold",
                    "target_stock",
                    "updated_at",
                ],
            )
        )
        .filterable(True)
        .override_by_name("status", [*colored_cells(), mapping_override(STATUS_COLORS)])
        .override_by_name(
            "on_hand", [*colored_cells(), threshold_override((None, "red"), (1, "transparent"))]
        )
    )
    board.add(
        table.Panel()
        .title("Open purchase orders")
        .description(
            "Purchase orders on order, most overdue first: remaining is what they still "
            "bring. Status overdue: the stream saw no full receipt by expected + "
            "INVENTORY_REORDER_GRACE_HOURS; hours late is by the clock."
        )
        .span(24)
        .height(8)
        .with_target(
            log.target(
                "Open purchase orders",
                """
                SELECT po_id, warehouse_id, sku, status, quantity, remaining, opened_at,
                       expected_at, round(hours_late, 1) AS hours_late
                FROM ${database}.open_purchase_orders
                WHERE {warehouses}
                ORDER BY status = 'overdue' DESC, hours_late DESC, po_id
                LIMIT 200
                """,
                [
                    "po_id",
                    "warehouse_id",
                    "sku",
                    "status",
                    "quantity",
                    "remaining",
                    "opened_at",
                    "expected_at",
                    "hours_late",
                ],
                may_be_empty=True,
            )
        )
        .filterable(True)
        .override_by_name("status", [*colored_cells(), mapping_override(PO_COLORS)])
    )
    board.add(
        timeseries.Panel()
        .title("Stock over time: $sku")
        .description("On-hand after each event of the chosen SKU, one line per warehouse")
        .span(12)
        .height(9)
        .with_target(
            log.target(
                "Stock over time",
                """
                SELECT occurred_at AS time, warehouse_id, on_hand
                FROM ${database}.stock_timeline(sku = ${sku:sqlstring})
                WHERE {warehouses} AND $__timeFilter_ms(occurred_at)
                ORDER BY time, event_type = 'count', event_id
                """,
                ["time", "warehouse_id", "on_hand"],
                "timeseries",
            )
        )
        .line_interpolation(common.LineInterpolation.STEP_AFTER)
        .show_points(common.VisibilityMode.NEVER)
        .unit("none")
        .legend(VizLegendOptions().show_legend(True).placement(common.LegendPlacement.BOTTOM))
    )
    board.add(
        timeseries.Panel()
        .title("Sales rate (units per minute)")
        .description("Event-time sales from the 1-minute windows, per warehouse")
        .span(12)
        .height(9)
        .with_target(
            log.target(
                "Sales rate",
                """
                SELECT $__timeInterval(window_start) AS time, warehouse_id,
                       sum(units_sold) / ($__interval_s / 60) AS units_per_minute
                FROM ${database}.minute_sales
                WHERE $__timeFilter(window_start) AND {warehouses}
                GROUP BY time, warehouse_id
                ORDER BY time
                """,
                ["time", "warehouse_id", "units_per_minute"],
                "timeseries",
            )
        )
        .draw_style(common.GraphDrawStyle.BARS)
        .fill_opacity(60)
        .stacking(stacked())
        .unit("short")
    )
    board.add(
        table.Panel()
        .title("Latest alerts")
        .description("Threshold crossings with their reorder requests, newest first")
        .span(24)
        .height(9)
        .with_target(
            log.target(
                "Latest alerts",
                """
                SELECT raised_at, kind, warehouse_id, sku, on_hand, threshold,
                       reorder_quantity
                FROM ${database}.alert_log
                WHERE $__timeFilter(raised_at) AND {warehouses}
                ORDER BY raised_at DESC, warehouse_id, sku
                LIMIT 100
                """,
                [
                    "raised_at",
                    "kind",
                    "warehouse_id",
                    "sku",
                    "on_hand",
                    "threshold",
                    "reorder_quantity",
                ],
            )
        )
        .override_by_name("kind", [*colored_cells(), mapping_override(ALERT_COLORS)])
    )
    add_replenishment(board)
    return board
