"""`inventory backfill` as a user runs it: a file, and a range of the topic."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.cli import base_env


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
    # a file backfill reads no topic: it starts no broker (nor leaves one running)
    assert not (tmp_path / "data" / "broker.json").exists()
    assert not (tmp_path / "data" / "broker.log").exists()
    missing = subprocess.run(
        [sys.executable, "-m", "inventory.cli", "backfill", "nope.jsonl"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert missing.returncode == 1 and "backfill input not found" in missing.stderr


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
