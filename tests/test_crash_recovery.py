"""Crash-exactness: the flow runs as a subprocess over a fixed stream, is SIGKILLed at
random points and restarted from its snapshots; the final tables equal the independent
model (which an uninterrupted run is tested to equal) and nothing is lost."""

from __future__ import annotations

import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from generators.events import EventGenerator, GeneratorConfig
from generators.publish import publish_to_kafka
from inventory.kafka import ensure_topics
from inventory.settings import Settings
from tests.envs import base_env
from tests.kafka_helpers import read_topic
from tests.model import Expected, Msg, expected_tables

pytestmark = pytest.mark.integration

CONFIG = GeneratorConfig(
    seed=11,
    skus=60,
    warehouses=3,
    rate=100.0,
    malformed_share=0.01,
    duplicate_share=0.02,
    late_share=0.03,
    late_max_seconds=900,
)
EVENTS = 80_000


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


def test_sigkill_at_random_points_then_resume_gives_exact_tables(
    settings: Settings, tmp_path: Path
) -> None:
    brokers = settings.kafka_brokers or ""
    ensure_topics(settings, brokers)
    publish_to_kafka(EventGenerator(CONFIG).messages(EVENTS), brokers, settings.events_topic)
    msgs = [
        Msg(m.key(), m.value(), m.partition(), m.offset(), m.timestamp()[1])
        for m in read_topic(brokers, settings.events_topic)
    ]
    expected = expected_tables(
        msgs, settings.lateness_seconds * 1000, settings.max_future_seconds * 1000
    )
    env = env_for(settings, tmp_path)

    rng = random.Random(2026)
    recovery_db = tmp_path / "data" / "recovery" / "part-0.sqlite3"
    kills = 0
    proc = cli(env, tmp_path, "run", "--exit-at-end")
    for _ in range(3):
        before = keyed_epochs(recovery_db)
        deadline = time.monotonic() + 120
        # kill only once this run has snapshotted processed events, at a random moment
        while not keyed_epochs(recovery_db) - before and proc.poll() is None:
            assert time.monotonic() < deadline, "no progress within 120 s"
            time.sleep(0.02)
        time.sleep(rng.uniform(0.0, 0.2))
        if proc.poll() is not None:
            break
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        kills += 1
        proc = cli(env, tmp_path, "run", "--exit-at-end")
    if kills < 2:
        ended = proc.poll() is not None
        err = proc.communicate()[1] if ended else ""
        pytest.fail(
            f"the flow must have been killed mid-stream at least twice, got {kills}; "
            f"the last run {'exited with ' + str(proc.returncode) if ended else 'runs'}: {err}"
        )
    _, err = proc.communicate(timeout=300)  # the run after the last kill, to the end
    assert proc.returncode == 0, err
    # it resumed from a snapshot: it did not start over from offset 0
    summary = err.strip().splitlines()[-1]
    assert summary.startswith("rows written: "), err
    written = dict(part.split("=") for part in summary[14:].split(", ") if "=" in part)
    assert int(written.get("events", 0)) < len(expected.accepted)

    stock = {
        (r[0], r[1]): (int(r[2]), int(r[3]), int(r[4]), r[5])
        for r in query(
            env,
            tmp_path,
            "SELECT warehouse_id, sku, on_hand, version, "
            "toUnixTimestamp64Milli(updated_at), last_event_id FROM stock_levels FINAL",
        )
    }
    assert stock == expected.stock
    windows = {
        (r[0], r[1], int(r[2])): (int(r[3]), int(r[4]), int(r[5]), int(r[6]))
        for r in query(
            env,
            tmp_path,
            "SELECT warehouse_id, sku, toUnixTimestamp64Milli(window_start), "
            "units_sold, toInt64(revenue * 10000), orders, version "
            "FROM sales_rates FINAL",
        )
    }
    assert windows == expected.windows
    alerts = query(
        env, tmp_path, "SELECT warehouse_id, sku, kind, on_hand, event_id FROM alerts FINAL"
    )
    assert sorted((r[0], r[1], r[2], int(r[3]), r[4]) for r in alerts) == sorted(
        (wh, sku, a[0], a[1], a[4]) for (wh, sku), items in expected.alerts.items() for a in items
    )
    dead = query(env, tmp_path, "SELECT partition, offset FROM dead_letters FINAL")
    assert {(int(p), int(o)) for p, o in dead} == set(expected.dead)
    events = query(env, tmp_path, "SELECT count(), uniqExact(event_id) FROM events FINAL")
    assert events == [[str(len(expected.accepted))] * 2]
    # the topics are at-least-once: every alert and dead letter is there, maybe twice
    published = {m.headers()[0][1].decode() for m in read_topic(brokers, settings.alerts_topic)}
    assert len(published) == sum(len(a) for a in expected.alerts.values())
