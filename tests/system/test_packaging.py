"""A normal (non-editable) wheel install works on its own, and the image's lock file agrees
with pyproject.toml."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from inventory.clickhouse.migrations import MigrationError, load_migrations
from tests.support.cli import base_env
from tests.support.paths import ROOT


def test_schema_apply_with_no_migrations_fails(tmp_path: Path) -> None:
    with pytest.raises(MigrationError, match="no migrations found"):
        load_migrations(tmp_path)


def test_a_wheel_install_finds_its_sql_and_applies_every_migration(tmp_path: Path) -> None:
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path), "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    # the package list is found, not listed: setuptools has nothing to warn about
    assert "Warning" not in built.stderr and "would be ignored" not in built.stderr, built.stderr
    (wheel,) = tmp_path.glob("inventory_stream-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
    scripts = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "inventory = inventory.cli.main:main" in scripts  # the `inventory` command
    assert "inventory/clickhouse/sql/migrations/0001_core_tables.sql" in names
    assert "inventory/clickhouse/sql/queries/seed_summary.sql" in names
    target = tmp_path / "installed"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(target),
         str(wheel)],
        check=True,
        timeout=300,
    )  # fmt: skip
    # Only the wheel and the dependencies: no site processing (so not the editable
    # checkout the development venv points at), run from elsewhere.
    site_packages = sysconfig.get_paths()["purelib"]
    env = base_env()
    env["PYTHONPATH"] = os.pathsep.join([str(target), site_packages])
    env["INVENTORY_CLICKHOUSE_URL"] = f"chdb://{tmp_path / 'clickhouse'}"
    work = tmp_path / "elsewhere"
    work.mkdir()

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-S", *args],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    where = run("-c", "import inventory.clickhouse.migrations as m; print(m.__file__)")
    assert where.stdout.startswith(str(target)), where.stdout + where.stderr
    applied = run("-m", "inventory.cli", "schema", "apply")
    assert applied.returncode == 0, applied.stderr
    count = len(load_migrations())
    assert applied.stdout.count(", ") == count - 1 and "0011_" in applied.stdout
    again = run("-c", "from inventory.cli.main import main; main(['schema', 'apply'])")
    assert "nothing (up to date)" in again.stdout, again.stderr  # the console script's call
