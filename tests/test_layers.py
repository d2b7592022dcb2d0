"""The layers stay visible: the flow, sinks and generator never import the runner, the
cluster launcher, the CLI or the demo that sit above them (no package loop)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ABOVE = {
    "inventory.runner",
    "inventory.cluster",
    "inventory.cli",
    "inventory.cli_parser",
    "inventory.demo",
    "inventory.progress",
    "inventory.availability",
}


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_nothing_below_imports_from_above() -> None:
    offences = {
        f"{path.relative_to(ROOT)} imports {name}"
        for package in ("dataflows", "sinks")
        for path in (ROOT / package).rglob("*.py")
        for name in imported(path)
        if any(name == top or name.startswith(top + ".") for top in ABOVE)
    }
    assert not offences


def test_the_decoder_lives_with_the_flow() -> None:
    assert (ROOT / "dataflows" / "decode.py").exists()
    assert not (ROOT / "inventory" / "decode.py").exists()
