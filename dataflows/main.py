"""Entry for ``python -m bytewax.run "dataflows.main:flow()"``: the flow the image runs.

Configured by ``INVENTORY_*`` settings like every command; ``INVENTORY_KAFKA_BROKERS`` is
required (a container has no local broker). The catalog is read from ClickHouse once, at
start; the schema must exist (compose's ``schema`` service applies it first).

Recovery: pass bytewax.run ``-r $INVENTORY_RECOVERY_DIR -s $INVENTORY_EPOCH_SECONDS
-b 0`` (``-s`` takes whole seconds). This module creates the recovery partitions there
on first start, the layout ``inventory run`` uses, so either resumes the other's snapshots.
Raises :class:`~inventory.core.settings.SettingsError` naming the variable on bad config.

A cluster: run one such process per host (or container) with bytewax.run's ``-i`` (this
process's index), ``-a`` (every process's ``host:port``, ``;``-separated, the same list
everywhere) and ``-w`` (workers per process), over a ClickHouse server, with the recovery
directory shared by the processes (docs/scaling.md). The processes send each other UDP
heartbeats on the cluster ports (:mod:`inventory.runtime.peers`): one that goes silent for
``INVENTORY_CLUSTER_PEER_TIMEOUT_SECONDS`` stops the others with exit 1.

SIGTERM (``docker stop``) and SIGINT stop the flow at its next batch: it snapshots,
flushes its producers and exits 0 (130 after SIGINT) with one line; a restart resumes
exactly. Native stderr (Rust panics) goes to the log (``INVENTORY_LOG_LEVEL=DEBUG``
shows it); an error prints one line.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from bytewax.dataflow import Dataflow

from dataflows.assembly import stream_flow
from dataflows.placement import Placement
from inventory.core.settings import Settings, SettingsError, load_settings
from inventory.runtime.garbage_collection import tune_for_streaming
from inventory.runtime.metrics import serve_metrics
from inventory.runtime.peers import watch_peers_until_exit
from inventory.runtime.process_setup import prepare_entry_process
from inventory.runtime.recovery import flow_lineage, recovery_config

logger = logging.getLogger(__name__)


def bytewax_recovery_directory(argv: list[str] | None = None) -> str | None:
    """bytewax.run's ``-r``/``--recovery-directory`` option, else its environment
    variable ``BYTEWAX_RECOVERY_DIRECTORY`` (None: Bytewax runs without recovery)."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("-r", "--recovery-directory")
    known, _ = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    given = known.recovery_directory or os.environ.get("BYTEWAX_RECOVERY_DIRECTORY")
    return given or None


def check_recovery_directory(settings: Settings, argv: list[str] | None = None) -> None:
    """The key shards' states live in ``INVENTORY_RECOVERY_DIR``; Bytewax's snapshots name
    their generations, so both must be the one directory. Raises SettingsError."""
    bytewax_dir = bytewax_recovery_directory(argv)
    ours = settings.recovery_dir
    if bytewax_dir is None and ours is None:
        return
    if bytewax_dir is None or ours is None or Path(bytewax_dir).resolve() != ours.resolve():
        raise SettingsError(
            f"INVENTORY_RECOVERY_DIR ({ours or 'unset'}) must be bytewax.run's recovery "
            f"directory (-r / BYTEWAX_RECOVERY_DIRECTORY: {bytewax_dir or 'unset'}): the "
            "key shards' states are kept beside Bytewax's snapshots"
        )


def flow() -> Dataflow:
    """The tailing inventory flow of this process, from the environment's settings and
    bytewax.run's ``-i``/``-a``/``-w`` (or ``BYTEWAX_*``) cluster options."""
    prepare_entry_process("the dataflow stopped at a batch boundary; a restart resumes")
    settings = load_settings()
    logging.getLogger().setLevel(settings.log_level)
    if settings.kafka_brokers is None:
        raise SettingsError(
            "INVENTORY_KAFKA_BROKERS must be set for bytewax.run (e.g. redpanda:9092)"
        )
    placement = Placement.from_bytewax_run()
    if placement.processes > 1 and settings.is_embedded_clickhouse:
        raise SettingsError(
            "INVENTORY_CLICKHOUSE_URL: a bytewax.run cluster needs a ClickHouse server "
            "(every process writes); embedded ClickHouse in a cluster: inventory run "
            "--processes N, on one host"
        )
    recovery = settings.recovery_dir is not None
    check_recovery_directory(settings)
    if recovery:
        recovery_config(settings, minimum=placement.workers)  # partitions on first start
    lineage = flow_lineage(settings, recovery=recovery)
    serve_metrics(settings)
    tune_for_streaming()
    if placement.processes > 1:
        watch_peers_until_exit(
            placement.process_id, placement.addresses, settings.cluster_peer_timeout_seconds
        )
    return stream_flow(
        settings,
        settings.kafka_brokers,
        tail=True,
        lineage=lineage,
        placement=placement,
        recovery=recovery,
    )
