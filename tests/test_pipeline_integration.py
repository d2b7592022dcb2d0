"""End to end on real parts: local Kafka broker -> Bytewax -> embedded ClickHouse."""

from __future__ import annotations

from collections import Counter

import orjson
import pytest
from clickhouse_connect.driver.client import Client

from generators.events import EventGenerator, GeneratorConfig, Message
from generators.publish import publish_to_kafka
from inventory.kafka import ensure_topics
from inventory.models import format_ms, to_ms
from inventory.runner import run_inventory
from inventory.settings import Settings
from tests.kafka_helpers import read_topic
from tests.model import Expected, Msg, expected_tables

pytestmark = pytest.mark.integration

CONFIG = GeneratorConfig(
    seed=7,
    skus=40,
    warehouses=3,
    rate=200.0,
    malformed_share=0.02,
    duplicate_share=0.03,
    late_share=0.05,
    late_max_seconds=900,
)
EVENTS = 6000
EDGE_KEY = ("WH-EDGE", "SKU-EDGE")


def edge_cases(start_ms: int) -> list[Message]:
    """Hand-written sequence on one key hitting every stock rule (expected on-hand 31)."""

    def msg(event_id: str, kind: str, qty: int, at_ms: int) -> Message:
        event = {
            "event_id": event_id,
            "event_type": kind,
            "sku": EDGE_KEY[1],
            "warehouse_id": EDGE_KEY[0],
            "quantity": qty,
            "occurred_at": format_ms(start_ms + at_ms),
        }
        return Message(f"{EDGE_KEY[0]}:{EDGE_KEY[1]}".encode(), orjson.dumps(event))

    return [
        msg("x1", "count", 50, 0),
        msg("x2", "sale", 5, 10_000),  # 45
        msg("x3", "count", 30, 5_000),  # late count: 30 - 5 (sale after it) = 25
        msg("x4", "sale", 4, 5_000),  # same ms as the governing count: absorbed
        msg("x5", "sale", 2, 3_000),  # before the count: absorbed
        msg("x6", "restock", 10, 700_000),  # 35; lateness cutoff is now +100 s
        msg("x7", "sale", 1, 100_000),  # exactly at the cutoff: accepted, 34
        msg("x8", "sale", 1, 99_999),  # 1 ms beyond: late
        msg("x9", "adjustment", -3, 650_000),  # 31
        msg("x9", "adjustment", -3, 650_000),  # duplicate
    ]


def produce_and_expect(settings: Settings) -> tuple[Expected, list[Msg]]:
    brokers = settings.kafka_brokers
    assert brokers
    ensure_topics(settings, brokers)
    generated = list(EventGenerator(CONFIG).messages(EVENTS - 10))
    publish_to_kafka(generated + edge_cases(CONFIG.start_ms), brokers, settings.events_topic)
    msgs = [
        Msg(m.key(), m.value(), m.partition(), m.offset(), m.timestamp()[1])
        for m in read_topic(brokers, settings.events_topic)
    ]
    assert len(msgs) == EVENTS
    expected = expected_tables(
        msgs, settings.lateness_seconds * 1000, settings.max_future_seconds * 1000
    )
    return expected, msgs


def stock_table(ch: Client) -> dict[tuple[str, str], tuple[int, int, int, str]]:
    rows = ch.query(
        "SELECT warehouse_id, sku, on_hand, version, toUnixTimestamp64Milli(updated_at), "
        "last_event_id FROM stock_levels FINAL"
    ).result_rows
    return {(r[0], r[1]): (r[2], r[3], r[4], r[5]) for r in rows}


def test_stock_levels_equal_independent_model(settings: Settings, ch: Client) -> None:
    expected, msgs = produce_and_expect(settings)
    # the generated stream really exercises the defences
    assert Counter(expected.dead.values())["late"] > 0
    assert Counter(expected.dead.values())["invalid"] > 0
    assert len(expected.accepted) + len(expected.dead) < len(msgs)  # duplicates dropped

    run_inventory(settings, settings.kafka_brokers or "", exit_at_end=True)

    assert stock_table(ch) == expected.stock
    assert expected.stock[EDGE_KEY][0] == 31
    events = ch.query(
        "SELECT event_id, event_type, quantity, delta, toUnixTimestamp64Milli(occurred_at) "
        "FROM events FINAL"
    ).result_rows
    assert len(events) == len(expected.accepted)
    for event_id, event_type, quantity, delta, occurred_ms in events:
        model = expected.accepted[event_id]
        assert (event_type, quantity, occurred_ms) == (
            model.event_type,
            model.quantity,
            to_ms(model.occurred_at),
        )
        assert delta == {"sale": -quantity, "count": 0}.get(event_type, quantity)

    dead = ch.query(
        "SELECT partition, offset, error, length(payload) FROM dead_letters FINAL"
    ).result_rows
    assert {(p, o) for p, o, _, _ in dead} == set(expected.dead)
    for partition, offset, error, size in dead:
        assert error, "every dead letter has a reason"
        assert size > 0, "the original payload is kept"
        assert error.startswith("late") == (expected.dead[(partition, offset)] == "late")

    dlq = read_topic(settings.kafka_brokers or "", settings.dlq_topic)
    assert sorted(
        (int(dict(m.headers())["source.partition"]), int(dict(m.headers())["source.offset"]))
        for m in dlq
    ) == sorted(expected.dead)


def test_replay_leaves_tables_unchanged(settings: Settings, ch: Client) -> None:
    expected, _ = produce_and_expect(settings)
    run_inventory(settings, settings.kafka_brokers or "", exit_at_end=True)
    first = {
        table: ch.query(f"SELECT * FROM {table} FINAL ORDER BY ALL").result_rows
        for table in ("events", "stock_levels", "dead_letters")
    }
    # a second full pass over the same topic (what a replay from offset 0 does)
    run_inventory(settings, settings.kafka_brokers or "", exit_at_end=True, workers=2)
    for table, rows in first.items():
        assert ch.query(f"SELECT * FROM {table} FINAL ORDER BY ALL").result_rows == rows
    assert stock_table(ch) == expected.stock
