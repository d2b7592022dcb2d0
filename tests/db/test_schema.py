"""Migrations are versioned, idempotent, and refuse edited history (real chDB)."""

from __future__ import annotations

from pathlib import Path

import pytest

from inventory.clickhouse.client import connect
from inventory.clickhouse.migrations import MigrationError, apply_migrations, load_migrations


def test_apply_is_idempotent_and_creates_contract_tables(make_settings) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings()
    client = connect(settings)
    db = settings.clickhouse_database
    first = apply_migrations(client, db)
    assert [m.version for m in first] == [m.version for m in load_migrations()]
    assert apply_migrations(client, db) == []
    tables = {r[0] for r in client.query(f"SHOW TABLES FROM {db}").result_rows}
    contract = {
        "events",
        "stock_levels",
        "dead_letters",
        "hold_decisions",
        "demand_daily",
        "schema_migrations",
    }
    assert contract <= tables
    columns = {
        r[0]: r[1]
        for r in client.query(
            "SELECT name, type FROM system.columns WHERE database = {db:String} "
            "AND table = 'stock_levels' AND default_kind != 'MATERIALIZED'",
            parameters={"db": db},
        ).result_rows
    }
    assert columns["updated_at"] == "DateTime64(3, 'UTC')"
    # insert time for incremental readers: stored, but outside SELECT * (replays read the same)
    star = client.query(f"SELECT * FROM {db}.stock_levels LIMIT 0").column_names
    assert "written_at" not in star
    assert client.query(f"SELECT written_at FROM {db}.stock_levels LIMIT 0").column_names == (
        "written_at",
    )
    assert set(columns) == {
        "warehouse_id",
        "sku",
        "on_hand",
        "version",
        "updated_at",
        "last_event_id",
        "lineage",
        "reserved",
        "available",
        "on_order",
        "inventory_position",
        "next_expected_at",
        "reorder_point",
        "order_up_to",
        "reorder_basis",
        "demand_per_day",
        "lead_time_days",
        "days_of_cover",
        "projected_stockout_at",
        "oversold",
        "forecast_version",
    }
    assert columns["version"] == "UInt128"
    # a writer of contract v3 (no holds) stores rows that read reserved 0, available on_hand
    client.insert(
        "stock_levels",
        [("W", "S", 7, 1, 0, "e", "")],
        column_names=[
            "warehouse_id",
            "sku",
            "on_hand",
            "version",
            "updated_at",
            "last_event_id",
            "lineage",
        ],
        database=db,
    )
    row = client.query(
        f"SELECT on_hand, reserved, available, on_order, inventory_position, reorder_point, "
        f"reorder_basis FROM {db}.stock_levels"
    ).result_rows
    assert row == [(7, 0, 7, 0, 7, -1, "static")]  # -1: the catalog's threshold is in effect
    shown = client.query(f"SELECT reorder_point, order_up_to FROM {db}.current_stock").result_rows
    assert shown == [(10, 50)]  # the defaults (no catalog row)
    client.close()


def test_upgrade_to_contract_v5_brings_on_order_and_one_row_per_event_id(  # type: ignore[no-untyped-def]
    make_settings, tmp_path: Path
) -> None:
    """Data written under migrations 0001-0013 (contract v4) survives 0014: stock rows of
    keys with open purchase orders get their on-order units, old orders read their
    remaining units, and `events` keeps one row per event id (the earliest copy), while
    the acceptances remember both copies for the reconciliation."""
    import shutil

    from inventory.clickhouse.migrations import MIGRATIONS_DIR

    settings = make_settings()
    db = settings.clickhouse_database
    folder = tmp_path / "migrations"
    folder.mkdir()
    for path in sorted(MIGRATIONS_DIR.glob("*.sql"))[:13]:
        shutil.copy(path, folder / path.name)
    shutil.copy(MIGRATIONS_DIR / "0014_inventory_position.sql", tmp_path / "0014.sql")
    client = connect(settings)
    apply_migrations(client, db, folder)
    t = 1_795_000_000_000
    client.insert(
        "stock_levels",
        [("W", "S", 5, (t << 64) | 3, t, "s", "flow:x", 0, 5)],
        column_names=[
            "warehouse_id",
            "sku",
            "on_hand",
            "version",
            "updated_at",
            "last_event_id",
            "lineage",
            "reserved",
            "available",
        ],
        database=db,
    )
    client.insert(
        "purchase_orders",
        [
            ("po-open", "W", "S", "open", 45, t, t + 1, None, 0, "", "a1", 1),
            ("po-late", "W", "S", "overdue", 10, t, t + 1, None, 0, "", "a2", 1),
            ("po-done", "W", "S", "received", 20, t, t + 1, t + 2, 20, "r", "a3", 1),
        ],
        column_names=[
            "po_id",
            "warehouse_id",
            "sku",
            "status",
            "quantity",
            "opened_at",
            "expected_at",
            "received_at",
            "received_quantity",
            "receipt_event_id",
            "alert_id",
            "version",
        ],
        database=db,
    )
    month = 31 * 86_400_000
    client.insert(
        "events",
        [
            ("e1", "restock", "S", "W", 100, 100, None, None, t, t),
            ("e1", "restock", "S", "W", 100, 100, None, None, t + month, t + month),  # retry
            ("s", "sale", "S", "W", 95, -95, 1.0, None, t + 1, t + 1),
        ],
        column_names=[
            "event_id",
            "event_type",
            "sku",
            "warehouse_id",
            "quantity",
            "delta",
            "unit_price",
            "order_id",
            "occurred_at",
            "ingested_at",
        ],
        database=db,
    )
    shutil.copy(tmp_path / "0014.sql", folder / "0014_inventory_position.sql")
    applied = apply_migrations(client, db, folder)
    assert [m.version for m in applied] == [14]
    stock = client.query(
        f"SELECT on_hand, on_order, inventory_position, version FROM {db}.stock_levels FINAL"
    ).result_rows
    assert stock == [(5, 55, 60, (t << 64) | 3)]
    orders = client.query(
        f"SELECT po_id, remaining, cancelled_quantity, closed_at IS NULL "
        f"FROM {db}.purchase_orders FINAL ORDER BY po_id"
    ).result_rows
    assert orders == [("po-done", 0, 0, False), ("po-late", 10, 0, True), ("po-open", 45, 0, True)]
    events = client.query(
        f"SELECT event_id, toUnixTimestamp64Milli(occurred_at) FROM {db}.events FINAL "
        "ORDER BY event_id"
    ).result_rows
    assert events == [("e1", t), ("s", t + 1)]
    copies = client.query(f"SELECT count() FROM {db}.event_acceptances FINAL WHERE event_id = 'e1'")
    assert copies.result_rows == [(2,)]
    client.command(f"SYSTEM REFRESH VIEW {db}.stock_reconciliation")
    client.command(f"SYSTEM WAIT VIEW {db}.stock_reconciliation")
    check = client.query(
        f"SELECT batch_on_hand, stream_on_hand, repeated_event_ids, status "
        f"FROM {db}.stock_reconciliation"
    ).result_rows
    assert check == [(5, 5, 1, "repeated_event_id")]  # counted once, accepted twice
    client.close()


def test_upgrade_keeps_revenue_and_puts_the_newest_stock_first(  # type: ignore[no-untyped-def]
    make_settings, tmp_path: Path
) -> None:
    """Data written under migrations 0001-0008 survives 0009-0011: revenue widened in
    place, and of a key's stock rows the newest by event time wins (before, the bigger
    per-run counter did: a backfill of older history replaced current stock)."""
    import shutil
    from decimal import Decimal

    from inventory.clickhouse.migrations import MIGRATIONS_DIR

    settings = make_settings()
    db = settings.clickhouse_database
    folder = tmp_path / "migrations"
    folder.mkdir()
    for path in sorted(MIGRATIONS_DIR.glob("*.sql"))[:8]:
        shutil.copy(path, folder / path.name)
    client = connect(settings)
    apply_migrations(client, db, folder)
    t = 1_795_000_000_000
    old = t - 330 * 86_400_000
    columns = ["warehouse_id", "sku", "on_hand", "version", "updated_at", "last_event_id"]
    client.insert(
        "stock_levels",
        [
            ("W", "S", 40, 2, t, "stream-2"),  # the stream's current stock
            ("W", "S", 12, 3, old, "old-3"),  # a backfill of older history won (3 > 2)
            ("W", "T", 3, 2, t, "t-2"),  # no events: its newest row is kept
        ],
        column_names=columns,
        database=db,
    )
    client.command(f"OPTIMIZE TABLE {db}.stock_levels FINAL")  # merged: old-3 is all left
    client.insert(
        "events",
        [
            ("old-1", "count", "S", "W", 20, 0, None, None, old - 2, old),
            ("old-2", "sale", "S", "W", 4, -4, None, None, old - 1, old),
            ("old-3", "sale", "S", "W", 4, -4, None, None, old, old),
            ("stream-1", "restock", "S", "W", 30, 30, None, None, t - 1, t),
            ("stream-2", "restock", "S", "W", 10, 10, None, None, t, t),
        ],
        column_names=[
            "event_id",
            "event_type",
            "sku",
            "warehouse_id",
            "quantity",
            "delta",
            "unit_price",
            "order_id",
            "occurred_at",
            "ingested_at",
        ],
        database=db,
    )
    client.insert(
        "sales_rates",
        [("W", "S", t, t + 60_000, 2, Decimal("12345678901234.5678"), 1, 1)],
        column_names=[
            "warehouse_id",
            "sku",
            "window_start",
            "window_end",
            "units_sold",
            "revenue",
            "orders",
            "version",
        ],
        database=db,
    )
    assert len(apply_migrations(client, db)) == len(load_migrations()) - 8
    stock = client.query(
        f"SELECT sku, on_hand, version, last_event_id FROM {db}.stock_levels FINAL ORDER BY sku"
    ).result_rows
    # S from all five events: count 20, -4, -4, +30, +10
    assert stock == [("S", 52, (t << 64) | 5, "stream-2"), ("T", 3, (t << 64) | 2, "t-2")]
    assert client.query(f"SELECT revenue FROM {db}.sales_rates FINAL").result_rows == [
        (Decimal("12345678901234.5678"),)
    ]
    client.close()


def test_changed_migration_is_refused(make_settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings()
    client = connect(settings)
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "0001_a.sql").write_text(
        "CREATE TABLE IF NOT EXISTS {database}.a (x Int32) ENGINE = MergeTree ORDER BY x;\n"
    )
    assert len(apply_migrations(client, settings.clickhouse_database, folder)) == 1
    (folder / "0001_a.sql").write_text(
        "CREATE TABLE IF NOT EXISTS {database}.a (y Int32) ENGINE = MergeTree ORDER BY y;\n"
    )
    with pytest.raises(MigrationError, match="changed after it was applied"):
        apply_migrations(client, settings.clickhouse_database, folder)
    (folder / "bad.sql").write_text("SELECT 1")
    with pytest.raises(MigrationError, match=r"NNNN_name\.sql"):
        load_migrations(folder)
    with pytest.raises(MigrationError, match="invalid database"):
        apply_migrations(client, "x; DROP DATABASE y", folder)
    client.close()


def _counting_migrations(folder: Path) -> None:
    """0001 a table; 0002 not idempotent (an INSERT, like 0003's INSERT ... SELECT), slow."""
    (folder / "0001_counter.sql").write_text(
        "CREATE TABLE IF NOT EXISTS {database}.counter (x UInt8) ENGINE = MergeTree ORDER BY x;\n"
    )
    (folder / "0002_count_once.sql").write_text(
        "SELECT sleep(0.5);\nINSERT INTO {database}.counter VALUES (1);\n"
    )


def test_concurrent_applies_run_each_migration_once(make_settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Four appliers at once, each with its own client. chDB allows one process per data
    path, so they are threads of this process: this proves the lock (an atomic CREATE
    TABLE in ClickHouse) excludes concurrent appliers and that a waiter finds the work
    done, not that it works across hosts (that is the same DDL on a server)."""
    import threading

    settings = make_settings()
    db = settings.clickhouse_database
    _counting_migrations(tmp_path)
    results: list[object] = []

    def apply() -> None:
        client = connect(settings)
        try:
            results.append(len(apply_migrations(client, db, tmp_path)))
        except Exception as exc:  # reported below
            results.append(exc)
        finally:
            client.close()

    threads = [threading.Thread(target=apply) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(results, key=str) == [0, 0, 0, 2], results  # type: ignore[arg-type]
    client = connect(settings)
    assert client.query(f"SELECT count() FROM {db}.counter").result_rows == [(1,)]
    tables = {r[0] for r in client.query(f"SHOW TABLES FROM {db}").result_rows}
    assert "schema_migrations_lock" not in tables  # released
    client.close()


def test_a_stale_lock_is_broken_and_a_held_one_times_out(make_settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from inventory.clickhouse.migration_lock import MigrationLockError, migration_lock

    settings = make_settings()
    db = settings.clickhouse_database
    client = connect(settings)
    client.command(f"CREATE DATABASE IF NOT EXISTS {db}")
    client.command(f"CREATE TABLE {db}.schema_migrations_lock (held UInt8) ENGINE = Memory")
    with (
        pytest.raises(MigrationLockError, match="schema_migrations_lock"),
        migration_lock(client, db, wait_seconds=0.5, sleep=lambda _: None),
    ):
        pass
    with migration_lock(client, db, stale_seconds=-1):  # a dead holder's lock
        pass
    _counting_migrations(tmp_path)
    assert len(apply_migrations(client, db, tmp_path)) == 2
    client.close()


def test_the_reason_code_default_agrees_with_the_writer(make_settings) -> None:  # type: ignore[no-untyped-def]
    """Rows from before migration 0012 get their reason code from the column's DEFAULT,
    new rows from inventory.core.reasons: the two give the same code for every reason."""
    from inventory.core.reasons import _PREFIXES, reason_code

    settings = make_settings()
    db = settings.clickhouse_database
    client = connect(settings)
    apply_migrations(client, db)
    errors = [prefix + " something" for prefix, _ in _PREFIXES] + ["no known prefix"]
    client.insert(
        "dead_letters",
        [("t", "", 0, n, None, b"", error, 0) for n, error in enumerate(errors)],
        column_names=[
            "topic",
            "topic_id",
            "partition",
            "offset",
            "key",
            "payload",
            "error",
            "received_at",
        ],
        database=db,
    )
    rows = client.query(f"SELECT error, reason FROM {db}.dead_letters ORDER BY offset")
    assert [(e, r) for e, r in rows.result_rows] == [(e, reason_code(e)) for e in errors]
    client.close()
