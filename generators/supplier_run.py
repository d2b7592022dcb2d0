"""Running the :class:`~generators.supplier.Supplier` against Kafka: read reorder
requests from the alerts topic, publish the deliveries to the events topic.

Delivery: at-least-once. The consumer group ``inventory-supplier`` records how far the
alerts were read, committed only when every order read so far was delivered (orders
pending in memory are read again after a restart); a repeated order delivers a restock
with the same ``event_id``, which the flow applies once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

from generators.supplier import Delivery, Supplier
from inventory.kafka.config import Target, consumer_config
from inventory.kafka.producer import CheckedProducer
from inventory.runtime.stopping import STOP, StopRequest

logger = logging.getLogger(__name__)

GROUP = "inventory-supplier"
POLL_SECONDS = 0.2


class SupplierLink:
    """The supplier's Kafka ends. ``step()`` reads, delivers what is due, and commits.

    :arg target: the brokers (a connection from ``kafka_connection`` or plain brokers).
    :arg on_delivery: called with each delivery once its restock is acknowledged (the
        demo's generator follows its stock with it).
    """

    def __init__(
        self,
        target: Target,
        alerts_topic: str,
        events_topic: str,
        supplier: Supplier,
        *,
        timeout: float = 30.0,
        on_delivery: Callable[[Delivery], None] | None = None,
    ) -> None:
        self._supplier = supplier
        self._alerts_topic = alerts_topic
        self._events_topic = events_topic
        self._on_delivery = on_delivery
        self._consumer = Consumer(consumer_config(target, group=GROUP))
        metadata = self._consumer.list_topics(alerts_topic, timeout=timeout)
        wanted = [TopicPartition(alerts_topic, p) for p in metadata.topics[alerts_topic].partitions]
        committed = self._consumer.committed(wanted, timeout=timeout)
        self._consumer.assign(
            [
                TopicPartition(
                    alerts_topic, tp.partition, tp.offset if tp.offset >= 0 else OFFSET_BEGINNING
                )
                for tp in committed
            ]
        )
        self._producer = CheckedProducer(target, timeout)
        self._read: dict[int, int] = {}  # partition -> next offset read

    def step(self, *, deliver_all: bool = False) -> int:
        """One round; returns how many restocks it published."""
        values: list[bytes | dict[str, object]] = []
        for msg in self._consumer.consume(1000, POLL_SECONDS):
            partition, offset, value = msg.partition(), msg.offset(), msg.value()
            if msg.error() is not None or partition is None or offset is None:
                logger.warning("supplier: reading alerts: %s", msg.error())
                continue
            self._read[partition] = offset + 1
            if value:
                values.append(value)
        if values:
            self._supplier.take(values)
        deliveries = self._supplier.due(everything=deliver_all)
        for delivery, restock in zip(deliveries, self._supplier.restocks(deliveries), strict=True):
            self._producer.produce(self._events_topic, restock.value, restock.key)
            logger.info("supplier: delivered %s (%d units)", delivery.po_id, delivery.quantity)
        if deliveries:
            self._producer.flush_or_raise()
            for delivery in deliveries:
                if self._on_delivery is not None:
                    self._on_delivery(delivery)
        if self._supplier.pending == 0 and self._read:
            offsets = [TopicPartition(self._alerts_topic, p, o) for p, o in self._read.items()]
            self._consumer.commit(offsets=offsets, asynchronous=False)
            self._read = {}
        return len(deliveries)

    def close(self) -> None:
        self._consumer.close()


def run_supplier(link: SupplierLink, stop: StopRequest = STOP, pause: float = 0.3) -> None:
    """Step until a stop request (SIGTERM/SIGINT)."""
    while not stop.requested:
        link.step()
        time.sleep(pause)
