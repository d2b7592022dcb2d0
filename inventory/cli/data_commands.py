"""``inventory generate`` and ``inventory supplier``: synthetic events and deliveries."""

from __future__ import annotations

import sys
from typing import Any

import click

from generators.demand import DemandShape
from generators.supplier import SupplierBehaviour
from inventory.cli.declare import command, fail
from inventory.cli.flow_commands import say
from inventory.cli.param_types import Count, PositiveFloat, Share, Timestamp
from inventory.cli.simulation_options import (
    shape_from,
    shape_options,
    supplier_from,
    supplier_options,
)
from inventory.core.settings import Settings


@command(
    "generate",
    "generate inventory events (to Kafka, or JSON lines on stdout)",
    stopped="the messages produced so far were flushed",
)
@click.option("--count", type=Count(0), default=10_000, help="events to generate")
@click.option(
    "--rate",
    type=PositiveFloat(),
    default=None,
    show_default="as fast as possible",
    help="events per second to publish",
)
@click.option(
    "--event-rate",
    type=PositiveFloat(),
    default=1000.0,
    help="events per second of event time (how far occurred_at advances)",
)
@click.option(
    "--seed",
    type=int,
    default=None,
    show_default="a new stream each run",
    help="the same seed gives the same events, event ids included (a repeat is dropped "
    "as duplicates)",
)
@click.option("--skus", type=Count(1), default=100, help="distinct SKUs")
@click.option("--warehouses", type=Count(1), default=3, help="distinct warehouses")
@click.option(
    "--start",
    type=Timestamp(),
    default="now",
    help="occurred_at of the first event: 'now' or RFC 3339",
)
@click.option("--malformed", type=Share(), default=0.0, help="share of malformed events")
@click.option("--duplicates", type=Share(), default=0.0, help="share of duplicates")
@click.option("--late", type=Share(), default=0.0, help="share of out-of-order events")
@click.option("--stdout", is_flag=True, help="write JSON lines instead of Kafka")
@click.option(
    "--no-catalog",
    is_flag=True,
    help="do not write the product catalog to ClickHouse (works while `run` holds the "
    "embedded database)",
)
@click.option(
    "--holds", type=Share(), default=0.0, help="share of purchases made through a cart hold"
)
@click.option(
    "--no-restock",
    is_flag=True,
    help="never restock (run `inventory supplier` to answer the reorder requests)",
)
@shape_options(DemandShape())
@click.option(
    "--demand-skus",
    type=Share(),
    default=0.0,
    help="share of the catalog's SKUs on the demand replenishment policy",
)
def generate(
    settings: Settings,
    *,
    count: int,
    rate: float | None,
    event_rate: float,
    seed: int | None,
    skus: int,
    warehouses: int,
    start: int,
    malformed: float,
    duplicates: float,
    late: float,
    stdout: bool,
    no_catalog: bool,
    holds: float,
    no_restock: bool,
    demand_skus: float,
    **shape: Any,
) -> int:
    from generators.publish import progress_bar
    from inventory.app.generate import (
        GenerateOptions,
        event_generator,
        generate_jsonl,
        generate_to_kafka,
    )
    from inventory.clickhouse.client import EmbeddedClickHouseInUse

    options = GenerateOptions(
        count=count,
        seed=seed,
        skus=skus,
        warehouses=warehouses,
        start_ms=start,
        event_rate=event_rate,
        malformed=malformed,
        duplicates=duplicates,
        late=late,
        holds=holds,
        restock=not no_restock,
        shape=shape_from(shape, seed=seed or 0, start_ms=start),
    )
    generator = event_generator(options)
    if stdout:
        generate_jsonl(generator, count, sys.stdout, rate=rate)
        return 0
    try:
        with progress_bar(enabled=sys.stderr.isatty()) as bar:
            task = bar.add_task(f"producing to {settings.events_topic}", total=count)
            sent, brokers = generate_to_kafka(
                settings,
                generator,
                count,
                rate=rate,
                catalog=not no_catalog,
                demand_share=demand_skus,
                on_progress=lambda n: bar.advance(task, n),
            )
    except EmbeddedClickHouseInUse as exc:
        return fail(
            f"{exc}. `inventory generate --no-catalog` publishes without writing the catalog", 1
        )
    ids = f"event ids ev-{generator.tag}-…"
    say(f"produced {sent} events to {settings.events_topic} at {brokers} ({ids})")
    if seed is not None:
        say(
            f"note: --seed {seed} repeats the same events and event ids each time: the flow "
            "drops a repeat as duplicates (leave --seed out for new events)"
        )
    return 0


@command(
    "supplier",
    "answer reorder requests (topic inventory.alerts) with restocks carrying the po_id",
    stopped="deliveries so far were flushed; pending orders are read again next time",
)
@click.option(
    "--speedup",
    type=PositiveFloat(),
    default=3600.0,
    help="lead times are divided by this (3600: an hour of lead time takes a second)",
)
@supplier_options(SupplierBehaviour())
def supplier(settings: Settings, *, speedup: float, **behaviour: Any) -> int:
    from inventory.app.generate import serve_supplier, supplier_link
    from inventory.app.progress import Periodic, supplier_line

    link, simulator, brokers = supplier_link(settings, speedup, supplier_from(behaviour))
    say(
        f"supplier: reading reorder requests from {settings.alerts_topic}, delivering to "
        f"{settings.events_topic} at {brokers} (lead times / {speedup:g})"
    )
    with Periodic(lambda: supplier_line(simulator), say, settings.progress_seconds):
        serve_supplier(link)
    say(supplier_line(simulator))
    return 0


COMMANDS = (generate, supplier)
