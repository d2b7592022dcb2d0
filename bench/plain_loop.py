"""The same computation as the inventory flow, without Bytewax: the practical limit.

One thread: confluent-kafka consumer (partitions assigned, from offset 0, to EOF) ->
``decode_batch`` -> group by (warehouse, sku) -> the same per-key logic (``KeyBook``) ->
the same ClickHouse rows (same sink partition: one insert per table per batch) and the
same DLQ / alert records (flushed per batch). No recovery snapshots: this is what the
flow would cost if the framework were free.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from bytewax.outputs import StatelessSinkPartition
from confluent_kafka import Consumer, KafkaError, TopicPartition

from dataflows.decode import decode_batch
from dataflows.per_key.book import KeyBook
from inventory.clickhouse.catalog import PolicyBook
from inventory.core.records import Alert, DeadLetter, Event
from inventory.core.settings import Settings
from inventory.kafka.producer import CheckedProducer
from sinks.clickhouse import ClickHouseSink, Row
from sinks.kafka import encode_alert, encode_dead_letter


@dataclass(slots=True)
class _Raw:
    key: bytes | None
    value: bytes | None
    topic: str | None
    partition: int | None
    offset: int | None
    timestamp: tuple[int, int] | None


def run_plain_loop(  # noqa: PLR0915 (one loop, kept flat to read like the flow)
    settings: Settings,
    brokers: str,
    batch_size: int = 2000,
    *,
    stop: threading.Event | None = None,
    sink: StatelessSinkPartition[Row] | None = None,
) -> int:
    """Process the events topic to its end (or, with ``stop``, tail it until it is
    set); return the number of messages read. ``sink`` replaces the ClickHouse sink."""
    tail = stop is not None
    consumer = Consumer(
        {
            "bootstrap.servers": brokers,
            "group.id": "bench-plain",
            "enable.auto.commit": False,
            "enable.partition.eof": not tail,
            "fetch.wait.max.ms": 100,  # as the flow's source
        }
    )
    topic = settings.events_topic
    partitions = consumer.list_topics(topic, timeout=30).topics[topic].partitions
    consumer.assign([TopicPartition(topic, p, 0) for p in partitions])
    producer = CheckedProducer(brokers, settings.kafka_timeout_seconds)
    sink = sink or ClickHouseSink(settings).build("bench", 0, 1)
    policies = PolicyBook(settings, {})
    books: dict[str, KeyBook] = {}
    lateness_ms = settings.lateness_seconds * 1000
    window_ms = settings.window_seconds * 1000
    max_future_ms = settings.max_future_seconds * 1000
    pending = set(partitions)
    read = 0
    try:
        while (stop is None and pending) or (stop is not None and not stop.is_set()):
            raw = []
            for msg in consumer.consume(batch_size, 0.1 if tail else 1.0):
                err = msg.error()
                if err is None:
                    raw.append(
                        _Raw(
                            msg.key(),
                            msg.value(),
                            msg.topic(),
                            msg.partition(),
                            msg.offset(),
                            msg.timestamp(),
                        )
                    )
                elif err.code() == KafkaError._PARTITION_EOF:
                    pending.discard(msg.partition())
                else:
                    raise RuntimeError(err.str())
            if not raw:
                continue
            read += len(raw)
            by_key: dict[str, list[Event]] = {}
            rows: list[Row] = []
            dead: list[DeadLetter] = []
            for item in decode_batch(raw, max_future_ms):
                if isinstance(item, Event):
                    by_key.setdefault(item.stock_key, []).append(item)
                else:
                    dead.append(item)
                    rows.append(item)
            alerts: list[Alert] = []
            for key, events in by_key.items():
                book = books.get(key)
                if book is None:
                    book = books[key] = KeyBook(
                        lateness_ms=lateness_ms,
                        window_ms=window_ms,
                        policy_for=policies.for_sku,
                    )
                for out in book.apply_batch(events):
                    rows.append(out)
                    if isinstance(out, DeadLetter):
                        dead.append(out)
                    elif isinstance(out, Alert):
                        alerts.append(out)
            sink.write_batch(rows)
            for letter in dead:
                k, v, h = encode_dead_letter(letter)
                producer.produce(settings.dlq_topic, v, k, h)
            for alert in alerts:
                k, v, h = encode_alert(alert)
                producer.produce(settings.alerts_topic, v, k, h)
            producer.flush_or_raise()
    finally:
        sink.close()
        consumer.close()
    return read
