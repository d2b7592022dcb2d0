"""Run the inventory dataflow in this process (1..N worker threads)."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

from bytewax.dataflow import Dataflow
from bytewax.inputs import Source as BytewaxSource
from bytewax.testing import cluster_main, run_main

from dataflows.file_sources import FileSource, ProgressHook
from dataflows.inventory import build_flow
from dataflows.topic_range import TopicRangeSource
from inventory.catalog import PolicyBook, load_policies
from inventory.clickhouse import connect, database_name
from inventory.recovery import recovery_config
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
) -> None:
    """Consume ``settings.events_topic`` and maintain the ClickHouse tables.

    With ``exit_at_end`` the flow stops once every partition is drained; otherwise
    it tails the topic until interrupted. With ``recovery`` it resumes where the last
    run stopped; without, it re-reads the topic from the start (a full replay, which
    leaves the tables unchanged). Errors from the sinks propagate.
    """
    policies = load_policy_book(settings)
    flow = build_flow(
        settings,
        brokers,
        policies=policies,
        tail=not exit_at_end,
        rows_sink=ClickHouseSink(
            settings, on_write=on_write, rejects=dead_letter_sink(settings, brokers)
        ),
    )
    logger.info("running inventory flow: brokers=%s workers=%d", brokers, workers)
    execute(flow, settings, workers, recovery=recovery)


def run_backfill(
    settings: Settings,
    path: Path,
    *,
    workers: int = 1,
    on_progress: ProgressHook | None = None,
    on_write: WriteHook | None = None,
) -> None:
    """Process a file of events (JSON lines, or ``.parquet``) with the same flow, to its end.

    Writes every ClickHouse table (dead letters included); publishes nothing to Kafka
    (historical alerts must not trigger reorders). No recovery: re-running the same file
    is a replay and leaves the tables unchanged.
    """
    if not path.is_file():
        raise FileNotFoundError(f"backfill input not found: {path}")
    source = FileSource(path, batch_size=settings.source_batch_size, on_progress=on_progress)
    _run_history(settings, source, workers=workers, on_write=on_write)


def run_topic_backfill(
    settings: Settings,
    source: TopicRangeSource,
    *,
    workers: int = 1,
    on_write: WriteHook | None = None,
) -> None:
    """Process a time range of the events topic (see :class:`TopicRangeSource`) with the
    same flow and the same guarantees as :func:`run_backfill`. Its state starts empty, so
    a range that begins mid-history sees no earlier counts or dedup ids for its keys."""
    _run_history(settings, source, workers=workers, on_write=on_write)


def _run_history(
    settings: Settings, source: BytewaxSource[Any], *, workers: int, on_write: WriteHook | None
) -> None:
    flow = build_flow(
        settings,
        "",
        policies=load_policy_book(settings),
        source=source,
        rows_sink=ClickHouseSink(settings, on_write=on_write),
        dlq_sink=DiscardSink(),
        alerts_sink=DiscardSink(),
    )
    logger.info("backfill: workers=%d", workers)
    execute(flow, settings, workers, recovery=False)
