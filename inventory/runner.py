"""Run the inventory dataflow in this process (1..N worker threads)."""

from __future__ import annotations

import logging
from datetime import timedelta

from bytewax.dataflow import Dataflow
from bytewax.testing import cluster_main, run_main

from dataflows.inventory import build_flow
from inventory.catalog import PolicyBook, load_policies
from inventory.clickhouse import connect, database_name
from inventory.recovery import recovery_config
from inventory.settings import Settings
from sinks.clickhouse import ClickHouseSink, WriteHook

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
    client = connect(settings)
    try:
        policies = PolicyBook(settings, load_policies(client, database_name(settings)))
    finally:
        client.close()
    logger.info("catalog: %d SKU policies loaded", len(policies))
    flow = build_flow(
        settings,
        brokers,
        policies=policies,
        tail=not exit_at_end,
        rows_sink=ClickHouseSink(settings, on_write=on_write),
    )
    logger.info("running inventory flow: brokers=%s workers=%d", brokers, workers)
    execute(flow, settings, workers, recovery=recovery)
