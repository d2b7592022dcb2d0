"""A Kafka producer that fails loudly: every produce is confirmed, and
:meth:`CheckedProducer.flush_or_raise` raises :class:`DeliveryError` if any message was
not acknowledged by the broker (configurations come from :mod:`inventory.kafka.config`).
"""

from __future__ import annotations

from typing import Any

from confluent_kafka import KafkaError, Message, Producer

from inventory.core.errors import InventoryError
from inventory.kafka.config import Target, producer_config


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
