"""Kafka helpers: topic creation and a producer that fails loudly (configurations come
from :mod:`inventory.kafka_config`).

Every produce is confirmed: :meth:`CheckedProducer.flush_or_raise` raises
:class:`DeliveryError` if any message was not acknowledged by the broker.
"""

from __future__ import annotations

import logging
from typing import Any

from confluent_kafka import (
    KafkaError,
    KafkaException,
    Message,
    Producer,
)
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from inventory.errors import InventoryError
from inventory.kafka_config import Target, admin_config, kafka_connection, producer_config
from inventory.settings import Settings

logger = logging.getLogger(__name__)


class DeliveryError(InventoryError):
    """A message was not acknowledged by the broker."""


class CheckedProducer:
    """A confluent-kafka producer that records delivery failures and raises on flush."""

    def __init__(self, target: Target, timeout: float, **extra: Any) -> None:
        self._producer = Producer(producer_config(target, **extra))
        self._timeout = timeout
        self._failures: list[str] = []
        self.delivered = 0

    def _on_delivery(self, err: KafkaError | None, msg: Message) -> None:
        if err is not None:
            self._failures.append(f"{msg.topic()}: {err.str()}")
        else:
            self.delivered += 1

    def produce(
        self,
        topic: str,
        value: bytes | None,
        key: bytes | None = None,
        headers: list[tuple[str, str | bytes | None]] | None = None,
        timestamp: int = 0,
    ) -> None:
        while True:
            try:
                self._producer.produce(
                    topic,
                    value=value,
                    key=key,
                    headers=headers,
                    timestamp=timestamp,
                    on_delivery=self._on_delivery,
                )
                break
            except BufferError:
                self._producer.poll(0.05)
        self._producer.poll(0)

    def flush_or_raise(self) -> None:
        remaining = self._producer.flush(self._timeout)
        if remaining:
            raise DeliveryError(f"{remaining} message(s) not delivered within {self._timeout}s")
        if self._failures:
            failures, self._failures = self._failures, []
            raise DeliveryError(f"{len(failures)} message(s) failed delivery, first: {failures[0]}")


def ensure_topics(settings: Settings, brokers: str, timeout: float = 30.0) -> None:
    """Create the contract topics if missing (idempotent)."""
    admin = AdminClient(admin_config(kafka_connection(settings, brokers)))
    existing = admin.list_topics(timeout=timeout).topics
    wanted = [
        NewTopic(topic, num_partitions=settings.topic_partitions, replication_factor=1)
        for topic in (settings.events_topic, settings.alerts_topic, settings.dlq_topic)
        if topic not in existing
    ]
    if not wanted:
        return
    for topic, future in admin.create_topics(wanted, operation_timeout=timeout).items():
        try:
            future.result(timeout)
            logger.info("created topic %s", topic)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise
