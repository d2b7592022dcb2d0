"""Migrations are versioned, idempotent, and refuse edited history (real chDB)."""

from __future__ import annotations

from pathlib import Path

import pytest

from inventory.clickhouse import connect
from inventory.schema import MigrationError, apply_migrations, load_migrations


def test_apply_is_idempotent_and_creates_contract_tables(make_settings) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings()
    client = connect(settings)
    db = settings.clickhouse_database
    first = apply_migrations(client, db)
    assert [m.version for m in first] == [m.version for m in load_migrations()]
    assert apply_migrations(client, db) == []
    tables = {r[0] for r in client.query(f"SHOW TABLES FROM {db}").result_rows}
    assert {"events", "stock_levels", "dead_letters", "schema_migrations"} <= tables
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
    }
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
