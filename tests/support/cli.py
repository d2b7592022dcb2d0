"""The one CLI runner of the tests: `inventory` in a subprocess, with a clean environment."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.envs import base_env


def clean_env(**extra: str) -> dict[str, str]:
    env = base_env()
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
