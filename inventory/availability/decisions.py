"""The flow's hold decisions, followed from ``INVENTORY_HOLD_DECISIONS_TOPIC``: what the
cart endpoints wait on and what they know of each hold.

A daemon thread reads every partition from ``2 x INVENTORY_API_HOLD_SECONDS`` before it
starts (by the messages' timestamps: a hold the API made, or renewed, is decided within
that time; no consumer group: every replica reads everything), then tails it. It keeps,
per reservation, the latest decision (so a checkout knows the hold's warehouse, SKU and
units) and, for the last :data:`REMEMBERED` requests, each request's own decision by
``event_id``, which :meth:`DecisionBook.wait` hands to a waiting request as soon as it
arrives. A reservation whose latest decision ends it (checked out, released, expired,
refused) is forgotten once that decision is older than the same ``2 x hold`` seconds, so
memory follows the holds of that window, not the topic. The answer to a request is
always the flow's; nothing is decided here.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from datetime import datetime
from typing import Any

import orjson
from confluent_kafka import (
    OFFSET_BEGINNING,
    OFFSET_END,
    OFFSET_INVALID,
    Consumer,
    KafkaError,
    TopicPartition,
)

from inventory.core.settings import Settings
from inventory.core.times import to_ms
from inventory.kafka.config import consumer_config, kafka_connection
from inventory.runtime.background import BackgroundReader

logger = logging.getLogger(__name__)

REMEMBERED = 100_000  # request decisions kept by event_id (about 40 MB at most)
POLL_SECONDS = 0.05
GROUP = "inventory-availability-decisions"  # never committed to
TAIL_OPTIONS = {"fetch.wait.max.ms": 5, "enable.partition.eof": True}
Decision = dict[str, Any]  # the topic's JSON (docs/contracts.md, "inventory.hold-decisions")


FINAL = frozenset({"checked_out", "released", "expired", "refused"})


class DecisionBook:
    """Decisions as they arrive, and the requests waiting for theirs. Thread-safe.
    ``keep_ms``: how long a reservation ended by its latest decision is remembered
    (by the decisions' ``decided_at``)."""

    def __init__(self, keep_ms: int = 2 * 900_000) -> None:
        self._lock = threading.Lock()
        self._keep_ms = keep_ms
        self._ended: deque[tuple[int, str]] = deque()  # (decided ms, reservation), in order
        self._by_event: OrderedDict[str, Decision] = OrderedDict()
        self._holds: dict[str, Decision] = {}
        self._waiting: dict[str, list[tuple[asyncio.AbstractEventLoop, asyncio.Future[Any]]]] = {}
        self.taken = 0

    def take(self, decision: Decision) -> None:
        """Record one decision (from the follower's thread) and wake its request."""
        rid, event_id = decision["reservation_id"], decision["event_id"]
        with self._lock:
            self.taken += 1
            if decision["decision"] != "refused" or rid not in self._holds:
                held = self._holds.get(rid)
                if held is None or int(decision["version"]) >= int(held["version"]):
                    self._holds[rid] = decision  # refusals leave a known hold as it was
                    if decision["decision"] in FINAL:
                        self._forget(rid, _ms_of(decision["decided_at"]))
            if not decision.get("request"):
                return  # an expiry answers no request
            if event_id not in self._by_event:
                self._by_event[event_id] = decision
                if len(self._by_event) > REMEMBERED:
                    self._by_event.popitem(last=False)
            waiters = self._waiting.pop(event_id, [])
        for loop, future in waiters:
            loop.call_soon_threadsafe(_resolve, future, decision)

    def _forget(self, rid: str, decided_ms: int) -> None:
        """Note an ended reservation; forget those ended ``keep_ms`` before this one
        (and not decided again since). Called with the lock held."""
        ended = self._ended
        ended.append((decided_ms, rid))
        while ended and ended[0][0] < decided_ms - self._keep_ms:
            _, old = ended.popleft()
            held = self._holds.get(old)
            ended_long_ago = held is not None and held["decision"] in FINAL
            if ended_long_ago and _ms_of(held["decided_at"]) < decided_ms - self._keep_ms:  # type: ignore[index]
                del self._holds[old]

    def __len__(self) -> int:
        """Reservations remembered."""
        with self._lock:
            return len(self._holds)

    def hold(self, reservation_id: str) -> Decision | None:
        """The latest decision on a reservation (None: none seen)."""
        with self._lock:
            return self._holds.get(reservation_id)

    def decided(self, event_id: str) -> Decision | None:
        with self._lock:
            return self._by_event.get(event_id)

    async def wait(self, event_id: str, timeout: float) -> Decision | None:
        """The decision on request ``event_id``, waiting up to ``timeout`` s (None after)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        with self._lock:
            known = self._by_event.get(event_id)
            if known is not None:
                return known
            self._waiting.setdefault(event_id, []).append((loop, future))
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            return None
        finally:
            with self._lock:
                left = [w for w in self._waiting.get(event_id, []) if w[1] is not future]
                if left:
                    self._waiting[event_id] = left
                else:
                    self._waiting.pop(event_id, None)

    async def wait_hold(self, reservation_id: str, timeout: float) -> Decision | None:
        """The latest decision on a reservation, waiting up to ``timeout`` s for the first
        (another replica may have answered its request a moment before this one saw it)."""
        deadline = time.monotonic() + timeout
        while True:
            held = self.hold(reservation_id)
            if held is not None or time.monotonic() >= deadline:
                return held
            await asyncio.sleep(0.01)


def _ms_of(text: str) -> int:
    """Epoch ms of a decision's RFC 3339 ``decided_at``."""
    return to_ms(datetime.fromisoformat(text))


def _resolve(future: asyncio.Future[Any], decision: Decision) -> None:
    if not future.done():
        future.set_result(decision)


class DecisionFollower(BackgroundReader):
    """Follows the decisions topic into a :class:`DecisionBook` (``start``/``stop``)."""

    thread_name = "decision-follower"

    def __init__(
        self,
        settings: Settings,
        brokers: str,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not settings.hold_decisions_topic:
            raise ValueError("following hold decisions needs INVENTORY_HOLD_DECISIONS_TOPIC")
        self._window_ms = round(2 * settings.api_hold_seconds * 1000)
        self._clock = clock
        self.book = DecisionBook(self._window_ms)
        self._settings = settings
        self._brokers = brokers
        super().__init__()

    def _consumer(self) -> tuple[Consumer, int]:
        connection = kafka_connection(self._settings, self._brokers)
        consumer = Consumer(consumer_config(connection, group=GROUP, **TAIL_OPTIONS))
        topic = self._settings.hold_decisions_topic
        metadata = consumer.list_topics(timeout=self._settings.kafka_connect_timeout_seconds)
        found = metadata.topics.get(topic)
        if found is None or found.error is not None:
            raise RuntimeError(f"topic {topic} not found at {self._brokers}")
        since = int(self._clock() * 1000) - self._window_ms
        wanted = [TopicPartition(topic, p, since) for p in found.partitions]
        timeout = self._settings.kafka_connect_timeout_seconds
        starts = consumer.offsets_for_times(wanted, timeout=timeout)
        consumer.assign(
            [  # no message since then: from the end (-1); unknown: from the beginning
                TopicPartition(topic, tp.partition, tp.offset if tp.offset >= 0 else OFFSET_END)
                if tp.offset != OFFSET_INVALID
                else TopicPartition(topic, tp.partition, OFFSET_BEGINNING)
                for tp in starts
            ]
        )
        return consumer, len(found.partitions)

    def _run(self) -> None:
        consumer: Consumer | None = None
        at_end: set[int] = set()
        partitions = 0
        while not self._stop.is_set():
            try:
                if consumer is None:
                    consumer, partitions = self._consumer()
                    at_end.clear()
                for message in consumer.consume(1_000, timeout=POLL_SECONDS):
                    error = message.error()
                    if error is not None:
                        if error.code() == KafkaError._PARTITION_EOF:
                            at_end.add(int(message.partition() or 0))
                            if len(at_end) >= partitions:
                                self._ready.set()
                        continue
                    value = message.value()
                    if value is not None:
                        self._take(value)
            except Exception as exc:
                logger.warning("decision follower: %s; retrying", exc)
                if consumer is not None:
                    consumer.close()
                    consumer = None
                self._stop.wait(1.0)
        if consumer is not None:
            consumer.close()

    def _take(self, value: bytes) -> None:
        try:
            decision = orjson.loads(value)
            if not isinstance(decision, dict) or "reservation_id" not in decision:
                raise ValueError("not a decision")
        except ValueError as exc:
            logger.warning("decision follower: skipped a message: %s", exc)
            return
        self.book.take(decision)
