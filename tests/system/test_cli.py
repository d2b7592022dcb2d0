"""The ``inventory`` command as a user runs it (subprocesses, real broker and chDB)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.support.cli import clean_env, cli
from tests.support.http import free_port, get_json, wait_healthy


def test_bad_config_fails_fast_naming_the_setting(workdir: Path) -> None:
    result = cli(workdir, "schema", "apply", INVENTORY_LATENESS_SECONDS="ten")
    assert result.returncode == 2
    assert "INVENTORY_LATENESS_SECONDS" in result.stderr
    result = cli(workdir, "generate", "--count", "1", INVENTORY_KAFKA_BROKERS="nohostport")
    assert result.returncode == 2 and "INVENTORY_KAFKA_BROKERS" in result.stderr
    result = cli(
        workdir,
        "generate",
        "--count",
        "1",
        INVENTORY_KAFKA_BROKERS="127.0.0.1:1",
        INVENTORY_KAFKA_CONFIG='{"no.such.property": "s3cr3t"}',
    )
    assert result.returncode == 2 and "INVENTORY_KAFKA_CONFIG" in result.stderr, result.stderr
    assert "s3cr3t" not in result.stderr


def test_generate_stdout_is_seeded_json_lines(workdir: Path) -> None:
    first = cli(
        workdir,
        "generate",
        "--stdout",
        "--count",
        "200",
        "--seed",
        "3",
        "--start",
        "2026-11-24T09:00:00Z",
        "--malformed",
        "0.1",
    )
    second = cli(
        workdir,
        "generate",
        "--stdout",
        "--count",
        "200",
        "--seed",
        "3",
        "--start",
        "2026-11-24T09:00:00Z",
        "--malformed",
        "0.1",
    )
    assert first.returncode == 0 and first.stdout == second.stdout
    lines = first.stdout.splitlines()
    assert len(lines) == 200
    kinds = set()
    for line in lines:
        try:
            kinds.add(json.loads(line)["event_type"])
        except (ValueError, KeyError, TypeError):
            kinds.add("malformed")
    assert {"count", "sale", "malformed"} <= kinds


def test_schema_apply_generate_run_and_sql(workdir: Path) -> None:
    assert "applied 0001_core_tables" in cli(workdir, "schema", "apply").stdout
    assert "nothing (up to date)" in cli(workdir, "schema", "apply").stdout
    gen = cli(workdir, "generate", "--count", "3000", "--malformed", "0.02")
    assert gen.returncode == 0, gen.stderr
    assert "produced 3000 events" in gen.stderr
    run = cli(workdir, "run", "--exit-at-end")
    assert run.returncode == 0, run.stderr
    sql = cli(
        workdir,
        "sql",
        "SELECT count() > 0, countIf(on_hand < 0) >= 0 FROM stock_levels FINAL",
        "--format",
        "tsv",
    )
    assert sql.returncode == 0, sql.stderr
    assert sql.stdout.splitlines()[1] == "1\t1"
    dead = cli(workdir, "sql", "SELECT count() FROM dead_letters", "--format", "tsv")
    assert int(dead.stdout.splitlines()[1]) > 0
    bad = cli(workdir, "sql", "SELECT * FROM no_such_table")
    assert bad.returncode == 1 and "no_such_table" in bad.stderr

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "inventory.cli", "serve"],
        cwd=workdir,
        env=clean_env(INVENTORY_API_PORT=str(port)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, server)
        status, body = get_json(f"{url}/v1/availability/SKU-00001")
        assert status == 200
        assert body["message"] in ("In stock", "Out of stock") or "left in stock" in body["message"]
        assert get_json(f"{url}/v1/availability/NO-SUCH-SKU")[0] == 404
    finally:
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=30) == 130  # stopped by Ctrl-C, like `run`


def test_demo_shows_stock_low_stock_and_dead_letters(workdir: Path) -> None:
    result = cli(workdir, "demo", "--events", "2000", "--seed", "1")
    assert result.returncode == 0, result.stderr
    for text in (
        "reorders: each request, its purchase order and its receipt",
        "low and out of stock now",
        "purchase orders",
        "top sellers",
        "dead letters",
        "inventory sql",
    ):
        assert text in result.stdout
    # the loop closed: the supplier answered the reorder requests, the POs were received
    delivered = re.search(r"^supplier: (\d+) restock", result.stdout, re.M)  # a line of its own
    assert delivered and int(delivered.group(1)) > 0, result.stdout
    # received: the supplier's deliveries and those of the two weeks of history before
    received = re.search(r"received\s*│\s*(\d+)\s", result.stdout)
    assert received and int(received.group(1)) >= int(delivered.group(1)), result.stdout
    # demand-policy SKUs learned reorder points from the history, forecast-policy SKUs took
    # them from the forecast fitted on it, beside the static ones
    assert "reorder points: static, learned from live demand, from the batch forecast" in (
        result.stdout
    )
    assert re.search(r"│\s*demand\s*│", result.stdout), result.stdout
    assert re.search(r"│\s*forecast\s*│\s*\d{8}\s*│", result.stdout), result.stdout  # version
    # per request: the alert, its purchase order (whole id), received, the stock now
    assert re.search(
        r"low_stock \(\d+\)\s*│\s*po-[0-9a-f]{24}\s*│.*│\s*received\s*│", result.stdout
    )
    # commands to copy are whole lines, never wrapped
    sql = '.venv/bin/inventory sql "SELECT * FROM stock_levels FINAL ORDER BY on_hand LIMIT 9"'
    assert any(line.strip() == sql for line in result.stdout.splitlines()), result.stdout


def test_serve_without_a_schema_fails_at_start(workdir: Path) -> None:
    result = cli(workdir, "serve", timeout=120, INVENTORY_AVAILABILITY_SOURCE="clickhouse")
    assert result.returncode == 1
    assert "stock_levels" in result.stderr  # the table it could not read, named


def test_demo_serve_keeps_stock_live_in_the_storefront_api(workdir: Path) -> None:
    port = free_port()
    demo = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "inventory.cli",
            "demo",
            "--events",
            "600",
            "--history-days",
            "2",
            "--serve",
        ],
        cwd=workdir,
        env=clean_env(INVENTORY_API_PORT=str(port), INVENTORY_AVAILABILITY_REFRESH_SECONDS="0.2"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # Ctrl-C reaches the whole process group, as in a terminal
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, demo, timeout=180)
        _, products = get_json(f"{url}/v1/products?limit=100")
        query = "&".join(f"sku={p['sku']}" for p in products["items"])
        assert len(products["items"]) == 100

        def newest() -> str:
            _, body = get_json(f"{url}/v1/availability?{query}")
            return max(item["updated_at"] or "" for item in body["items"])

        first = newest()
        deadline = time.monotonic() + 60
        while newest() == first:  # live events reach the API through the flow
            assert time.monotonic() < deadline, "no live stock change within 60 s"
            time.sleep(0.5)
    finally:
        os.killpg(demo.pid, signal.SIGINT)
        started = time.monotonic()
        out, err = demo.communicate(timeout=60)
    assert f"storefront:     {url}/" in out
    assert demo.returncode == 130 and time.monotonic() - started < 10, err
    assert err.strip().splitlines()[-1].startswith("stopped on SIGINT"), err
    assert "panicked" not in err and "Traceback" not in err, err


def test_reset_asks_then_deletes_the_local_data_and_demo_shows_its_own_run(
    workdir: Path,
) -> None:
    first = cli(workdir, "demo", "--events", "300", "--history-days", "2", timeout=300)
    assert first.returncode == 0, first.stderr
    counted = cli(workdir, "sql", "SELECT count() FROM events FINAL", "--format", "tsv")
    accepted = int(counted.stdout.splitlines()[1])
    second = cli(workdir, "demo", "--events", "300", "--history-days", "2", timeout=300)
    assert second.returncode == 0, second.stderr
    assert "local data reset: this run starts from empty tables and topics" in second.stdout
    counted = cli(workdir, "sql", "SELECT count() FROM events FINAL", "--format", "tsv")
    again = int(counted.stdout.splitlines()[1])
    assert 0.7 * accepted < again < 1.3 * accepted  # its own run (history included), not 2x

    refused = cli(workdir, "reset")  # no terminal to ask on
    assert refused.returncode == 2 and "--yes" in refused.stderr
    assert "delete ClickHouse database inventory" in refused.stdout
    assert "delete the dataflow's recovery state" in refused.stdout
    assert "delete topics inventory.events" in refused.stdout
    done = cli(workdir, "reset", "--yes")
    assert done.returncode == 0, done.stderr
    assert not (workdir / "data" / "recovery").exists()
    again = cli(workdir, "reset", "--yes")
    assert again.returncode == 0 and "nothing to delete" in again.stdout
    server = cli(workdir, "reset", "--yes", INVENTORY_CLICKHOUSE_URL="http://ch:8123/db")
    assert "leave alone: the ClickHouse server http://ch:8123/db" in server.stdout
