"""The forecast versions the flow's ``forecast`` SKUs reorder on, followed from
``INVENTORY_FORECAST_TOPIC`` (contract v12; docs/semantics.md "The forecast policy").

:class:`ForecastBook` holds each key's newest :data:`VERSIONS_KEPT` versions (by effective
time, then version); the per-key logic looks a key's up once per batch, so a version
published while the flow runs applies from its next batch, without a restart.
:class:`ForecastFollower` reads the topic to its end before the flow starts (a restart
or replay sees every version kept) and then follows it in a daemon thread. A message
that is not a forecast is logged and skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition

from inventory.core.forecast_versions import ForecastFormatError, ForecastVersion, decode_forecast
from inventory.core.settings import Settings
from inventory.kafka.config import consumer_config, kafka_connection
from inventory.runtime.background import BackgroundReader

logger = logging.getLogger(__name__)

VERSIONS_KEPT = 8
POLL_SECONDS = 0.5
MISSING_RETRY_SECONDS = 5.0
GROUP = "inventory-forecasts"  # never committed to: every process reads everything
Versions = tuple[ForecastVersion, ...]


class ForecastBook:
    """Forecast versions per (warehouse_id, sku). One writer thread; readers get an
    immutable tuple (a new one after every change)."""

    def __init__(self, versions: Iterable[ForecastVersion] = ()) -> None:
        self._by_key: dict[tuple[str, str], Versions] = {}
        for v in versions:
            self.add(v)

    def add(self, v: ForecastVersion) -> None:
        """Take ``v`` (replacing the same version of its key)."""
        key = (v.warehouse_id, v.sku)
        kept = [x for x in self._by_key.get(key, ()) if x.version != v.version]
        kept.append(v)
        kept.sort(key=lambda x: (x.effective_ms, x.version))
        self._by_key[key] = tuple(kept[-VERSIONS_KEPT:])

    def for_key(self, warehouse_id: str, sku: str) -> Versions:
        return self._by_key.get((warehouse_id, sku), ())

    def all_versions(self) -> list[ForecastVersion]:
        return [v for versions in list(self._by_key.values()) for v in versions]

    def __len__(self) -> int:
        return len(self._by_key)


class TopicMissing(RuntimeError):  # noqa: N818 (a state, not a failure)
    """The forecast topic does not exist (yet)."""


class ForecastFollower(BackgroundReader):
    """Fills ``book`` from the forecast topic: :meth:`load` reads it to its end,
    :meth:`start` follows it. A topic that does not exist yet is no versions (logged
    once): the follower looks for it again every few seconds. Raises ``RuntimeError``
    from :meth:`load` when the end is not reached within ``timeout``."""

    thread_name = "forecast-follower"

    def __init__(self, settings: Settings, brokers: str, book: ForecastBook) -> None:
        super().__init__()
        self._settings, self._brokers, self.book = settings, brokers, book
        self._consumer: Consumer | None = None
        self._partitions = 0
        self._at_end: set[int] = set()
        self.applied = 0

    def load(self, timeout: float) -> int:
        """Read the topic from its beginning to its end; the versions read."""
        try:
            consumer = self._open()
        except TopicMissing as exc:
            logger.warning("forecasts: %s; forecast SKUs use their demand levels until it is", exc)
            self._ready.set()
            return 0
        waited = 0.0
        while len(self._at_end) < self._partitions:
            if waited >= timeout:
                raise RuntimeError(
                    f"forecast topic {self._settings.forecast_topic}: not read to its end "
                    f"within {timeout:g} s"
                )
            self._poll(consumer)
            waited += POLL_SECONDS
        self._ready.set()
        logger.info("forecasts: %d versions of %d keys read", self.applied, len(self.book))
        return self.applied

    def _open(self) -> Consumer:
        if self._consumer is not None:
            return self._consumer
        topic = self._settings.forecast_topic
        connection = kafka_connection(self._settings, self._brokers)
        options = {"enable.partition.eof": True, "fetch.wait.max.ms": 100}
        consumer = Consumer(consumer_config(connection, group=GROUP, **options))
        metadata = consumer.list_topics(timeout=self._settings.kafka_connect_timeout_seconds)
        found = metadata.topics.get(topic)
        if found is None or found.error is not None:
            consumer.close()
            raise TopicMissing(f"forecast topic {topic} not found at {self._brokers}")
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in found.partitions])
        self._partitions = len(found.partitions)
        self._consumer = consumer
        return consumer

    def _poll(self, consumer: Consumer) -> None:
        first = consumer.poll(POLL_SECONDS)
        if first is None:
            return
        for message in [first, *consumer.consume(500, timeout=0)]:
            error = message.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    self._at_end.add(int(message.partition() or 0))
                else:
                    logger.debug("forecast follower: %s", error.str())
                continue
            value = message.value()
            if value is None:
                continue
            try:
                self.book.add(decode_forecast(value))
                self.applied += 1
            except ForecastFormatError as exc:
                logger.warning("forecasts: skipped offset %s: %s", message.offset(), exc)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._poll(self._open())
            except TopicMissing:
                self._stop.wait(MISSING_RETRY_SECONDS)
                continue
            except Exception as exc:
                logger.warning("forecast follower: %s; retrying", exc)
                if self._consumer is not None:
                    self._consumer.close()
                    self._consumer = None
                self._stop.wait(1.0)
        if self._consumer is not None:
            self._consumer.close()
            self._consumer = None
