"""Run the inventory dataflow: the stream (one process, or one process of a cluster) and
the backfills, all through Bytewax's entry point ``cli_main``."""

from __future__ import annotations

import contextlib
import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

from bytewax.dataflow import Dataflow
from bytewax.inputs import FixedPartitionedSource
from bytewax.run import cli_main

from dataflows.assembly import ClusterContext, load_policy_book, stream_flow
from dataflows.file_sources import FileSource, ProgressHook
from dataflows.inventory import build_flow
from dataflows.placement import Placement
from dataflows.topic_range import TopicRangeSource
from inventory.backfill import BackfillConflict, input_events, keys_missing_events, union_rows
from inventory.clickhouse import connect, database_name
from inventory.collector import tune_for_streaming
from inventory.errors import ClusterError, first_line
from inventory.kafka_config import kafka_connection
from inventory.metrics import serve_metrics
from inventory.peers import exit_on_lost_peer, watching_peers
from inventory.recovery import flow_lineage, recovery_config
from inventory.settings import Settings
from sinks.clickhouse import ClickHouseSink, WriteHook
from sinks.discard import DiscardSink

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

    Raises :class:`~inventory.errors.ClusterError` when another process of the cluster
    dies or its connection breaks (Bytewax's runtime panics on a lost peer); exits the
    process with 1 when one goes silent (:mod:`inventory.peers`).
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
    :arg placement: this process in a cluster (:mod:`inventory.cluster`); default alone.
    :arg context: process 0's catalog and seeds, for a process without ClickHouse.

    Errors from the sinks propagate.
    """
    placement = placement or Placement(workers_per_process=workers)
    serve_metrics(settings, offset=placement.process_id)
    if recovery:
        recovery_config(settings, minimum=placement.workers)  # a new store: a new lineage
    lineage = context.lineage if context is not None else flow_lineage(settings, recovery=recovery)
    flow = stream_flow(
        settings,
        brokers,
        tail=not exit_at_end,
        lineage=lineage,
        placement=placement,
        context=context,
        seed=seed,
        on_write=on_write,
    )
    execute(flow, settings, workers, recovery=recovery, placement=placement)


def run_backfill(
    settings: Settings,
    path: Path,
    *,
    workers: int = 1,
    force: bool = False,
    on_progress: ProgressHook | None = None,
    on_write: WriteHook | None = None,
) -> None:
    """Process a file of events (JSON lines, or ``.parquet``) with the same flow, to its end.

    Writes every ClickHouse table (dead letters included); publishes nothing to Kafka
    (historical alerts must not trigger reorders). No recovery: re-running the same file
    is a replay and leaves the tables unchanged.

    :arg force: run although some keys have stock from events the file lacks, and fold
        the file into their stock (:mod:`inventory.backfill`); without, such a file raises
        :class:`~inventory.backfill.BackfillConflict` before anything is written.
    """
    if not path.is_file():
        raise FileNotFoundError(f"backfill input not found: {path}")
    batch = settings.source_batch_size
    _run_history(
        settings,
        FileSource(path, batch_size=batch, on_progress=on_progress),
        FileSource(path, batch_size=batch),
        f"file:{path.name}",
        workers=workers,
        force=force,
        on_write=on_write,
    )


def run_topic_backfill(
    settings: Settings,
    brokers: str,
    start_ms: int | None,
    end_ms: int | None,
    *,
    workers: int = 1,
    force: bool = False,
    on_progress: ProgressHook | None = None,
    on_write: WriteHook | None = None,
) -> None:
    """Process the messages of the events topic with Kafka timestamps in [``start_ms``,
    ``end_ms``) (see :class:`TopicRangeSource`) with the same flow and the same guarantees
    as :func:`run_backfill`. Its state starts empty, so a range that begins mid-history
    sees no earlier counts or dedup ids for its keys."""
    topic, batch = settings.events_topic, settings.source_batch_size
    connection = kafka_connection(settings, brokers)
    _run_history(
        settings,
        TopicRangeSource(
            connection, topic, start_ms, end_ms, batch_size=batch, on_progress=on_progress
        ),
        TopicRangeSource(connection, topic, start_ms, end_ms, batch_size=batch),
        f"topic:{topic}",
        workers=workers,
        force=force,
        on_write=on_write,
    )


def _run_history(
    settings: Settings,
    source: FixedPartitionedSource[Any, Any],
    check_source: FixedPartitionedSource[Any, Any],
    label: str,
    *,
    workers: int,
    force: bool,
    on_write: WriteHook | None,
) -> None:
    # deterministic, so re-running the same backfill writes identical rows
    lineage = f"backfill:{label}"
    client = connect(settings, database=database_name(settings))
    try:
        max_future_ms = settings.max_future_seconds * 1000
        missing = keys_missing_events(client, input_events(check_source, max_future_ms))
        if missing and not force:
            raise BackfillConflict(missing)
        flow = build_flow(
            settings,
            "",
            policies=load_policy_book(settings),
            source=source,
            rows_sink=ClickHouseSink(settings, on_write=on_write),
            dlq_sink=DiscardSink(),
            alerts_sink=DiscardSink(),
            lineage=lineage,
        )
        logger.info("backfill: workers=%d lineage=%s", workers, lineage)
        execute(flow, settings, workers, recovery=False)
        if missing:
            keys = [(wh, sku) for wh, sku, _ in missing]
            folded = union_rows(
                client,
                keys,
                settings.window_seconds * 1000,
                settings.lateness_seconds * 1000,
                lineage,
            )
            sink = ClickHouseSink(settings, on_write=on_write).build("fold", 0, 1)
            try:
                sink.write_batch(list(folded))
            finally:
                sink.close()
            logger.warning(
                "backfill --force: folded the history into the stock of %d key(s)", len(keys)
            )
    finally:
        client.close()
