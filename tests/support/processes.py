"""Helpers for tests that run the flow as separate processes (``inventory`` commands)
and compare what they leave in the tables with the independent model."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import time
from pathlib import Path

from inventory.core.settings import Settings
from tests.support.cli import query, read_tables, spawn_cli
from tests.support.http import wait_healthy
from tests.support.kafka import read_topic
from tests.support.model import Expected, Msg, expected_tables
from tests.support.tables import ORDERS_SQL


def keyed_epochs(db: Path) -> set[int]:
    """Epochs whose snapshots hold key-shard state, i.e. in which events were processed."""
    return snapshot_epochs(db, "%key-shards")


def snapshot_epochs(db: Path, step: str = "%") -> set[int]:
    """Epochs with a snapshot of a step like ``step`` in the recovery partition ``db``
    (the source snapshots its offsets every epoch, idle or not)."""
    if not db.exists():
        return set()
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            rows = conn.execute(
                "SELECT DISTINCT snap_epoch FROM snaps WHERE step_id LIKE ?", (step,)
            ).fetchall()
        finally:
            conn.close()
    except sqlite3.OperationalError:  # not created yet, or busy
        return set()
    return {int(r[0]) for r in rows}


def wait_for_epoch(
    proc: subprocess.Popen[str], db: Path, *, keyed: bool = True, timeout: float = 120
) -> None:
    """Wait until the running flow ``proc`` snapshots an epoch after the last one in
    ``db`` now (``keyed``: one in which it processed events)."""
    step = "%key-shards" if keyed else "%"
    before = max(snapshot_epochs(db, step), default=-1)
    deadline = time.monotonic() + timeout
    while max(snapshot_epochs(db, step), default=-1) <= before:
        assert proc.poll() is None, proc.communicate()[1]
        assert time.monotonic() < deadline, f"no new snapshot in {timeout:g} s"
        time.sleep(0.05)


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


MODEL_TABLES = {
    "stock": "SELECT warehouse_id, sku, on_hand, version, toUnixTimestamp64Milli(updated_at), "
    "last_event_id FROM stock_levels FINAL",
    "windows": "SELECT warehouse_id, sku, toUnixTimestamp64Milli(window_start), units_sold, "
    "toInt64(revenue * 10000), orders, version FROM sales_rates FINAL",
    "alerts": "SELECT warehouse_id, sku, kind, on_hand, event_id FROM alerts FINAL",
    "dead": "SELECT partition, offset FROM dead_letters FINAL",
    "reserved": "SELECT warehouse_id, sku, reserved FROM stock_levels FINAL",
    "orders": ORDERS_SQL,
    "on_order": "SELECT warehouse_id, sku, on_order FROM stock_levels FINAL",
    "named": "SELECT alert_id, po_id FROM alerts FINAL WHERE po_id != ''",
    "events": "SELECT count(), uniqExact(event_id) FROM events FINAL",
    "decisions": "SELECT reservation_id, warehouse_id, sku, event_id, request, decision, reason, "
    "quantity, available, ifNull(toUnixTimestamp64Milli(expires_at), -1), "
    "toUnixTimestamp64Milli(decided_at), toString(version), backordered, "
    "ifNull(toUnixTimestamp64Milli(ships_at), -1) FROM hold_decisions FINAL",
    "oversold": "SELECT warehouse_id, sku, oversold FROM stock_levels FINAL WHERE oversold > 0",
}


def assert_tables_equal_model(env: dict[str, str], workdir: Path, expected: Expected) -> None:
    """Every table the flow writes (read by one ``inventory sql`` process) equals
    ``expected``."""
    got = read_tables(env, workdir, MODEL_TABLES)
    stock = {(r[0], r[1]): (int(r[2]), int(r[3]), int(r[4]), r[5]) for r in got["stock"]}
    assert stock == expected.stock
    windows = {
        (r[0], r[1], int(r[2])): (int(r[3]), int(r[4]), int(r[5]), int(r[6]))
        for r in got["windows"]
    }
    assert windows == expected.windows
    assert sorted((r[0], r[1], r[2], int(r[3]), r[4]) for r in got["alerts"]) == sorted(
        (wh, sku, a[0], a[1], a[4]) for (wh, sku), items in expected.alerts.items() for a in items
    )
    assert {(int(p), int(o)) for p, o in got["dead"]} == set(expected.dead)
    assert {(r[0], r[1]): int(r[2]) for r in got["reserved"]} == expected.reserved
    assert {
        r[0]: (r[1], r[2], r[3], *map(int, r[4:9]), r[9], int(r[10]), int(r[11]), int(r[12]))
        for r in got["orders"]
    } == expected.orders
    assert {(r[0], r[1]): int(r[2]) for r in got["on_order"]} == expected.on_order
    assert dict((r[0], r[1]) for r in got["named"]) == expected.alert_orders
    assert got["events"] == [[str(len(expected.accepted))] * 2]
    decisions = {(*r[:7], *map(int, r[7:14])) for r in got["decisions"]}
    assert decisions == expected.decisions
    assert {(r[0], r[1]): int(r[2]) for r in got["oversold"]} == expected.oversold


def start_api(env: dict[str, str], workdir: Path, port: int) -> subprocess.Popen[str]:
    """``inventory serve`` on ``port``, once it answers /healthz."""
    proc = spawn_cli({**env, "INVENTORY_API_PORT": str(port)}, workdir, "serve")
    wait_healthy(f"http://127.0.0.1:{port}", proc, timeout=120)
    return proc


def stop(proc: subprocess.Popen[str]) -> None:
    """SIGTERM, then SIGKILL after 30 s."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
