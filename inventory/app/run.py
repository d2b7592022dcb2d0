"""Run the inventory dataflow: the stream (one process, or one process of a cluster) and
the backfills, all through Bytewax's entry point ``cli_main``."""

from __future__ import annotations

import contextlib
import logging
from datetime import timedelta

from bytewax.dataflow import Dataflow
from bytewax.run import cli_main

from dataflows.assembly import ClusterContext, stream_flow
from dataflows.placement import Placement
from inventory.clickhouse.client import embedded_engine_held
from inventory.clickhouse.migrations import migrate
from inventory.core.errors import ClusterError, first_line
from inventory.core.settings import Settings
from inventory.kafka.local_broker import brokers_for
from inventory.kafka.topics import ensure_topics
from inventory.runtime.garbage_collection import tune_for_streaming
from inventory.runtime.metrics import serve_metrics
from inventory.runtime.peers import exit_on_lost_peer, watching_peers
from inventory.runtime.recovery import flow_lineage, recovery_config
from sinks.clickhouse import WriteHook

logger = logging.getLogger(__name__)


def execute(
    flow: Dataflow,
    settings: Settings,
    workers: int = 1,
    *,
    recovery: bool = True,
    placement: Placement | None = None,
) -> None:
    """Execute ``flow`` until its input ends (never, when tailing), through Bytewax's
    entry point ``cli_main`` (what ``python -m bytewax.run`` calls), as this process of
    ``placement``'s cluster with ``workers`` threads.

    With ``recovery`` it resumes from the last snapshot and snapshots every
    ``settings.epoch_seconds``.

    Raises :class:`~inventory.core.errors.ClusterError` when another process of the cluster
    dies or its connection breaks (Bytewax's runtime panics on a lost peer); exits the
    process with 1 when one goes silent (:mod:`inventory.runtime.peers`).
    """
    placement = placement or Placement(workers_per_process=workers)
    epoch = timedelta(seconds=settings.epoch_seconds)
    config = recovery_config(settings, minimum=placement.workers) if recovery else None
    tune_for_streaming()
    with contextlib.ExitStack() as stack:
        if placement.processes > 1:
            stack.enter_context(
                watching_peers(
                    placement.process_id,
                    placement.addresses,
                    settings.cluster_peer_timeout_seconds,
                    exit_on_lost_peer,
                )
            )
        try:
            cli_main(  # type: ignore[no-untyped-call]
                flow,
                workers_per_process=workers,
                process_id=placement.process_id if placement.addresses else None,
                addresses=list(placement.addresses) or None,
                epoch_interval=epoch,
                recovery_config=config,
            )
        except BaseException as exc:  # pyo3's PanicException derives from BaseException
            if placement.processes > 1 and type(exc).__name__ == "PanicException":
                raise ClusterError(
                    f"process {placement.process_id} lost its connection to another process "
                    f"of the cluster ({', '.join(placement.addresses)}): {first_line(exc)}; "
                    "the cluster stopped, a restart resumes from the snapshots"
                ) from exc
            raise


def run_inventory(
    settings: Settings,
    brokers: str,
    *,
    exit_at_end: bool,
    workers: int = 1,
    recovery: bool = True,
    on_write: WriteHook | None = None,
    seed: bool = True,
    placement: Placement | None = None,
    context: ClusterContext | None = None,
) -> None:
    """Consume ``settings.events_topic`` and maintain the ClickHouse tables.

    :arg exit_at_end: stop once every partition is drained; otherwise tail the topic
        until interrupted.
    :arg workers: worker threads (of this process).
    :arg recovery: resume where the last run stopped (Bytewax snapshots); without, every
        partition is read from its start.
    :arg on_write: called with (table, rows) after each insert.
    :arg seed: rebuild from the tables the keys whose stock another lineage computed (a
        backfill, a lost recovery store), skipping messages they already hold; without,
        such keys start from zero (tests use it for a pure replay).
    :arg placement: this process in a cluster (:mod:`inventory.app.cluster`); default alone.
    :arg context: process 0's catalog and seeds, for a process without ClickHouse.

    Errors from the sinks propagate.
    """
    placement = placement or Placement(workers_per_process=workers)
    serve_metrics(settings, offset=placement.process_id)
    if recovery:
        recovery_config(settings, minimum=placement.workers)  # a new store: a new lineage
    lineage = context.lineage if context is not None else flow_lineage(settings, recovery=recovery)
    with embedded_engine_held(settings, hold=placement.reaches_clickhouse(settings)):
        flow = stream_flow(
            settings,
            brokers,
            tail=not exit_at_end,
            lineage=lineage,
            placement=placement,
            context=context,
            seed=seed,
            on_write=on_write,
            recovery=recovery,
        )
        execute(flow, settings, workers, recovery=recovery, placement=placement)


def prepare_stream(settings: Settings) -> str:
    """Before a stream runs: the brokers (the local broker started if none is
    configured), the contract topics created if missing, the schema migrated; returns
    the brokers."""
    brokers = brokers_for(settings)
    ensure_topics(settings, brokers)
    migrate(settings)
    return brokers


def run_stream(
    settings: Settings,
    brokers: str,
    *,
    processes: int = 1,
    workers: int = 1,
    exit_at_end: bool = False,
    recovery: bool = True,
    on_write: WriteHook | None = None,
) -> None:
    """``inventory run``: the flow in this process, or a local cluster of ``processes``
    (:mod:`inventory.app.cluster`), each with ``workers`` threads; see
    :func:`run_inventory` for the rest."""
    if processes > 1:
        from inventory.app.cluster import run_local_cluster

        run_local_cluster(
            settings,
            brokers,
            processes=processes,
            workers=workers,
            exit_at_end=exit_at_end,
            recovery=recovery,
            on_write=on_write,
        )
    else:
        run_inventory(
            settings,
            brokers,
            exit_at_end=exit_at_end,
            workers=workers,
            recovery=recovery,
            on_write=on_write,
        )
