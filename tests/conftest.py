"""Shared fixtures and the test tiers.

Tiers by what a test needs (its folder; ``make test-fast`` runs the first two):

* ``unit/`` - no broker, no database (Bytewax's testing source and sink are fine);
* ``db/`` - embedded ClickHouse (chDB), no broker;
* ``integration/`` - the real local broker and chDB, in the test's process;
* ``system/`` - ``inventory`` commands as processes: signals, clusters, the browser.

A test asking for a fixture its tier does not allow fails at collection. One broker and
one chDB data path serve the whole session (chDB allows one data path per process):
tests isolate by database and topic names.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from clickhouse_connect.driver.client import Client
from hypothesis import Phase
from hypothesis import settings as settings_profiles

from inventory.clickhouse.client import connect
from inventory.clickhouse.migrations import apply_migrations
from inventory.core.settings import Settings
from inventory.kafka.local_broker import temporary_broker

TIERS = ("unit", "db", "integration", "system")
BROKERS_BEFORE = pytest.StashKey[set[int]]()
# fixtures a tier may not use: what it does not need
FORBIDDEN = {
    "unit": {"broker", "settings", "ch"},
    "db": {"broker", "settings"},
}


def pytest_sessionstart(session: pytest.Session) -> None:
    if not hasattr(session.config, "workerinput"):  # the controller, or a run without xdist
        from tests.support.leftovers import broker_pids

        session.config.stash[BROKERS_BEFORE] = broker_pids()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """No broker started during the session may outlive it: fail the run, and stop them."""
    before = session.config.stash.get(BROKERS_BEFORE, None)
    if before is None:
        return
    from tests.support.leftovers import broker_pids, stop

    left = broker_pids() - before
    if left:
        stop(left)
        session.config.get_terminal_writer().line(
            f"error: {len(left)} broker process(es) started by the tests outlived them "
            f"(pids {sorted(left)}); stopped now",
            red=True,
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    problems = []
    for item in items:
        tier = next((part for part in item.path.parts if part in TIERS), None)
        if tier is None:
            problems.append(f"{item.nodeid}: not in a tier folder ({', '.join(TIERS)})")
            continue
        item.add_marker(getattr(pytest.mark, tier))
        used = FORBIDDEN.get(tier, set()) & set(getattr(item, "fixturenames", ()))
        if used:
            problems.append(f"{item.nodeid}: a {tier} test uses {', '.join(sorted(used))}")
    if problems:
        raise pytest.UsageError("tests outside their tier:\n" + "\n".join(problems))


@pytest.fixture(scope="session")
def broker() -> Iterator[str]:
    with temporary_broker() as address:
        yield address


@pytest.fixture(scope="session")
def chdb_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("chdb")


@pytest.fixture
def make_settings(chdb_dir: Path, tmp_path: Path) -> Callable[..., Settings]:
    """Settings with a fresh database and fresh topics for this test; without
    ``kafka_brokers`` no stock, catalog, decisions or forecast topic (nothing may need a
    broker)."""
    suffix = uuid.uuid4().hex[:10]

    def make(**overrides: Any) -> Settings:
        broker = bool(overrides.get("kafka_brokers"))
        values: dict[str, Any] = {
            "clickhouse_url": f"chdb://{chdb_dir}",
            "clickhouse_database": f"t_{suffix}",
            "events_topic": f"events-{suffix}",
            "alerts_topic": f"alerts-{suffix}",
            "dlq_topic": f"dlq-{suffix}",
            "stock_topic": f"stock-{suffix}" if broker else "",
            "catalog_topic": f"catalog-{suffix}" if broker else "",
            "hold_decisions_topic": f"decisions-{suffix}" if broker else "",
            "forecast_topic": f"forecasts-{suffix}" if broker else "",
            "data_dir": tmp_path / "data",
            "epoch_seconds": 0.5,
            "clickhouse_backoff_seconds": 0.0,
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    return make


@pytest.fixture
def db_settings(make_settings: Callable[..., Settings]) -> Settings:
    """The test's settings without a broker (its own database)."""
    return make_settings()


@pytest.fixture
def settings(make_settings: Callable[..., Settings], broker: str) -> Settings:
    """The test's settings on the session's broker (the same database as ``db_settings``)."""
    return make_settings(kafka_brokers=broker)


@pytest.fixture
def ch(db_settings: Settings) -> Iterator[Client]:
    """A client on the test's database, with the schema applied."""
    client = connect(db_settings)
    apply_migrations(client, db_settings.clickhouse_database)
    client.close()
    client = connect(db_settings, database=db_settings.clickhouse_database)
    yield client
    client.close()


settings_profiles.register_profile(
    "noshrink", phases=[Phase.explicit, Phase.reuse, Phase.generate], print_blob=True
)
