"""The recovery directory: a new store gets a new lineage and no key states; a store
written before key shards (per-key snapshots, no ``keys/format``) is upgraded by a new
lineage, so its keys are rebuilt from the tables; the shard count is fixed once."""

from __future__ import annotations

from pathlib import Path

import pytest

from inventory.core.settings import Settings
from inventory.runtime.recovery import (
    KEY_STORE_DIR,
    LINEAGE_FILE,
    flow_lineage,
    key_shards,
    recovery_config,
)


def settings_at(path: Path) -> Settings:
    return Settings(_env_file=None, data_dir=path)  # type: ignore[call-arg]


def test_a_store_from_before_key_shards_gets_a_new_lineage(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = settings_at(tmp_path)
    recovery_config(settings)
    first = flow_lineage(settings, recovery=True)
    keys = settings.recovery_path / KEY_STORE_DIR
    stale = keys / "shard-0.sqlite3"
    stale.write_bytes(b"")
    recovery_config(settings)  # the same store again: nothing changes
    assert flow_lineage(settings, recovery=True) == first
    (keys / "format").unlink()  # what a store of the previous flow looks like
    recovery_config(settings)
    upgraded = flow_lineage(settings, recovery=True)
    assert upgraded != first and upgraded.startswith("flow:")
    assert "predates key shards" in caplog.text
    for part in settings.recovery_path.glob("part-*.sqlite3"):
        part.unlink()  # a lost store: a new one has no key states
    recovery_config(settings)
    assert not stale.exists()
    assert (settings.recovery_path / LINEAGE_FILE).read_text().strip() not in (first, upgraded)


def test_the_shard_count_is_fixed_when_the_store_first_runs(tmp_path: Path) -> None:
    settings = settings_at(tmp_path)
    recovery_config(settings)
    assert key_shards(settings, lambda: 6) == 6
    assert key_shards(settings, lambda: 12) == 6  # partitions added later: the store's


def test_the_bytewax_entry_refuses_a_recovery_directory_other_than_the_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dataflows.main import check_recovery_directory
    from inventory.core.settings import SettingsError

    monkeypatch.delenv("BYTEWAX_RECOVERY_DIRECTORY", raising=False)
    ours = Settings(_env_file=None, recovery_dir=tmp_path / "r")  # type: ignore[call-arg]
    check_recovery_directory(ours, ["-r", str(tmp_path / "r")])
    check_recovery_directory(settings_at(tmp_path), [])  # neither: no recovery
    with pytest.raises(SettingsError, match="INVENTORY_RECOVERY_DIR"):
        check_recovery_directory(ours, ["-r", str(tmp_path / "other")])
    with pytest.raises(SettingsError, match="unset"):
        check_recovery_directory(settings_at(tmp_path), ["-r", str(tmp_path / "r")])
    monkeypatch.setenv("BYTEWAX_RECOVERY_DIRECTORY", str(tmp_path / "r"))
    check_recovery_directory(ours, [])
