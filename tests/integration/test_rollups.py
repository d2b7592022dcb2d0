"""Incremental hourly/daily sales (batch layer) stay exact when events are replayed."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from inventory.app.run import run_inventory
from inventory.core.times import to_ms
from sinks.clickhouse import EVENT_COLUMNS
from tests.support.pipeline import produce_and_expect


def rollup(
    expected: Any, bucket_ms: int
) -> dict[tuple[str, str, int], tuple[int, Decimal, int, int]]:
    """Hourly/daily totals straight from the model's accepted sales."""
    sums: dict[tuple[str, str, int], list[Any]] = defaultdict(lambda: [0, 0, 0, set()])
    for e in expected.accepted.values():
        if e.event_type != "sale":
            continue
        ms = to_ms(e.occurred_at)
        acc = sums[(e.warehouse_id, e.sku, ms - ms % bucket_ms)]
        acc[0] += e.quantity
        acc[1] += e.quantity * round((e.unit_price or 0) * 10_000)
        acc[2] += 1
        acc[3].add(e.order_id or ("own", e.event_id))
    return {k: (u, Decimal(r).scaleb(-4), n, len(o)) for k, (u, r, n, o) in sums.items()}


def table(ch: Any, name: str, column: str) -> dict[tuple[str, str, int], tuple[Any, ...]]:
    rows = ch.query(
        f"SELECT warehouse_id, sku, toUnixTimestamp({column}) * 1000, sum(units_sold), "
        f"sum(revenue), sum(sales), uniqExactMerge(orders) FROM {name} "
        f"GROUP BY warehouse_id, sku, {column}"
    ).result_rows
    return {(r[0], r[1], r[2]): (r[3], r[4], r[5], r[6]) for r in rows}


def test_hourly_and_daily_sales_are_exact_after_a_replay(settings: Any, ch: Any) -> None:
    expected, _ = produce_and_expect(settings, ch)
    brokers = settings.kafka_brokers or ""
    run_inventory(settings, brokers, exit_at_end=True)
    run_inventory(settings, brokers, exit_at_end=True, recovery=False)  # every event again
    raw = ch.query("SELECT count() FROM events WHERE event_type = 'sale'").result_rows[0][0]
    sales = sum(1 for e in expected.accepted.values() if e.event_type == "sale")
    assert raw >= sales  # duplicates reached `events` (unless merged away already)
    assert ch.query("SELECT count() FROM sales_ledger FINAL").result_rows[0][0] == sales
    assert table(ch, "sales_hourly", "hour") == rollup(expected, 3_600_000)
    assert table(ch, "sales_daily", "day") == rollup(expected, 86_400_000)


def test_upgrading_brings_existing_sales_into_the_rollups_once(
    make_settings: Any, tmp_path: Any
) -> None:
    import shutil

    from inventory.clickhouse.client import connect
    from inventory.clickhouse.migrations import MIGRATIONS_DIR, apply_migrations

    settings = make_settings()
    db = settings.clickhouse_database
    folder = tmp_path / "migrations"
    folder.mkdir()
    for name in ("0001_core_tables.sql", "0002_analytics_tables.sql"):
        shutil.copy(MIGRATIONS_DIR / name, folder / name)
    client = connect(settings)
    apply_migrations(client, db, folder)
    columns = list(EVENT_COLUMNS[:10])  # the columns of migration 0001
    t = 1_795_000_000_000
    rows = [
        ("a", "sale", "S", "W", 2, -2, 19.99, "o1", t, t),
        ("b", "sale", "S", "W", 1, -1, None, None, t + 1, t),
        ("c", "restock", "S", "W", 5, 5, None, None, t + 2, t),
    ]
    client.insert("events", rows + rows[:1], column_names=columns, database=db)  # a replay
    shutil.copy(MIGRATIONS_DIR / "0003_sales_rollups.sql", folder / "0003_sales_rollups.sql")
    apply_migrations(client, db, folder)
    client.insert("events", rows, column_names=columns, database=db)  # replayed again
    result = client.query(
        f"SELECT sum(units_sold), sum(revenue), sum(sales), uniqExactMerge(orders) "
        f"FROM {db}.sales_daily"
    ).result_rows
    assert result == [(3, Decimal("39.98"), 2, 2)]
    client.close()
