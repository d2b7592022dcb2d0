"""The events topic as a Bytewax source, tuned for memory and latency.

Same partitioning and snapshots as ``bytewax.connectors.kafka.KafkaSource`` (partition
keys ``"{i}-{topic}"``, state = the next offset), so recovery stores written by either
resume with the other. Differences:

- each partition's consumer prefetches at most ``PREFETCH_KIB`` KiB / ``PREFETCH_MESSAGES``
  messages (librdkafka's defaults, 64 MiB and 100,000 per partition, held hundreds of MiB
  ahead of the flow);
- ``fetch.wait.max.ms`` is ``FETCH_WAIT_MS`` (librdkafka: 500): a quiet topic's events reach
  the flow sooner;
- messages are passed on as :class:`RawKafkaMessage` (no headers or latency lookups);
- a partition's snapshot is (topic id, next offset): a topic re-created under the same
  name (a new broker, a deleted topic) has a new id, and is read from its start instead of
  from an offset that meant something else. Snapshots of plain offsets (before topic ids)
  resume at that offset.

Delivery: resumes at the snapshot offset; messages after it are read again (at-least-once).
A stop request (SIGTERM/SIGINT, :mod:`inventory.runtime.stopping`) ends every partition at its
next batch, so the flow ends its epoch and snapshots; a restart resumes there.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import msgspec
from bytewax.inputs import FixedPartitionedSource, StatefulSourcePartition
from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    KafkaError,
    KafkaException,
    TopicCollection,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient

from inventory.kafka.config import Target, admin_config, consumer_config
from inventory.runtime.metrics import CONSUMER_LAG, LAST_SNAPSHOT, MESSAGES_READ
from inventory.runtime.stopping import STOP, StopRequest

IDLE_POLL = timedelta(milliseconds=20)  # a caught-up partition's next read (latency <= this)

logger = logging.getLogger(__name__)

PREFETCH_KIB = 8 * 1024
PREFETCH_MESSAGES = 20_000
FETCH_WAIT_MS = 100


class RawKafkaMessage(msgspec.Struct, gc=False):
    """What decoding reads of a message (``dataflows.decode.RawMessage``); a Struct is
    built in C, once per message."""

    key: bytes | None
    value: bytes | None
    topic: str | None
    partition: int | None
    offset: int | None
    timestamp: tuple[int, int] | None
    topic_id: str = ""


PartitionState = tuple[str, int] | int | None  # (topic id, next offset); int: before ids


def topic_id(target: Target, topic: str, timeout: float = 30.0) -> str:
    """The Kafka topic id of ``topic`` ("" if the broker gives none: Kafka before 2.8,
    or a broker without topic ids)."""
    admin = AdminClient(admin_config(target))
    try:
        described = admin.describe_topics(TopicCollection([topic]), request_timeout=timeout)
        value = described[topic].result(timeout)
    except KafkaException as exc:
        logger.warning("cannot read the topic id of %r: %s", topic, exc)
        return ""
    uuid = getattr(value, "topic_id", None)
    text = "" if uuid is None else str(uuid)
    return "" if text in ("", "AAAAAAAAAAAAAAAAAAAAAA") else text  # the zero UUID: none


def source_config(target: Target, *, tail: bool, group: str) -> dict[str, object]:
    """The partitions' consumers: assigned, never subscribed; ``group`` receives the
    committed offsets for monitoring (lag in Redpanda Console, ``rpk group describe``)."""
    return consumer_config(
        target,
        group=group,
        **{
            "enable.partition.eof": not tail,
            "auto.offset.reset": "earliest",  # a resume offset past retention: the oldest kept
            "queued.max.messages.kbytes": PREFETCH_KIB,
            "queued.min.messages": PREFETCH_MESSAGES,
            "fetch.wait.max.ms": FETCH_WAIT_MS,
        },
    )


class _Partition(StatefulSourcePartition[RawKafkaMessage, PartitionState]):
    def __init__(  # noqa: PLR0917
        self,
        config: dict[str, object],
        topic: str,
        topic_id: str,
        index: int,
        offset: int,
        batch_size: int,
        stop: StopRequest,
    ) -> None:
        self._stop = stop
        self._consumer = Consumer({**config, "on_commit": _log_failed_commits})
        self._consumer.assign([TopicPartition(topic, index, offset)])
        self._topic = topic
        self._index = index
        self._topic_id = topic_id
        self._offset = offset
        self._snapshotted: int | None = None  # the offset of the previous snapshot
        self._lag = CONSUMER_LAG.labels(topic, str(index))
        self._batch_size = batch_size
        self._eof = False
        self._awake: datetime | None = None

    def next_batch(self) -> list[RawKafkaMessage]:
        if self._eof or self._stop.requested:
            raise StopIteration
        batch = []
        last = None
        for msg in self._consumer.consume(self._batch_size, 0.001):
            error = msg.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    self._eof = True  # emit this batch; stop on the next call
                    break
                raise RuntimeError(f"error consuming from Kafka topic {self._topic!r}: {error}")
            last = msg.offset()
            batch.append(
                RawKafkaMessage(
                    msg.key(),
                    msg.value(),
                    msg.topic(),
                    msg.partition(),
                    last,
                    msg.timestamp(),
                    self._topic_id,
                )
            )
        if last is not None:
            self._offset = last + 1
            MESSAGES_READ.labels(self._topic).inc(len(batch))
            self._awake = None
        else:  # caught up: poll again in a moment, not in a busy loop
            self._awake = datetime.now(UTC) + IDLE_POLL
        self._report_lag()
        return batch

    def next_awake(self) -> datetime | None:
        return self._awake

    def _report_lag(self) -> None:
        """Messages from the position to the partition's end, from the consumer's cached
        watermarks (no request to the broker)."""
        where = TopicPartition(self._topic, self._index)
        _, high = self._consumer.get_watermark_offsets(where, cached=True)
        if high >= 0 and self._offset >= 0:
            self._lag.set(max(high - self._offset, 0))

    def snapshot(self) -> PartitionState:
        # The previous snapshot is complete once the next one is taken: commit its offset
        # to the consumer group, for monitoring only (recovery resumes from the snapshot).
        if self._snapshotted is not None:
            self._commit(self._snapshotted, asynchronous=True)
        self._snapshotted = self._offset
        LAST_SNAPSHOT.set_to_current_time()
        # OFFSET_BEGINNING (negative) until the first message: nothing read yet
        return (self._topic_id, self._offset)

    def _commit(self, offset: int, *, asynchronous: bool) -> None:
        if offset < 0:
            return
        where = [TopicPartition(self._topic, self._index, offset)]
        try:
            if asynchronous:
                self._consumer.commit(offsets=where, asynchronous=True)
            else:
                self._consumer.commit(offsets=where, asynchronous=False)
        except KafkaException as exc:  # monitoring only: never fail the flow for it
            logger.warning("cannot commit offset %d of %s: %s", offset, self._topic, exc)

    def close(self) -> None:
        self._commit(self._offset, asynchronous=False)  # the end of a drained or stopped run
        self._consumer.close()


class EventsSource(FixedPartitionedSource[RawKafkaMessage, PartitionState]):
    """Every partition of ``topic`` from the beginning (or the resume offsets). The
    offsets of completed snapshots are committed to ``group`` (monitoring only).

    ``tail=False`` stops once every partition is drained (its end when read).
    ``reads``: the partitions this process lists (default all): a process of a cluster
    reads the partitions whose key shards it runs (:mod:`inventory.core.key_shards`);
    every partition must be read by some process.
    """

    def __init__(
        self,
        target: Target,
        topic: str,
        *,
        tail: bool,
        batch_size: int,
        group: str = "inventory-dataflow",
        stop: StopRequest = STOP,
        reads: Callable[[int], bool] | None = None,
    ) -> None:
        self._stop = stop
        self._reads = reads
        self._group = group
        self._brokers = target
        self._topic = topic
        self._tail = tail
        self._batch_size = batch_size
        self._lock = threading.Lock()
        self._topic_id: str | None = None

    def topic_id(self) -> str:
        """The topic's current id, read once per process."""
        with self._lock:
            if self._topic_id is None:
                self._topic_id = topic_id(self._brokers, self._topic)
            return self._topic_id

    def __getstate__(self) -> dict[str, object]:  # the lock does not pickle
        return {k: v for k, v in self.__dict__.items() if k not in ("_lock", "_topic_id")}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()
        self._topic_id = None

    def list_parts(self) -> list[str]:
        consumer = Consumer(source_config(self._brokers, tail=self._tail, group=self._group))
        try:
            metadata = consumer.list_topics(self._topic, timeout=30).topics[self._topic]
        finally:
            consumer.close()
        if metadata.error is not None:
            raise RuntimeError(f"cannot list Kafka topic {self._topic!r}: {metadata.error.str()}")
        reads = self._reads
        return [
            f"{index}-{self._topic}"
            for index in sorted(metadata.partitions)
            if reads is None or reads(index)
        ]

    def build_part(
        self, step_id: str, for_part: str, resume_state: PartitionState
    ) -> StatefulSourcePartition[RawKafkaMessage, PartitionState]:
        index, _, topic = for_part.partition("-")
        current = self.topic_id()
        offset = resume_offset(resume_state, current, for_part)
        return _Partition(
            source_config(self._brokers, tail=self._tail, group=self._group),
            topic,
            current,
            int(index),
            offset,
            self._batch_size,
            self._stop,
        )


def _log_failed_commits(err: KafkaError | None, partitions: list[TopicPartition]) -> None:
    if err is not None:
        logger.warning("offset commit failed (monitoring only): %s", err)


def partition_count(target: Target, topic: str, timeout: float = 30.0) -> int:
    """How many partitions ``topic`` has now (raises RuntimeError if it cannot be read)."""
    consumer = Consumer(consumer_config(target, group="inventory-metadata"))
    try:
        metadata = consumer.list_topics(topic, timeout=timeout).topics[topic]
    finally:
        consumer.close()
    if metadata.error is not None:
        raise RuntimeError(f"cannot list Kafka topic {topic!r}: {metadata.error.str()}")
    return len(metadata.partitions)


def resume_offset(state: PartitionState, current_id: str, part: str) -> int:
    """Where a partition resumes: the snapshot's offset, unless the snapshot belongs to
    another topic of the same name (then from its start)."""
    if state is None:
        return OFFSET_BEGINNING
    if isinstance(state, int):
        return state
    snapshot_id, offset = state
    if snapshot_id and current_id and snapshot_id != current_id:
        logger.warning(
            "Kafka partition %s was re-created (topic id %s, the snapshot's %s): reading it "
            "from the start; per-key state is kept",
            part,
            current_id,
            snapshot_id,
        )
        return OFFSET_BEGINNING
    return offset
