"""The streaming dataflow as it runs, assembled from the settings and this process's place
in the cluster: catalog, lineage, seeds, sinks. Used by ``inventory run`` (one process, or
each process of ``--processes N``) and by the container's ``bytewax.run`` entry.

Reads the catalog and the foreign keys from ClickHouse when the flow is built (nothing
connects at import). A process that cannot reach ClickHouse (not process 0, with embedded
ClickHouse) takes them from a :class:`ClusterContext` that process 0 wrote for it.
"""

from __future__ import annotations

import atexit
import logging
import pickle
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bytewax.dataflow import Dataflow

from dataflows.flow import build_flow, demand_rules, forecast_lookup
from dataflows.per_key.book import ForecastsFor, Seed, no_forecasts
from dataflows.placement import Placement
from dataflows.seeds import Key, Seeder, SeedReader
from dataflows.sources.events_topic import partition_count
from dataflows.sources.forecast_topic import ForecastBook, ForecastFollower
from inventory.clickhouse.catalog import PolicyBook, load_policies
from inventory.clickhouse.client import connect, database_name
from inventory.core.records import ProductPolicy
from inventory.core.settings import Settings
from inventory.kafka.config import kafka_connection
from inventory.runtime.recovery import key_shards, key_store_path
from sinks.catalog_topic import publish_catalog
from sinks.clickhouse import ClickHouseSink, WriteHook
from sinks.kafka import dead_letter_sink
from sinks.single_writer import SingleWriterClickHouseSink

logger = logging.getLogger(__name__)


@dataclass
class ClusterContext:
    """What process 0 hands to processes that cannot open embedded ClickHouse."""

    lineage: str
    policies: dict[str, ProductPolicy] = field(default_factory=dict)
    seeds: dict[Key, Seed] = field(default_factory=dict)

    def save(self, path: Path) -> None:
        """Write atomically: a reader sees the whole context or none."""
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        partial.write_bytes(pickle.dumps(self, protocol=5))
        partial.replace(path)

    @staticmethod
    def load(path: Path, wait_seconds: float = 0.0) -> ClusterContext:
        """Read the context process 0 saved at ``path``, waiting for it up to
        ``wait_seconds``; raises FileNotFoundError if it does not appear."""
        deadline = time.monotonic() + wait_seconds
        while not path.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        context = pickle.loads(path.read_bytes())  # noqa: S301 (written by process 0)
        assert isinstance(context, ClusterContext)
        return context


class PreparedSeeds:
    """A seed reader over seeds read beforehand (no ClickHouse; no refreshes)."""

    def __init__(self, seeds: dict[Key, Seed]) -> None:
        self._seeds = seeds

    def now_ms(self) -> int:
        return 0

    def foreign_keys(self, since_ms: int | None = None) -> set[Key]:
        return set(self._seeds) if since_ms is None else set()

    def seeds(self, keys: Iterable[Key]) -> dict[Key, Seed]:
        return {key: self._seeds[key] for key in keys if key in self._seeds}


def load_policy_book(settings: Settings) -> PolicyBook:
    """The product catalog's per-SKU policies, read once from ClickHouse."""
    client = connect(settings)
    try:
        policies = PolicyBook(
            settings,
            load_policies(client, database_name(settings), settings.default_lead_time_hours),
        )
    finally:
        client.close()
    logger.info("catalog: %d SKU policies loaded", len(policies))
    return policies


def seed_reader(
    settings: Settings, lineage: str, forecasts_for: ForecastsFor = no_forecasts
) -> SeedReader:
    return SeedReader(
        lambda: connect(settings, database=database_name(settings)),
        lineage,
        settings.lateness_seconds * 1000,
        settings.window_seconds * 1000,
        demand_rules(settings),
        forecasts_for=forecasts_for,
    )


def stock_seeder(
    settings: Settings, lineage: str, forecasts_for: ForecastsFor = no_forecasts
) -> Seeder:
    """The flow's seeder for ``lineage``, with the foreign keys read now."""
    seeder = Seeder(seed_reader(settings, lineage, forecasts_for))
    seeder.start()
    return seeder


def cluster_context(settings: Settings, lineage: str) -> ClusterContext:
    """What process 0 hands the others: the lineage, and with embedded ClickHouse (which
    only process 0 opens) the catalog and every foreign key's seed."""
    if not settings.is_embedded_clickhouse:
        return ClusterContext(lineage)  # every process reads the server itself
    policies = load_policy_book(settings)
    reader = seed_reader(settings, lineage)
    try:
        seeds = reader.seeds(reader.foreign_keys())
    finally:
        reader.close()
    return ClusterContext(lineage, dict(policies.policies), seeds)


def stream_flow(
    settings: Settings,
    brokers: str,
    *,
    tail: bool,
    lineage: str,
    placement: Placement | None = None,
    context: ClusterContext | None = None,
    seed: bool = True,
    on_write: WriteHook | None = None,
    recovery: bool = True,
) -> Dataflow:
    """The tailing (or draining, ``tail=False``) inventory flow of this process.

    :arg placement: this process in the cluster (default: alone).
    :arg context: the catalog and seeds, for a process that cannot reach ClickHouse.
    :arg seed: rebuild foreign keys from the tables (:mod:`dataflows.seeds`).
    :arg on_write: called with (table, rows) after each insert.
    :arg recovery: Bytewax runs it with the recovery store of ``settings`` (the key
        shards' states live there too); without, in memory.
    """
    placement = placement or Placement()
    target = kafka_connection(settings, brokers)

    def partitions_now() -> int:
        return partition_count(target, settings.events_topic)

    shards = key_shards(settings, partitions_now) if recovery else partitions_now()
    seeder: Seeder | None = None
    if placement.reaches_clickhouse(settings):
        policies = load_policy_book(settings)
        if placement.process_id == 0:
            publish_catalog(settings, brokers)
    else:
        if context is None:
            raise ValueError("a process without ClickHouse needs process 0's context")
        policies = PolicyBook(settings, context.policies)
    # the versions only matter to forecast-policy SKUs: without one, the topic is not read
    on_forecast = any(p.replenishment == "forecast" for p in policies.policies.values())
    forecasts = forecast_book(settings, brokers, follow=tail) if on_forecast else None
    if seed and placement.reaches_clickhouse(settings):
        seeder = stock_seeder(settings, lineage, forecast_lookup(policies, forecasts))
    elif seed and context is not None:
        seeder = Seeder(PreparedSeeds(context.seeds))  # type: ignore[arg-type]
        seeder.start()
    rows: Any = ClickHouseSink(
        settings, on_write=on_write, rejects=dead_letter_sink(settings, brokers)
    )
    if placement.single_writer(settings):
        rows = SingleWriterClickHouseSink(rows, writer=placement.process_id == 0)
    logger.info(
        "inventory flow: process %d of %d, %d worker(s) each, lineage %s",
        placement.process_id,
        placement.processes,
        placement.workers_per_process,
        lineage,
    )
    return build_flow(
        settings,
        brokers,
        policies=policies,
        tail=tail,
        rows_sink=rows,
        lineage=lineage,
        seeder=seeder,
        forecasts=forecasts,
        shards=shards,
        key_store=key_store_path(settings) if recovery else None,
        reads_partition=placement.reads_partition(shards),
    )


def forecast_book(settings: Settings, brokers: str, *, follow: bool) -> ForecastBook | None:
    """The forecast versions of ``INVENTORY_FORECAST_TOPIC`` read to its end (None
    without the topic); with ``follow``, a daemon thread keeps reading new ones."""
    if not settings.forecast_topic:
        return None
    book = ForecastBook()
    follower = ForecastFollower(settings, brokers, book)
    follower.load(timeout=3 * settings.kafka_connect_timeout_seconds)
    if follow:
        follower.start()
        atexit.register(follower.stop)  # its consumer closed before the process ends
    return book
