"""Availability API on real pipeline output: local broker -> flow -> chDB -> HTTP."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from clickhouse_connect.driver.client import Client

from generators.events import EventGenerator, GeneratorConfig, Message
from generators.publish import publish_to_kafka
from inventory.app.run import run_inventory
from inventory.availability.api import create_app
from inventory.availability.server import BackgroundServer
from inventory.availability.store import AvailabilityStore, ClickHouseStockReader, StockRow
from inventory.clickhouse.catalog import CatalogEntry, write_catalog
from inventory.clickhouse.client import connect
from inventory.clickhouse.migrations import apply_migrations
from inventory.core.settings import Settings
from inventory.core.times import format_ms
from inventory.kafka.topics import ensure_topics
from tests.support.fakes import FakeReader
from tests.support.http import get_json

CONFIG = GeneratorConfig(seed=11, skus=30, warehouses=3, rate=100.0, malformed_share=0.01)
FEW_LEFT = 5


def event(event_id: str, kind: str, qty: int, sku: str, warehouse: str, at_ms: int) -> Message:
    body = {
        "event_id": event_id,
        "event_type": kind,
        "sku": sku,
        "warehouse_id": warehouse,
        "quantity": qty,
        "occurred_at": format_ms(at_ms),
    }
    return Message(f"{warehouse}:{sku}".encode(), orjson.dumps(body))


def hand_made(start_ms: int) -> list[Message]:
    """SKU-LOW: 2 + 1 left over two warehouses, one oversold; SKU-GONE: sold out."""
    return [
        event("h1", "restock", 4, "SKU-LOW", "WH-A", start_ms),
        event("h2", "sale", 2, "SKU-LOW", "WH-A", start_ms + 1000),
        event("h3", "count", 1, "SKU-LOW", "WH-B", start_ms + 2000),
        event("h4", "sale", 3, "SKU-LOW", "WH-C", start_ms + 3000),  # -3: shows as 0
        event("h5", "restock", 5, "SKU-GONE", "WH-A", start_ms),
        event("h6", "sale", 5, "SKU-GONE", "WH-A", start_ms + 1000),
    ]


def get(base: str, path: str) -> tuple[int, Any]:
    return get_json(base + path)


@pytest.fixture(scope="module")
def pipeline(broker: str, chdb_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """One pipeline run shared by the module's tests (they only read, or add a SKU)."""
    settings = Settings(
        _env_file=None,
        kafka_brokers=broker,  # type: ignore[call-arg]
        clickhouse_url=f"chdb://{chdb_dir}",
        clickhouse_database="t_availability",
        events_topic="availability-events",
        alerts_topic="availability-alerts",
        dlq_topic="availability-dlq",
        data_dir=tmp_path_factory.mktemp("availability"),
        epoch_seconds=0.5,
    )
    client = connect(settings)
    apply_migrations(client, settings.clickhouse_database)
    generator = EventGenerator(CONFIG)
    write_catalog(client, settings.clickhouse_database, generator.catalog.entries())
    client.close()
    ensure_topics(settings, broker)
    messages = [*generator.messages(1500), *hand_made(CONFIG.start_ms)]
    publish_to_kafka(messages, broker, settings.events_topic)
    run_inventory(settings, broker, exit_at_end=True)
    return settings


@pytest.fixture
def ch(pipeline: Settings) -> Iterator[Client]:
    client = connect(pipeline, database=pipeline.clickhouse_database)
    yield client
    client.close()


@pytest.fixture(scope="module")
def api(pipeline: Settings) -> Iterator[tuple[str, AvailabilityStore]]:
    store = AvailabilityStore(ClickHouseStockReader(pipeline), 60.0)
    store.refresh()
    server = BackgroundServer(create_app(store, few_left=FEW_LEFT), "127.0.0.1", 0).start()
    try:
        yield server.url, store
    finally:
        server.stop()


def test_every_sku_matches_stock_levels(api: tuple[str, AvailabilityStore], ch: Client) -> None:
    base, store = api
    expected: dict[str, dict[str, int]] = {}
    on_order: dict[str, dict[str, tuple[int, str | None]]] = {}
    for sku, warehouse, on_hand, units, next_expected in ch.query(
        "SELECT sku, warehouse_id, on_hand, on_order, next_expected_at FROM stock_levels FINAL"
    ).result_rows:
        expected.setdefault(sku, {})[warehouse] = on_hand
        when = None if next_expected is None else format_ms(int(next_expected.timestamp() * 1000))
        on_order.setdefault(sku, {})[warehouse] = (units, when)
    assert len(expected) > 20
    skus = sorted(expected)
    status, body = get(base, "/v1/availability?" + "&".join(f"sku={s}" for s in skus))
    assert status == 200
    assert body["not_found"] == []
    for item in body["items"]:
        per_warehouse = expected[item["sku"]]
        total = sum(max(q, 0) for q in per_warehouse.values())
        assert item["available"] == total
        assert {w["warehouse_id"]: w["on_hand"] for w in item["warehouses"]} == per_warehouse
        incoming = on_order[item["sku"]]
        assert {
            w["warehouse_id"]: (w["on_order"], w["next_expected_at"]) for w in item["warehouses"]
        } == incoming
        assert item["incoming"] == sum(units for units, _ in incoming.values())
        dates = [when for units, when in incoming.values() if units > 0 and when]
        if item["status"] != "in_stock" and item["incoming"] > 0:
            assert item["expected_back_at"] == min(dates) and item["restock_message"]
        else:
            assert item["expected_back_at"] is item["restock_message"] is None
        if total <= 0:
            assert item["message"] == "Out of stock"
        elif total <= FEW_LEFT:
            assert item["message"] == f"Only {total} left in stock"
        else:
            assert item["message"] == "In stock"
    snapshot = store.snapshot
    assert snapshot is not None
    assert all(item["as_of"] for item in body["items"])


def test_display_rules_on_hand_made_stock(api: tuple[str, AvailabilityStore]) -> None:
    base, _ = api
    status, low = get(base, "/v1/availability/SKU-LOW")
    assert status == 200
    assert (low["available"], low["status"], low["message"]) == (3, "low", "Only 3 left in stock")
    assert [(w["warehouse_id"], w["on_hand"], w["available"]) for w in low["warehouses"]] == [
        ("WH-A", 2, 2),
        ("WH-B", 1, 1),
        ("WH-C", -3, 0),
    ]
    updated = datetime.fromisoformat(low["updated_at"])
    assert updated == datetime.fromtimestamp((CONFIG.start_ms + 3000) / 1000, tz=UTC)
    assert low["age_seconds"] >= 0
    _, one = get(base, "/v1/availability/SKU-LOW?warehouse=WH-B")
    assert (one["available"], one["message"]) == (1, "Only 1 left in stock")
    _, gone = get(base, "/v1/availability/SKU-GONE")
    assert (gone["available"], gone["status"], gone["message"]) == (
        0,
        "out_of_stock",
        "Out of stock",
    )


def test_sold_out_sku_shows_its_open_purchase_order(
    api: tuple[str, AvailabilityStore], ch: Client
) -> None:
    """SKU-GONE sold out at WH-A: the flow's request opened a purchase order (catalog
    defaults: target 50, lead time); the API promises what the order promises."""
    base, _ = api
    [(remaining, expected_at)] = ch.query(
        "SELECT remaining, expected_at FROM purchase_orders FINAL "
        "WHERE sku = 'SKU-GONE' AND status = 'open'"
    ).result_rows
    _, gone = get(base, "/v1/availability/SKU-GONE")
    expected = format_ms(int(expected_at.timestamp() * 1000))
    assert (gone["incoming"], gone["expected_back_at"]) == (remaining, expected) and remaining > 0
    day = datetime.fromisoformat(expected)
    late = day < datetime.now(UTC)
    assert gone["restock_message"] == (
        "Back in stock soon" if late else f"Back in stock by {day:%a} {day.day} {day:%b}"
    )


def test_catalog_sku_without_stock_is_out_of_stock_and_unknown_is_404(
    api: tuple[str, AvailabilityStore], ch: Client, pipeline: Settings
) -> None:
    base, store = api
    entry = CatalogEntry("SKU-NEW", "New thing", None, 10, 50)
    write_catalog(ch, pipeline.clickhouse_database, [entry])
    store.refresh(full=True)  # catalog names are read by full reads
    status, body = get(base, "/v1/availability/SKU-NEW")
    assert status == 200
    assert (body["name"], body["message"], body["warehouses"]) == ("New thing", "Out of stock", [])
    status, body = get(base, "/v1/availability/SKU-NOPE")
    assert (status, body) == (404, {"detail": "unknown sku: SKU-NOPE"})
    status, body = get(base, "/v1/availability?sku=SKU-NOPE&sku=SKU-LOW&sku=SKU-LOW")
    assert status == 200
    assert [i["sku"] for i in body["items"]] == ["SKU-LOW"]
    assert body["not_found"] == ["SKU-NOPE"]


@pytest.mark.parametrize(
    "path",
    [
        "/v1/availability/bad%20sku",
        "/v1/availability/" + "x" * 65,
        "/v1/availability/SKU-LOW?warehouse=WH%3BDROP",
        "/v1/availability",
        "/v1/availability?sku=",
        "/v1/availability?" + "&".join(f"sku=S{i}" for i in range(101)),
        "/v1/products?limit=0",
        "/v1/products?pick=everything",
    ],
)
def test_malformed_requests_get_422_without_internals(
    api: tuple[str, AvailabilityStore], path: str
) -> None:
    status, body = get(api[0], path)
    assert status == 422
    assert isinstance(body["detail"], list)
    assert "Traceback" not in json.dumps(body)


def test_showcase_grid_shows_scarce_then_sold_out_then_in_stock(
    api: tuple[str, AvailabilityStore],
) -> None:
    status, body = get(api[0], "/v1/products?limit=12&pick=showcase")
    assert status == 200
    skus = [item["sku"] for item in body["items"]]
    assert {"SKU-LOW", "SKU-GONE"} <= set(skus) and len(skus) == 12
    _, found = get(api[0], "/v1/availability?" + "&".join(f"sku={s}" for s in skus))
    statuses = [item["status"] for item in found["items"]]
    order = ["low", "out_of_stock", "in_stock"]
    assert statuses == sorted(statuses, key=order.index)  # grouped, scarce first
    assert len(set(statuses)) == 3
    _, first = get(api[0], "/v1/products?limit=12")  # the default stays the first N
    assert [i["sku"] for i in first["items"]] == sorted(i["sku"] for i in first["items"])
    # the storefront's ?skus= cards: those SKUs, in the order asked, with names and prices
    asked = [first["items"][3]["sku"], "NO-SUCH-SKU", first["items"][0]["sku"]]
    status, chosen = get(api[0], "/v1/products?" + "&".join(f"sku={s}" for s in asked))
    assert status == 200
    assert chosen["items"] == [first["items"][3], first["items"][0]]


def test_openapi_schema_documents_the_endpoints(api: tuple[str, AvailabilityStore]) -> None:
    status, schema = get(api[0], "/openapi.json")
    assert status == 200
    paths = schema["paths"]
    assert {"/v1/availability/{sku}", "/v1/availability", "/v1/products", "/healthz"} <= set(paths)
    one = paths["/v1/availability/{sku}"]["get"]
    assert {"200", "404", "422", "503"} <= set(one["responses"])
    assert "Availability" in schema["components"]["schemas"]


def test_not_loaded_is_503_and_failures_are_500_without_stack_traces() -> None:
    reader = FakeReader([])
    reader.fail = True
    store = AvailabilityStore(reader, 60.0)
    server = BackgroundServer(create_app(store, few_left=5), "127.0.0.1", 0).start()
    try:
        status, body = get(server.url, "/v1/availability/SKU-1")
        assert (status, body) == (503, {"detail": "stock not loaded yet, retry shortly"})
        store._snapshot = "not a snapshot"  # type: ignore[assignment]  # force a bug
        status, body = get(server.url, "/v1/availability/SKU-1")
        assert (status, body) == (500, {"detail": "internal error"})
    finally:
        server.stop()


def test_incremental_reads_follow_the_pipeline_and_ignore_replayed_rows(
    pipeline: Settings, ch: Client
) -> None:
    store = AvailabilityStore(ClickHouseStockReader(pipeline), 60.0, full_every=3600)
    store.refresh()
    broker = pipeline.kafka_brokers or ""
    later = CONFIG.start_ms + 60_000
    publish_to_kafka(
        [
            event("i1", "sale", 1, "SKU-LOW", "WH-A", later),  # WH-A 2 -> 1
            event("i2", "restock", 7, "SKU-INC", "WH-B", later),  # a new SKU
        ],
        broker,
        pipeline.events_topic,
    )
    run_inventory(pipeline, broker, exit_at_end=True)  # resumes from its snapshot
    # a replayed, older row of SKU-LOW/WH-A (lower version) arriving after the new one
    ch.command(
        "INSERT INTO stock_levels (warehouse_id, sku, on_hand, version, updated_at, "
        "last_event_id) VALUES ('WH-A', 'SKU-LOW', 4, 1, 0, 'h1')"
    )
    snapshot = store.refresh()  # incremental: rows written since the last read
    expected = {
        (sku, wh): q
        for sku, wh, q in ch.query(
            "SELECT sku, warehouse_id, on_hand FROM stock_levels FINAL"
        ).result_rows
    }
    held = {(sku, w.warehouse_id): w.on_hand for sku, ws in snapshot.stock.items() for w in ws}
    assert held == expected
    assert held[("SKU-LOW", "WH-A")] == 1
    assert held[("SKU-INC", "WH-B")] == 7


def test_cors_for_configured_origins_and_one_second_caching() -> None:
    reader = FakeReader([StockRow("A", "W1", 2, 1, 1, 1)])
    store = AvailabilityStore(reader, 60.0)
    store.refresh()
    app = create_app(store, few_left=5, cors_origins=["https://shop.example"])
    server = BackgroundServer(app, "127.0.0.1", 0).start()

    def headers(origin: str) -> Any:
        request = urllib.request.Request(
            server.url + "/v1/availability/A", headers={"Origin": origin}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.headers

    try:
        allowed = headers("https://shop.example")
        assert allowed["Access-Control-Allow-Origin"] == "https://shop.example"
        assert allowed["Cache-Control"] == "public, max-age=1"
        assert "Access-Control-Allow-Origin" not in headers("https://evil.example")
    finally:
        server.stop()
