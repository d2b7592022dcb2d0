"""The inventory dataflow.

Kafka ``inventory.events`` -> decode -> per (warehouse, sku): dedup, lateness, stock,
holds, sales windows, alerts, purchase orders -> ClickHouse tables, ``inventory.alerts``
and the DLQ topic.

``build_flow`` only describes the flow; nothing connects until it runs.
Delivery: at-least-once to every sink (Bytewax replays from the last snapshot after a
crash); every ClickHouse table is keyed so replayed rows collapse to the same result.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import bytewax.operators as op
from bytewax.dataflow import Dataflow
from bytewax.inputs import Source as BytewaxSource
from bytewax.outputs import DynamicSink, FixedPartitionedSink, Sink

from dataflows.decode import decode_batch
from dataflows.per_key.book import ForecastsFor, KeyOutput, no_forecasts
from dataflows.per_key.demand import DemandRules
from dataflows.per_key.orders import HOUR_MS, OrderRules
from dataflows.seeds import Seeder
from dataflows.sources.events_topic import EventsSource
from dataflows.sources.forecast_topic import ForecastBook
from dataflows.state.shard_logic import (
    DEAD_LETTERS,
    LIVE_BOOKS,
    KeyConfig,
    ShardBatch,
    ShardItems,
    build_shard,
)
from inventory.clickhouse.catalog import PolicyBook
from inventory.core.forecast_versions import ForecastVersion
from inventory.core.key_shards import shard_name, shard_of
from inventory.core.records import (
    Alert,
    DeadLetter,
    Event,
    HoldDecision,
    StockLevel,
)
from inventory.core.settings import Settings
from inventory.kafka.config import kafka_connection
from inventory.runtime.metrics import (
    ALERTS,
    EVENTS_ACCEPTED,
    HOLD_DECISIONS,
    OFF_KEY_EVENTS,
    OFF_SHARD_EVENTS,
    count_dead_letters,
)
from sinks.clickhouse import ClickHouseSink
from sinks.kafka import alert_sink, dead_letter_sink, decision_sink
from sinks.kafka import stock_sink as kafka_stock_sink

FLOW_ID = "inventory"
DEFAULT_SHARDS = 8  # a flow not reading a Kafka topic (files, tests)


def forecast_lookup(policies: PolicyBook, forecasts: ForecastBook | None) -> ForecastsFor:
    """A key's forecast versions while its SKU is on the ``forecast`` policy (none
    otherwise: only those keys reorder on them and follow their tracking signal)."""
    if forecasts is None:
        return no_forecasts
    for_key = forecasts.for_key

    def lookup(warehouse_id: str, sku: str) -> tuple[ForecastVersion, ...]:
        if policies.for_sku(sku).replenishment != "forecast":
            return ()
        return for_key(warehouse_id, sku)

    return lookup


def demand_rules(settings: Settings) -> DemandRules:
    """How ``demand`` SKUs compute their reorder points, from the settings."""
    return DemandRules(
        horizon_days=settings.demand_horizon_days,
        min_days=settings.demand_min_days,
        min_receipts=settings.lead_time_min_receipts,
        service_level=settings.default_service_level,
        review_days=settings.default_review_period_days,
        tracking_limit=settings.forecast_tracking_limit,
        intraday_weights=settings.intraday_weights,
    )


def order_rules(settings: Settings, *, historical: bool = False) -> OrderRules:
    """The replenishment rules of the settings (``historical``: a backfill's)."""
    return OrderRules(
        grace_ms=round(settings.reorder_grace_hours * HOUR_MS),
        expiry_ms=round(settings.reorder_expiry_hours * HOUR_MS),
        receipts_need_po_id=settings.receipts_need_po_id,
        historical=historical,
        demand=demand_rules(settings),
    )


def kafka_source(
    settings: Settings, brokers: str, *, tail: bool, reads: Callable[[int], bool] | None = None
) -> EventsSource:
    """Every partition of the events topic (``reads``: those this process reads) from the
    beginning or the resume offsets."""
    return EventsSource(
        kafka_connection(settings, brokers),
        settings.events_topic,
        tail=tail,
        batch_size=settings.source_batch_size,
        group=settings.consumer_group,
        reads=reads,
    )


def dead_letter_key(letter: DeadLetter) -> str:
    """Dead letters from decoding pass through ``per-key`` under one key per partition."""
    return f"\x00dead-letters:{letter.source.partition}"


def decode_keyed(msgs: list[Any], max_future_ms: int) -> list[tuple[str, Any]]:
    """Decode a batch and key it: events by (warehouse, sku), dead letters by partition.
    Counts the events whose message key is not their stock key (the contract's key
    keeps a key in one partition; the flow re-keys by the value either way)."""
    keyed: list[tuple[str, Any]] = []
    off_key = 0
    for item in decode_batch(msgs, max_future_ms):
        if isinstance(item, Event):
            key = item.stock_key
            keyed.append((key, item))
            if item.key != key.encode():
                off_key += 1
        else:
            keyed.append((dead_letter_key(item), item))
    if off_key:
        OFF_KEY_EVENTS.inc(off_key)
    return keyed


def group_by_shard(keyed: list[tuple[str, Any]], shards: int) -> list[tuple[str, ShardBatch]]:
    """``(stock key, item)`` pairs as one ``(shard, (shard, {stock key: items}))`` per
    shard, each key's items in arrival order; dead letters go with the shard of the
    partition they were read from. Counts the events read from a partition other than
    their shard (they cross to the shard's worker)."""
    groups: dict[int, ShardItems] = {}
    shard_cache: dict[str, int] = {}
    off_shard = 0
    for stock_key, item in keyed:
        kind = type(item)
        key = stock_key
        if kind is DeadLetter:
            shard, key = item.source.partition % shards, DEAD_LETTERS
        else:
            shard = shard_cache.get(key, -1)
            if shard < 0:
                shard = shard_cache[key] = shard_of(key, shards)
            if kind is Event and item.source.partition != shard:
                off_shard += 1
        items = groups.get(shard)
        if items is None:
            groups[shard] = {key: [item]}
        else:
            held = items.get(key)
            if held is None:
                items[key] = [item]
            else:
                held.append(item)
    if off_shard:
        OFF_SHARD_EVENTS.inc(off_shard)
    return [
        (name, (name, items)) for shard, items in groups.items() for name in (shard_name(shard),)
    ]


def unkey(batch: list[tuple[str, list[KeyOutput]]]) -> list[KeyOutput]:
    """The shards' outputs without their keys, flat; counts the accepted events."""
    items = [item for _, outputs in batch for item in outputs]
    accepted = sum(1 for item in items if type(item) is Event)
    if accepted:
        EVENTS_ACCEPTED.inc(accepted)
    return items


def dead_letters_of(batch: list[KeyOutput]) -> list[DeadLetter]:
    """The batch's dead letters (decoding's and late ones), counted by reason."""
    letters = [x for x in batch if type(x) is DeadLetter]
    if letters:
        count_dead_letters([letter.error for letter in letters])
    return letters


def alerts_of(batch: list[KeyOutput]) -> list[Alert]:
    """The batch's alerts, counted by kind."""
    alerts = [x for x in batch if type(x) is Alert]
    for alert in alerts:
        ALERTS.labels(alert.kind).inc()
    return alerts


def stock_levels_of(batch: list[KeyOutput]) -> list[StockLevel]:
    """The batch's stock rows (for the stock changelog)."""
    return [x for x in batch if type(x) is StockLevel]


def decisions_of(batch: list[KeyOutput]) -> list[HoldDecision]:
    """The batch's hold decisions (for the decisions topic), counted."""
    decisions = [x for x in batch if type(x) is HoldDecision]
    for decision in decisions:
        HOLD_DECISIONS.labels(decision.decision, decision.reason).inc()
    return decisions


def build_flow(
    settings: Settings,
    brokers: str,
    *,
    policies: PolicyBook | None = None,
    tail: bool = True,
    source: BytewaxSource[Any] | None = None,
    rows_sink: Sink[Any] | None = None,  # Row, or (key, Row) for a FixedPartitionedSink
    dlq_sink: Sink[DeadLetter] | None = None,
    alerts_sink: Sink[Alert] | None = None,
    stock_sink: Sink[StockLevel] | None = None,
    lineage: str = "",
    seeder: Seeder | None = None,
    decisions_sink: Sink[HoldDecision] | None = None,
    forecasts: ForecastBook | None = None,
    shards: int = DEFAULT_SHARDS,
    key_store: Path | None = None,
    reads_partition: Callable[[int], bool] | None = None,
) -> Dataflow:
    """Describe the flow. ``tail=False`` stops once every partition is drained.

    :arg policies: the product catalog (defaults for every SKU if omitted).
    :arg source: replaces the Kafka source (files, tests).
    :arg rows_sink: replaces the ClickHouse sink; ``dlq_sink``, ``alerts_sink`` and
        ``stock_sink`` the Kafka topic sinks (the stock changelog is published only if
        ``INVENTORY_STOCK_TOPIC`` is set or a ``stock_sink`` is given);
        ``decisions_sink`` the hold decisions (published if
        ``INVENTORY_HOLD_DECISIONS_TOPIC`` is set or one is given).
    :arg lineage: written with every stock level (``flow:<id>``, ``backfill:<id>``).
    :arg seeder: rebuilds the state of keys whose stock another lineage computed (seeds
        join the decoded batch); ``None`` starts every key without recovery state at zero.
    :arg shards: the key shards (``crc32(warehouse_id:sku) mod shards``): the events
        topic's partition count when the key store was created, so a well-keyed
        partition's keys are its shard's (:mod:`inventory.core.key_shards`).
    :arg key_store: the directory of the shards' key stores (with Bytewax recovery: a
        resumed shard reads its keys there); ``None`` holds them in memory.
    :arg reads_partition: which Kafka partitions this process reads (default: all).
    """
    lateness_ms = settings.lateness_seconds * 1000
    window_ms = settings.window_seconds * 1000
    max_future_ms = settings.max_future_seconds * 1000
    book = policies if policies is not None else PolicyBook(settings, {})

    # a backfill's requests are history, not a live obligation
    rules = order_rules(settings, historical=lineage.startswith("backfill:"))
    config = KeyConfig(
        lateness_ms,
        window_ms,
        book.for_sku,
        lineage,
        seeder is not None,
        rules,
        forecast_lookup(book, forecasts),
        key_store,
        max(100, LIVE_BOOKS // shards),
    )

    flow = Dataflow(FLOW_ID)
    reader = source or kafka_source(settings, brokers, tail=tail, reads=reads_partition)
    raw = op.input("read", flow, reader)

    # Per item, only the per-key logic runs Python: everything else works on batches.
    def decode(msgs: list[Any]) -> list[tuple[str, ShardBatch]]:
        keyed = decode_keyed(msgs, max_future_ms)
        if seeder is not None:
            keyed = seeder.attach(keyed)  # seeds ride with the batch
        return group_by_shard(keyed, shards)

    keyed = op.flat_map_batch("decode", raw, decode)
    per_key = op.stateful_batch("key-shards", keyed, build_shard(config))
    rows = op.flat_map_batch("unkey", per_key, unkey)
    dead = op.flat_map_batch("dead-letters", rows, dead_letters_of)
    alerts = op.flat_map_batch("alerts", rows, alerts_of)
    dlq = dlq_sink or dead_letter_sink(settings, brokers)
    rows_sink = rows_sink or ClickHouseSink(
        settings, rejects=dlq if isinstance(dlq, DynamicSink) else None
    )
    if isinstance(rows_sink, FixedPartitionedSink):  # one writer process (embedded, cluster)
        routed = op.flat_map_batch("route-rows", rows, lambda batch: [("", x) for x in batch])
        op.output("write-rows", routed, rows_sink)
    else:
        op.output("clickhouse", rows, rows_sink)
    op.output("dlq-topic", dead, dlq)
    op.output("alerts-topic", alerts, alerts_sink or alert_sink(settings, brokers))
    if stock_sink is None and settings.stock_topic:
        stock_sink = kafka_stock_sink(settings, brokers)
    if stock_sink is not None:
        levels = op.flat_map_batch("stock-levels", rows, stock_levels_of)
        op.output("stock-topic", levels, stock_sink)
    if decisions_sink is None and settings.hold_decisions_topic:
        decisions_sink = decision_sink(settings, brokers)
    if decisions_sink is not None:
        decided = op.flat_map_batch("hold-decisions", rows, decisions_of)
        op.output("decisions-topic", decided, decisions_sink)
    return flow
