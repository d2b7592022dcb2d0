"""The dataflow commits its offsets to its consumer group (for lag monitoring), on the real
broker."""

from __future__ import annotations

from typing import Any

from confluent_kafka import ConsumerGroupTopicPartitions, TopicPartition
from confluent_kafka.admin import AdminClient

from generators.events import EventGenerator, GeneratorConfig
from generators.publish import publish_to_kafka
from inventory.core.settings import Settings
from tests.support.kafka import read_topic


def test_the_dataflow_commits_its_offsets_to_its_consumer_group(
    settings: Settings, ch: Any
) -> None:
    from inventory.app.run import run_inventory
    from inventory.kafka.topics import ensure_topics

    brokers = settings.kafka_brokers or ""
    ensure_topics(settings, brokers)
    publish_to_kafka(
        EventGenerator(GeneratorConfig(seed=2)).messages(3000), brokers, settings.events_topic
    )
    run_inventory(settings, brokers, exit_at_end=True)
    ends: dict[int, int] = {}
    for m in read_topic(brokers, settings.events_topic):
        ends[m.partition()] = max(ends.get(m.partition(), 0), m.offset() + 1)
    admin = AdminClient({"bootstrap.servers": brokers})
    request = ConsumerGroupTopicPartitions(
        settings.consumer_group,
        [TopicPartition(settings.events_topic, p) for p in sorted(ends)],
    )
    result = admin.list_consumer_group_offsets([request])[settings.consumer_group].result(30)
    committed = {tp.partition: tp.offset for tp in result.topic_partitions}
    assert committed == ends  # lag 0 after a drained run
