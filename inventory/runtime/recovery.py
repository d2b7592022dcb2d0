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
    with (directory / ".init.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not any(directory.glob("part-*.sqlite3")):
            count = max(settings.recovery_partitions, minimum)
            init_db_dir(directory, count)  # type: ignore[no-untyped-call]
            (directory / LINEAGE_FILE).unlink(missing_ok=True)  # a new store: a new lineage
            flow_lineage(settings, recovery=True)
            logger.info("initialised %d recovery partition(s) in %s", count, directory)
    return RecoveryConfig(directory)  # type: ignore[no-untyped-call]


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
