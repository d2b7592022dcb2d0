"""The availability API's stock, followed from the stock and catalog changelog topics.

A daemon thread reads every partition of ``INVENTORY_STOCK_TOPIC`` and
``INVENTORY_CATALOG_TOPIC`` from the start (no consumer group: every replica reads
everything), then tails them. Per (sku, warehouse) it keeps the message with the highest
``version`` (what ``stock_levels FINAL`` keeps), so a replayed or repeated older state
changes nothing and an answer never goes back to a lower version than one given before
(:mod:`inventory.core.stock_changes`). ClickHouse is not involved.

There is no snapshot (the API answers 503) until every partition has been read to its
end once; then one snapshot per poll, sharing the held maps (a SKU's warehouses are
replaced as a whole, so a reader sees either the old or the new tuple). ``as_of`` is
when the follower last polled the broker without an error: answers get older, not
wrong, while the broker is away. Metrics: messages not read yet
(``inventory_api_topic_lag_messages``), publication-to-answer delay
(``inventory_api_change_delay_seconds``), replays ignored
(``inventory_api_stale_changes``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition

from inventory.availability.store import Promise, StockSnapshot, WarehouseStock
from inventory.core.settings import Settings
from inventory.core.stock_changes import ChangeFormatError, decode_catalog, decode_stock
from inventory.kafka.config import consumer_config, kafka_connection
from inventory.runtime.background import BackgroundReader
from inventory.runtime.metrics import API_CHANGE_DELAY, API_STALE_CHANGES, API_TOPIC_LAG

logger = logging.getLogger(__name__)

POLL_SECONDS = 0.05
BATCH = 5_000
LAG_EVERY_SECONDS = 1.0
GROUP = "inventory-availability"  # never committed to: every replica reads everything
# tailing: hand over what arrived without waiting for more (the defaults wait 500 ms)
TAIL_OPTIONS = {"fetch.wait.max.ms": 10, "enable.partition.eof": True}


class StockFollower(BackgroundReader):
    """A :class:`~inventory.availability.store.StockSource` following the changelogs.

    :arg settings: the topics and the Kafka connection.
    :arg brokers: bootstrap servers.
    :arg clock: epoch seconds (``as_of``); tests inject their own.
    """

    thread_name = "stock-follower"

    def __init__(
        self, settings: Settings, brokers: str, *, clock: Callable[[], float] = time.time
    ) -> None:
        if not settings.stock_topic:
            raise ValueError("the topic source needs INVENTORY_STOCK_TOPIC")
        self._settings = settings
        self._brokers = brokers
        self._clock = clock
        self._topics = [t for t in (settings.stock_topic, settings.catalog_topic) if t]
        self._warehouses: dict[str, dict[str, WarehouseStock]] = {}
        self._stock: dict[str, tuple[WarehouseStock, ...]] = {}
        self._names: dict[str, str] = {}
        self._prices: dict[str, float] = {}
        self._promises: dict[str, Promise] = {}
        self._snapshot: StockSnapshot | None = None
        self._at_end: set[tuple[str, int]] = set()
        self._partitions: list[TopicPartition] = []
        super().__init__()
        self.applied = 0  # stock changes taken (for tests and logs)

    @property
    def snapshot(self) -> StockSnapshot | None:
        return self._snapshot

    def _consumer(self) -> Consumer:
        connection = kafka_connection(self._settings, self._brokers)
        consumer = Consumer(consumer_config(connection, group=GROUP, **TAIL_OPTIONS))
        metadata = consumer.list_topics(timeout=self._settings.kafka_connect_timeout_seconds)
        partitions = []
        for topic in self._topics:
            found = metadata.topics.get(topic)
            if found is None or found.error is not None:
                raise RuntimeError(f"topic {topic} not found at {self._brokers}")
            partitions += [TopicPartition(topic, p, OFFSET_BEGINNING) for p in found.partitions]
        consumer.assign(partitions)
        self._partitions = partitions
        return consumer

    def _run(self) -> None:
        consumer = None
        last_lag = 0.0
        while not self._stop.is_set():
            try:
                if consumer is None:
                    consumer = self._consumer()
                healthy = self.poll(consumer)
                now = self._clock()
                if now - last_lag >= LAG_EVERY_SECONDS:
                    last_lag = now
                    API_TOPIC_LAG.set(self._lag(consumer))
                if healthy and self._ready.is_set():
                    self._publish(now)
            except Exception as exc:
                logger.warning("stock follower: %s; retrying", exc)
                if consumer is not None:
                    consumer.close()
                    consumer = None
                self._stop.wait(1.0)
        if consumer is not None:
            consumer.close()

    def poll(self, consumer: Consumer) -> bool:
        """Apply what one poll returns; False if the broker reported an error."""
        healthy = True
        first = consumer.poll(POLL_SECONDS)  # returns as soon as a message is there
        if first is None:
            return True
        for message in [first, *consumer.consume(BATCH, timeout=0)]:
            error = message.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    self._at_end.add((str(message.topic()), int(message.partition() or 0)))
                    if len(self._at_end) >= len(self._partitions) and not self._ready.is_set():
                        self._publish(self._clock())
                        self._ready.set()
                        logger.info("stock follower: read %d changes, now tailing", self.applied)
                else:
                    healthy = False
                    logger.debug("stock follower: %s", error.str())
                continue
            value = message.value()
            if value is None:
                continue
            try:
                if message.topic() == self._settings.stock_topic:
                    self._apply_stock(value, message.timestamp()[1])
                else:
                    item = decode_catalog(value)
                    self._names[item.sku] = item.name
                    if item.unit_price is not None:
                        self._prices[item.sku] = item.unit_price
                    if item.oversell_policy != "deny":
                        promise = (item.oversell_policy, item.oversell_limit, item.release_ms)
                        self._promises[item.sku] = Promise(*promise)
                    else:
                        self._promises.pop(item.sku, None)
            except ChangeFormatError as exc:
                logger.warning("stock follower: skipped a message of %s: %s", message.topic(), exc)
        return healthy

    def _apply_stock(self, value: bytes, published_ms: int) -> None:
        change = decode_stock(value)
        held = self._warehouses.setdefault(change.sku, {})
        current = held.get(change.warehouse_id)
        if current is not None and change.version <= current.version:
            API_STALE_CHANGES.inc()
            return
        held[change.warehouse_id] = WarehouseStock(
            change.warehouse_id,
            change.on_hand,
            change.updated_ms,
            change.reserved,
            change.on_order,
            change.next_expected_ms,
            change.version,
        )
        self._stock[change.sku] = tuple(held[wh] for wh in sorted(held))
        self.applied += 1
        if published_ms > 0 and self._ready.is_set():
            API_CHANGE_DELAY.observe(max(self._clock() - published_ms / 1000, 0.0))

    def _publish(self, now: float) -> None:
        self._snapshot = StockSnapshot(
            int(now * 1000), self._stock, self._names, self._prices, self._promises
        )

    def _lag(self, consumer: Consumer) -> int:
        lag = 0
        for tp in consumer.position(self._partitions):
            _, high = consumer.get_watermark_offsets(tp, cached=True)
            if high >= 0 and tp.offset >= 0:
                lag += max(high - tp.offset, 0)
        return lag
