"""One stock truth: an event counts once per event_id in the stream, a topic-range
backfill and its --force fold, whatever its occurred_at (a producer retry that re-stamps
time); `events FINAL` keeps one row per id and the reconciliation flags the id accepted
twice. Real broker and chDB."""

from __future__ import annotations

import orjson
import pytest
from clickhouse_connect.driver.client import Client
from confluent_kafka import Producer

from inventory.app.backfill import BackfillConflict, run_topic_backfill
from inventory.app.run import run_inventory
from inventory.core.settings import Settings
from inventory.core.times import format_ms
from inventory.kafka.topics import ensure_topics

T0 = 1_795_000_000_000


def produce(settings: Settings, events: list[tuple[dict[str, object], int]]) -> None:
    """Each event with its own Kafka timestamp, all to one partition (one key)."""
    producer = Producer({"bootstrap.servers": settings.kafka_brokers})
    for body, timestamp_ms in events:
        producer.produce(
            settings.events_topic,
            value=orjson.dumps(body),
            key=b"WH-01:SKU-1",
            partition=0,
            timestamp=timestamp_ms,
        )
    assert producer.flush(30) == 0


def event(event_id: str, kind: str, quantity: int, at_ms: int) -> dict[str, object]:
    return {
        "event_id": event_id,
        "event_type": kind,
        "sku": "SKU-1",
        "warehouse_id": "WH-01",
        "quantity": quantity,
        "occurred_at": format_ms(at_ms),
    }


def test_a_re_stamped_retry_counts_once_in_stream_backfill_and_fold(
    settings: Settings, ch: Client
) -> None:
    brokers = settings.kafka_brokers or ""
    ensure_topics(settings, brokers)
    produce(
        settings,
        [
            (event("c", "count", 75, T0), T0),
            (event("r", "restock", 100, T0 + 1_000), T0 + 1_000),  # 175
            (event("r", "restock", 100, T0 + 20_000), T0 + 20_000),  # the retry, re-stamped
            (event("s", "sale", 5, T0 + 30_000), T0 + 30_000),  # 170
        ],
    )
    run_inventory(settings, brokers, exit_at_end=True)
    assert ch.query("SELECT on_hand FROM stock_levels FINAL").result_rows == [(170,)]

    between = T0 + 10_000  # after the original, before the retry
    with pytest.raises(BackfillConflict):  # the stream holds events the range lacks
        run_topic_backfill(settings, brokers, between, None)
    run_topic_backfill(settings, brokers, between, None, force=True)

    assert ch.query("SELECT on_hand, lineage FROM stock_levels FINAL").result_rows == [
        (170, "backfill:topic:" + settings.events_topic)
    ]
    copies = ch.query(
        "SELECT event_id, toUnixTimestamp64Milli(occurred_at) FROM events FINAL ORDER BY 1"
    ).result_rows
    assert copies == [("c", T0), ("r", T0 + 1_000), ("s", T0 + 30_000)]  # one row per id
    ch.command("SYSTEM REFRESH VIEW stock_reconciliation")
    ch.command("SYSTEM WAIT VIEW stock_reconciliation")
    check = ch.query(
        "SELECT batch_on_hand, stream_on_hand, repeated_event_ids, repeated_ids, status "
        "FROM stock_reconciliation"
    ).result_rows
    assert check == [(170, 170, 1, ["r"], "repeated_event_id")]  # counted once, accepted twice

    # the stream goes on from the folded stock: still once
    produce(settings, [(event("s2", "sale", 10, T0 + 40_000), T0 + 40_000)])
    run_inventory(settings, brokers, exit_at_end=True)
    assert ch.query("SELECT on_hand FROM stock_levels FINAL").result_rows == [(160,)]
