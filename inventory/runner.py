"""Run the inventory dataflow in this process (1..N worker threads)."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

from bytewax.dataflow import Dataflow
from bytewax.inputs import FixedPartitionedSource
from bytewax.testing import cluster_main, run_main

from dataflows.file_sources import FileSource, ProgressHook
from dataflows.inventory import build_flow
from dataflows.seeds import Seeder, SeedReader
from dataflows.topic_range import TopicRangeSource
from inventory.backfill import BackfillConflict, input_events, keys_missing_events, union_rows
from inventory.catalog import PolicyBook, load_policies
from inventory.clickhouse import connect, database_name
from inventory.kafka_config import kafka_connection
from inventory.metrics import serve_metrics
from inventory.recovery import flow_lineage, recovery_config
from inventory.settings import Settings
from sinks.clickhouse import ClickHouseSink, WriteHook
from sinks.discard import DiscardSink
from sinks.kafka import dead_letter_sink

logger = logging.getLogger(__name__)


def execute(flow: Dataflow, settings: Settings, workers: int = 1, *, recovery: bool = True) -> None:
    """Execute ``flow`` until its input ends (never, when tailing).

    With ``recovery`` (and ``settings.recovery_dir`` set) it resumes from the last
    snapshot and snapshots every ``settings.epoch_seconds``.
    """
    epoch = timedelta(seconds=settings.epoch_seconds)
    config = recovery_config(settings) if recovery else None
    if workers <= 1:
        run_main(flow, epoch_interval=epoch, recovery_config=config)  # type: ignore[no-untyped-call]
    else:
        cluster_main(  # type: ignore[no-untyped-call]
            flow,
            [],
            0,
            epoch_interval=epoch,
            recovery_config=config,
            worker_count_per_proc=workers,
        )


def load_policy_book(settings: Settings) -> PolicyBook:
    """The product catalog's per-SKU policies, read once from ClickHouse."""
    client = connect(settings)
    try:
        policies = PolicyBook(settings, load_policies(client, database_name(settings)))
    finally:
        client.close()
    logger.info("catalog: %d SKU policies loaded", len(policies))
    return policies


def run_inventory(
    settings: Settings,
    brokers: str,
    *,
    exit_at_end: bool,
    workers: int = 1,
    recovery: bool = True,
    on_write: WriteHook | None = None,
    seed: bool = True,
) -> None:
    """Consume ``settings.events_topic`` and maintain the ClickHouse tables.

    :arg exit_at_end: stop once every partition is drained; otherwise tail the topic
        until interrupted.
    :arg workers: worker threads.
    :arg recovery: resume where the last run stopped (Bytewax snapshots); without, every
        partition is read from its start.
    :arg on_write: called with (table, rows) after each insert.
    :arg seed: rebuild from the tables the keys whose stock another lineage computed (a
        backfill, a lost recovery store), skipping messages they already hold; without,
        such keys start from zero (tests use it for a pure replay).

    Errors from the sinks propagate.
    """
    policies = load_policy_book(settings)
    serve_metrics(settings)
    if recovery:
        recovery_config(settings)  # a new store gets a new lineage
    lineage = flow_lineage(settings, recovery=recovery)
    seeder = stock_seeder(settings, lineage) if seed else None
    flow = build_flow(
        settings,
        brokers,
        policies=policies,
        tail=not exit_at_end,
        rows_sink=ClickHouseSink(
            settings, on_write=on_write, rejects=dead_letter_sink(settings, brokers)
        ),
        lineage=lineage,
        seeder=seeder,
    )
    logger.info(
        "running inventory flow: brokers=%s workers=%d lineage=%s", brokers, workers, lineage
    )
    execute(flow, settings, workers, recovery=recovery)


def stock_seeder(settings: Settings, lineage: str) -> Seeder:
    """The flow's seeder for ``lineage``, with the foreign keys read now."""
    reader = SeedReader(
        lambda: connect(settings, database=database_name(settings)),
        lineage,
        settings.lateness_seconds * 1000,
        settings.window_seconds * 1000,
    )
    seeder = Seeder(reader)
    seeder.start()
    return seeder


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
            folded = union_rows(client, keys, settings.window_seconds * 1000, lineage)
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
