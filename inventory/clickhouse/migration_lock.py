"""A lock that lets one process at a time apply migrations to a database.

ClickHouse has no advisory locks, but creating a table is atomic: of several processes
running ``CREATE TABLE <db>.schema_migrations_lock`` (without ``IF NOT EXISTS``) one
succeeds and the others get TABLE_ALREADY_EXISTS. The holder drops the table when done;
the others wait and then find the migrations applied. A lock older than ``stale_seconds``
(a holder that died mid-migration) is broken, with a warning. The compose services that
start together (``schema``, the dataflow, ``inventory serve``) all apply through it, so a
non-idempotent step such as migration 0003's INSERT ... SELECT runs once.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
import uuid
from collections.abc import Callable, Iterator

from clickhouse_connect.driver.client import Client

from inventory.clickhouse.error_codes import error_code
from inventory.core.errors import InventoryError

logger = logging.getLogger(__name__)

LOCK_TABLE = "schema_migrations_lock"
TABLE_ALREADY_EXISTS = 57


class MigrationLockError(InventoryError):
    """Another process held the migration lock for longer than the wait allowed."""


@contextlib.contextmanager
def migration_lock(
    client: Client,
    database: str,
    *,
    wait_seconds: float = 300.0,
    stale_seconds: float = 900.0,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[None]:
    """Hold the lock of ``database`` (a validated identifier) for the block."""
    owner = f"pid {os.getpid()} {uuid.uuid4().hex}"  # plain characters: safe in the COMMENT
    table = f"{database}.{LOCK_TABLE}"
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            client.command(f"CREATE TABLE {table} (held UInt8) ENGINE = Memory COMMENT '{owner}'")
            break
        except Exception as exc:
            if error_code(exc) != TABLE_ALREADY_EXISTS:
                raise
        age = _age_seconds(client, database)
        if age is not None and age > stale_seconds:
            logger.warning("breaking a migration lock held for %.0f s (its holder died?)", age)
            client.command(f"DROP TABLE IF EXISTS {table}")
            continue
        if time.monotonic() > deadline:
            raise MigrationLockError(
                f"another process has been applying migrations to {database} for more than "
                f"{wait_seconds:.0f} s; if none is, drop the table {table}"
            )
        sleep(0.2)
    logger.debug("migration lock of %s taken by %s", database, owner)
    try:
        yield
    finally:
        client.command(f"DROP TABLE IF EXISTS {table}")


def _age_seconds(client: Client, database: str) -> float | None:
    rows = client.query(
        "SELECT dateDiff('second', metadata_modification_time, now()) FROM system.tables "
        "WHERE database = {db:String} AND name = {name:String}",
        parameters={"db": database, "name": LOCK_TABLE},
    ).result_rows
    return float(rows[0][0]) if rows else None
