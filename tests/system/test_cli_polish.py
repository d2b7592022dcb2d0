"""The command line's edges: output formats, one error line, help and defaults, exit codes,
typos in settings, the local broker's fixed port, progress lines, access logs, and the
embedded database held by another process."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

from inventory.kafka.local_broker import free_port
from tests.support.cli import clean_env, cli
from tests.support.http import get_json, wait_healthy


def test_sql_formats_statements_and_one_error_line(workdir: Path) -> None:
    assert cli(workdir, "schema", "apply").returncode == 0
    query = "SELECT 1 AS a, 'x;y\\tz' AS b; -- a comment; not a statement\nSELECT NULL AS n"
    result = cli(workdir, "sql", query, "--format", "json")
    assert result.returncode == 0, result.stderr
    assert [json.loads(line) for line in result.stdout.splitlines()] == [
        [{"a": 1, "b": "x;y\tz"}],
        [{"n": None}],
    ]
    tsv = cli(workdir, "sql", query, "--format", "tsv").stdout
    assert tsv == "a\tb\n1\tx;y\\tz\n\nn\n\\N\n"
    long = "v" * 500
    csv = cli(workdir, "sql", f"SELECT '{long}, ok' AS c", "--format", "csv").stdout
    assert csv == f'c\n"{long}, ok"\n'  # machine formats never cut
    bad = cli(workdir, "sql", "SELECT * FROM no_such_table")
    assert bad.returncode == 1
    errors = [line for line in bad.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "UNKNOWN_TABLE" in errors[0]
    assert errors[0].count("Unknown table") == 1, errors[0]  # said once, not twice


def test_usage_errors_exit_2_with_a_clear_message(workdir: Path) -> None:
    version = cli(workdir, "--version")
    assert version.returncode == 0 and version.stdout.startswith("inventory ")
    for args, message in (
        (["--log-level", "bogus", "broker", "status"], "--log-level: one of DEBUG"),
        (["generate", "--skus", "0", "--stdout"], "--skus: must be at least 1"),
        (["generate", "--count", "-5", "--stdout"], "--count: must be 0 or more"),
        (["generate", "--malformed", "lots", "--stdout"], "--malformed: not a number"),
    ):
        result = cli(workdir, *args)
        assert result.returncode == 2 and message in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr
    status = cli(workdir, "broker", "status")
    assert status.returncode == 1 and "no local broker running" in status.stdout


def test_a_closed_pipe_ends_generate_quietly(workdir: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "inventory.cli", "generate", "--stdout", "--count", "1000000"],
        cwd=workdir,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert json.loads(proc.stdout.readline())["event_id"]  # what `| head -1` reads
    proc.stdout.close()
    assert proc.wait(60) == 141
    assert proc.stderr.read() == b""


def test_a_typo_in_a_setting_name_is_warned_about(workdir: Path) -> None:
    result = cli(workdir, "broker", "status", INVENTORY_KAFKA_BROKER="x:9092")
    assert "INVENTORY_KAFKA_BROKER is not a setting" in result.stderr
    assert "did you mean INVENTORY_KAFKA_BROKERS?" in result.stderr


def test_the_local_broker_listens_on_its_fixed_port(workdir: Path, tmp_path: Path) -> None:
    port = str(free_port())
    started = cli(workdir, "broker", "start", INVENTORY_LOCAL_BROKER_PORT=port)
    assert started.returncode == 0 and started.stdout.strip().endswith(f"127.0.0.1:{port}")
    other = tmp_path / "other"
    other.mkdir()
    taken = cli(other, "broker", "start", INVENTORY_LOCAL_BROKER_PORT=port)
    assert taken.returncode == 1 and "INVENTORY_LOCAL_BROKER_PORT" in taken.stderr


def test_access_logs_and_a_database_held_by_another_process(workdir: Path) -> None:
    assert cli(workdir, "schema", "apply").returncode == 0
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "inventory.cli", "serve"],
        cwd=workdir,
        env=clean_env(
            INVENTORY_API_PORT=str(port),
            INVENTORY_API_ACCESS_LOG="true",
            INVENTORY_AVAILABILITY_SOURCE="clickhouse",  # the API holds the embedded database
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, server)
        get_json(f"{url}/v1/products")
        held = cli(workdir, "sql", "SELECT 1")
        assert held.returncode == 1
        assert "is held by another process" in held.stderr
        assert "Code: 76" not in held.stderr  # chDB's own line: to the debug log
        assert "inventory run --serve" in held.stderr  # where to look meanwhile
        generate = cli(workdir, "generate", "--count", "10")
        assert generate.returncode == 1 and "generate --no-catalog" in generate.stderr
        assert str(workdir / "data" / "clickhouse") in held.stderr
    finally:
        server.send_signal(signal.SIGTERM)
        out, err = server.communicate(timeout=60)
    assert "GET /v1/products" in out + err
