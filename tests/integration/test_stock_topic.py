"""The stock changelog end to end on the local broker and chDB: what the API follows
equals ``stock_levels FINAL``; older or repeated states change nothing; a shopper's hold
through the API goes through the flow and comes back; a refused one produces nothing."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from msgspec.structs import replace

from generators.events import EventGenerator, GeneratorConfig
from generators.publish import publish_to_kafka
from inventory.app.run import run_inventory
from inventory.availability.api import CartOptions, create_app
from inventory.availability.cart_writer import TopicWriter
from inventory.availability.follower import StockFollower
from inventory.availability.server import BackgroundServer
from inventory.clickhouse.catalog import write_catalog
from inventory.core.records import StockLevel
from inventory.core.stock_changes import encode_stock
from inventory.kafka.producer import CheckedProducer
from inventory.kafka.topics import ensure_topics
from inventory.runtime.metrics import API_STALE_CHANGES
from tests.support.http import get_json, post_json
from tests.support.kafka import read_topic

# no cart holds of its own: the test's hold is then the only one
CONFIG = GeneratorConfig(seed=21, skus=15, warehouses=2, rate=50.0, duplicate_share=0.05,
                         late_share=0.05)  # fmt: skip
TOKEN = "topic-token"


def wait_until(check: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def final_stock(ch: Any) -> dict[tuple[str, str], tuple[int, int, int, int]]:
    rows = ch.query(
        "SELECT sku, warehouse_id, on_hand, reserved, on_order, toString(version) "
        "FROM stock_levels FINAL"
    ).result_rows
    return {(s, w): (h, r, o, int(v)) for s, w, h, r, o, v in rows}


def followed(follower: StockFollower) -> dict[tuple[str, str], tuple[int, int, int, int]]:
    snapshot = follower.snapshot
    assert snapshot is not None
    return {
        (sku, w.warehouse_id): (w.on_hand, w.reserved, w.on_order, w.version)
        for sku, rows in snapshot.stock.items()
        for w in rows
    }


@pytest.fixture
def pipeline(settings: Any, ch: Any) -> Iterator[tuple[Any, StockFollower]]:
    generator = EventGenerator(CONFIG)
    write_catalog(ch, settings.clickhouse_database, generator.catalog.entries())
    ensure_topics(settings, settings.kafka_brokers)
    publish_to_kafka(generator.messages(3000), settings.kafka_brokers, settings.events_topic)
    run_inventory(settings, settings.kafka_brokers, exit_at_end=True)
    follower = StockFollower(settings, settings.kafka_brokers)
    follower.start()
    try:
        assert follower.wait_ready(60)
        yield settings, follower
    finally:
        follower.stop()


def test_the_followed_stock_is_stock_levels_final_and_replays_change_nothing(
    pipeline: tuple[Any, StockFollower], ch: Any
) -> None:
    settings, follower = pipeline
    expected = final_stock(ch)
    assert len(expected) == 30
    wait_until(lambda: followed(follower) == expected)
    snapshot = follower.snapshot
    assert snapshot is not None
    names = dict(ch.query("SELECT sku, name FROM products FINAL").result_rows)
    assert dict(snapshot.names) == names and len(snapshot.prices) == 15

    # older states published again (a replay after a crash): nothing goes back
    stale_before = API_STALE_CHANGES._value.get()
    producer = CheckedProducer(settings.kafka_brokers, 10)
    (sku, warehouse), (on_hand, _, _, version) = sorted(expected.items())[0]
    older = StockLevel(warehouse, sku, on_hand + 100, version - 1, 0, "replayed")
    same = replace(older, version=version)
    for level in (older, same):
        key, value = encode_stock(level)
        producer.produce(settings.stock_topic, value, key)
    producer.flush_or_raise()
    wait_until(lambda: API_STALE_CHANGES._value.get() >= stale_before + 2)
    assert followed(follower) == expected


def test_a_hold_through_the_api_comes_back_through_the_flow(
    pipeline: tuple[Any, StockFollower], ch: Any
) -> None:
    settings, follower = pipeline
    app = create_app(
        follower,
        few_left=5,
        cart=CartOptions(TopicWriter(settings, settings.kafka_brokers), TOKEN),
    )
    server = BackgroundServer(app, "127.0.0.1", 0).start()
    try:
        before = len(read_topic(settings.kafka_brokers, settings.events_topic))
        auth = {"Authorization": f"Bearer {TOKEN}"}
        refused = post_json(f"{server.url}/v1/holds", {"sku": "NO-SUCH"}, auth)
        assert refused[0] == 404
        assert post_json(f"{server.url}/v1/holds", {"sku": "SKU-00001"}, {})[0] == 401
        assert len(read_topic(settings.kafka_brokers, settings.events_topic)) == before

        _, doc = get_json(f"{server.url}/v1/availability/SKU-00001")
        status, hold, _ = post_json(f"{server.url}/v1/holds", {"sku": "SKU-00001"}, auth)
        assert status == 202, hold
        assert len(read_topic(settings.kafka_brokers, settings.events_topic)) == before + 1
        run_inventory(settings, settings.kafka_brokers, exit_at_end=True)

        def held() -> bool:
            _, now = get_json(f"{server.url}/v1/availability/SKU-00001")
            return bool(now["available"] == doc["available"] - 1)

        wait_until(held)
        assert followed(follower) == final_stock(ch)
    finally:
        server.stop()
