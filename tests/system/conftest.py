"""Fixtures of the system tests: a working directory whose local broker is stopped after."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cli import clean_env


@pytest.fixture
def workdir(tmp_path: Path) -> Iterator[Path]:
    """The test's own directory for `inventory` commands (local broker, embedded ClickHouse
    under ./data); the local broker they start is stopped afterwards."""
    yield tmp_path
    subprocess.run(
        [sys.executable, "-m", "inventory.cli", "broker", "stop"],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        timeout=60,
    )
