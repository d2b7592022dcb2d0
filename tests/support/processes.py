"""Helpers for tests that run the flow as separate processes (``inventory`` commands)
and compare what they leave in the tables with the independent model."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from inventory.core.settings import Settings
from tests.support.envs import base_env
from tests.support.kafka import read_topic
from tests.support.model import Expected, Msg, expected_tables


def env_for(settings: Settings, workdir: Path) -> dict[str, str]:
    env = base_env()
    env.update(
        {
            "INVENTORY_KAFKA_BROKERS": settings.kafka_brokers or "",
            "INVENTORY_CLICKHOUSE_URL": f"chdb://{workdir / 'clickhouse'}",
            "INVENTORY_DATA_DIR": str(workdir / "data"),
            "INVENTORY_EVENTS_TOPIC": settings.events_topic,
            "INVENTORY_ALERTS_TOPIC": settings.alerts_topic,
            "INVENTORY_DLQ_TOPIC": settings.dlq_topic,
            "INVENTORY_EPOCH_SECONDS": "0.2",
            # small reads: a stream spans many epochs, so a kill can land mid-stream
            "INVENTORY_SOURCE_BATCH_SIZE": "500",
        }
    )
    return env


def cli(env: dict[str, str], workdir: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "inventory.cli", *args],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def keyed_epochs(db: Path) -> set[int]:
    """Epochs whose snapshots hold per-key state, i.e. in which events were processed."""
    if not db.exists():
        return set()
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            rows = conn.execute(
                "SELECT DISTINCT snap_epoch FROM snaps WHERE step_id LIKE '%per-key'"
            ).fetchall()
        finally:
            conn.close()
    except sqlite3.OperationalError:  # not created yet, or busy
        return set()
    return {int(r[0]) for r in rows}


def query(env: dict[str, str], workdir: Path, sql: str) -> list[list[str]]:
    proc = cli(env, workdir, "sql", sql, "--format", "tsv")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return [line.split("\t") for line in out.splitlines()[1:]]


def topic_model(settings: Settings) -> Expected:
    """The model of every message now in the events topic."""
    msgs = [
        Msg(m.key(), m.value(), m.partition(), m.offset(), m.timestamp()[1])
        for m in read_topic(settings.kafka_brokers or "", settings.events_topic)
    ]
    return expected_tables(
        msgs, settings.lateness_seconds * 1000, settings.max_future_seconds * 1000
    )


def cli_stock(env: dict[str, str], workdir: Path) -> dict[tuple[str, str], tuple[int, int]]:
    """(on_hand, version) per key of ``stock_levels FINAL``, read with ``inventory sql``."""
    rows = query(env, workdir, "SELECT warehouse_id, sku, on_hand, version FROM stock_levels FINAL")
    return {(r[0], r[1]): (int(r[2]), int(r[3])) for r in rows}


def assert_tables_equal_model(env: dict[str, str], workdir: Path, expected: Expected) -> None:
    """Every table the flow writes (read with ``inventory sql``) equals ``expected``."""
    stock = {
        (r[0], r[1]): (int(r[2]), int(r[3]), int(r[4]), r[5])
        for r in query(
            env,
            workdir,
            "SELECT warehouse_id, sku, on_hand, version, "
            "toUnixTimestamp64Milli(updated_at), last_event_id FROM stock_levels FINAL",
        )
    }
    assert stock == expected.stock
    windows = {
        (r[0], r[1], int(r[2])): (int(r[3]), int(r[4]), int(r[5]), int(r[6]))
        for r in query(
            env,
            workdir,
            "SELECT warehouse_id, sku, toUnixTimestamp64Milli(window_start), "
            "units_sold, toInt64(revenue * 10000), orders, version "
            "FROM sales_rates FINAL",
        )
    }
    assert windows == expected.windows
    alerts = query(
        env, workdir, "SELECT warehouse_id, sku, kind, on_hand, event_id FROM alerts FINAL"
    )
    assert sorted((r[0], r[1], r[2], int(r[3]), r[4]) for r in alerts) == sorted(
        (wh, sku, a[0], a[1], a[4]) for (wh, sku), items in expected.alerts.items() for a in items
    )
    dead = query(env, workdir, "SELECT partition, offset FROM dead_letters FINAL")
    assert {(int(p), int(o)) for p, o in dead} == set(expected.dead)
    reserved = query(env, workdir, "SELECT warehouse_id, sku, reserved FROM stock_levels FINAL")
    assert {(r[0], r[1]): int(r[2]) for r in reserved} == expected.reserved
    orders = query(
        env,
        workdir,
        "SELECT po_id, warehouse_id, sku, status, quantity, toUnixTimestamp64Milli(opened_at), "
        "toUnixTimestamp64Milli(expected_at), ifNull(toUnixTimestamp64Milli(received_at), -1), "
        "received_quantity, receipt_event_id, version FROM purchase_orders FINAL",
    )
    assert {
        r[0]: (r[1], r[2], r[3], *map(int, r[4:9]), r[9], int(r[10])) for r in orders
    } == expected.orders
    named = query(env, workdir, "SELECT alert_id, po_id FROM alerts FINAL WHERE po_id != ''")
    assert dict((r[0], r[1]) for r in named) == expected.alert_orders
    events = query(env, workdir, "SELECT count(), uniqExact(event_id) FROM events FINAL")
    assert events == [[str(len(expected.accepted))] * 2]
