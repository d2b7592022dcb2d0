"""``inventory generate`` and ``inventory supplier``: synthetic events to the events topic
(or JSON lines), and the supplier simulator answering reorder requests.

Without a seed every run makes events (and event ids) of its own, so a second run adds to
the first; a seed repeats the same events, which the flow then drops as duplicates. The
catalog (``products``) always follows the seed (42 by default), so thresholds and lead
times stay put across runs.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

from generators.demand import CYCLE_DAYS, DAY_MS, DemandShape
from generators.events import EventGenerator, GeneratorConfig
from generators.promotions import promotion_entries
from generators.publish import publish_to_kafka, write_jsonl
from generators.supplier import Supplier, SupplierBehaviour
from generators.supplier_run import SupplierLink, run_supplier
from inventory.clickhouse.catalog import write_catalog
from inventory.clickhouse.client import connect, database_name
from inventory.clickhouse.migrations import apply_migrations
from inventory.clickhouse.promotions import PromotionEntry, write_promotions
from inventory.core.settings import Settings
from inventory.kafka.config import kafka_connection
from inventory.kafka.local_broker import brokers_for
from inventory.kafka.topics import ensure_topics

CATALOG_SEED = 42


@dataclass(frozen=True)
class GenerateOptions:
    """What ``inventory generate`` makes (see its ``--help``)."""

    count: int = 10_000
    seed: int | None = None  # None: a stream (and event ids) of this run's own
    skus: int = 100
    warehouses: int = 3
    start_ms: int = 0
    event_rate: float = 1000.0
    malformed: float = 0.0
    duplicates: float = 0.0
    late: float = 0.0
    holds: float = 0.0
    restock: bool = True
    shape: DemandShape | None = None  # seasonality and promotions


def event_generator(options: GenerateOptions, stream_seed: int | None = None) -> EventGenerator:
    """The generator of ``options``; without a seed, the events follow ``stream_seed``
    (random if None) and the catalog :data:`CATALOG_SEED`."""
    if options.seed is None and stream_seed is None:
        stream_seed = random.SystemRandom().getrandbits(48)
    return EventGenerator(
        GeneratorConfig(
            seed=options.seed if options.seed is not None else CATALOG_SEED,
            stream_seed=None if options.seed is not None else stream_seed,
            skus=options.skus,
            warehouses=options.warehouses,
            start_ms=options.start_ms,
            rate=options.event_rate,
            malformed_share=options.malformed,
            duplicate_share=options.duplicates,
            late_share=options.late,
            hold_share=options.holds,
            self_restock=options.restock,
            shape=options.shape,
        )
    )


def generate_jsonl(
    generator: EventGenerator, count: int, out: TextIO = sys.stdout, rate: float | None = None
) -> None:
    """``count`` events as JSON lines on ``out``, at ``rate`` per second (None: at once)."""
    write_jsonl(generator.messages(count), out, rate=rate)


def planned_promotions(generator: EventGenerator, count: int) -> list[PromotionEntry]:
    """The promotions of ``generator``'s shape over its ``count`` events and the next
    28 days (what ``inventory forecast`` reads as planned)."""
    config = generator.config
    if config.shape is None:
        return []
    span_ms = int(count / config.rate * 1000) if config.rate > 0 else 0
    end_ms = config.start_ms + span_ms + CYCLE_DAYS * DAY_MS
    products = generator.catalog.products
    return promotion_entries(config.shape, products, config.start_ms, end_ms)


def generate_to_kafka(
    settings: Settings,
    generator: EventGenerator,
    count: int,
    *,
    rate: float | None = None,
    catalog: bool = True,
    demand_share: float = 0.0,
    on_progress: Callable[[int], None] | None = None,
) -> tuple[int, str]:
    """Publish ``count`` events to the events topic (creating the topics if missing) and,
    with ``catalog``, write the generator's catalog to ``products`` first (``demand_share``
    of its SKUs on the demand policy); return the number sent and the brokers. Every
    message is acknowledged or this raises."""
    if catalog:
        client = connect(settings)
        try:
            database = database_name(settings)
            apply_migrations(client, database)
            write_catalog(client, database, generator.catalog.entries(demand_share))
            write_promotions(client, database, planned_promotions(generator, count))
        finally:
            client.close()
    brokers = brokers_for(settings)
    ensure_topics(settings, brokers)
    sent = publish_to_kafka(
        generator.messages(count),
        kafka_connection(settings, brokers),
        settings.events_topic,
        rate=rate,
        timeout=settings.kafka_timeout_seconds,
        on_progress=on_progress,
    )
    return sent, brokers


def supplier_link(
    settings: Settings, speedup: float, behaviour: SupplierBehaviour | None = None
) -> tuple[SupplierLink, Supplier, str]:
    """The supplier simulator on the configured broker (topics created if missing)."""
    brokers = brokers_for(settings)
    ensure_topics(settings, brokers)
    supplier = Supplier(speedup, behaviour=behaviour)
    link = SupplierLink(
        kafka_connection(settings, brokers),
        settings.alerts_topic,
        settings.events_topic,
        supplier,
        timeout=settings.kafka_timeout_seconds,
    )
    return link, supplier, brokers


def serve_supplier(link: SupplierLink) -> None:
    """Answer reorder requests until SIGTERM/SIGINT; orders taken but not delivered are
    read again next time. Closes ``link``."""
    try:
        run_supplier(link)
    finally:
        link.close()
