"""Kafka topic sinks for dead letters, alerts, the stock changelog and hold decisions.

Delivery: at-least-once. Every batch is flushed and must be acknowledged by the broker
(``acks=all``, idempotent producer); otherwise ``DeliveryError`` is raised and the flow
stops. A replay may publish a record twice: consumers deduplicate by the dead letter's
``source.*`` headers, the alert's ``alert_id``, the decision's ``event_id`` and
``decision``; readers of the stock changelog keep the highest ``version`` per key
(:mod:`inventory.core.stock_changes`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

import orjson
from bytewax.outputs import DynamicSink, StatelessSinkPartition

from inventory.core.records import Alert, DeadLetter, HoldDecision, StockLevel
from inventory.core.settings import Settings
from inventory.core.stock_changes import encode_stock
from inventory.kafka.config import kafka_connection
from inventory.kafka.producer import CheckedProducer

X = TypeVar("X")
Headers = list[tuple[str, str | bytes | None]]
KafkaRecord = tuple[bytes | None, bytes | None, Headers]


def encode_dead_letter(letter: DeadLetter) -> KafkaRecord:
    """Original key and value; reason and source position in headers."""
    src = letter.source
    headers: Headers = [
        ("error", letter.error.encode("utf-8", "replace")),
        ("source.topic", src.topic.encode()),
        ("source.partition", str(src.partition).encode()),
        ("source.offset", str(src.offset).encode()),
    ]
    return letter.key, letter.payload, headers


def encode_alert(alert: Alert) -> KafkaRecord:
    """JSON alert keyed ``warehouse_id:sku`` (fields as in the ``alerts`` table)."""
    key = f"{alert.warehouse_id}:{alert.sku}".encode()
    return key, orjson.dumps(alert.to_json()), [("alert_id", alert.alert_id.encode())]


class _TopicPartition(StatelessSinkPartition[X], Generic[X]):
    def __init__(
        self, producer: CheckedProducer, topic: str, encode: Callable[[X], KafkaRecord]
    ) -> None:
        self._producer = producer
        self._topic = topic
        self._encode = encode

    def write_batch(self, items: list[X]) -> None:
        for item in items:
            key, value, headers = self._encode(item)
            self._producer.produce(self._topic, value, key, headers)
        self._producer.flush_or_raise()

    def close(self) -> None:
        self._producer.flush_or_raise()


class TopicSink(DynamicSink[X], Generic[X]):
    """Publishes items to one topic, encoded by ``encode``; raises on delivery failure."""

    def __init__(
        self, settings: Settings, brokers: str, topic: str, encode: Callable[[X], KafkaRecord]
    ) -> None:
        self._settings = settings
        self._brokers = brokers
        self._topic = topic
        self._encode = encode

    def build(self, step_id: str, worker_index: int, worker_count: int) -> _TopicPartition[X]:
        connection = kafka_connection(self._settings, self._brokers)
        producer = CheckedProducer(connection, self._settings.kafka_timeout_seconds)
        return _TopicPartition(producer, self._topic, self._encode)


def dead_letter_sink(settings: Settings, brokers: str) -> TopicSink[DeadLetter]:
    return TopicSink(settings, brokers, settings.dlq_topic, encode_dead_letter)


def alert_sink(settings: Settings, brokers: str) -> TopicSink[Alert]:
    return TopicSink(settings, brokers, settings.alerts_topic, encode_alert)


def encode_stock_level(level: StockLevel) -> KafkaRecord:
    """The stock changelog message of ``level`` (keyed ``warehouse_id:sku``)."""
    key, value = encode_stock(level)
    return key, value, []


def stock_sink(settings: Settings, brokers: str) -> TopicSink[StockLevel]:
    """The stock changelog (``INVENTORY_STOCK_TOPIC``, which must be set)."""
    return TopicSink(settings, brokers, settings.stock_topic, encode_stock_level)


def encode_decision(decision: HoldDecision) -> KafkaRecord:
    """JSON decision keyed by ``reservation_id`` (fields as in ``hold_decisions``)."""
    return (
        decision.reservation_id.encode(),
        orjson.dumps(decision.to_json()),
        [("event_id", decision.event_id.encode())],
    )


def decision_sink(settings: Settings, brokers: str) -> TopicSink[HoldDecision]:
    """The hold decisions (``INVENTORY_HOLD_DECISIONS_TOPIC``, which must be set)."""
    return TopicSink(settings, brokers, settings.hold_decisions_topic, encode_decision)
