"""The demo's history through the real pipeline: the flow, applying the replay's events,
opens the purchase orders the replay's supplier delivered and ends where the replay
ended; demand-policy SKUs learn reorder points from it (local broker, chDB)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import orjson

from generators.events import EventGenerator, GeneratorConfig
from generators.publish import publish_to_kafka
from inventory.app.demo_history import history_messages
from inventory.app.run import run_inventory
from inventory.clickhouse.catalog import write_catalog
from inventory.kafka.topics import ensure_topics

SEED, SKUS, WAREHOUSES, DAYS = 5, 12, 2, 12
END_MS = 1_795_000_000_000


def test_the_flow_opens_and_receives_the_replays_purchase_orders(settings: Any, ch: Any) -> None:
    catalog = EventGenerator(GeneratorConfig(seed=SEED, skus=SKUS, warehouses=WAREHOUSES)).catalog
    write_catalog(ch, settings.clickhouse_database, catalog.entries(0.5))
    history = history_messages(
        settings, seed=SEED, days=DAYS, end_ms=END_MS, demand_share=0.5,
        skus=SKUS, warehouses=WAREHOUSES,
    )  # fmt: skip
    on_hand: dict[tuple[str, str], int] = defaultdict(int)
    delivered: dict[str, int] = {}
    for message in history:
        event = orjson.loads(message.value)
        key = (event["warehouse_id"], event["sku"])
        sign = {"sale": -1, "restock": 1}.get(event["event_type"], 0)
        if event["event_type"] == "count":
            on_hand[key] = event["quantity"]
        on_hand[key] += sign * event["quantity"]
        if "po_id" in event:
            delivered[event["po_id"]] = event["quantity"]
    assert len(delivered) > 20

    ensure_topics(settings, settings.kafka_brokers)
    publish_to_kafka(history, settings.kafka_brokers, settings.events_topic)
    run_inventory(settings, settings.kafka_brokers, exit_at_end=True)

    stock = {
        (wh, sku): units
        for wh, sku, units in ch.query(
            "SELECT warehouse_id, sku, on_hand FROM stock_levels FINAL"
        ).result_rows
    }
    assert stock == dict(on_hand)  # where the replay ended
    received = dict(
        ch.query(
            "SELECT po_id, received_quantity FROM purchase_orders FINAL WHERE received_quantity > 0"
        ).result_rows
    )
    assert received == delivered  # every delivery against the order the flow opened
    learned = ch.query(
        "SELECT count(), countIf(reorder_point != low_stock_threshold) FROM current_stock "
        "WHERE reorder_basis = 'demand'"
    ).result_rows[0]
    assert learned[0] > 0 and learned[1] > 0, learned
