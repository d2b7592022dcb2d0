"""Backorders and preorders through the cart endpoints (contract v10; docs/semantics.md,
"Backorders and preorders"): the flow's own key books decide (as in
test_cart_and_stream), the API answers with the decision and the promise line, and the
availability document tells the shopper what to expect."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from dataflows.per_key.state_codec import KeyState
from inventory.availability.api import CartOptions, create_app
from inventory.availability.promises import offer_of
from inventory.availability.server import BackgroundServer
from inventory.availability.store import Promise, StockSnapshot, WarehouseStock
from inventory.core.records import ProductPolicy, PurchaseOrder
from inventory.core.times import to_ms
from tests.support.http import get_json, post_json
from tests.unit.test_cart_and_stream import AUTH, NOW, TOKEN, FakeSource, ListWriter

THU = to_ms(datetime(2026, 12, 10, 9, tzinfo=UTC))  # NOW is Tue 8 Dec 2026, 12:00 UTC
FRI = to_ms(datetime(2026, 12, 11, tzinfo=UTC))
ORDER = PurchaseOrder("po-1", "W1", "B", "open", 5, THU - 72 * 3_600_000, THU, -1, 0, "", "", 0)
POLICIES = {
    "B": ProductPolicy(0, 1, oversell="backorder"),
    "P": ProductPolicy(0, 1, oversell="preorder", oversell_limit=2, release_ms=FRI),
}


@pytest.fixture
def served() -> Iterator[tuple[str, FakeSource, ListWriter]]:
    """W1 holds 1 unit of backorder SKU B (5 more on order, expected Thu 10 Dec) and 0 of
    preorder SKU P (limit 2, released Fri 11 Dec)."""
    states = {b"W1:B": KeyState(orders=(ORDER,))}
    writer = ListWriter({"W1:B": 1, "W1:P": 0}, POLICIES, states)
    stock = {
        "B": (WarehouseStock("W1", 1, 1_000, on_order=5, next_expected_ms=THU, version=1),),
        "P": (WarehouseStock("W1", 0, 1_000, version=1),),
    }
    promises = {"B": Promise("backorder", 0, -1), "P": Promise("preorder", 2, FRI)}
    snapshot = StockSnapshot(int(NOW * 1000), stock, {"B": "Boots", "P": "Phone"}, {}, promises)
    source = FakeSource(snapshot)
    options = CartOptions(writer, TOKEN, 60, 600, decisions=writer.decisions, wait_seconds=0.2)
    app = create_app(source, few_left=5, clock=lambda: NOW, cart=options)
    server = BackgroundServer(app, "127.0.0.1", 0).start()
    try:
        yield server.url, source, writer
    finally:
        server.stop()


def test_a_backorder_sku_holds_up_to_its_units_on_order_with_their_date(
    served: tuple[str, FakeSource, ListWriter],
) -> None:
    url, _, _ = served
    status, doc = get_json(f"{url}/v1/availability/B")
    assert status == 200 and doc["message"] == "Only 1 left in stock"
    assert (doc["oversell_policy"], doc["backorderable"]) == ("backorder", 5)
    assert doc["ships_by"] == "2026-12-10T09:00:00.000Z" and doc["promise_message"] is None
    status, first, _ = post_json(f"{url}/v1/holds", {"sku": "B", "quantity": 3}, AUTH)
    assert status == 201, first
    assert (first["backordered"], first["ships_at"]) == (2, "2026-12-10T09:00:00.000Z")
    assert first["promise_message"] == "Backorder: 2 ship by Thu 10 Dec"
    assert first["available"] == -2  # the flow's: on-hand 1 - held 3
    status, refused, _ = post_json(f"{url}/v1/holds", {"sku": "B", "quantity": 4}, AUTH)
    assert status == 409 and refused["reason"] == "insufficient", refused  # 2 + 4 > 5
    status, second, _ = post_json(f"{url}/v1/holds", {"sku": "B", "quantity": 3}, AUTH)
    assert status == 201 and second["backordered"] == 3, second  # 5 promised: all on order
    status, bought, _ = post_json(f"{url}/v1/holds/{first['reservation_id']}/checkout", None, AUTH)
    assert status == 200 and bought["decision"] == "checked_out", bought
    status, shown = get_json(f"{url}/v1/holds/{second['reservation_id']}", AUTH)
    assert status == 200 and shown["promise_message"] == "Backorder: 3 ship by Thu 10 Dec"


def test_a_preorder_sku_holds_up_to_its_limit_before_the_release(
    served: tuple[str, FakeSource, ListWriter],
) -> None:
    url, _, _ = served
    status, doc = get_json(f"{url}/v1/availability/P")
    assert status == 200 and doc["status"] == "out_of_stock"
    assert doc["promise_message"] == "Pre-order: ships Fri 11 Dec"
    assert (doc["backorderable"], doc["ships_by"]) == (2, "2026-12-11T00:00:00.000Z")
    status, held, _ = post_json(f"{url}/v1/holds", {"sku": "P", "quantity": 2}, AUTH)
    assert status == 201 and held["promise_message"] == "Pre-order: ships Fri 11 Dec", held
    status, refused, _ = post_json(f"{url}/v1/holds", {"sku": "P", "quantity": 1}, AUTH)
    assert status == 409 and refused["reason"] == "insufficient", refused


def test_the_offer_follows_the_room_left() -> None:
    """rules of inventory/availability/promises.py, per warehouse and summed."""
    now = int(NOW * 1000)
    backorder = Promise("backorder", 3, -1)
    rows = (
        WarehouseStock("W1", 0, 0, reserved=2, on_order=4, next_expected_ms=THU),
        WarehouseStock("W2", 0, 0, on_order=10, next_expected_ms=FRI),
    )
    offer = offer_of(backorder, rows, 0, now)  # W1: min(4, 3) - 2 = 1; W2: min(10, 3) = 3
    assert (offer.units, offer.ships_ms) == (4, THU)
    assert offer.message == "Backorder: ships by Thu 10 Dec"
    assert offer_of(backorder, rows, 1, now).message is None  # something is available
    assert offer_of(backorder, rows, 0, THU + 1).message == "Backorder: ships soon"
    unlimited = offer_of(Promise("preorder", 0, FRI), rows, 0, now)
    assert (unlimited.units, unlimited.message) == (None, "Pre-order: ships Fri 11 Dec")
    released = offer_of(Promise("preorder", 0, FRI), rows, 0, FRI)
    assert (released.units, released.ships_ms, released.message) == (0, -1, None)
    assert offer_of(None, rows, 0, now).policy == "deny"
