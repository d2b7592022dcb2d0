"""Readers of the flow's tables, in the test's own process, shaped as the independent model's
output."""

from __future__ import annotations

from clickhouse_connect.driver.client import Client


def sales_table(ch: Client) -> dict[tuple[str, str, int], tuple[int, int, int, int]]:
    rows = ch.query(
        "SELECT warehouse_id, sku, toUnixTimestamp64Milli(window_start), units_sold, "
        "toInt64(revenue * 10000), orders, version, "
        "toUnixTimestamp64Milli(window_end) - toUnixTimestamp64Milli(window_start) "
        "FROM sales_rates FINAL"
    ).result_rows
    assert {r[7] for r in rows} <= {60_000}
    return {(r[0], r[1], r[2]): (r[3], r[4], r[5], r[6]) for r in rows}


def alerts_table(ch: Client) -> dict[tuple[str, str], list[tuple[str, int, int, int, str]]]:
    rows = ch.query(
        "SELECT warehouse_id, sku, kind, on_hand, threshold, reorder_quantity, event_id "
        "FROM alerts FINAL ORDER BY warehouse_id, sku, raised_at, event_id, kind"
    ).result_rows
    out: dict[tuple[str, str], list[tuple[str, int, int, int, str]]] = {}
    for wh, sku, *alert in rows:
        out.setdefault((wh, sku), []).append(tuple(alert))  # type: ignore[arg-type]
    return out


def stock_table(ch: Client) -> dict[tuple[str, str], tuple[int, int, int, str]]:
    rows = ch.query(
        "SELECT warehouse_id, sku, on_hand, version, toUnixTimestamp64Milli(updated_at), "
        "last_event_id FROM stock_levels FINAL"
    ).result_rows
    return {(r[0], r[1]): (r[2], r[3], r[4], r[5]) for r in rows}


def reserved_table(ch: Client) -> dict[tuple[str, str], int]:
    rows = ch.query(
        "SELECT warehouse_id, sku, reserved, available, on_hand FROM stock_levels FINAL"
    ).result_rows
    assert all(available == on_hand - reserved for *_, reserved, available, on_hand in rows)
    return {(r[0], r[1]): r[2] for r in rows}


ORDERS_SQL = (
    "SELECT po_id, warehouse_id, sku, status, quantity, toUnixTimestamp64Milli(opened_at), "
    "toUnixTimestamp64Milli(expected_at), ifNull(toUnixTimestamp64Milli(received_at), -1), "
    "received_quantity, receipt_event_id, version, cancelled_quantity, "
    "ifNull(toUnixTimestamp64Milli(closed_at), -1) FROM purchase_orders FINAL"
)


def orders_table(ch: Client) -> dict[str, tuple[object, ...]]:
    """po_id -> the model's order tuple (see ``Expected.orders``)."""
    return {r[0]: tuple(r[1:]) for r in ch.query(ORDERS_SQL).result_rows}


def on_order_table(ch: Client) -> dict[tuple[str, str], int]:
    rows = ch.query("SELECT warehouse_id, sku, on_order FROM stock_levels FINAL").result_rows
    return {(r[0], r[1]): r[2] for r in rows}


def truncate_tables(client: Client, database: str) -> None:
    """Empty every table of ``database`` but the migration record (views stay): a fresh
    start for the next example without applying the migrations again."""
    tables = client.query(
        "SELECT name FROM system.tables WHERE database = {db:String} "
        "AND engine NOT IN ('View', 'MaterializedView') AND name != 'schema_migrations' "
        "AND NOT startsWith(name, '.tmp') AND NOT startsWith(name, '_tmp_replace_')",
        # a refresh's scratch tables (both namings), made and dropped while we list
        parameters={"db": database},
    ).result_rows
    for (name,) in tables:
        client.command(f"TRUNCATE TABLE {database}.`{name}`")


def decisions_table(
    ch: Client,
) -> set[tuple[str, str, str, str, str, str, str, int, int, int, int, int, int, int]]:
    """hold_decisions FINAL as the model's ``Expected.decisions`` tuples."""
    rows = ch.query(
        "SELECT reservation_id, warehouse_id, sku, event_id, request, decision, reason, "
        "quantity, available, ifNull(toUnixTimestamp64Milli(expires_at), -1), "
        "toUnixTimestamp64Milli(decided_at), version, backordered, "
        "ifNull(toUnixTimestamp64Milli(ships_at), -1) FROM hold_decisions FINAL"
    ).result_rows
    return {tuple(r) for r in rows}  # type: ignore[misc]


def oversold_tables(
    ch: Client,
) -> tuple[dict[tuple[str, str], int], list[tuple[str, int, int]]]:
    """stock_levels.oversold per key and the oversold units of each accepted sale copy
    (event_acceptances), non-zero ones, as the model's ``oversold``, ``sales_oversold``."""
    keys = ch.query(
        "SELECT warehouse_id, sku, oversold FROM stock_levels FINAL WHERE oversold > 0"
    ).result_rows
    sales = ch.query(
        "SELECT event_id, toUnixTimestamp64Milli(occurred_at), oversold "
        "FROM event_acceptances FINAL WHERE oversold > 0 ORDER BY ALL"
    ).result_rows
    return {(r[0], r[1]): r[2] for r in keys}, [tuple(r) for r in sales]  # type: ignore[misc]
