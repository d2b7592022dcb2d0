"""The generated stream of the pipeline tests (with a hand-written key hitting every stock
rule) and its model."""

from __future__ import annotations

from dataclasses import replace

import orjson
from clickhouse_connect.driver.client import Client

from generators.events import EventGenerator, GeneratorConfig, Message
from generators.publish import publish_to_kafka
from inventory.clickhouse.catalog import CatalogEntry, write_catalog
from inventory.core.settings import Settings
from inventory.core.times import format_ms
from inventory.kafka.topics import ensure_topics
from tests.support.kafka import read_topic
from tests.support.model import Expected, Msg, expected_for

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
# the same with carts asking the flow (v9): decided alike on 1 worker or 2, and replayed;
# a third of its SKUs backorder (v10)
WITH_HOLDS = replace(CONFIG, hold_share=0.1, decided_holds=True)
BACKORDER_SHARE = 1 / 3


def catalog_of(config: GeneratorConfig) -> list[CatalogEntry]:
    """The catalog the tests write for ``config``: with decided holds, backorder SKUs."""
    share = BACKORDER_SHARE if config.decided_holds else 0.0
    return EventGenerator(config).catalog.entries(backorder_share=share)


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


def produce_and_expect(
    settings: Settings, ch: Client, config: GeneratorConfig = CONFIG
) -> tuple[Expected, list[Msg]]:
    """Write the catalog, produce the stream (of ``config``), and model the tables from
    what was read back."""
    brokers = settings.kafka_brokers
    assert brokers
    ensure_topics(settings, brokers)
    generator = EventGenerator(config)
    catalog = catalog_of(config)
    write_catalog(ch, settings.clickhouse_database, catalog)
    generated = list(generator.messages(EVENTS - 10))
    publish_to_kafka(generated + edge_cases(config.start_ms), brokers, settings.events_topic)
    msgs = [
        Msg(m.key(), m.value(), m.partition(), m.offset(), m.timestamp()[1])
        for m in read_topic(brokers, settings.events_topic)
    ]
    assert len(msgs) == EVENTS
    expected = expected_for(settings, msgs, catalog)
    return expected, msgs
