"""Bytewax recovery: where snapshots live, and the lineage they belong to.

With recovery, a restarted flow resumes from the last completed epoch: Kafka offsets
and per-key state come from the snapshot, and the sinks may see up to one epoch again
(at-least-once; the ClickHouse tables collapse the repeats).

A recovery store is one *lineage* of the flow's state: ``flow:<id>``, the id kept in the
store's ``lineage`` file. Stock rows carry the lineage that computed them, and a flow
rebuilds from the tables the keys whose newest row another lineage wrote (a backfill, or
this flow before the store was lost): see :mod:`dataflows.seeds`.
"""

from __future__ import annotations

import fcntl
import logging
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

from bytewax.recovery import RecoveryConfig, init_db_dir

from inventory.core.settings import Settings

logger = logging.getLogger(__name__)


def recovery_config(settings: Settings, minimum: int = 1) -> RecoveryConfig:
    """The recovery config, creating and initialising the partitions on first use:
    ``INVENTORY_RECOVERY_PARTITIONS``, or ``minimum`` (the cluster's workers) if more.

    Processes of one cluster share the directory (one host, or a shared volume); a file
    lock makes the first of them that starts the one that initialises it.
    """
    directory = settings.recovery_path
    directory.mkdir(parents=True, exist_ok=True)
    keys = directory / KEY_STORE_DIR
    with (directory / ".init.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not any(directory.glob("part-*.sqlite3")):
            count = max(settings.recovery_partitions, minimum)
            shutil.rmtree(keys, ignore_errors=True)  # a new store: no key states
            init_db_dir(directory, count)  # type: ignore[no-untyped-call]
            (directory / LINEAGE_FILE).unlink(missing_ok=True)  # a new store: a new lineage
            flow_lineage(settings, recovery=True)
            logger.info("initialised %d recovery partition(s) in %s", count, directory)
        elif not (keys / FORMAT_FILE).exists():
            # A store from before key shards held per-key snapshots this flow no longer
            # reads: a new lineage makes every key foreign, rebuilt from the tables.
            (directory / LINEAGE_FILE).unlink(missing_ok=True)
            lineage = flow_lineage(settings, recovery=True)
            logger.warning(
                "recovery store %s predates key shards: its keys are rebuilt from ClickHouse "
                "as they appear (new lineage %s); the Kafka offsets are kept",
                directory,
                lineage,
            )
        keys.mkdir(exist_ok=True)
        (keys / FORMAT_FILE).write_text(KEY_STORE_FORMAT + "\n", "utf-8")
    return RecoveryConfig(directory)  # type: ignore[no-untyped-call]


KEY_STORE_DIR = "keys"  # the shards' key stores (dataflows/state/key_store.py)
FORMAT_FILE = "format"
KEY_STORE_FORMAT = "key-shards/1"
SHARDS_FILE = "shards"


def key_store_path(settings: Settings) -> Path:
    return settings.recovery_path / KEY_STORE_DIR


def key_shards(settings: Settings, partitions_now: Callable[[], int]) -> int:
    """The key shard count of the recovery store: fixed when the store first runs a flow,
    as the events topic's partition count then (``partitions_now``)."""
    path = key_store_path(settings) / SHARDS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    with (settings.recovery_path / ".init.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if path.exists():
            return int(path.read_text("utf-8").strip())
        count = max(1, partitions_now())
        path.write_text(f"{count}\n", "utf-8")
        logger.info("key shards: %d (the events topic's partitions)", count)
        return count


LINEAGE_FILE = "lineage"


def flow_lineage(settings: Settings, *, recovery: bool) -> str:
    """The lineage of a flow run: its recovery store's (a new store gets a new one, see
    :func:`recovery_config`), or a new one for a run without recovery, whose state lives
    only as long as the run."""
    if not recovery:
        return f"run:{uuid.uuid4().hex}"
    path = settings.recovery_path / LINEAGE_FILE
    try:
        return path.read_text("utf-8").strip()
    except FileNotFoundError:
        lineage = f"flow:{uuid.uuid4().hex}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(lineage + "\n", "utf-8")
        return lineage


def reset_recovery(directory: Path) -> bool:
    """Delete the snapshots and the lineage; True if any existed."""
    if not directory.exists():
        return False
    shutil.rmtree(directory)
    logger.warning("recovery state in %s deleted", directory)
    return True
