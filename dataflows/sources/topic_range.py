"""A Bytewax source over a time range of the events topic (backfill of a topic range).

Per partition it scans from the first retained offset to the end of the partition (its
EOF when the scan reaches it) and passes on only the messages whose Kafka timestamp is in
[``start``, ``end``). It relies on neither the broker's time index nor its watermarks
(both are unreliable on the local test broker), so it reads the whole retained topic.
Messages keep their real topic (and topic id)/partition/offset, so rows and dead letters
collapse with the stream's own. Resumable: the snapshot is the next offset of the partition.
"""

from __future__ import annotations

from collections.abc import Callable

from bytewax.inputs import FixedPartitionedSource, StatefulSourcePartition
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition

from dataflows.sources.events_topic import RawKafkaMessage, topic_id
from inventory.kafka.config import Target, consumer_config
from inventory.runtime.stopping import STOP, StopRequest

Message = RawKafkaMessage
ProgressHook = Callable[[int], None]


def _consumer(target: Target) -> Consumer:
    config = consumer_config(
        target,
        group="inventory-backfill",
        **{"enable.partition.eof": True, "auto.offset.reset": "earliest"},
    )
    return Consumer(config)


def partitions(brokers: Target, topic: str, timeout: float = 30.0) -> list[int]:
    consumer = _consumer(brokers)
    try:
        return sorted(consumer.list_topics(topic, timeout=timeout).topics[topic].partitions)
    finally:
        consumer.close()


class _RangePartition(StatefulSourcePartition[Message, int]):
    def __init__(
        self,
        *,
        brokers: Target,
        topic: str,
        topic_id: str,
        pid: int,
        start: int,
        window: tuple[int | None, int | None],
        batch_size: int,
        on_progress: ProgressHook | None,
        stop: StopRequest,
    ) -> None:
        self._stop = stop
        self._consumer = _consumer(brokers)
        self._topic_id = topic_id
        self._next, self._eof = start, False
        self._from, self._to = window
        # start 0: the first retained offset, whatever it is
        self._consumer.assign([TopicPartition(topic, pid, start or OFFSET_BEGINNING)])
        self._batch_size = batch_size
        self._on_progress = on_progress

    def next_batch(self) -> list[Message]:
        if self._eof or self._stop.requested:
            raise StopIteration
        batch: list[Message] = []
        scanned = 0
        for msg in self._consumer.consume(self._batch_size, 0.5):
            error = msg.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    self._eof = True
                    break
                raise RuntimeError(f"error reading {msg.topic()}: {error}")
            offset = int(msg.offset() or 0)
            self._next = offset + 1
            scanned += 1
            ts = msg.timestamp()[1]
            if (self._from is not None and ts < self._from) or (
                self._to is not None and ts >= self._to
            ):
                continue
            batch.append(
                RawKafkaMessage(
                    msg.key(),
                    msg.value(),
                    msg.topic(),
                    msg.partition(),
                    offset,
                    msg.timestamp(),
                    self._topic_id,
                )
            )
        if self._on_progress is not None and scanned:
            self._on_progress(scanned)
        return batch

    def snapshot(self) -> int:
        return self._next

    def close(self) -> None:
        self._consumer.close()


class TopicRangeSource(FixedPartitionedSource[Message, int]):
    """Messages of ``topic`` with timestamps in [``start_ms``, ``end_ms``)."""

    def __init__(
        self,
        brokers: Target,
        topic: str,
        start_ms: int | None,
        end_ms: int | None,
        *,
        batch_size: int = 2000,
        on_progress: ProgressHook | None = None,
        stop: StopRequest = STOP,
    ) -> None:
        self._stop = stop
        self._brokers, self._topic = brokers, topic
        self._partitions = partitions(brokers, topic)
        self._topic_id = topic_id(brokers, topic)
        self._window = (start_ms, end_ms)
        self._batch_size, self._on_progress = batch_size, on_progress

    def list_parts(self) -> list[str]:
        return [str(pid) for pid in self._partitions]

    def build_part(self, step_id: str, for_part: str, resume_state: int | None) -> _RangePartition:
        pid = int(for_part)
        start = 0 if resume_state is None else resume_state
        return _RangePartition(
            brokers=self._brokers,
            topic=self._topic,
            topic_id=self._topic_id,
            pid=pid,
            start=start,
            window=self._window,
            batch_size=self._batch_size,
            on_progress=self._on_progress,
            stop=self._stop,
        )
