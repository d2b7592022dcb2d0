"""What a backfill may do to keys that already have stock.

A backfill computes each key's state from its input alone. For a key the tables already
hold events of that the input lacks (the stream's, or another backfill's), that state is
computed from less, so by default such a backfill is refused before anything is written
(:class:`BackfillConflict`, naming the keys). With ``force`` it runs and then folds: the
stock and the sales windows of those keys are recomputed from every accepted event in
``events`` (the input's and the earlier ones: on-hand and holds are functions of the set of events)
and written with their versions, so they win over both partial states; a dataflow adopts
them as it starts (``dataflows.seeds``). Keys the input covers completely (a re-run, or a
superset of the history) and new keys are written as computed. See docs/semantics.md,
"Backfill".

Every stock row a backfill writes is also published to the stock changelog
(``INVENTORY_STOCK_TOPIC``, when set), so the availability API, which keeps the highest
version per key as ``FINAL`` does, sees what the backfill made current.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bytewax.inputs import FixedPartitionedSource
from clickhouse_connect.driver.client import Client

from dataflows.assembly import load_policy_book
from dataflows.decode import decode_batch
from dataflows.flow import build_flow, demand_rules
from dataflows.per_key.book import KeyBook
from dataflows.per_key.orders import OrderRules
from dataflows.seeds import SeedReader
from dataflows.sources.files import FileSource, ProgressHook
from dataflows.sources.topic_range import TopicRangeSource
from inventory.app.run import execute
from inventory.clickhouse.catalog import PolicyBook
from inventory.clickhouse.client import connect, database_name
from inventory.clickhouse.queries import query
from inventory.core.errors import ConfigurationError
from inventory.core.records import Event, SalesWindow, StockLevel
from inventory.core.settings import Settings
from inventory.kafka.config import kafka_connection
from inventory.kafka.local_broker import running_local_broker
from sinks.clickhouse import ClickHouseSink, WriteHook
from sinks.discard import DiscardSink
from sinks.kafka import stock_sink

logger = logging.getLogger(__name__)

Key = tuple[str, str]
INSERT_ROWS = 50_000


class BackfillConflict(ConfigurationError):  # noqa: N818 (a refusal, not a failure)
    """The input lacks events the tables hold for some of its keys (see module doc)."""

    def __init__(self, missing: list[tuple[str, str, int]]) -> None:
        self.missing = missing
        examples = ", ".join(f"{wh}:{sku} ({n} event(s))" for wh, sku, n in missing[:5])
        super().__init__(
            f"{len(missing)} key(s) already have stock computed from events this input "
            f"does not contain, e.g. {examples}; a backfill would compute their stock from "
            "less. Stop the dataflow and run again with --force to fold this history into "
            "their current stock, or backfill into a fresh database"
        )


def input_events(source: FixedPartitionedSource[Any, Any], max_future_ms: int) -> Iterator[Event]:
    """Every event of ``source`` that decoding accepts (lateness is the flow's business)."""
    for part in source.list_parts():
        partition = source.build_part("backfill-check", part, None)
        try:
            while True:
                try:
                    batch = partition.next_batch()
                except StopIteration:
                    break
                for item in decode_batch(batch, max_future_ms):
                    if isinstance(item, Event):
                        yield item
        finally:
            partition.close()


def keys_missing_events(client: Client, events: Iterator[Event]) -> list[tuple[str, str, int]]:
    """(warehouse, sku, events the input lacks) per key of the input that the tables hold
    more events of, most first. Uses a scratch table named per run (dropped after)."""
    scratch = f"_backfill_input_{uuid.uuid4().hex}"
    client.command(
        f"CREATE TABLE {scratch} (warehouse_id String, sku String, event_id String) ENGINE = Memory"
    )
    try:
        rows: list[tuple[str, str, str]] = []
        for event in events:
            rows.append((event.warehouse_id, event.sku, event.event_id))
            if len(rows) >= INSERT_ROWS:
                client.insert(scratch, rows, column_names=["warehouse_id", "sku", "event_id"])
                rows = []
        if rows:
            client.insert(scratch, rows, column_names=["warehouse_id", "sku", "event_id"])
        result = client.query(query("backfill_missing_events"), parameters={"input": scratch})
        return [(wh, sku, int(n)) for wh, sku, n in result.result_rows]
    finally:
        client.command(f"DROP TABLE IF EXISTS {scratch}")


def union_rows(
    client: Client,
    keys: list[Key],
    settings: Settings,
    policies: PolicyBook,
    lineage: str,
) -> list[StockLevel | SalesWindow]:
    """Stock levels and sales windows of ``keys`` recomputed from all their events: each
    key's state rebuilt as a seed (on-hand, holds, the stream's open purchase orders,
    demand and lead times) and its stock row as the flow writes it, under ``lineage``."""
    window_ms = settings.window_seconds * 1000
    lateness_ms = settings.lateness_seconds * 1000
    reader = SeedReader(lambda: client, lineage, lateness_ms, window_ms, demand_rules(settings))
    rules = OrderRules(demand=demand_rules(settings))
    out: list[StockLevel | SalesWindow] = []
    for (wh, sku), seed in reader.seeds(keys).items():
        book = KeyBook(
            lateness_ms=lateness_ms,
            window_ms=window_ms,
            policy_for=policies.for_sku,
            lineage=lineage,
            rules=rules,
        )
        book.adopt(seed)
        out.append(book.stock_row(wh, sku))
    for start in range(0, len(keys), 2000):
        chunk = keys[start : start + 2000]
        for wh, sku, begin, units, revenue_e4, orders, sales in client.query(
            query("union_windows"), parameters={"keys": chunk, "window_ms": window_ms}
        ).result_rows:
            out.append(
                SalesWindow(wh, sku, begin, begin + window_ms, units, revenue_e4, orders, sales)
            )
    return out


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

    Writes every ClickHouse table (dead letters included); publishes no alerts or dead
    letters (historical alerts must not trigger reorders). Its stock rows go to the stock
    changelog only when brokers are configured or the local broker already runs: it
    never starts a broker. No recovery: re-running the same file
    is a replay and leaves the tables unchanged.

    :arg force: run although some keys have stock from events the file lacks, and fold
        the file into their stock (the fold below); without, such a file raises
        :class:`~inventory.app.backfill.BackfillConflict` before anything is written.
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
        brokers=settings.kafka_brokers or running_local_broker(settings) or "",
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
        brokers=brokers,
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
    brokers: str,
) -> None:
    # deterministic, so re-running the same backfill writes identical rows
    lineage = f"backfill:{label}"
    client = connect(settings, database=database_name(settings))
    try:
        max_future_ms = settings.max_future_seconds * 1000
        missing = keys_missing_events(client, input_events(check_source, max_future_ms))
        if missing and not force:
            raise BackfillConflict(missing)
        policies = load_policy_book(settings)
        flow = build_flow(
            settings,
            "",
            policies=policies,
            source=source,
            rows_sink=ClickHouseSink(settings, on_write=on_write, accepted_by=lineage),
            dlq_sink=DiscardSink(),
            alerts_sink=DiscardSink(),
            stock_sink=stock_topic_sink(settings, brokers),
            lineage=lineage,
            decisions_sink=DiscardSink(),  # history: no cart waits on it (hold_decisions has it)
        )
        logger.info("backfill: workers=%d lineage=%s", workers, lineage)
        execute(flow, settings, workers, recovery=False)
        if missing:
            keys = [(wh, sku) for wh, sku, _ in missing]
            folded = union_rows(client, keys, settings, policies, lineage)
            rows: list[Any] = list(folded)
            sink = ClickHouseSink(settings, on_write=on_write).build("fold", 0, 1)
            try:
                sink.write_batch(rows)
            finally:
                sink.close()
            topic = stock_topic_sink(settings, brokers).build("fold-topic", 0, 1)
            try:
                topic.write_batch([r for r in rows if isinstance(r, StockLevel)])
            finally:
                topic.close()
            logger.warning(
                "backfill --force: folded the history into the stock of %d key(s)", len(keys)
            )
    finally:
        client.close()


def stock_topic_sink(settings: Settings, brokers: str) -> Any:
    """The stock changelog, or a sink that discards (no ``INVENTORY_STOCK_TOPIC``, or no
    broker to publish to)."""
    return stock_sink(settings, brokers) if settings.stock_topic and brokers else DiscardSink()
