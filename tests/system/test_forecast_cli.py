"""``inventory forecast`` on the command line: one run over an empty history says so and
exits 0; as a scheduled job (``--every-hours``, compose's daily forecast service) it runs
at once, then waits, and stops cleanly on SIGTERM."""

from __future__ import annotations

import signal
from pathlib import Path

from tests.support.cli import clean_env, cli, spawn_cli


def test_one_run_and_a_scheduled_job_stopped_by_sigterm(tmp_path: Path) -> None:
    env = {
        "INVENTORY_CLICKHOUSE_URL": f"chdb://{tmp_path / 'ch'}",
        "INVENTORY_DATA_DIR": str(tmp_path / "data"),
    }
    assert cli(tmp_path, "schema", "apply", **env).returncode == 0
    once = cli(tmp_path, "forecast", "--through", "2026-01-01", **env)
    assert once.returncode == 0, once.stderr
    assert once.stdout.strip() == (
        "forecast 20260101: 0 keys (none), 0 days written; holdout WAPE over all keys n/a"
    )
    bad = cli(tmp_path, "forecast", "--history-days", "3", **env)
    assert bad.returncode == 2 and "--history-days" in bad.stderr
    job = spawn_cli(clean_env(**env), tmp_path, "forecast", "--every-hours", "24")
    assert job.stdout is not None
    first = job.stdout.readline()  # the first run, at once
    assert first.startswith("forecast "), first
    job.send_signal(signal.SIGTERM)
    _, err = job.communicate(timeout=60)
    assert job.returncode == 0, err
    assert "stopped on SIGTERM" in err
