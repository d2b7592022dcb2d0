"""The contract topics: created if missing, idempotently."""

from __future__ import annotations

import logging

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from inventory.core.settings import Settings
from inventory.kafka.config import admin_config, kafka_connection

logger = logging.getLogger(__name__)


def ensure_topics(settings: Settings, brokers: str, timeout: float = 30.0) -> None:
    """Create the contract topics if missing (idempotent)."""
    admin = AdminClient(admin_config(kafka_connection(settings, brokers)))
    existing = admin.list_topics(timeout=timeout).topics
    wanted = [
        NewTopic(topic, num_partitions=settings.topic_partitions, replication_factor=1)
        for topic in (settings.events_topic, settings.alerts_topic, settings.dlq_topic)
        if topic not in existing
    ]
    if not wanted:
        return
    for topic, future in admin.create_topics(wanted, operation_timeout=timeout).items():
        try:
            future.result(timeout)
            logger.info("created topic %s", topic)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise
