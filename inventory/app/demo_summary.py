"""The demo's closing summary: reorders with their purchase orders and receipts, low
stock, learned reorder points beside the static thresholds, purchase orders, top
sellers and dead letters, read back from ClickHouse."""

from __future__ import annotations

from collections.abc import Callable

from rich.console import Console, Group
from rich.table import Table

from inventory.clickhouse.client import connect, database_name
from inventory.core.settings import Settings

QUERY_HELP = """Query it yourself (embedded ClickHouse, same SQL as the server):
  .venv/bin/inventory sql "SELECT * FROM stock_levels FINAL ORDER BY on_hand LIMIT 9"
  .venv/bin/inventory sql "SELECT * FROM alerts FINAL ORDER BY raised_at DESC LIMIT 9"
  .venv/bin/inventory sql "SELECT error, payload FROM dead_letters LIMIT 5"
The local broker keeps running: '.venv/bin/inventory generate' adds events,
'.venv/bin/inventory run --exit-at-end' processes them, 'inventory broker stop' ends it."""

# The latest reorder requests, each with the purchase order it opened, its receipt and
# the key's stock now.
REORDER_STORY = """
    SELECT a.warehouse_id, a.sku, a.kind, a.on_hand, a.po_id, o.quantity, o.status,
           o.received_quantity, s.on_hand
    FROM (SELECT * FROM alerts FINAL WHERE reorder_quantity > 0) AS a
    LEFT JOIN (SELECT * FROM purchase_orders FINAL) AS o ON o.po_id = a.po_id
    LEFT JOIN (SELECT * FROM stock_levels FINAL) AS s
        ON s.warehouse_id = a.warehouse_id AND s.sku = a.sku
    ORDER BY a.raised_at DESC, a.alert_id
    LIMIT 8
"""

STOCK_WITH_POLICY = """
    SELECT s.warehouse_id, s.sku, s.on_hand, s.updated_at,
           coalesce(p.low_stock_threshold, {t:UInt32}) AS threshold
    FROM stock_levels AS s FINAL
    LEFT JOIN (SELECT sku, low_stock_threshold FROM products FINAL) AS p USING sku
    SETTINGS join_use_nulls = 1
"""


def show_summary(settings: Settings, console: Console) -> None:
    """Print stock, low-stock items, alerts, top sellers and dead letters from ClickHouse."""
    client = connect(settings, database=database_name(settings))
    params = {"t": settings.low_stock_threshold}

    def query(sql: str) -> list[tuple[object, ...]]:
        return [tuple(row) for row in client.query(sql, parameters=params).result_rows]

    totals = query(
        "SELECT count(), sum(on_hand), countIf(on_hand <= threshold AND on_hand > 0), "  # noqa: S608 (constant fragments)
        f"countIf(on_hand <= 0) FROM ({STOCK_WITH_POLICY})"
    )[0]
    reorders = Table(
        "warehouse",
        "sku",
        "alert (on hand then)",
        "purchase order",
        "ordered",
        "status",
        "received",
        "on hand now",
        title="reorders: each request, its purchase order and its receipt (latest 8)",
    )
    for wh, sku, kind, alert_on_hand, po_id, ordered, status, received, on_hand in query(
        REORDER_STORY
    ):
        received_text = f"{received} units" if status == "received" else "-"
        reorders.add_row(
            str(wh),
            str(sku),
            f"{kind} ({alert_on_hand})",
            str(po_id),
            str(ordered),
            str(status),
            received_text,
            str(on_hand),
        )
    low = Table("warehouse", "sku", "on hand", "threshold", title="low and out of stock now")
    for wh, sku, on_hand, _, threshold in query(
        f"SELECT * FROM ({STOCK_WITH_POLICY}) WHERE on_hand <= threshold "  # noqa: S608
        "ORDER BY on_hand, warehouse_id, sku LIMIT 8"
    ):
        style = "bold red" if int(str(on_hand)) <= 0 else "yellow"
        low.add_row(str(wh), str(sku), f"[{style}]{on_hand}[/]", str(threshold))
    if not low.row_count:
        low.caption = "none: every request was delivered"
    sellers = Table(
        "warehouse",
        "sku",
        "units",
        "revenue",
        "orders",
        title="top sellers, last 5 minutes of event time",
    )
    for wh, sku, units, revenue, orders in query(
        "SELECT warehouse_id, sku, sum(units_sold) AS units, sum(revenue), sum(orders) "
        "FROM sales_rates FINAL WHERE window_start >= "
        "(SELECT max(window_start) FROM sales_rates) - INTERVAL 4 MINUTE "
        "GROUP BY warehouse_id, sku ORDER BY units DESC, warehouse_id, sku LIMIT 5"
    ):
        sellers.add_row(str(wh), str(sku), str(units), f"{revenue:.2f}", str(orders))
    orders = orders_table(query)
    dead = Table("reason", "messages", title="dead letters by reason code")
    for reason, count in query(
        "SELECT reason, count() FROM dead_letters FINAL GROUP BY reason ORDER BY 2 DESC, 1 LIMIT 8"
    ):
        dead.add_row(str(reason)[:80], str(count))
    learned = learned_table(query)
    client.close()
    console.print(Group(reorders, low, learned, orders, sellers, dead))
    console.rule("what you are looking at")
    console.print(
        f"{totals[0]} (warehouse, sku) pairs, {totals[1]} units on hand, "
        f"{totals[2]} low, {totals[3]} out of stock (thresholds from the products catalog)."
    )
    print_lines(console, QUERY_HELP)


# Keys of demand- and forecast-policy SKUs (the busiest 4 of each): what they reorder on
# beside the catalog's static threshold, and the latest forecast of the next 7 days.
LEARNED = """
    SELECT s.warehouse_id, s.sku, p.replenishment_policy, round(s.demand_per_day, 1),
           p.low_stock_threshold, s.reorder_point, s.order_up_to, s.reorder_basis,
           s.forecast_version, round(f.next_days, 1), s.on_hand
    FROM stock_levels AS s FINAL
    JOIN (SELECT sku, replenishment_policy, low_stock_threshold FROM products FINAL
          WHERE replenishment_policy IN ('demand', 'forecast')) AS p ON p.sku = s.sku
    LEFT JOIN (SELECT warehouse_id, sku, sum(demand) AS next_days FROM latest_forecasts
               WHERE day >= toDate(now64(3, 'UTC')) AND day < toDate(now64(3, 'UTC')) + 7
               GROUP BY warehouse_id, sku) AS f
        ON f.warehouse_id = s.warehouse_id AND f.sku = s.sku
    ORDER BY p.replenishment_policy, s.reorder_basis IN ('demand', 'forecast') DESC,
             s.demand_per_day DESC, s.warehouse_id, s.sku
    LIMIT 4 BY p.replenishment_policy
    SETTINGS join_use_nulls = 1
"""


# Purchase orders per status (a status per row) and their total (the footer).
ORDERS_BY_STATUS = """
    SELECT status, count(), sum(quantity), sum(received_quantity)
    FROM purchase_orders FINAL GROUP BY status ORDER BY status
"""


def orders_table(query: Callable[[str], list[tuple[object, ...]]]) -> Table:
    """Purchase orders by status, one row each; every order opened is the footer's total,
    not a status of its own."""
    rows = [
        tuple(int(str(v)) if n else str(v) for n, v in enumerate(r))
        for r in query(ORDERS_BY_STATUS)
    ]
    totals = [sum(int(r[n]) for r in rows) for n in (1, 2, 3)]
    table = Table(title="purchase orders", show_footer=True)
    table.add_column("status", footer="all opened (total)")
    for name, total in zip(
        ("purchase orders", "units ordered", "units received"), totals, strict=True
    ):
        table.add_column(name, footer=str(total), justify="right")
    for status, count, units, got in rows:
        table.add_row(str(status), str(count), str(units), str(got))
    return table


def learned_table(query: Callable[[str], list[tuple[object, ...]]]) -> Table:
    """Reorder points learned from demand or taken from the forecast, beside the
    catalog's static threshold."""
    table = Table(
        "warehouse",
        "sku",
        "policy",
        "demand/day",
        "static threshold",
        "reorder point",
        "order up to",
        "basis",
        "forecast version",
        "forecast, next 7 days",
        "on hand",
        title="reorder points: static, learned from live demand, from the batch forecast "
        "(busiest 4 of each policy)",
    )
    for row in query(LEARNED):
        table.add_row(*("-" if value is None else str(value) for value in row))
    if not table.row_count:
        table.caption = "no demand- or forecast-policy SKU in the catalog"
    return table


def print_lines(console: Console, text: str) -> None:
    """Lines as they are: never wrapped by rich, so commands and URLs copy whole."""
    for line in text.splitlines():
        console.print(line, soft_wrap=True, highlight=False, markup=False)
