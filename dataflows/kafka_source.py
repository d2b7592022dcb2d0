"""The events topic as a Bytewax source, tuned for memory and latency.

Same partitioning and snapshots as ``bytewax.connectors.kafka.KafkaSource`` (partition
keys ``"{i}-{topic}"``, state = the next offset), so recovery stores written by either
resume with the other. Differences:

- each partition's consumer prefetches at most ``PREFETCH_KIB`` KiB / ``PREFETCH_MESSAGES``
  messages (librdkafka's defaults, 64 MiB and 100,000 per partition, held hundreds of MiB
  ahead of the flow);
- ``fetch.wait.max.ms`` is ``FETCH_WAIT_MS`` (librdkafka: 500): a quiet topic's events reach
  the flow sooner;
- messages are passed on as :class:`RawKafkaMessage` (no headers or latency lookups).

Delivery: resumes at the snapshot offset; messages after it are read again (at-least-once).
"""

from __future__ import annotations

from bytewax.inputs import FixedPartitionedSource, StatefulSourcePartition
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition

PREFETCH_KIB = 8 * 1024
PREFETCH_MESSAGES = 20_000
FETCH_WAIT_MS = 100


class RawKafkaMessage:
    """What decoding reads of a message (``inventory.decode.RawMessage``)."""

    __slots__ = ("key", "offset", "partition", "timestamp", "topic", "value")

    def __init__(  # noqa: PLR0917 (built once per message: positional is the fast path)
        self,
        key: bytes | None,
        value: bytes | None,
        topic: str | None,
        partition: int | None,
        offset: int | None,
        timestamp: tuple[int, int] | None,
    ) -> None:
        self.key = key
        self.value = value
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.timestamp = timestamp


def consumer_config(brokers: str, *, tail: bool) -> dict[str, object]:
    return {
        "bootstrap.servers": brokers,
        "group.id": "inventory",  # required by librdkafka; partitions are assigned, not joined
        "enable.auto.commit": False,
        "enable.partition.eof": not tail,
        "auto.offset.reset": "earliest",  # a resume offset past retention: the oldest kept
        "queued.max.messages.kbytes": PREFETCH_KIB,
        "queued.min.messages": PREFETCH_MESSAGES,
        "fetch.wait.max.ms": FETCH_WAIT_MS,
    }


class _Partition(StatefulSourcePartition[RawKafkaMessage, int | None]):
    def __init__(
        self, config: dict[str, object], topic: str, index: int, offset: int, batch_size: int
    ) -> None:
        self._consumer = Consumer(config)
        self._consumer.assign([TopicPartition(topic, index, offset)])
        self._topic = topic
        self._offset = offset
        self._batch_size = batch_size
        self._eof = False

    def next_batch(self) -> list[RawKafkaMessage]:
        if self._eof:
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
                    msg.key(), msg.value(), msg.topic(), msg.partition(), last, msg.timestamp()
                )
            )
        if last is not None:
            self._offset = last + 1
        return batch

    def snapshot(self) -> int | None:
        return self._offset

    def close(self) -> None:
        self._consumer.close()


class EventsSource(FixedPartitionedSource[RawKafkaMessage, int | None]):
    """Every partition of ``topic`` from the beginning (or the resume offsets).

    ``tail=False`` stops once every partition is drained (its end when read).
    """

    def __init__(self, brokers: str, topic: str, *, tail: bool, batch_size: int) -> None:
        self._brokers = brokers
        self._topic = topic
        self._tail = tail
        self._batch_size = batch_size

    def list_parts(self) -> list[str]:
        consumer = Consumer(consumer_config(self._brokers, tail=self._tail))
        try:
            metadata = consumer.list_topics(self._topic, timeout=30).topics[self._topic]
        finally:
            consumer.close()
        if metadata.error is not None:
            raise RuntimeError(f"cannot list Kafka topic {self._topic!r}: {metadata.error.str()}")
        return [f"{index}-{self._topic}" for index in sorted(metadata.partitions)]

    def build_part(
        self, step_id: str, for_part: str, resume_state: int | None
    ) -> StatefulSourcePartition[RawKafkaMessage, int | None]:
        index, _, topic = for_part.partition("-")
        offset = resume_state if resume_state is not None else OFFSET_BEGINNING
        return _Partition(
            consumer_config(self._brokers, tail=self._tail),
            topic,
            int(index),
            offset,
            self._batch_size,
        )
