"""A backfill of a range of the events topic (by Kafka timestamp) processes exactly that range."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from generators.events import EventGenerator
from tests.support.history import CONFIG
from tests.support.model import Msg, expected_tables
from tests.support.tables import sales_table, stock_table


def test_topic_range_backfill_processes_exactly_the_range(
    make_settings: Any, broker: str, tmp_path: Path
) -> None:
    import time as clock

    from generators.publish import publish_to_kafka
    from inventory.app.backfill import run_topic_backfill
    from inventory.clickhouse.client import connect
    from inventory.clickhouse.migrations import apply_migrations
    from inventory.kafka.topics import ensure_topics
    from tests.support.kafka import read_topic

    base = make_settings(kafka_brokers=broker)
    ensure_topics(base, broker)
    messages = list(EventGenerator(CONFIG).messages(4000))
    publish_to_kafka(messages[:2000], broker, base.events_topic)
    clock.sleep(0.3)
    cut = int(clock.time() * 1000)
    clock.sleep(0.3)
    publish_to_kafka(messages[2000:], broker, base.events_topic)
    read = [
        Msg(m.key(), m.value(), m.partition(), m.offset(), m.timestamp()[1])
        for m in read_topic(broker, base.events_topic)
    ]

    for name, start, end in (("before", None, cut), ("after", cut, None)):
        cfg = make_settings(
            kafka_brokers=broker,
            events_topic=base.events_topic,
            clickhouse_database=f"{base.clickhouse_database}_{name}",
        )
        client = connect(cfg)
        apply_migrations(client, cfg.clickhouse_database)
        run_topic_backfill(cfg, broker, start, end)
        in_range = [
            m
            for m in read
            if (start is None or m.timestamp_ms >= start) and (end is None or m.timestamp_ms < end)
        ]
        expected = expected_tables(
            in_range, cfg.lateness_seconds * 1000, cfg.max_future_seconds * 1000
        )
        ch = connect(cfg, database=cfg.clickhouse_database)
        assert stock_table(ch) == expected.stock
        assert sales_table(ch) == expected.windows
        dead = ch.query("SELECT partition, offset FROM dead_letters FINAL").result_rows
        assert set(dead) == set(expected.dead)
        ch.close()
        client.close()
