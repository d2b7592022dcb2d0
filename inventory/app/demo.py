"""``inventory demo``: the whole pipeline on one machine, with a live view.

Starts (or reuses) the local broker, applies the schema, publishes two weeks of sales
history (seasonal, with promotions, and a supplier delivering the flow's purchase orders
late or short at times: :mod:`inventory.app.demo_history`; a quarter of the SKUs are on
the demand policy and learn their reorder points from it), then generates events with a
sprinkle of malformed, duplicate and late ones, runs the dataflow until the topic is
drained while showing rows landing. A supplier simulator then answers the flow's reorder
requests with restocks carrying their purchase order ids, and the flow runs again: the
summary shows stock, purchase orders (opened, received), reorder points learned beside
the static thresholds, alerts and dead letters.
With ``serve``, it then keeps generating live events (with cart holds), the supplier
delivers after each SKU's lead time (an hour a second), and it serves the availability
API and the storefront page until interrupted.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

from rich.console import Console
from rich.live import Live
from rich.table import Table

from generators.events import EventGenerator, GeneratorConfig
from generators.publish import progress_bar, publish_to_kafka
from generators.supplier import Delivery, Supplier
from generators.supplier_run import SupplierLink, run_supplier
from inventory.app.demo_history import history_messages
from inventory.app.demo_summary import print_lines, show_summary
from inventory.app.reset import apply_reset, plan_reset
from inventory.app.run import run_inventory
from inventory.availability.rules import showcase, status_for
from inventory.availability.server import AvailabilityService
from inventory.clickhouse.catalog import write_catalog
from inventory.clickhouse.client import connect, database_name
from inventory.clickhouse.migrations import apply_migrations
from inventory.core.settings import Settings, redact_url
from inventory.kafka.config import kafka_connection
from inventory.kafka.local_broker import brokers_for
from inventory.kafka.topics import ensure_topics

PIPED_WIDTH = 140
EVENT_RATE = 20.0  # events per second of event time: 5,000 events span about 4 minutes
SUPPLIER_SPEEDUP = 3600.0  # live: a lead time of 48 hours is delivered after 48 seconds
HOLD_SHARE = 0.15  # purchases through a cart hold
HISTORY_DAYS = 14  # of sales before the live events: what demand-policy SKUs learn from
DEMAND_SHARE = 0.25  # of the catalog's SKUs on the demand policy
FORECAST_SHARE = 0.2  # on the forecast policy (of those not on demand), v12
FORECAST_MIN_HISTORY_DAYS = 7  # a shorter history: no forecast run in the demo
BACKORDER_SHARE = 0.1  # of them backordered when out of stock with units on order (v10)


def _written_table(written: Counter[str], started: float) -> Table:
    table = Table("table", "rows written", title="dataflow -> ClickHouse", min_width=44)
    for name in (
        "events",
        "stock_levels",
        "sales_rates",
        "alerts",
        "purchase_orders",
        "dead_letters",
    ):
        table.add_row(name, f"{written[name]:,}")
    table.caption = f"{time.monotonic() - started:4.1f} s"
    return table


def run_demo(
    settings: Settings,
    *,
    events: int,
    seed: int | None,
    workers: int,
    serve: bool = False,
    history_days: int = HISTORY_DAYS,
) -> int:
    # piped: wide enough for the tables' ids (rich would fit everything into 80 columns)
    console = Console(width=None if sys.stdout.isatty() else PIPED_WIDTH)
    seed = seed if seed is not None else int(time.time()) % 1_000_000
    console.rule("[bold]inventory demo")
    if settings.use_local_broker and settings.is_embedded_clickhouse:
        # the demo shows its own run: local data starts over (what `inventory reset` does)
        apply_reset(settings, plan_reset(settings))
        console.print("local data reset: this run starts from empty tables and topics")
    else:
        console.print(
            "[yellow]configured ClickHouse server or Kafka brokers: the demo adds to what "
            "they hold (tables accumulate across runs)[/]"
        )
    brokers = brokers_for(settings)
    where = "local embedded broker" if settings.use_local_broker else "configured brokers"
    console.print(f"Kafka: {brokers} ({where})")
    console.print(f"ClickHouse: {redact_url(settings.clickhouse_url.get_secret_value())}")
    ensure_topics(settings, brokers)
    client = connect(settings)
    database = database_name(settings)
    applied = apply_migrations(client, database)
    console.print(f"schema: {len(applied)} migration(s) applied, database {database}")

    start_ms = int(time.time() * 1000) - int(events / EVENT_RATE * 1000)
    config = GeneratorConfig(
        seed=seed,
        start_ms=start_ms,
        rate=EVENT_RATE,
        malformed_share=0.01,
        duplicate_share=0.02,
        late_share=0.02,
        late_max_seconds=60,
        hold_share=HOLD_SHARE,
        self_restock=False,  # the supplier restocks, answering reorder requests
    )
    generator = EventGenerator(config)
    catalog = generator.catalog.entries(DEMAND_SHARE, BACKORDER_SHARE, FORECAST_SHARE)
    write_catalog(client, database, catalog)
    client.close()
    if history_days:
        publish_history(settings, brokers, seed=seed, days=history_days, end_ms=start_ms)
    if history_days >= FORECAST_MIN_HISTORY_DAYS:
        forecast_history(settings, brokers, start_ms, workers, console)
    with progress_bar() as bar:
        task = bar.add_task(f"generating {events:,} events (seed {seed})", total=events)
        publish_to_kafka(
            generator.messages(events),
            kafka_connection(settings, brokers),
            settings.events_topic,
            timeout=settings.kafka_timeout_seconds,
            on_progress=lambda n: bar.advance(task, n),
        )

    written: Counter[str] = Counter()
    started = time.monotonic()

    def on_write(table: str, rows: int) -> None:
        written[table] += rows

    def two_passes() -> int:
        run_inventory(settings, brokers, exit_at_end=True, workers=workers, on_write=on_write)
        delivered = deliver_requested(settings, brokers, generator, start_ms)
        run_inventory(settings, brokers, exit_at_end=True, workers=workers, on_write=on_write)
        return delivered

    if console.is_terminal:  # a live table; piped, the final one (a live one garbles)
        with Live(
            get_renderable=lambda: _written_table(written, started),
            console=console,
            refresh_per_second=8,
        ):
            delivered = two_passes()
    else:
        delivered = two_passes()
        console.print(_written_table(written, started))
    console.print(
        f"supplier: {delivered} restock(s) answering the reorder requests, each carrying its "
        "purchase order id (processed in the second pass)"
    )
    show_summary(settings, console)
    if serve:
        serve_live(
            settings, brokers, generator, workers=workers, console=console, since_ms=start_ms
        )
    return 0


def publish_history(settings: Settings, brokers: str, *, seed: int, days: int, end_ms: int) -> None:
    """``days`` of sales history ending at ``end_ms`` (:mod:`inventory.app.demo_history`)."""
    history = history_messages(
        settings, seed=seed, days=days, end_ms=end_ms, demand_share=DEMAND_SHARE
    )
    with progress_bar() as bar:
        task = bar.add_task(f"{days} days of sales history", total=len(history))
        publish_to_kafka(
            history,
            kafka_connection(settings, brokers),
            settings.events_topic,
            timeout=settings.kafka_timeout_seconds,
            on_progress=lambda n: bar.advance(task, n),
        )


def forecast_history(
    settings: Settings, brokers: str, start_ms: int, workers: int, console: Console
) -> None:
    """The flow over the history (it closes its days), then the forecast job on them,
    its versions published in effect from today (the job's default is a day later), so
    the live events' forecast-policy SKUs reorder on them."""
    run_inventory(settings, brokers, exit_at_end=True, workers=workers)
    try:
        from inventory.app.forecast.job import ForecastOptions, run_forecast
        from inventory.app.forecast.publish import publish_versions
    except ImportError as exc:
        console.print(f"[yellow]no forecasts: {exc.name} is missing (the forecast extra)[/]")
        return
    through = datetime.fromtimestamp(start_ms / 1000, UTC).date() - timedelta(days=1)
    options = ForecastOptions(through, holdout_days=7, effective_after_days=1)
    summary = run_forecast(settings, options, time.time)
    published = publish_versions(settings, brokers, summary.versions)
    accuracy = "n/a" if summary.wape is None else f"{summary.wape:.2f}"
    console.print(
        f"forecast {summary.version}: {summary.keys} keys fitted on the history's "
        f"unconstrained demand (holdout WAPE {accuracy}), {published} versions published "
        f"to {settings.forecast_topic or '(no topic)'}"
    )


def supplier_link(
    settings: Settings, brokers: str, supplier: Supplier, generator: EventGenerator
) -> SupplierLink:
    def on_delivery(delivery: Delivery) -> None:
        generator.receive(delivery.warehouse_id, delivery.sku, delivery.quantity)

    return SupplierLink(
        kafka_connection(settings, brokers),
        settings.alerts_topic,
        settings.events_topic,
        supplier,
        timeout=settings.kafka_timeout_seconds,
        on_delivery=on_delivery,
    )


def deliver_requested(
    settings: Settings, brokers: str, generator: EventGenerator, since_ms: int
) -> int:
    """Every reorder request raised since ``since_ms`` delivered at once (the batch part
    of the demo; the history before restocked itself)."""
    link = supplier_link(settings, brokers, Supplier(since_ms=since_ms), generator)
    try:
        delivered = 0
        for _ in range(3):  # until a round reads nothing new
            step = link.step(deliver_all=True)
            delivered += step
            if not step and delivered:
                break
        return delivered
    finally:
        link.close()


def serve_live(
    settings: Settings,
    brokers: str,
    generator: EventGenerator,
    *,
    workers: int,
    console: Console,
    since_ms: int,
) -> None:
    """Keep going until Ctrl-C: live events at ``EVENT_RATE``/s, the flow tailing them,
    and the availability API with the storefront in this process (embedded ClickHouse
    allows one process per data path)."""
    with AvailabilityService(settings) as service:
        url = service.server.url
        snapshot = service.first_snapshot(settings)
        # what the storefront's grid leads with: scarce, then out of stock (incoming first)
        totals, expected = snapshot.showcase_inputs()
        scarce = [
            sku
            for sku in showcase(totals, 12, settings.availability_few_left, expected)
            if status_for(totals[sku], settings.availability_few_left) != "in_stock"
        ]
        console.rule("live availability")
        print_lines(
            console,
            f"storefront:     {url}/\n"
            f"scarce, out:    {url}/?skus={','.join(scarce)}\n"
            f"API:            {url}/v1/availability/{scarce[0] if scarce else 'SKU'}\n"
            f"API docs:       {url}/docs\n"
            + (
                "cart:           add #token=<INVENTORY_API_WRITE_TOKEN> to the storefront's "
                "address\n"
                if settings.api_write_token
                else ""
            )
            + f"live events: {EVENT_RATE:g}/s, processed as they arrive. Ctrl-C stops.",
        )
        feeder = threading.Thread(
            target=publish_to_kafka,
            args=(
                generator.messages(10**9),
                kafka_connection(settings, brokers),
                settings.events_topic,
            ),
            kwargs={"rate": EVENT_RATE, "timeout": settings.kafka_timeout_seconds},
            name="live-events",
            daemon=True,
        )
        feeder.start()
        supplier = Supplier(SUPPLIER_SPEEDUP, since_ms=since_ms)  # not the history's
        link = supplier_link(settings, brokers, supplier, generator)
        threading.Thread(target=run_supplier, args=(link,), name="supplier", daemon=True).start()
        run_inventory(settings, brokers, exit_at_end=False, workers=workers)
