"""``inventory generate``: seeded inventory events to Kafka (or JSON lines);
``inventory supplier``: the supplier simulator answering reorder requests."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from rich.console import Console

from inventory.cli.param_types import non_negative, parse_start, positive, positive_float, share
from inventory.core.settings import Settings

if TYPE_CHECKING:
    from inventory.clickhouse.catalog import CatalogEntry


def add_parser(sub: Any, formatter: type[argparse.HelpFormatter]) -> None:
    """Add ``generate`` to the CLI's subcommands."""
    summary = "generate inventory events (to Kafka, or JSON lines on stdout)"
    gen = sub.add_parser("generate", help=summary, description=summary, formatter_class=formatter)
    gen.add_argument("--count", type=non_negative, default=10_000, help="events to generate")
    gen.add_argument(
        "--rate",
        type=positive_float,
        default=None,
        help="events per second to publish (default: as fast as possible)",
    )
    gen.add_argument(
        "--event-rate",
        type=positive_float,
        default=1000.0,
        help="events per second of event time (how far occurred_at advances)",
    )
    gen.add_argument("--seed", type=int, default=42, help="the same seed gives the same events")
    gen.add_argument("--skus", type=positive, default=100, help="distinct SKUs")
    gen.add_argument("--warehouses", type=positive, default=3, help="distinct warehouses")
    gen.add_argument(
        "--start",
        type=parse_start,
        default="now",
        help="occurred_at of the first event: 'now' or RFC 3339",
    )
    gen.add_argument("--malformed", type=share, default=0.0, help="share of malformed events")
    gen.add_argument("--duplicates", type=share, default=0.0, help="share of duplicates")
    gen.add_argument("--late", type=share, default=0.0, help="share of out-of-order events")
    gen.add_argument("--stdout", action="store_true", help="write JSON lines instead of Kafka")
    gen.add_argument(
        "--no-catalog", action="store_true", help="do not write the product catalog to ClickHouse"
    )
    gen.add_argument(
        "--holds", type=share, default=0.0, help="share of purchases made through a cart hold"
    )
    gen.add_argument(
        "--no-restock",
        action="store_true",
        help="never restock (run `inventory supplier` to answer the reorder requests)",
    )
    summary = "answer reorder requests (topic inventory.alerts) with restocks carrying the po_id"
    sup = sub.add_parser("supplier", help=summary, description=summary, formatter_class=formatter)
    sup.add_argument(
        "--speedup",
        type=positive_float,
        default=3600.0,
        help="lead times are divided by this (3600: an hour of lead time takes a second)",
    )


def cmd_generate(settings: Settings, args: argparse.Namespace) -> int:
    from generators.events import EventGenerator, GeneratorConfig
    from generators.publish import progress_bar, publish_to_kafka, write_jsonl
    from inventory.kafka.config import kafka_connection
    from inventory.kafka.local_broker import brokers_for
    from inventory.kafka.topics import ensure_topics

    config = GeneratorConfig(
        seed=args.seed,
        skus=args.skus,
        warehouses=args.warehouses,
        start_ms=args.start,
        rate=args.event_rate,
        malformed_share=args.malformed,
        duplicate_share=args.duplicates,
        late_share=args.late,
        hold_share=args.holds,
        self_restock=not args.no_restock,
    )
    generator = EventGenerator(config)
    messages = generator.messages(args.count)
    if args.stdout:
        write_jsonl(messages, sys.stdout, rate=args.rate)
        return 0
    if not args.no_catalog:
        _write_catalog(settings, generator.catalog.entries())
    brokers = brokers_for(settings)
    ensure_topics(settings, brokers)
    with progress_bar(enabled=sys.stderr.isatty()) as bar:
        task = bar.add_task(f"producing to {settings.events_topic}", total=args.count)
        sent = publish_to_kafka(
            messages,
            kafka_connection(settings, brokers),
            settings.events_topic,
            rate=args.rate,
            timeout=settings.kafka_timeout_seconds,
            on_progress=lambda n: bar.advance(task, n),
        )
    Console(stderr=True).print(f"produced {sent} events to {settings.events_topic} at {brokers}")
    return 0


def _write_catalog(settings: Settings, entries: list[CatalogEntry]) -> None:
    from inventory.clickhouse.catalog import write_catalog
    from inventory.clickhouse.client import connect, database_name
    from inventory.clickhouse.migrations import apply_migrations

    client = connect(settings)
    try:
        database = database_name(settings)
        apply_migrations(client, database)
        write_catalog(client, database, entries)
    finally:
        client.close()


def cmd_supplier(settings: Settings, args: argparse.Namespace) -> int:
    """Run until SIGTERM/SIGINT; orders taken but not delivered are read again next time."""
    from generators.supplier import Supplier
    from generators.supplier_run import SupplierLink, run_supplier
    from inventory.kafka.config import kafka_connection
    from inventory.kafka.local_broker import brokers_for
    from inventory.kafka.topics import ensure_topics

    brokers = brokers_for(settings)
    ensure_topics(settings, brokers)
    supplier = Supplier(args.speedup)
    link = SupplierLink(
        kafka_connection(settings, brokers),
        settings.alerts_topic,
        settings.events_topic,
        supplier,
        timeout=settings.kafka_timeout_seconds,
    )
    Console(stderr=True).print(
        f"supplier: reading reorder requests from {settings.alerts_topic}, delivering to "
        f"{settings.events_topic} at {brokers} (lead times / {args.speedup:g})"
    )
    try:
        run_supplier(link)
    finally:
        link.close()
    Console(stderr=True).print(f"supplier: {supplier.delivered} restock(s) delivered")
    return 0
