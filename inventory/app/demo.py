"""``inventory demo``: the whole pipeline on one machine, with a live view.

Starts (or reuses) the local broker, applies the schema, generates events with a
sprinkle of malformed, duplicate and late ones, runs the dataflow until the topic is
drained while showing rows landing. A supplier simulator then answers the flow's reorder
requests with restocks carrying their purchase order ids, and the flow runs again: the
summary shows stock, purchase orders (opened, received), alerts and dead letters.
With ``serve``, it then keeps generating live events (with cart holds), the supplier
delivers after each SKU's lead time (an hour a second), and it serves the availability
API and the storefront page until interrupted.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import Counter

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table

from generators.events import EventGenerator, GeneratorConfig
from generators.publish import progress_bar, publish_to_kafka
from generators.supplier import Delivery, Supplier
from generators.supplier_run import SupplierLink, run_supplier
from inventory.app.reset import apply_reset, plan_reset
from inventory.app.run import run_inventory
from inventory.availability.rules import available
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
QUERY_HELP = """Query it yourself (embedded ClickHouse, same SQL as the server):
  .venv/bin/inventory sql "SELECT * FROM stock_levels FINAL ORDER BY on_hand LIMIT 9"
  .venv/bin/inventory sql "SELECT * FROM alerts FINAL ORDER BY raised_at DESC LIMIT 9"
  .venv/bin/inventory sql "SELECT error, payload FROM dead_letters LIMIT 5"
The local broker keeps running: '.venv/bin/inventory generate' adds events,
'.venv/bin/inventory run --exit-at-end' processes them, 'inventory broker stop' ends it."""


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
    settings: Settings, *, events: int, seed: int | None, workers: int, serve: bool = False
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
    write_catalog(client, database, generator.catalog.entries())
    client.close()
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
        delivered = deliver_requested(settings, brokers, generator)
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
        serve_live(settings, brokers, generator, workers, console)
    return 0


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


def deliver_requested(settings: Settings, brokers: str, generator: EventGenerator) -> int:
    """Every reorder request so far, delivered at once (the batch part of the demo)."""
    link = supplier_link(settings, brokers, Supplier(), generator)
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
    workers: int,
    console: Console,
) -> None:
    """Keep going until Ctrl-C: live events at ``EVENT_RATE``/s, the flow tailing them,
    and the availability API with the storefront in this process (embedded ClickHouse
    allows one process per data path)."""
    with AvailabilityService(settings) as service:
        url = service.server.url
        snapshot = service.store.refresh()
        totals = {
            sku: sum(available(w.on_hand, w.reserved) for w in rows)
            for sku, rows in snapshot.stock.items()
        }
        scarce = sorted(totals, key=lambda sku: (totals[sku], sku))[:12]
        console.rule("live availability")
        print_lines(
            console,
            f"storefront:     {url}/\n"
            f"scarcest SKUs:  {url}/?skus={','.join(scarce)}\n"
            f"API:            {url}/v1/availability/{scarce[0] if scarce else 'SKU'}\n"
            f"API docs:       {url}/docs\n"
            f"live events: {EVENT_RATE:g}/s, processed as they arrive. Ctrl-C stops.",
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
        link = supplier_link(settings, brokers, Supplier(SUPPLIER_SPEEDUP), generator)
        threading.Thread(target=run_supplier, args=(link,), name="supplier", daemon=True).start()
        run_inventory(settings, brokers, exit_at_end=False, workers=workers)


# The latest reorder requests, each with the purchase order it opened, its receipt and
# the key's stock now.
REORDER_STORY = """
    SELECT a.warehouse_id, a.sku, a.kind, a.on_hand, a.po_id, o.quantity, o.status,
           o.received_quantity, s.on_hand
    FROM (SELECT * FROM alerts FINAL WHERE reorder_quantity > 0) AS a
    LEFT JOIN (SELECT * FROM purchase_orders FINAL) AS o ON o.po_id = a.po_id
    LEFT JOIN (SELECT * FROM stock_levels FINAL) AS s
        ON s.warehouse_id = a.warehouse_id AND s.sku = a.sku
    ORDER BY a.raised_at DESC, a.alert_id
    LIMIT 8
"""

STOCK_WITH_POLICY = """
    SELECT s.warehouse_id, s.sku, s.on_hand, s.updated_at,
           coalesce(p.low_stock_threshold, {t:UInt32}) AS threshold
    FROM stock_levels AS s FINAL
    LEFT JOIN (SELECT sku, low_stock_threshold FROM products FINAL) AS p USING sku
    SETTINGS join_use_nulls = 1
"""


def show_summary(settings: Settings, console: Console) -> None:
    """Print stock, low-stock items, alerts, top sellers and dead letters from ClickHouse."""
    client = connect(settings, database=database_name(settings))
    params = {"t": settings.low_stock_threshold}

    def query(sql: str) -> list[tuple[object, ...]]:
        return [tuple(row) for row in client.query(sql, parameters=params).result_rows]

    totals = query(
        "SELECT count(), sum(on_hand), countIf(on_hand <= threshold AND on_hand > 0), "  # noqa: S608 (constant fragments)
        f"countIf(on_hand <= 0) FROM ({STOCK_WITH_POLICY})"
    )[0]
    reorders = Table(
        "warehouse",
        "sku",
        "alert (on hand then)",
        "purchase order",
        "ordered",
        "status",
        "received",
        "on hand now",
        title="reorders: each request, its purchase order and its receipt (latest 8)",
    )
    for wh, sku, kind, alert_on_hand, po_id, ordered, status, received, on_hand in query(
        REORDER_STORY
    ):
        received_text = f"{received} units" if status == "received" else "-"
        reorders.add_row(
            str(wh),
            str(sku),
            f"{kind} ({alert_on_hand})",
            str(po_id),
            str(ordered),
            str(status),
            received_text,
            str(on_hand),
        )
    low = Table("warehouse", "sku", "on hand", "threshold", title="low and out of stock now")
    for wh, sku, on_hand, _, threshold in query(
        f"SELECT * FROM ({STOCK_WITH_POLICY}) WHERE on_hand <= threshold "  # noqa: S608
        "ORDER BY on_hand, warehouse_id, sku LIMIT 8"
    ):
        style = "bold red" if int(str(on_hand)) <= 0 else "yellow"
        low.add_row(str(wh), str(sku), f"[{style}]{on_hand}[/]", str(threshold))
    if not low.row_count:
        low.caption = "none: every request was delivered"
    sellers = Table(
        "warehouse",
        "sku",
        "units",
        "revenue",
        "orders",
        title="top sellers, last 5 minutes of event time",
    )
    for wh, sku, units, revenue, orders in query(
        "SELECT warehouse_id, sku, sum(units_sold) AS units, sum(revenue), sum(orders) "
        "FROM sales_rates FINAL WHERE window_start >= "
        "(SELECT max(window_start) FROM sales_rates) - INTERVAL 4 MINUTE "
        "GROUP BY warehouse_id, sku ORDER BY units DESC, warehouse_id, sku LIMIT 5"
    ):
        sellers.add_row(str(wh), str(sku), str(units), f"{revenue:.2f}", str(orders))
    orders = Table(
        "status", "purchase orders", "units ordered", "units received", title="purchase orders"
    )
    opened = ordered = received = 0
    for status, count, units, got in query(
        "SELECT status, count(), sum(quantity), sum(received_quantity) "
        "FROM purchase_orders FINAL GROUP BY status ORDER BY status"
    ):
        orders.add_row(str(status), str(count), str(units), str(got))
        opened, ordered, received = (
            opened + int(str(count)),
            ordered + int(str(units)),
            received + int(str(got)),
        )
    orders.add_row("[bold]opened[/]", f"[bold]{opened}[/]", str(ordered), str(received))
    dead = Table("reason", "messages", title="dead letters by reason code")
    for reason, count in query(
        "SELECT reason, count() FROM dead_letters FINAL GROUP BY reason ORDER BY 2 DESC, 1 LIMIT 8"
    ):
        dead.add_row(str(reason)[:80], str(count))
    client.close()
    console.print(Group(reorders, low, orders, sellers, dead))
    console.rule("what you are looking at")
    console.print(
        f"{totals[0]} (warehouse, sku) pairs, {totals[1]} units on hand, "
        f"{totals[2]} low, {totals[3]} out of stock (thresholds from the products catalog)."
    )
    print_lines(console, QUERY_HELP)


def print_lines(console: Console, text: str) -> None:
    """Lines as they are: never wrapped by rich, so commands and URLs copy whole."""
    for line in text.splitlines():
        console.print(line, soft_wrap=True, highlight=False, markup=False)
