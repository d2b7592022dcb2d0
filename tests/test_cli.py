"""The ``inventory`` command as a user runs it (subprocesses, real broker and chDB)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


@pytest.fixture
def workdir(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path
    subprocess.run(
        [sys.executable, "-m", "inventory.cli", "broker", "stop"],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        timeout=60,
    )


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INVENTORY_")}
    env.update(extra)
    return env


def cli(
    workdir: Path, *args: str, timeout: float = 300, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "inventory.cli", *args],
        cwd=workdir,
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_bad_config_fails_fast_naming_the_setting(workdir: Path) -> None:
    result = cli(workdir, "schema", "apply", INVENTORY_LATENESS_SECONDS="ten")
    assert result.returncode == 2
    assert "INVENTORY_LATENESS_SECONDS" in result.stderr
    result = cli(workdir, "generate", "--count", "1", INVENTORY_KAFKA_BROKERS="nohostport")
    assert result.returncode == 2 and "INVENTORY_KAFKA_BROKERS" in result.stderr


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


def test_demo_shows_stock_low_stock_and_dead_letters(workdir: Path) -> None:
    result = cli(workdir, "demo", "--events", "2000", "--seed", "1")
    assert result.returncode == 0, result.stderr
    for text in (
        "low and out of stock",
        "latest alerts",
        "top sellers",
        "dead letters",
        "inventory sql",
    ):
        assert text in result.stdout
