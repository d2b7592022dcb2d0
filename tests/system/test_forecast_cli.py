"""``inventory forecast`` on the command line, as compose's daily ``forecast`` service
runs it (``--every-hours``): it runs at once (over an empty history: it says so), then
waits, and stops cleanly on SIGTERM."""

from __future__ import annotations

import signal
from pathlib import Path

from tests.support.cli import clean_env, cli, spawn_cli


def test_the_scheduled_job_runs_at_once_and_stops_on_sigterm(tmp_path: Path) -> None:
    env = {
        "INVENTORY_CLICKHOUSE_URL": f"chdb://{tmp_path / 'ch'}",
        "INVENTORY_DATA_DIR": str(tmp_path / "data"),
    }
    assert cli(tmp_path, "schema", "apply", **env).returncode == 0
    args = ("forecast", "--through", "2026-01-01", "--every-hours", "24")
    job = spawn_cli(clean_env(**env), tmp_path, *args)
    assert job.stdout is not None
    first = job.stdout.readline()  # the first run, at once
    assert first.strip() == (
        "forecast 20260101: 0 keys (none), 0 days written; holdout WAPE over all keys n/a"
    )
    job.send_signal(signal.SIGTERM)
    _, err = job.communicate(timeout=60)
    assert job.returncode == 0, err
    assert "stopped on SIGTERM" in err
