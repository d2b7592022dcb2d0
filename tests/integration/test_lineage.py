"""Current stock never goes back in time: broker replacement, a lost recovery store,
a topic that lost its old messages, and backfills before and after the stream, each
checked against the independent model of all the events, on the real broker and chDB."""

from __future__ import annotations

import io
import shutil
import time
from collections import defaultdict
from pathlib import Path

import orjson
import pytest
from clickhouse_connect.driver.client import Client
from confluent_kafka.admin import AdminClient

from generators.events import EventGenerator, GeneratorConfig, Message
from generators.publish import publish_to_kafka, write_jsonl
from inventory.app.backfill import BackfillConflict, run_backfill
from inventory.app.run import run_inventory
from inventory.clickhouse.catalog import write_catalog
from inventory.core.contract import InventoryEvent
from inventory.core.settings import Settings
from inventory.kafka.topics import ensure_topics
from tests.support.kafka import read_topic
from tests.support.model import Expected, Msg, expected_for, stock_of, windows_of
from tests.support.tables import (
    alerts_table,
    orders_table,
    reserved_table,
    sales_table,
    stock_table,
)

Key = tuple[str, str]
Window = tuple[int, int, int, int]

CONFIG = GeneratorConfig(
    seed=21,
    skus=12,
    warehouses=2,
    rate=100.0,
    malformed_share=0.02,
    duplicate_share=0.03,
    late_share=0.03,
    late_max_seconds=900,
    hold_share=0.2,  # seeds must rebuild holds and the open purchase orders too
)


def stream(count: int, *, skip: int = 0) -> list[Message]:
    """Messages ``skip`` .. ``skip + count`` of one generated stream (event time goes on)."""
    generator = EventGenerator(CONFIG)
    if skip:
        list(generator.messages(skip))
    return list(generator.messages(count))


def read_back(settings: Settings, partition_base: int = 0) -> list[Msg]:
    """The topic as the model sees it; ``partition_base`` orders a later topic after an
    earlier one (the model sorts by partition, then offset)."""
    return [
        Msg(m.key(), m.value(), m.partition() + partition_base, m.offset(), m.timestamp()[1])
        for m in read_topic(settings.kafka_brokers or "", settings.events_topic)
    ]


def recreate_topics(settings: Settings) -> None:
    """What a new broker means for the flow: the same topic names, new topics (new ids)."""
    admin = AdminClient({"bootstrap.servers": settings.kafka_brokers})
    topics = [settings.events_topic, settings.alerts_topic, settings.dlq_topic]
    for future in admin.delete_topics(topics, operation_timeout=30).values():
        future.result(30)
    for _ in range(50):
        if not set(topics) & set(admin.list_topics(timeout=10).topics):
            break
        time.sleep(0.1)
    ensure_topics(settings, settings.kafka_brokers or "")


def check(ch: Client, expected: Expected) -> None:
    assert stock_table(ch) == expected.stock
    assert sales_table(ch) == expected.windows
    assert alerts_table(ch) == {
        key: sorted(alerts, key=lambda a: (expected.accepted[a[4]].occurred_at, a[4], a[0]))
        for key, alerts in expected.alerts.items()
    }
    dead = ch.query("SELECT count() FROM dead_letters FINAL").result_rows[0][0]
    assert dead == len(expected.dead)
    assert reserved_table(ch) == expected.reserved
    assert orders_table(ch) == expected.orders
    named = ch.query("SELECT alert_id, po_id FROM alerts FINAL WHERE po_id != ''")
    assert dict(named.result_rows) == expected.alert_orders


def start(settings: Settings, ch: Client, first: list[Message]) -> list[Msg]:
    ensure_topics(settings, settings.kafka_brokers or "")
    write_catalog(ch, settings.clickhouse_database, EventGenerator(CONFIG).catalog.entries())
    publish_to_kafka(first, settings.kafka_brokers or "", settings.events_topic)
    run_inventory(settings, settings.kafka_brokers or "", exit_at_end=True)
    return read_back(settings)


def catalog_expected(settings: Settings, msgs: list[Msg]) -> Expected:
    """The model; the history file's messages (partition -1) are a backfill's."""
    return expected_for(
        settings,
        msgs,
        EventGenerator(CONFIG).catalog.entries(),
        historical=lambda msg: msg.partition < 0,
    )


def test_a_new_broker_keeps_the_state_and_reads_its_topics_from_the_start(
    settings: Settings, ch: Client
) -> None:
    before = start(settings, ch, stream(600))
    recreate_topics(settings)
    # more messages than before: resuming at the old offsets would skip the first 600
    publish_to_kafka(stream(1500, skip=600), settings.kafka_brokers or "", settings.events_topic)
    run_inventory(settings, settings.kafka_brokers or "", exit_at_end=True)
    check(ch, catalog_expected(settings, before + read_back(settings, partition_base=100)))


def test_a_lost_recovery_store_rebuilds_keys_from_the_tables(
    settings: Settings, ch: Client
) -> None:
    before = start(settings, ch, stream(1500))
    shutil.rmtree(settings.recovery_path)
    publish_to_kafka(stream(500, skip=1500), settings.kafka_brokers or "", settings.events_topic)
    run_inventory(settings, settings.kafka_brokers or "", exit_at_end=True, workers=2)
    after = read_back(settings)
    assert len(after) == 2000 and after[: len(before)] != []
    check(ch, catalog_expected(settings, after))


def test_a_topic_without_the_old_messages_and_no_recovery_store(
    settings: Settings, ch: Client
) -> None:
    """Retention dropped everything the tables already hold (here: a new broker, and the
    recovery store gone too): the state comes from the tables, not from what is left."""
    before = start(settings, ch, stream(1500))
    shutil.rmtree(settings.recovery_path)
    recreate_topics(settings)
    publish_to_kafka(stream(500, skip=1500), settings.kafka_brokers or "", settings.events_topic)
    run_inventory(settings, settings.kafka_brokers or "", exit_at_end=True)
    check(ch, catalog_expected(settings, before + read_back(settings, partition_base=100)))


def history_file(tmp_path: Path, messages: list[Message]) -> tuple[Path, list[Msg]]:
    buffer = io.StringIO()
    write_jsonl(iter(messages), buffer)
    path = tmp_path / "history.jsonl"
    path.write_text(buffer.getvalue())
    mtime = int(path.stat().st_mtime * 1000)
    # before any topic partition in the model's order
    msgs = [
        Msg(None, line.encode(), -1, n, mtime)
        for n, line in enumerate(buffer.getvalue().splitlines())
    ]
    return path, msgs


def test_a_stream_after_a_backfill_continues_the_backfilled_stock(
    settings: Settings, ch: Client, tmp_path: Path
) -> None:
    path, history = history_file(tmp_path, stream(1500))
    write_catalog(ch, settings.clickhouse_database, EventGenerator(CONFIG).catalog.entries())
    run_backfill(settings, path)
    check(ch, catalog_expected(settings, history))
    ensure_topics(settings, settings.kafka_brokers or "")
    publish_to_kafka(stream(800, skip=1500), settings.kafka_brokers or "", settings.events_topic)
    run_inventory(settings, settings.kafka_brokers or "", exit_at_end=True)
    check(ch, catalog_expected(settings, history + read_back(settings)))


def event_id_of(value: bytes | None) -> object:
    try:
        return orjson.loads(value or b"").get("event_id")
    except (orjson.JSONDecodeError, AttributeError):
        return None


def union_of(
    settings: Settings, accepted: dict[str, InventoryEvent]
) -> tuple[dict[Key, tuple[int, int, int, str]], dict[tuple[str, str, int], Window]]:
    """Stock and windows of a set of accepted events (what a fold computes)."""
    per_key: dict[Key, list[InventoryEvent]] = defaultdict(list)
    for event in accepted.values():
        per_key[(event.warehouse_id, event.sku)].append(event)
    windows: dict[tuple[str, str, int], Window] = {}
    for key, events in per_key.items():
        windows.update(windows_of(key, events, settings.window_seconds * 1000))
    return {key: stock_of(events) for key, events in per_key.items()}, windows


def test_a_backfill_of_older_history_is_refused_then_folded_with_force(
    settings: Settings, ch: Client, tmp_path: Path
) -> None:
    older = stream(1500)
    live = start(settings, ch, stream(800, skip=1500))
    current = stock_table(ch)
    path, history = history_file(tmp_path, older)

    with pytest.raises(BackfillConflict) as refused:
        run_backfill(settings, path)
    assert len(refused.value.missing) == len(current)  # every key has streamed events
    assert stock_table(ch) == current  # nothing written

    run_backfill(settings, path, force=True)
    # the history is folded into current stock: each part's accepted events (the stream
    # decided lateness without the history) make one set, and stock is a function of it
    accepted = {**catalog_expected(settings, history).accepted}
    accepted.update(catalog_expected(settings, live).accepted)
    stock, windows = union_of(settings, accepted)
    assert stock_table(ch) == stock
    assert sales_table(ch) == windows

    # the stream adopts the folded state and goes on from it
    publish_to_kafka(stream(300, skip=2300), settings.kafka_brokers or "", settings.events_topic)
    run_inventory(settings, settings.kafka_brokers or "", exit_at_end=True)
    everything = read_back(settings)
    seen = {(m.partition, m.offset) for m in live}
    more_ids = {event_id_of(m.value) for m in everything if (m.partition, m.offset) not in seen}
    later = catalog_expected(settings, history + everything).accepted  # decided after both
    accepted.update({i: e for i, e in later.items() if i in more_ids and i not in accepted})
    stock, windows = union_of(settings, accepted)
    assert stock_table(ch) == stock
    assert sales_table(ch) == windows
    # a re-run without --force is refused again (the stream added events since)
    with pytest.raises(BackfillConflict):
        run_backfill(settings, path)
