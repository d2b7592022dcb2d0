"""The inventory dataflow: Kafka events -> decode -> stock per key -> ClickHouse + DLQ topic.

``build_flow(settings)`` only describes the flow; nothing connects until it runs.
Delivery: at-least-once to every sink (Bytewax replays from the last snapshot after a
crash); every ClickHouse table is keyed so replayed rows collapse to the same result.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import bytewax.operators as op
from bytewax.connectors.kafka import KafkaSource
from bytewax.dataflow import Dataflow, Stream
from bytewax.inputs import Source as BytewaxSource
from bytewax.operators import StatefulBatchLogic
from bytewax.outputs import Sink

from dataflows.stock import StockBook, StockOutput, StockState
from inventory.decode import decode_batch
from inventory.models import DeadLetter, Event
from inventory.settings import Settings
from sinks.clickhouse import ClickHouseSink, Row
from sinks.kafka import DeadLetterTopicSink

FLOW_ID = "inventory"


class _StockLogic(StatefulBatchLogic[Event, StockOutput, StockState]):
    def __init__(self, lateness_ms: int, resume: StockState | None) -> None:
        self.book = StockBook(lateness_ms, resume)

    def on_batch(self, values: list[Event]) -> tuple[Iterable[StockOutput], bool]:
        return self.book.apply_batch(values), StatefulBatchLogic.RETAIN

    def snapshot(self) -> StockState:
        return self.book.state.copy()


def kafka_source(settings: Settings, brokers: str, *, tail: bool) -> KafkaSource:
    """Reads every partition of the events topic from the beginning (or resume offsets)."""
    return KafkaSource(
        brokers=brokers.split(","),
        topics=[settings.events_topic],
        tail=tail,
        batch_size=settings.source_batch_size,
        add_config={"fetch.wait.max.ms": "50"},
    )


def build_flow(
    settings: Settings,
    brokers: str,
    *,
    tail: bool = True,
    source: BytewaxSource[Any] | None = None,
    rows_sink: Sink[Row] | None = None,
    dlq_sink: Sink[DeadLetter] | None = None,
) -> Dataflow:
    """Describe the flow. ``tail=False`` stops once every partition is drained.

    ``source``/``rows_sink``/``dlq_sink`` replace the Kafka and ClickHouse ends in
    unit tests; production uses the defaults built from ``settings``.
    """
    lateness_ms = settings.lateness_seconds * 1000
    max_future_ms = settings.max_future_seconds * 1000
    flow = Dataflow(FLOW_ID)
    raw = op.input("read", flow, source or kafka_source(settings, brokers, tail=tail))
    decoded = op.flat_map_batch("decode", raw, lambda msgs: decode_batch(msgs, max_future_ms))
    split = op.branch("split-valid", decoded, lambda item: isinstance(item, Event))
    events: Stream[Event] = split.trues  # type: ignore[assignment]
    rejected: Stream[DeadLetter] = split.falses  # type: ignore[assignment]

    keyed = op.key_on("key-stock", events, lambda event: event.stock_key)
    stock = op.stateful_batch("stock-level", keyed, lambda resume: _StockLogic(lateness_ms, resume))
    stock_out = op.key_rm("unkey", stock)
    late = op.filter_map(
        "late", stock_out, lambda item: item if isinstance(item, DeadLetter) else None
    )
    dead = op.merge("dead-letters", rejected, late)

    rows = op.merge("rows", stock_out, rejected)
    op.output("clickhouse", rows, rows_sink or ClickHouseSink(settings))
    op.output("dlq-topic", dead, dlq_sink or DeadLetterTopicSink(settings, brokers))
    return flow
