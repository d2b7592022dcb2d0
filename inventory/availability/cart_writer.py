"""Where the cart endpoints' requests go: the events topic (tests use a list).

:class:`TopicWriter` lets many requests produce at once: each message is produced with
its own delivery callback and a background thread serves the producer's callbacks, so
concurrent requests share the broker's round trips instead of queueing behind one flush.
A write returns once the broker acknowledged it (``acks=all``) and raises otherwise.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from typing import Protocol

from confluent_kafka import KafkaError, Message, Producer

from inventory.core.settings import Settings
from inventory.kafka.config import kafka_connection, producer_config
from inventory.kafka.producer import DeliveryError


class EventWriter(Protocol):
    """Where accepted cart events go (the events topic; tests use a list)."""

    def write(self, key: bytes, value: bytes) -> None:
        """Produce one event; returns once acknowledged, raises otherwise."""
        ...


class TopicWriter:
    """Produces cart events to ``INVENTORY_EVENTS_TOPIC`` (``close`` when done)."""

    def __init__(self, settings: Settings, brokers: str) -> None:
        self._topic = settings.events_topic
        self._timeout = settings.kafka_timeout_seconds
        config = producer_config(kafka_connection(settings, brokers), **{"linger.ms": 0})
        self._producer = Producer(config)
        self._closing = threading.Event()
        self._poller = threading.Thread(target=self._serve, name="cart-writer", daemon=True)
        self._poller.start()

    def _serve(self) -> None:
        while not self._closing.is_set():
            self._producer.poll(0.05)

    def write(self, key: bytes, value: bytes) -> None:
        done: Future[None] = Future()

        def delivered(err: KafkaError | None, msg: Message) -> None:
            if err is None:
                done.set_result(None)
            else:
                done.set_exception(DeliveryError(f"{msg.topic()}: {err.str()}"))

        while True:
            try:
                self._producer.produce(self._topic, value=value, key=key, on_delivery=delivered)
                break
            except BufferError:
                self._closing.wait(0.01)
        try:
            done.result(self._timeout)
        except TimeoutError:
            raise DeliveryError(f"not delivered within {self._timeout}s") from None

    def close(self) -> None:
        self._producer.flush(self._timeout)
        self._closing.set()
        self._poller.join(timeout=5)
