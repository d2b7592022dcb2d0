"""Shared fixtures: one real local broker and one chDB path per test session.

chDB allows one data path per process, so tests isolate by database and topic names.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from clickhouse_connect.driver.client import Client

from inventory.clickhouse.client import connect
from inventory.clickhouse.migrations import apply_migrations
from inventory.core.settings import Settings
from inventory.kafka.local_broker import temporary_broker


@pytest.fixture(scope="session")
def broker() -> Iterator[str]:
    with temporary_broker() as address:
        yield address


@pytest.fixture(scope="session")
def chdb_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("chdb")


@pytest.fixture
def make_settings(chdb_dir: Path, tmp_path: Path) -> Callable[..., Settings]:
    """Settings with a fresh database and fresh topics for this test."""
    suffix = uuid.uuid4().hex[:10]

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "clickhouse_url": f"chdb://{chdb_dir}",
            "clickhouse_database": f"t_{suffix}",
            "events_topic": f"events-{suffix}",
            "alerts_topic": f"alerts-{suffix}",
            "dlq_topic": f"dlq-{suffix}",
            "data_dir": tmp_path / "data",
            "epoch_seconds": 0.5,
            "clickhouse_backoff_seconds": 0.0,
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    return make


@pytest.fixture
def settings(make_settings: Callable[..., Settings], broker: str) -> Settings:
    return make_settings(kafka_brokers=broker)


@pytest.fixture
def ch(settings: Settings) -> Iterator[Client]:
    """A client on the test's database, with the schema applied."""
    client = connect(settings)
    apply_migrations(client, settings.clickhouse_database)
    client.close()
    client = connect(settings, database=settings.clickhouse_database)
    yield client
    client.close()
