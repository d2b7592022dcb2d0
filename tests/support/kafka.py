"""Reading a whole topic back (assign, no consumer group: fast on the local broker)."""

from __future__ import annotations

import time

from confluent_kafka import Consumer, KafkaError, Message, TopicPartition


def read_topic(brokers: str, topic: str, timeout: float = 30.0) -> list[Message]:
    """Every message of every partition, in per-partition offset order."""
    consumer = Consumer(
        {
            "bootstrap.servers": brokers,
            "group.id": "tests-reader",
            "enable.auto.commit": False,
            "enable.partition.eof": True,
        }
    )
    try:
        partitions = consumer.list_topics(topic, timeout=timeout).topics[topic].partitions
        consumer.assign([TopicPartition(topic, p, 0) for p in partitions])
        pending = set(partitions)
        out: list[Message] = []
        while pending:
            for msg in consumer.consume(1000, 1.0):
                err = msg.error()
                if err is None:
                    out.append(msg)
                elif err.code() == KafkaError._PARTITION_EOF:
                    pending.discard(msg.partition())
                else:
                    raise RuntimeError(err.str())
        return sorted(out, key=lambda m: (m.partition(), m.offset()))
    finally:
        consumer.close()


def wait_for_message(brokers: str, topic: str, timeout: float = 60.0) -> None:
    """Return once ``topic`` (created meanwhile, maybe) holds a message; fail after
    ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    consumer = Consumer({"bootstrap.servers": brokers, "group.id": "tests-waiter"})
    try:
        while True:
            assert time.monotonic() < deadline, f"no message in {topic} in {timeout:g} s"
            metadata = consumer.list_topics(topic, timeout=5).topics.get(topic)
            if metadata is not None and metadata.error is None and metadata.partitions:
                break
            time.sleep(0.1)
        consumer.assign([TopicPartition(topic, p, 0) for p in metadata.partitions])
        while True:
            assert time.monotonic() < deadline, f"no message in {topic} in {timeout:g} s"
            msg = consumer.poll(0.2)
            if msg is not None and msg.error() is None:
                return
    finally:
        consumer.close()
