"""The inventory dataflow.

Kafka ``inventory.events`` -> decode -> per (warehouse, sku): dedup, lateness, stock,
sales windows, alerts -> ClickHouse tables, ``inventory.alerts`` and the DLQ topic.

``build_flow`` only describes the flow; nothing connects until it runs.
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

from dataflows.keyed import KeyBook, KeyOutput, KeyState
from inventory.catalog import PolicyBook
from inventory.decode import decode_batch
from inventory.models import Alert, DeadLetter, Event
from inventory.settings import Settings
from sinks.clickhouse import ClickHouseSink, Row
from sinks.kafka import alert_sink, dead_letter_sink

FLOW_ID = "inventory"


class _KeyLogic(StatefulBatchLogic[Event, KeyOutput, KeyState]):
    def __init__(self, book: KeyBook) -> None:
        self.book = book

    def on_batch(self, values: list[Event]) -> tuple[Iterable[KeyOutput], bool]:
        return self.book.apply_batch(values), StatefulBatchLogic.RETAIN

    def snapshot(self) -> KeyState:
        return self.book.snapshot()


def kafka_source(settings: Settings, brokers: str, *, tail: bool) -> KafkaSource:
    """Every partition of the events topic from the beginning (or the resume offsets)."""
    return KafkaSource(
        brokers=brokers.split(","),
        topics=[settings.events_topic],
        tail=tail,
        batch_size=settings.source_batch_size,
    )


def build_flow(
    settings: Settings,
    brokers: str,
    *,
    policies: PolicyBook | None = None,
    tail: bool = True,
    source: BytewaxSource[Any] | None = None,
    rows_sink: Sink[Row] | None = None,
    dlq_sink: Sink[DeadLetter] | None = None,
    alerts_sink: Sink[Alert] | None = None,
) -> Dataflow:
    """Describe the flow. ``tail=False`` stops once every partition is drained.

    ``policies`` is the product catalog (defaults for every SKU if omitted). ``source``
    and the ``*_sink`` arguments replace the Kafka and ClickHouse ends in unit tests.
    """
    lateness_ms = settings.lateness_seconds * 1000
    window_ms = settings.window_seconds * 1000
    max_future_ms = settings.max_future_seconds * 1000
    book = policies if policies is not None else PolicyBook(settings, {})

    def build_key(resume: KeyState | None) -> _KeyLogic:
        return _KeyLogic(
            KeyBook(
                lateness_ms=lateness_ms,
                window_ms=window_ms,
                policy_for=book.for_sku,
                state=resume,
            )
        )

    flow = Dataflow(FLOW_ID)
    raw = op.input("read", flow, source or kafka_source(settings, brokers, tail=tail))
    decoded = op.flat_map_batch("decode", raw, lambda msgs: decode_batch(msgs, max_future_ms))
    split = op.branch("split-valid", decoded, lambda item: isinstance(item, Event))
    events: Stream[Event] = split.trues  # type: ignore[assignment]
    rejected: Stream[DeadLetter] = split.falses  # type: ignore[assignment]

    keyed = op.key_on("key", events, lambda event: event.stock_key)
    per_key = op.key_rm("unkey", op.stateful_batch("per-key", keyed, build_key))
    late = op.filter_map("late", per_key, lambda x: x if isinstance(x, DeadLetter) else None)
    alerts = op.filter_map("alerts", per_key, lambda x: x if isinstance(x, Alert) else None)

    op.output(
        "clickhouse", op.merge("rows", per_key, rejected), rows_sink or ClickHouseSink(settings)
    )
    op.output(
        "dlq-topic",
        op.merge("dead-letters", rejected, late),
        dlq_sink or dead_letter_sink(settings, brokers),
    )
    op.output("alerts-topic", alerts, alerts_sink or alert_sink(settings, brokers))
    return flow
