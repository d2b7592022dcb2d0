"""Clean stop: SIGTERM (docker stop, Kubernetes) and SIGINT (Ctrl-C, sent to the whole
foreground process group as a terminal does) end the real commands at a batch boundary
within seconds, with one line, exit 0 / 130, no Rust panic or traceback; a restart
resumes exactly. A failing ClickHouse write prints one error line (the panic goes to the
debug log)."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import time
from pathlib import Path

from generators.events import EventGenerator, GeneratorConfig
from generators.publish import publish_to_kafka, write_jsonl
from inventory.core.settings import Settings
from inventory.kafka.topics import ensure_topics
from tests.support.cli import Lines, env_for, query, spawn_cli
from tests.support.http import free_port, wait_healthy
from tests.support.kafka import wait_for_message
from tests.support.model import Msg, expected_tables
from tests.support.processes import cli_stock, topic_model, wait_for_epoch

CONFIG = GeneratorConfig(seed=17, skus=40, warehouses=2, rate=100.0, malformed_share=0.01)
STOP_WITHIN = 10.0  # seconds from the signal to the exit
NOISE = ("panicked", "stack backtrace", "Traceback", "KeyboardInterrupt")


def spawn(env: dict[str, str], workdir: Path, *args: str) -> subprocess.Popen[str]:
    """A command in its own process group, like a terminal's foreground job."""
    return spawn_cli(env, workdir, *args, session=True)


def stop(proc: subprocess.Popen[str], sig: int) -> tuple[int, str, float]:
    """Signal the process group; (exit code, stderr, seconds to exit)."""
    os.killpg(proc.pid, sig)
    started = time.monotonic()
    _, err = proc.communicate(timeout=60)
    return proc.returncode, err, time.monotonic() - started


def assert_clean(err: str, line: str) -> None:
    assert err.strip().splitlines()[-1].startswith(line), err
    for noise in NOISE:
        assert noise not in err, err


def wait_for_progress(proc: subprocess.Popen[str], recovery: Path, *, keyed: bool = True) -> None:
    """Until the flow snapshots a new epoch (``keyed``: one that processed events)."""
    wait_for_epoch(proc, recovery / "part-0.sqlite3", keyed=keyed)


def run_to_end(env: dict[str, str], workdir: Path) -> None:
    proc = spawn(env, workdir, "run", "--exit-at-end")
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err


def test_run_stops_on_sigterm_and_sigint_and_resumes_exactly(
    settings: Settings, tmp_path: Path
) -> None:
    brokers = settings.kafka_brokers or ""
    ensure_topics(settings, brokers)
    generator = EventGenerator(CONFIG)
    publish_to_kafka(generator.messages(30_000), brokers, settings.events_topic)
    env = env_for(settings, tmp_path)
    recovery = tmp_path / "data" / "recovery"

    running = spawn(env, tmp_path, "run")  # tailing, as in production
    wait_for_progress(running, recovery)
    code, err, took = stop(running, signal.SIGTERM)
    assert code == 0 and took < STOP_WITHIN, err
    assert_clean(err, "stopped on SIGTERM: the dataflow stopped at a batch boundary")

    publish_to_kafka(generator.messages(10_000), brokers, settings.events_topic)
    running = spawn(env, tmp_path, "run")
    wait_for_progress(running, recovery)  # it resumed and processed some of the new ones
    code, err, took = stop(running, signal.SIGINT)
    assert code == 130 and took < STOP_WITHIN, err
    assert_clean(err, "stopped on SIGINT")

    run_to_end(env, tmp_path)
    idle = spawn(env, tmp_path, "run")  # nothing left to read: Ctrl-C on an idle flow
    wait_for_progress(idle, recovery, keyed=False)
    code, err, took = stop(idle, signal.SIGINT)
    assert code == 130 and took < STOP_WITHIN, err
    assert_clean(err, "stopped on SIGINT")

    expected = topic_model(settings)
    assert cli_stock(env, tmp_path) == {key: value[:2] for key, value in expected.stock.items()}
    events = query(env, tmp_path, "SELECT count() FROM events FINAL")
    assert events == [[str(len(expected.accepted))]]


def test_serve_stops_on_sigterm_and_sigint(settings: Settings, tmp_path: Path) -> None:
    env = env_for(settings, tmp_path)
    assert spawn(env, tmp_path, "schema", "apply").wait(120) == 0
    for sig, code in ((signal.SIGTERM, 0), (signal.SIGINT, 130)):
        port = free_port()
        server = spawn({**env, "INVENTORY_API_PORT": str(port)}, tmp_path, "serve")
        wait_healthy(f"http://127.0.0.1:{port}", server)
        got, err, took = stop(server, sig)
        assert got == code and took < STOP_WITHIN, err
        assert_clean(err, f"stopped on {signal.Signals(sig).name}: the availability API")


def test_backfill_stops_on_sigterm_and_a_rerun_completes(
    settings: Settings, tmp_path: Path
) -> None:
    buffer = io.StringIO()
    write_jsonl(EventGenerator(CONFIG).messages(40_000), buffer)
    path = tmp_path / "history.jsonl"
    path.write_text(buffer.getvalue())
    env = {**env_for(settings, tmp_path), "INVENTORY_PROGRESS_SECONDS": "0.2"}
    backfill = spawn(env, tmp_path, "backfill", str(path))
    lines = Lines(backfill)
    lines.wait_for(lambda line: line.startswith("progress:") and "events=" in line)
    os.killpg(backfill.pid, signal.SIGTERM)
    started = time.monotonic()
    code, err = lines.finish()
    took = time.monotonic() - started
    assert code == 0 and took < STOP_WITHIN, err
    assert_clean(err, "stopped on SIGTERM: the backfill is partial")
    partial = int(query(env, tmp_path, "SELECT count() FROM events FINAL")[0][0])

    again = spawn(env, tmp_path, "backfill", str(path))
    _, err = again.communicate(timeout=600)
    assert again.returncode == 0, err
    mtime = int(path.stat().st_mtime * 1000)
    msgs = [
        Msg(None, v.encode(), 0, n, mtime) for n, v in enumerate(buffer.getvalue().splitlines())
    ]
    expected = expected_tables(
        msgs, settings.lateness_seconds * 1000, settings.max_future_seconds * 1000
    )
    events = int(query(env, tmp_path, "SELECT count() FROM events FINAL")[0][0])
    assert partial < events == len(expected.accepted)


def test_a_failing_clickhouse_write_prints_one_line(settings: Settings, tmp_path: Path) -> None:
    brokers = settings.kafka_brokers or ""
    ensure_topics(settings, brokers)
    publish_to_kafka(EventGenerator(CONFIG).messages(500), brokers, settings.events_topic)
    env = env_for(settings, tmp_path)
    assert spawn(env, tmp_path, "schema", "apply").wait(120) == 0
    # a table gone for good: an error that is neither transient nor about the data
    query(env, tmp_path, "DETACH TABLE sales_rates PERMANENTLY")
    failing = spawn(env, tmp_path, "run", "--exit-at-end")
    _, err = failing.communicate(timeout=300)
    assert failing.returncode == 1, err
    assert_clean(err, "error: ")
    assert "UNKNOWN_TABLE" in err.strip().splitlines()[-1]
    assert len(err.strip().splitlines()) <= 3, err  # the sink's log line, rows, the error
    debug = spawn(env, tmp_path, "--log-level", "debug", "run", "--exit-at-end")
    _, err = debug.communicate(timeout=300)
    assert debug.returncode == 1
    # the full trace
    assert "DEBUG inventory.runtime.native_stderr: thread" in err and "panicked" in err


def test_generate_stops_on_sigterm_to_kafka_and_to_stdout(
    settings: Settings, tmp_path: Path
) -> None:
    env = env_for(settings, tmp_path)
    for target in ([], ["--stdout"]):
        generate = spawn(
            env, tmp_path, "generate", "--count", "100000000", "--rate", "2000", *target
        )
        if target:  # producing: its first line is out
            assert generate.stdout is not None and generate.stdout.readline()
        else:  # producing: a message is in the topic
            wait_for_message(settings.kafka_brokers or "", settings.events_topic)
        code, err, took = stop(generate, signal.SIGTERM)
        assert code == 0 and took < STOP_WITHIN, err
        assert_clean(err, "stopped on SIGTERM")
