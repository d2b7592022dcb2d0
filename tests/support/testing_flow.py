"""The flow in the test's own process over Bytewax's TestingSource, writing real chDB
tables (the db-tier property and reproduction tests) or collecting its rows (no database)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from bytewax.connectors.kafka import KafkaSourceMessage
from bytewax.recovery import RecoveryConfig
from bytewax.testing import TestingSink, TestingSource, cluster_main, run_main

from dataflows.flow import build_flow, demand_rules, forecast_lookup
from dataflows.seeds import Seeder, SeedReader
from dataflows.sources.forecast_topic import ForecastBook
from inventory.clickhouse.catalog import PolicyBook
from inventory.clickhouse.client import connect
from inventory.core.settings import Settings
from sinks.clickhouse import ClickHouseSink
from tests.support.model import Msg


def kafka_messages(
    stream: Iterable[tuple[bytes, bytes]], partition_of: dict[bytes, int], timestamp_ms: int
) -> tuple[list[KafkaSourceMessage[bytes, bytes]], list[Msg]]:
    """``(key, value)`` pairs as Kafka messages (each key's partition, offsets in order, one
    timestamp) and the same messages for the independent model."""
    offsets: dict[int, int] = {}
    kafka_msgs, model_msgs = [], []
    for key, value in stream:
        p = partition_of[key]
        offset = offsets.get(p, 0)
        kafka_msgs.append(
            KafkaSourceMessage(
                key=key,
                value=value,
                topic="events",
                partition=p,
                offset=offset,
                timestamp=(1, timestamp_ms),
            )
        )
        model_msgs.append(Msg(key, value, p, offset, timestamp_ms))
        offsets[p] = offset + 1
    return kafka_msgs, model_msgs


def run_flow(
    cfg: Settings,
    policies: PolicyBook,
    source: TestingSource[Any],
    *,
    lineage: str = "",
    seeded: bool = False,
    recovery: RecoveryConfig | None = None,
    forecasts: ForecastBook | None = None,
) -> None:
    """One run of the flow to the source's end (or its next EOF) into ``cfg``'s tables;
    ``seeded``: keys another lineage computed are rebuilt from the tables first (what a
    ``--no-recovery`` start does); ``recovery``: resume from and snapshot to that store."""
    reader = SeedReader(
        lambda: connect(cfg, database=cfg.clickhouse_database),
        lineage,
        cfg.lateness_seconds * 1000,
        cfg.window_seconds * 1000,
        demand_rules(cfg),
        forecasts_for=forecast_lookup(policies, forecasts),
    )
    seeder = Seeder(reader) if seeded else None
    try:
        if seeder is not None:
            seeder.start()
        flow = build_flow(
            cfg,
            "unused:9092",
            policies=policies,
            source=source,
            rows_sink=ClickHouseSink(cfg),
            dlq_sink=TestingSink([]),
            alerts_sink=TestingSink([]),
            stock_sink=TestingSink([]),
            decisions_sink=TestingSink([]),
            lineage=lineage,
            seeder=seeder,
            forecasts=forecasts,
            key_store=None if recovery is None else Path(recovery.db_dir) / "keys",
        )
        run_main(flow, recovery_config=recovery)
    finally:
        reader.close()


def flow_rows(
    cfg: Settings,
    stream: Iterable[tuple[bytes, bytes]],
    *,
    timestamp_ms: int,
    batch_size: int,
    policies: PolicyBook | None = None,
    forecasts: ForecastBook | None = None,
    workers: int = 1,
) -> list[object]:
    """Every row the flow writes for ``stream`` (one partition, ``timestamp_ms`` each),
    with Bytewax's testing source and sinks: no database, no broker."""
    msgs = [
        KafkaSourceMessage(key=k, value=v, topic="events", partition=0, offset=n,
                           timestamp=(1, timestamp_ms))
        for n, (k, v) in enumerate(stream)
    ]  # fmt: skip
    rows: list[object] = []
    flow = build_flow(
        cfg,
        "unused:9092",
        policies=policies,
        source=TestingSource(msgs, batch_size=batch_size),
        rows_sink=TestingSink(rows),
        dlq_sink=TestingSink([]),
        alerts_sink=TestingSink([]),
        stock_sink=TestingSink([]),
        decisions_sink=TestingSink([]),
        forecasts=forecasts,
    )
    if workers == 1:
        run_main(flow)
    else:
        cluster_main(flow, [], 0, worker_count_per_proc=workers)
    return rows
