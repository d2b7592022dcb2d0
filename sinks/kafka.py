"""Dead-letter topic sink: original key and value, with the reason and source position
in headers. Delivery: at-least-once; a batch that is not acknowledged raises."""

from __future__ import annotations

from bytewax.outputs import DynamicSink, StatelessSinkPartition

from inventory.kafka import CheckedProducer
from inventory.models import DeadLetter
from inventory.settings import Settings


def dead_letter_headers(letter: DeadLetter) -> list[tuple[str, str | bytes | None]]:
    src = letter.source
    return [
        ("error", letter.error.encode("utf-8", "replace")),
        ("source.topic", src.topic.encode()),
        ("source.partition", str(src.partition).encode()),
        ("source.offset", str(src.offset).encode()),
    ]


class _DeadLetterPartition(StatelessSinkPartition[DeadLetter]):
    def __init__(self, producer: CheckedProducer, topic: str) -> None:
        self._producer = producer
        self._topic = topic

    def write_batch(self, items: list[DeadLetter]) -> None:
        for letter in items:
            self._producer.produce(
                self._topic, letter.payload, letter.key, dead_letter_headers(letter)
            )
        self._producer.flush_or_raise()

    def close(self) -> None:
        self._producer.flush_or_raise()


class DeadLetterTopicSink(DynamicSink[DeadLetter]):
    """Publishes dead letters to ``settings.dlq_topic``; raises on delivery failure."""

    def __init__(self, settings: Settings, brokers: str) -> None:
        self._settings = settings
        self._brokers = brokers

    def build(self, step_id: str, worker_index: int, worker_count: int) -> _DeadLetterPartition:
        producer = CheckedProducer(self._brokers, self._settings.kafka_timeout_seconds)
        return _DeadLetterPartition(producer, self._settings.dlq_topic)
