"""Crash-exactness: the flow runs as a subprocess over a fixed stream, is SIGKILLed at
random points and restarted from its snapshots; the final tables equal the independent
model (which an uninterrupted run is tested to equal) and nothing is lost. A third of the
SKUs are on backorder (contract v10): their holds beyond on-hand survive the kills too."""

from __future__ import annotations

import random
import signal
import time
from pathlib import Path

import pytest

from generators.events import GeneratorConfig
from generators.publish import publish_to_kafka
from inventory.core.settings import Settings
from inventory.kafka.topics import ensure_topics
from tests.support.cli import env_for, spawn_cli
from tests.support.kafka import read_topic
from tests.support.loop_streams import stream_with_receipts
from tests.support.model import Msg, Policy, expected_tables
from tests.support.processes import assert_tables_equal_model, keyed_epochs

CONFIG = GeneratorConfig(
    seed=11,
    skus=60,
    warehouses=3,
    rate=100.0,
    malformed_share=0.01,
    duplicate_share=0.02,
    late_share=0.03,
    late_max_seconds=900,
    hold_share=0.1,  # carts: holds, checkouts through them, releases, expiries
    decided_holds=True,  # ... asked of the flow (v9): its decisions must survive SIGKILL
    self_restock=False,  # the supplier restocks, receiving purchase orders
)
EVENTS = 80_000
LEAD_MS, GRACE_MS = 120_000, 60_000  # the 800 s stream sees receipts and overdue orders
BACKORDER_SKUS = [f"SKU-{n:05d}" for n in range(1, CONFIG.skus + 1, 3)]
CATALOG_ROWS = (  # the settings' default threshold and target; the default lead time
    "INSERT INTO products (sku, name, low_stock_threshold, target_stock, oversell_policy, "
    "updated_at) VALUES "
    + ", ".join(f"('{sku}', '{sku}', 10, 50, 'backorder', now64(3))" for sku in BACKORDER_SKUS)
)


def test_sigkill_at_random_points_then_resume_gives_exact_tables(
    settings: Settings, tmp_path: Path
) -> None:
    brokers = settings.kafka_brokers or ""
    ensure_topics(settings, brokers)
    lateness_ms = settings.lateness_seconds * 1000
    stream = stream_with_receipts(
        CONFIG, EVENTS, lateness_ms=lateness_ms, lead_ms=LEAD_MS, grace_ms=GRACE_MS
    )
    publish_to_kafka(stream, brokers, settings.events_topic)
    msgs = [
        Msg(m.key(), m.value(), m.partition(), m.offset(), m.timestamp()[1])
        for m in read_topic(brokers, settings.events_topic)
    ]
    expected = expected_tables(
        msgs,
        lateness_ms,
        settings.max_future_seconds * 1000,
        policies={sku: Policy(10, 50, oversell="backorder") for sku in BACKORDER_SKUS},
        default_lead_ms=LEAD_MS,
        grace_ms=GRACE_MS,
    )
    statuses = {po[2] for po in expected.orders.values()}
    assert {"received", "overdue"} <= statuses and any(expected.reserved.values())
    decided = {d[5] for d in expected.decisions}
    assert {"granted", "checked_out", "released", "expired"} <= decided, decided
    assert any(d[12] for d in expected.decisions)  # holds granted on backorder
    env = env_for(settings, tmp_path)
    env["INVENTORY_DEFAULT_LEAD_TIME_HOURS"] = str(LEAD_MS / 3_600_000)
    env["INVENTORY_REORDER_GRACE_HOURS"] = str(GRACE_MS / 3_600_000)
    for step in (("schema", "apply"), ("sql", CATALOG_ROWS)):  # the catalog the flow reads
        proc = spawn_cli(env, tmp_path, *step)
        assert proc.wait(120) == 0, proc.communicate()[1]

    rng = random.Random(2026)
    recovery_db = tmp_path / "data" / "recovery" / "part-0.sqlite3"
    kills = 0
    proc = spawn_cli(env, tmp_path, "run", "--exit-at-end")
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
        proc = spawn_cli(env, tmp_path, "run", "--exit-at-end")
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

    assert_tables_equal_model(env, tmp_path, expected)
    # the topics are at-least-once: every alert and dead letter is there, maybe twice
    published = {m.headers()[0][1].decode() for m in read_topic(brokers, settings.alerts_topic)}
    assert len(published) == sum(len(a) for a in expected.alerts.values())
