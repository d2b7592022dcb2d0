"""Versioned, idempotent schema migrations from
``inventory/clickhouse/sql/migrations/NNNN_name.sql`` (package data: a wheel install
carries them).

Each file is applied once, in version order, and recorded with its checksum in
``schema_migrations``; re-running applies nothing. A recorded migration whose file
changed raises :class:`MigrationError` (ship a new migration instead).
The only substitution is ``{database}``, a validated identifier.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from clickhouse_connect.driver.client import Client

from inventory.clickhouse.client import connect, database_name
from inventory.clickhouse.migration_lock import migration_lock
from inventory.core.errors import InventoryError
from inventory.core.settings import Settings

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "sql" / "migrations"
_NAME_RE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_IDENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_STATEMENT_END = re.compile(r";[ \t]*(?:\n|$)")  # statements end with ';' at a line end


class MigrationError(InventoryError):
    """The migrations on disk disagree with what the database recorded."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()

    def statements(self, database: str) -> list[str]:
        """The file's statements with ``{database}`` filled in, comments dropped."""
        lines = [ln for ln in self.sql.splitlines() if not ln.lstrip().startswith("--")]
        text = "\n".join(lines).replace("{database}", database)
        return [stmt.strip() for stmt in _STATEMENT_END.split(text) if stmt.strip()]


def load_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    found = []
    for path in sorted(directory.glob("*.sql")):
        match = _NAME_RE.match(path.name)
        if not match:
            raise MigrationError(f"migration file name must be NNNN_name.sql: {path.name}")
        found.append(Migration(int(match.group(1)), match.group(2), path.read_text("utf-8")))
    if not found:
        raise MigrationError(
            f"no migrations found in {directory}: a broken install (the package data "
            "inventory/clickhouse/sql/migrations is missing)"
        )
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"duplicate migration versions in {directory}")
    return found


def apply_migrations(
    client: Client, database: str, directory: Path = MIGRATIONS_DIR
) -> list[Migration]:
    """Apply pending migrations; return those applied now (empty when up to date).

    One process at a time per database
    (:func:`~inventory.clickhouse.migration_lock.migration_lock`): several started
    together apply each migration once."""
    if not _IDENT_RE.match(database):
        raise MigrationError(f"invalid database name {database!r}")
    client.command(f"CREATE DATABASE IF NOT EXISTS {database}")
    with migration_lock(client, database):
        return _apply(client, database, directory)


def _apply(client: Client, database: str, directory: Path) -> list[Migration]:
    client.command(
        f"CREATE TABLE IF NOT EXISTS {database}.schema_migrations "
        "(version UInt32, name String, checksum String, "
        "applied_at DateTime64(3, 'UTC') DEFAULT now64(3)) "
        "ENGINE = ReplacingMergeTree ORDER BY version"
    )
    recorded = {
        int(version): checksum
        for version, checksum in client.query(
            f"SELECT version, checksum FROM {database}.schema_migrations FINAL"  # noqa: S608
        ).result_rows
    }
    applied = []
    for migration in load_migrations(directory):
        if migration.version in recorded:
            if recorded[migration.version] != migration.checksum:
                raise MigrationError(
                    f"migration {migration.version:04d}_{migration.name} changed after it "
                    "was applied; add a new migration instead"
                )
            continue
        for statement in migration.statements(database):
            client.command(statement)
        client.insert(
            "schema_migrations",
            [(migration.version, migration.name, migration.checksum)],
            column_names=["version", "name", "checksum"],
            database=database,
        )
        logger.info("applied migration %04d_%s", migration.version, migration.name)
        applied.append(migration)
    return applied


def migrate(settings: Settings) -> list[Migration]:
    """Apply the pending migrations to the configured database (created if missing), with
    a client of its own; return those applied now."""
    client = connect(settings)
    try:
        return apply_migrations(client, database_name(settings))
    finally:
        client.close()
