"""Bytewax recovery: where snapshots live and when they must be thrown away.

With recovery, a restarted flow resumes from the last completed epoch: Kafka offsets
and per-key state come from the snapshot, and the sinks may see up to one epoch again
(at-least-once; the ClickHouse tables collapse the repeats).
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from bytewax.recovery import RecoveryConfig, init_db_dir

from inventory.settings import Settings

logger = logging.getLogger(__name__)


def recovery_config(settings: Settings) -> RecoveryConfig:
    """The recovery config, creating and initialising the partitions on first use."""
    directory = settings.recovery_path
    directory.mkdir(parents=True, exist_ok=True)
    if not any(directory.glob("part-*.sqlite3")):
        init_db_dir(directory, settings.recovery_partitions)  # type: ignore[no-untyped-call]
        logger.info(
            "initialised %d recovery partition(s) in %s", settings.recovery_partitions, directory
        )
    return RecoveryConfig(directory)  # type: ignore[no-untyped-call]


def reset_recovery(directory: Path) -> bool:
    """Delete the snapshots (the topic they point into is gone); True if any existed."""
    if not directory.exists():
        return False
    shutil.rmtree(directory)
    logger.warning("recovery state in %s reset: its broker's topics no longer exist", directory)
    return True
