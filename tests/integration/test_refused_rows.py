"""Defence in depth: rows ClickHouse refuses for their values are dead-lettered with the
database's reason and everything else flows on; a failure that is not about the data
still stops the sink at once."""

from __future__ import annotations

import time

import orjson
import pytest
from clickhouse_connect.driver.client import Client

from inventory.app.run import run_inventory
from inventory.clickhouse.client import connect
from inventory.core.records import StockLevel
from inventory.core.settings import Settings
from inventory.core.times import format_ms
from inventory.kafka.producer import CheckedProducer
from inventory.kafka.topics import ensure_topics
from sinks.clickhouse import ClickHouseSink
from tests.support.kafka import read_topic


def publish(settings: Settings, events: list[dict[str, object]]) -> None:
    brokers = settings.kafka_brokers or ""
    ensure_topics(settings, brokers)
    producer = CheckedProducer(brokers, 30.0)
    for e in events:
        producer.produce(settings.events_topic, orjson.dumps(e), f"{e['warehouse_id']}:x".encode())
    producer.flush_or_raise()


def test_refused_rows_are_dead_lettered_and_the_rest_flows(settings: Settings, ch: Client) -> None:
    # Real refusals by the database: constraints that reject one event row and the stock
    # rows of one SKU (VIOLATED_CONSTRAINT, a data error).
    ch.command("ALTER TABLE events ADD CONSTRAINT no_poison CHECK event_id != 'poison'")
    ch.command("ALTER TABLE stock_levels ADD CONSTRAINT no_bad CHECK sku != 'BAD'")
    now = int(time.time() * 1000)
    events = [
        {
            "event_id": f"e{i}",
            "event_type": "restock",
            "sku": "BAD" if i == 7 else "OK",
            "warehouse_id": "W",
            "quantity": 1,
            "occurred_at": format_ms(now - 60_000 + i),
        }
        for i in range(40)
    ]
    events[20]["event_id"] = "poison"
    publish(settings, events)

    run_inventory(settings, settings.kafka_brokers or "", exit_at_end=True)  # no stall

    assert ch.query("SELECT count() FROM events FINAL").result_rows == [(39,)]
    assert ch.query("SELECT sku, on_hand FROM stock_levels FINAL").result_rows == [("OK", 39)]
    dead = ch.query(
        "SELECT topic, offset, error, payload FROM dead_letters FINAL ORDER BY topic"
    ).result_rows
    assert len(dead) == 2
    (stock_topic, _, stock_error, stock_row), (events_topic, offset, error, payload) = dead
    assert stock_topic == "clickhouse:stock_levels"
    assert "rejected by ClickHouse table stock_levels" in stock_error
    assert "VIOLATED_CONSTRAINT" in stock_error
    assert orjson.loads(stock_row)["sku"] == "BAD"
    assert events_topic == settings.events_topic and offset == 20
    assert error.startswith("rejected by ClickHouse table events: ") and "no_poison" in error
    assert orjson.loads(payload)["event_id"] == "poison"
    published = read_topic(settings.kafka_brokers or "", settings.dlq_topic)
    assert sorted(m.value() for m in published) == sorted([stock_row.encode(), payload.encode()])

    # a replay writes the same letters again: they collapse
    run_inventory(settings, settings.kafka_brokers or "", exit_at_end=True, recovery=False)
    assert ch.query("SELECT count() FROM dead_letters FINAL").result_rows == [(2,)]


def test_an_error_that_is_not_about_the_data_still_raises(
    make_settings,
    ch,  # type: ignore[no-untyped-def]
) -> None:
    settings = make_settings()
    ch.command("RENAME TABLE stock_levels TO stock_levels_gone")  # UNKNOWN_TABLE: permanent
    part = ClickHouseSink(settings, client_factory=connect).build("o", 0, 1)
    with pytest.raises(Exception, match="UNKNOWN_TABLE"):
        part.write_batch([StockLevel("W", "S", 1, 1, 1_795_000_000_000, "e")])
    part.close()
