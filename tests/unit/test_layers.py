"""The layers are a lint contract (import-linter, in pyproject.toml, run by `make lint`):
it holds for the tree, and an upward import, or a client imported by the per-key logic,
breaks it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.support.paths import ROOT

PACKAGES = ("inventory", "dataflows", "sinks", "generators")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-logo", "--no-cache"],
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_tree_keeps_the_contracts_and_an_upward_import_breaks_them(tmp_path: Path) -> None:
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package,
            tmp_path / package,
            ignore=shutil.ignore_patterns("__pycache__", "*.sql", "static"),
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    kept = lint(tmp_path)
    assert kept.returncode == 0, kept.stdout + kept.stderr
    assert "0 broken" in kept.stdout

    errors = tmp_path / "inventory" / "core" / "errors.py"
    errors.write_text(errors.read_text() + "\nimport inventory.cli.main  # upward\n")
    stock = tmp_path / "dataflows" / "per_key" / "stock.py"
    stock.write_text(stock.read_text() + "\nimport inventory.clickhouse.client  # a client\n")
    broken = lint(tmp_path)
    assert broken.returncode == 1, broken.stdout
    assert "Layers: nothing imports from a layer above it BROKEN" in broken.stdout
    assert "inventory.core.errors -> inventory.cli.main" in broken.stdout
    assert "The per-key logic imports no client and no Bytewax BROKEN" in broken.stdout
    assert "dataflows.per_key.stock -> inventory.clickhouse.client" in broken.stdout
