"""The container's command, ``python -m bytewax.run "dataflows.main:flow()"``, for real.

It runs against the local broker with recovery, is SIGKILLed once it has snapshotted
processed events (a container crash), and ``inventory run`` then resumes from the same
recovery store to the end: the tables must be exact.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from generators.events import EventGenerator, GeneratorConfig
from generators.publish import publish_to_kafka
from inventory.core.settings import Settings
from inventory.kafka.topics import ensure_topics
from tests.support.cli import env_for, query, spawn_cli
from tests.support.processes import cli_stock, keyed_epochs, topic_model

CONFIG = GeneratorConfig(seed=5, skus=30, warehouses=2, rate=100.0, malformed_share=0.02)
EVENTS = 20_000
ENTRY = [sys.executable, "-m", "bytewax.run", "dataflows.main:flow()"]


def start_entry(settings: Settings, tmp_path: Path) -> tuple[subprocess.Popen[str], dict[str, str]]:
    """Events in the topic, the schema applied, and the container's command running with
    recovery until it has snapshotted processed events."""
    brokers = settings.kafka_brokers or ""
    ensure_topics(settings, brokers)
    publish_to_kafka(EventGenerator(CONFIG).messages(EVENTS), brokers, settings.events_topic)
    env = env_for(settings, tmp_path)
    recovery = tmp_path / "data" / "recovery"
    env["INVENTORY_RECOVERY_DIR"] = str(recovery)
    env["INVENTORY_EPOCH_SECONDS"] = "1"  # bytewax.run -s takes whole seconds
    assert spawn_cli(env, tmp_path, "schema", "apply").wait(120) == 0
    entry = subprocess.Popen(
        [*ENTRY, "-r", str(recovery), "-s", env["INVENTORY_EPOCH_SECONDS"], "-b", "0"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not keyed_epochs(recovery / "part-0.sqlite3") and entry.poll() is None:
        assert time.monotonic() < deadline, "bytewax.run made no progress within 120 s"
        time.sleep(0.05)
    assert entry.poll() is None, entry.communicate()[1]
    return entry, env


def resume_to_the_end(settings: Settings, env: dict[str, str], tmp_path: Path) -> None:
    """``inventory run`` resumes from the entry's recovery store; the tables are exact."""
    expected = topic_model(settings)
    resumed = spawn_cli(env, tmp_path, "run", "--exit-at-end")
    _, err = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, err
    summary = err.strip().splitlines()[-1]
    written = dict(part.split("=") for part in summary[14:].split(", ") if "=" in part)
    assert int(written.get("events", 0)) < len(expected.accepted), "did not resume"
    assert cli_stock(env, tmp_path) == {key: value[:2] for key, value in expected.stock.items()}
    events = query(env, tmp_path, "SELECT count(), uniqExact(event_id) FROM events FINAL")
    assert events == [[str(len(expected.accepted))] * 2]
    dead = query(env, tmp_path, "SELECT count() FROM dead_letters FINAL")
    assert dead == [[str(len(expected.dead))]]


def test_bytewax_run_entry_crash_then_resume(settings: Settings, tmp_path: Path) -> None:
    entry, env = start_entry(settings, tmp_path)
    entry.send_signal(signal.SIGKILL)
    entry.wait(30)
    resume_to_the_end(settings, env, tmp_path)


def test_bytewax_run_entry_stops_cleanly_on_sigterm(settings: Settings, tmp_path: Path) -> None:
    """``docker stop``: SIGTERM ends the container's flow at a batch boundary with exit 0
    and one line; ``inventory run`` resumes from its snapshot and the tables are exact."""
    entry, env = start_entry(settings, tmp_path)
    entry.send_signal(signal.SIGTERM)
    started = time.monotonic()
    _, err = entry.communicate(timeout=60)
    assert entry.returncode == 0 and time.monotonic() - started < 10, err
    assert err.strip().splitlines()[-1].startswith("stopped on SIGTERM"), err
    assert "panicked" not in err and "Traceback" not in err, err
    resume_to_the_end(settings, env, tmp_path)
