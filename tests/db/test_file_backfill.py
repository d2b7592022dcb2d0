"""Backfill: a JSON-lines file of history through the same flow, into chDB."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from generators.events import EventGenerator
from inventory.app.backfill import run_backfill
from inventory.clickhouse.catalog import write_catalog
from tests.support.history import CONFIG, history
from tests.support.model import expected_for
from tests.support.tables import alerts_table, sales_table, stock_table


def test_backfill_equals_model_and_rerun_changes_nothing(
    ch: Any, db_settings: Any, tmp_path: Path
) -> None:
    path, msgs = history(tmp_path, 8000)
    catalog = EventGenerator(CONFIG).catalog.entries()
    write_catalog(ch, db_settings.clickhouse_database, catalog)
    progress: list[int] = []
    run_backfill(db_settings, path, on_progress=progress.append)
    assert sum(progress) == path.stat().st_size

    expected = expected_for(db_settings, msgs, catalog, historical=True)
    assert stock_table(ch) == expected.stock
    assert sales_table(ch) == expected.windows
    assert sum(len(a) for a in alerts_table(ch).values()) == sum(
        len(a) for a in expected.alerts.values()
    )
    dead = ch.query("SELECT topic, partition, offset FROM dead_letters FINAL").result_rows
    assert {(p, o) for _, p, o in dead} == set(expected.dead)
    assert {t for t, _, _ in dead} == {"file:history.jsonl"}

    before = {
        t: ch.query(f"SELECT * FROM {t} FINAL ORDER BY ALL").result_rows
        for t in ("events", "stock_levels", "sales_rates", "alerts", "dead_letters")
    }
    run_backfill(db_settings, path, workers=2)
    for table, rows in before.items():
        assert ch.query(f"SELECT * FROM {table} FINAL ORDER BY ALL").result_rows == rows


def test_backfill_missing_file_is_a_clear_error(db_settings: Any, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="backfill input not found"):
        run_backfill(db_settings, tmp_path / "nope.jsonl")


def test_parquet_backfill_equals_jsonl_backfill(make_settings: Any, tmp_path: Path) -> None:
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    from inventory.clickhouse.client import connect
    from inventory.clickhouse.migrations import apply_migrations

    path, _ = history(tmp_path, 3000)
    good = []
    for line in path.read_text().splitlines():
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict) and isinstance(obj.get("quantity"), int):
            good.append(
                {
                    k: obj.get(k)
                    for k in (
                        "event_id",
                        "event_type",
                        "sku",
                        "warehouse_id",
                        "quantity",
                        "occurred_at",
                        "unit_price",
                        "order_id",
                    )
                }
            )
    jsonl = tmp_path / "good.jsonl"
    jsonl.write_text("".join(json.dumps(g) + "\n" for g in good))
    parquet = tmp_path / "good.parquet"
    pq.write_table(pa.Table.from_pylist(good), parquet)
    results = []
    for source in (jsonl, parquet):
        cfg = make_settings(clickhouse_database=f"bf_{source.suffix[1:]}_{id(source) % 10**6}")
        client = connect(cfg)
        apply_migrations(client, cfg.clickhouse_database)
        run_backfill(cfg, source, workers=1)
        db = cfg.clickhouse_database
        results.append(
            {
                # each file's own: ingested_at (its mtime), the source topic (its name)
                # and with it the lineage (and events.accepted_by)
                table: client.query(
                    f"SELECT * EXCEPT (ingested_at, source_topic, accepted_by) "
                    f"FROM {db}.{table} FINAL ORDER BY ALL"
                    if table == "events"
                    else f"SELECT * EXCEPT (lineage) FROM {db}.{table} FINAL ORDER BY ALL"
                    if table == "stock_levels"
                    else f"SELECT * FROM {db}.{table} FINAL ORDER BY ALL"
                ).result_rows
                for table in ("events", "stock_levels", "sales_rates")
            }
        )
        client.close()
    assert results[0]["events"] and results[0] == results[1]
