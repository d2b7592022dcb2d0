"""The db tier's shared fixtures."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from clickhouse_connect.driver.client import Client

from inventory.clickhouse.client import connect
from inventory.clickhouse.migrations import apply_migrations
from inventory.core.settings import Settings


@pytest.fixture(scope="module")
def migrated(chdb_dir: Path) -> Iterator[tuple[Settings, Client]]:
    """One database for every example, migrated once (examples truncate it: 0.01 s against
    about a second to apply every migration)."""
    cfg = Settings(  # type: ignore[call-arg]
        _env_file=None,
        clickhouse_url=f"chdb://{chdb_dir}",
        clickhouse_database=f"p_{uuid.uuid4().hex[:12]}",
        clickhouse_backoff_seconds=0.0,
        epoch_seconds=0.5,
        lateness_seconds=600,
        low_stock_threshold=4,
        default_target_stock=15,
        default_lead_time_hours=120 / 3600,  # POs fall overdue within the streams' 900 s
        reorder_grace_hours=60 / 3600,
        reorder_expiry_hours=240 / 3600,  # ... and expire
    )
    client = connect(cfg)
    apply_migrations(client, cfg.clickhouse_database)
    client.close()
    client = connect(cfg, database=cfg.clickhouse_database)
    yield cfg, client
    client.command(f"DROP DATABASE {cfg.clickhouse_database}")
    client.close()
