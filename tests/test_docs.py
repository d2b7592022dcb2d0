"""The README documents every setting and the contract tables exist in the migrations."""

from __future__ import annotations

import re
from pathlib import Path

from inventory.settings import ENV_PREFIX, Settings

ROOT = Path(__file__).resolve().parent.parent


def test_readme_configuration_table_lists_every_setting() -> None:
    readme = (ROOT / "README.md").read_text()
    documented = set(re.findall(r"^\| `(INVENTORY_[A-Z_]+)` \|", readme, flags=re.M))
    assert documented == {ENV_PREFIX + name.upper() for name in Settings.model_fields}


def test_readme_has_the_two_commands_and_ci_runs_the_test_one() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "make demo" in readme and "make test" in readme
    assert "make test" in (ROOT / ".ci" / "run").read_text()
