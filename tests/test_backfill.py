"""Backfill: a JSON-lines file of history through the same flow, into chDB."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from generators.events import EventGenerator, GeneratorConfig
from generators.publish import write_jsonl
from inventory.app.backfill import run_backfill
from inventory.clickhouse.catalog import write_catalog
from tests.envs import base_env
from tests.model import Msg, expected_for, expected_tables
from tests.test_pipeline_integration import alerts_table, sales_table, stock_table

CONFIG = GeneratorConfig(
    seed=9,
    skus=30,
    warehouses=2,
    rate=50.0,
    malformed_share=0.02,
    duplicate_share=0.02,
    late_share=0.03,
    late_max_seconds=900,
)


def history(tmp_path: Path, count: int) -> tuple[Path, list[Msg]]:
    buffer = io.StringIO()
    write_jsonl(EventGenerator(CONFIG).messages(count), buffer)
    path = tmp_path / "history.jsonl"
    path.write_text(buffer.getvalue() + "\n")  # a trailing blank line is ignored
    mtime = int(path.stat().st_mtime * 1000)
    msgs = [
        Msg(None, line.encode(), 0, n, mtime)
        for n, line in enumerate(buffer.getvalue().splitlines())
    ]
    return path, msgs


def test_backfill_equals_model_and_rerun_changes_nothing(
    make_settings: Any, ch: Any, settings: Any, tmp_path: Path
) -> None:
    path, msgs = history(tmp_path, 8000)
    catalog = EventGenerator(CONFIG).catalog.entries()
    write_catalog(ch, settings.clickhouse_database, catalog)
    progress: list[int] = []
    run_backfill(settings, path, on_progress=progress.append)
    assert sum(progress) == path.stat().st_size

    expected = expected_for(settings, msgs, catalog)
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
    run_backfill(settings, path, workers=2)
    for table, rows in before.items():
        assert ch.query(f"SELECT * FROM {table} FINAL ORDER BY ALL").result_rows == rows


def test_backfill_missing_file_is_a_clear_error(settings: Any, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="backfill input not found"):
        run_backfill(settings, tmp_path / "nope.jsonl")


@pytest.mark.integration
def test_backfill_command(tmp_path: Path) -> None:
    env = base_env()
    gen = subprocess.run(
        [
            sys.executable,
            "-m",
            "inventory.cli",
            "generate",
            "--stdout",
            "--count",
            "2000",
            "--start",
            "2026-11-01T00:00:00Z",
            "--malformed",
            "0.05",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    (tmp_path / "h.jsonl").write_text(gen.stdout)
    result = subprocess.run(
        [sys.executable, "-m", "inventory.cli", "backfill", "h.jsonl"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "rows written: " in result.stderr and "dead_letters=" in result.stderr
    missing = subprocess.run(
        [sys.executable, "-m", "inventory.cli", "backfill", "nope.jsonl"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert missing.returncode == 1 and "backfill input not found" in missing.stderr


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
                # and with it the lineage
                table: client.query(
                    f"SELECT * EXCEPT (ingested_at, source_topic) FROM {db}.{table} FINAL "
                    "ORDER BY ALL"
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


@pytest.mark.integration
def test_topic_range_backfill_processes_exactly_the_range(
    make_settings: Any, broker: str, tmp_path: Path
) -> None:
    import time as clock

    from generators.publish import publish_to_kafka
    from inventory.app.backfill import run_topic_backfill
    from inventory.clickhouse.client import connect
    from inventory.clickhouse.migrations import apply_migrations
    from inventory.kafka.topics import ensure_topics
    from tests.kafka_helpers import read_topic

    base = make_settings(kafka_brokers=broker)
    ensure_topics(base, broker)
    messages = list(EventGenerator(CONFIG).messages(4000))
    publish_to_kafka(messages[:2000], broker, base.events_topic)
    clock.sleep(0.3)
    cut = int(clock.time() * 1000)
    clock.sleep(0.3)
    publish_to_kafka(messages[2000:], broker, base.events_topic)
    read = [
        Msg(m.key(), m.value(), m.partition(), m.offset(), m.timestamp()[1])
        for m in read_topic(broker, base.events_topic)
    ]

    for name, start, end in (("before", None, cut), ("after", cut, None)):
        cfg = make_settings(
            kafka_brokers=broker,
            events_topic=base.events_topic,
            clickhouse_database=f"{base.clickhouse_database}_{name}",
        )
        client = connect(cfg)
        apply_migrations(client, cfg.clickhouse_database)
        run_topic_backfill(cfg, broker, start, end)
        in_range = [
            m
            for m in read
            if (start is None or m.timestamp_ms >= start) and (end is None or m.timestamp_ms < end)
        ]
        expected = expected_tables(
            in_range, cfg.lateness_seconds * 1000, cfg.max_future_seconds * 1000
        )
        ch = connect(cfg, database=cfg.clickhouse_database)
        assert stock_table(ch) == expected.stock
        assert sales_table(ch) == expected.windows
        dead = ch.query("SELECT partition, offset FROM dead_letters FINAL").result_rows
        assert set(dead) == set(expected.dead)
        ch.close()
        client.close()


@pytest.mark.integration
def test_topic_range_backfill_command(tmp_path: Path) -> None:
    env = base_env()

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "inventory.cli", *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    try:
        assert cli("generate", "--count", "1500").returncode == 0
        result = cli("backfill", "--topic-range", "--from", "2000-01-01T00:00:00Z")
        assert result.returncode == 0, result.stderr
        assert "events=" in result.stderr.splitlines()[-1]
        both = cli("backfill", "x.jsonl", "--topic-range")
        assert both.returncode == 2 and "not both" in both.stderr
    finally:
        cli("broker", "stop")
