"""A normal (non-editable) wheel install works on its own, and the image's lock file agrees
with pyproject.toml."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from inventory.clickhouse.migrations import MigrationError, load_migrations
from tests.envs import base_env

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
LOCK = ROOT / "requirements" / "image.lock"


def locked() -> dict[str, tuple[str, str]]:
    """name -> (version, the entry's text) of requirements/image.lock."""
    entries = re.split(r"\n(?=[a-z0-9])", LOCK.read_text().strip(), flags=re.I)
    out = {}
    for entry in entries:
        match = re.match(r"([A-Za-z0-9._-]+)==([^\s;\\]+)", entry)
        assert match, entry[:80]
        out[canonicalize_name(match.group(1))] = (match.group(2), entry)
    return out


def test_the_image_lock_pins_every_runtime_dependency_with_hashes() -> None:
    pins = locked()
    for spec in PYPROJECT["project"]["dependencies"]:
        requirement = Requirement(spec)
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is not in {LOCK.name}: run `make lock`"
        version, entry = pins[name]
        assert requirement.specifier.contains(version, prereleases=True), (name, version)
    for _, entry in pins.values():
        assert "--hash=sha256:" in entry
    for spec in PYPROJECT["project"]["optional-dependencies"]["local"]:
        assert canonicalize_name(Requirement(spec).name) not in pins  # not in the image
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install --require-hashes --no-deps -r /tmp/image.lock" in dockerfile
    assert " -e " not in dockerfile  # a wheel install, like a user's


def test_schema_apply_with_no_migrations_fails(tmp_path: Path) -> None:
    with pytest.raises(MigrationError, match="no migrations found"):
        load_migrations(tmp_path)


@pytest.mark.integration
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
    (wheel,) = tmp_path.glob("inventory_stream-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
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
    again = run("-m", "inventory.cli", "schema", "apply")
    assert "nothing (up to date)" in again.stdout
