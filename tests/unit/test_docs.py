"""The README documents every setting and the contract tables exist in the migrations."""

from __future__ import annotations

import re

from inventory.core.settings import ENV_PREFIX, Settings
from inventory.core.settings.table import with_table
from tests.support.paths import ROOT


def test_readme_configuration_table_is_generated_from_the_settings() -> None:
    """The table is what ``inventory settings --markdown`` prints: regenerate it with
    ``inventory settings --readme README.md`` after changing a setting."""
    readme = (ROOT / "README.md").read_text()
    assert readme == with_table(readme), "README's settings table drifted from the settings"
    documented = set(re.findall(r"^\| `(INVENTORY_[A-Z_]+)` \|", readme, flags=re.M))
    assert documented == {ENV_PREFIX + name.upper() for name in Settings.model_fields}
    described = [name for name, field in Settings.model_fields.items() if not field.description]
    assert not described, f"settings without a description: {described}"


def test_readme_has_the_two_commands_and_ci_runs_the_test_one() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "make demo" in readme and "make test" in readme
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_every_dead_letter_reason_is_documented_word_for_word() -> None:
    import json

    from dataflows.decode import decode_one
    from tests.support.messages import GOOD, FakeMsg

    docs = (ROOT / "docs" / "semantics.md").read_text().replace("\\|", "|")
    bad: list[bytes | None] = [None, b"x" * 70_000, b"{", b"[]", b"{}"]
    for change in (
        {"event_id": ""},
        {"event_id": "\ud800"},
        {"event_type": "gift"},
        {"sku": "a b"},
        {"warehouse_id": ""},
        {"quantity": 2.0},
        {"quantity": 10**10},
        {"quantity": 0},
        {"event_type": "adjustment", "quantity": 0},
        {"event_type": "count", "quantity": -1},
        {"occurred_at": "yesterday"},
        {"occurred_at": "2026-13-01T00:00:00Z"},
        {"occurred_at": "1999-12-31T23:59:59Z"},
        {"occurred_at": "2100-01-01T00:00:00Z"},
        {"occurred_at": "2099-01-01T00:00:00Z"},
        {"unit_price": "1"},
        {"unit_price": -1},
        {"order_id": "o" * 129},
        {"order_id": "\udc00"},
    ):
        bad.append(json.dumps({**GOOD, **change}).encode())
    for raw in bad:
        reason = decode_one(FakeMsg(raw), max_future_ms=300_000).error  # type: ignore[union-attr]
        documented = reason.split(": ")[0] + ": …" if ": " in reason else reason
        assert f"`{documented}" in docs, reason


def test_every_reason_code_is_in_the_contract() -> None:
    from inventory.core.reasons import REASON_CODES

    contract = (ROOT / "docs" / "contracts.md").read_text()
    assert [code for code in REASON_CODES if f"`{code}`" not in contract] == []
