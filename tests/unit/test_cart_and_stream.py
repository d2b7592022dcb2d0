"""The cart endpoints and the event stream over a fake stock source (real HTTP server, no
broker): what each refusal answers and that nothing is written for it; the stream's
first documents and a change pushed."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import orjson
import pytest

from inventory.availability.api import CartOptions, create_app
from inventory.availability.cart import RateLimiter
from inventory.availability.server import BackgroundServer
from inventory.availability.store import StockSnapshot, WarehouseStock
from tests.support.http import get_json, post_json, post_raw, read_events

TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
NOW = 1_796_731_200.0


@dataclass
class FakeSource:
    snapshot: StockSnapshot | None

    def start(self) -> None: ...

    def stop(self) -> None: ...


class ListWriter:
    def __init__(self) -> None:
        self.events: list[tuple[bytes, dict[str, object]]] = []

    def write(self, key: bytes, value: bytes) -> None:
        self.events.append((key, orjson.loads(value)))


def snapshot(on_hand: dict[str, int]) -> StockSnapshot:
    stock = {
        "S": tuple(
            WarehouseStock(wh, units, 1_000, version=n + 1)
            for n, (wh, units) in enumerate(sorted(on_hand.items()))
        )
    }
    return StockSnapshot(int(NOW * 1000), stock, {"S": "Shirt", "T": "Tie"}, {"S": 9.5})


@pytest.fixture
def served() -> Iterator[tuple[str, FakeSource, ListWriter]]:
    source = FakeSource(snapshot({"W1": 3, "W2": 7}))
    writer = ListWriter()
    app = create_app(
        source,
        few_left=5,
        clock=lambda: NOW,
        cart=CartOptions(writer, TOKEN, per_minute=8, hold_seconds=600),
    )
    server = BackgroundServer(app, "127.0.0.1", 0).start()
    try:
        yield server.url, source, writer
    finally:
        server.stop()


def test_a_hold_is_a_reserve_in_the_warehouse_with_the_most(
    served: tuple[str, FakeSource, ListWriter],
) -> None:
    url, _, writer = served
    status, body, _ = post_json(f"{url}/v1/holds", {"sku": "S", "quantity": 2}, AUTH)
    assert status == 202, body
    assert body["warehouse_id"] == "W2" and body["expires_at"] == "2026-12-08T12:10:00.000Z"
    [(key, event)] = writer.events
    assert key == b"W2:S"
    assert event["event_type"] == "reserve" and event["quantity"] == 2
    assert event["reservation_id"] == body["reservation_id"]
    line = {"sku": "S", "warehouse_id": "W2", "quantity": 2}
    rid = body["reservation_id"]
    assert post_json(f"{url}/v1/holds/{rid}/checkout", line, AUTH)[0] == 202
    assert post_json(f"{url}/v1/holds/{rid}/release", line, AUTH)[0] == 202
    kinds = [(e["event_type"], e.get("reservation_id")) for _, e in writer.events]
    assert kinds == [("reserve", rid), ("sale", rid), ("release", rid)]
    assert get_json(f"{url}/v1/cart") == (200, {"enabled": True, "hold_seconds": 600.0})


@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [
        ({"sku": "S"}, {}, 401),  # no token
        ({"sku": "S"}, {"Authorization": "Bearer wrong"}, 401),
        ({"sku": "S"}, {"Authorization": TOKEN}, 401),  # not a bearer
        ({"sku": "NOPE"}, AUTH, 404),
        ({"sku": "S", "quantity": 8}, AUTH, 409),  # 7 at most in one warehouse
        ({"sku": "S", "warehouse_id": "W1", "quantity": 4}, AUTH, 409),
        ({"sku": "S; DROP"}, AUTH, 422),
        ({"sku": "S", "quantity": 0}, AUTH, 422),
        ({"sku": "S", "quantity": "2"}, AUTH, 422),
        ({}, AUTH, 422),
    ],
)
def test_refused_holds_write_nothing(
    served: tuple[str, FakeSource, ListWriter],
    body: dict[str, object],
    headers: dict[str, str],
    status: int,
) -> None:
    url, _, writer = served
    got, answer, _ = post_json(f"{url}/v1/holds", body, headers)
    assert got == status, answer
    assert "Traceback" not in str(answer)
    assert writer.events == []


def test_a_checkout_outside_the_contract_writes_nothing(
    served: tuple[str, FakeSource, ListWriter],
) -> None:
    url, _, writer = served
    line = {"sku": "S", "warehouse_id": "W1", "quantity": 1}
    assert post_json(f"{url}/v1/holds/{'r' * 129}/checkout", line, AUTH)[0] == 422
    assert post_json(f"{url}/v1/holds/r1/checkout", {**line, "quantity": -1}, AUTH)[0] == 422
    assert post_json(f"{url}/v1/holds/r1/checkout", {**line, "sku": "NOPE"}, AUTH)[0] == 404
    assert post_json(f"{url}/v1/holds/r1/release", {**line, "sku": "NOPE"}, AUTH)[0] == 404
    assert writer.events == []
    # the contract allows reservation ids of up to 128 characters of any valid Unicode
    assert post_json(f"{url}/v1/holds/{'r' * 128}/checkout", line, AUTH)[0] == 202
    assert post_json(f"{url}/v1/holds/bad%20id!/release", line, AUTH)[0] == 202
    assert [e["reservation_id"] for _, e in writer.events] == ["r" * 128, "bad id!"]


def test_a_body_outside_the_contract_is_422_and_a_large_one_413(
    served: tuple[str, FakeSource, ListWriter],
) -> None:
    url, _, writer = served
    for raw in (b'{"sku": "S\xff"}', b"[" * 5_000 + b"]" * 5_000):  # not UTF-8; too deep
        assert post_raw(f"{url}/v1/holds", raw, AUTH)[0] == 422
    for raw in (b'{"sku": "' + b"S" * 40_000 + b'"}', b"[" * 100_000 + b"]" * 100_000):
        assert post_raw(f"{url}/v1/holds", raw, AUTH)[0] == 413  # over 16 KiB
    status, answer = post_raw(f"{url}/v1/holds", b'{"sku": "' + b"S" * 10_000 + b'"}', AUTH)
    assert status == 422 and len(orjson.dumps(answer)) < 1_000  # the input is not echoed
    assert writer.events == []


def test_too_many_requests_from_one_client_get_429(
    served: tuple[str, FakeSource, ListWriter],
) -> None:
    url, _, writer = served
    answers = [post_json(f"{url}/v1/holds", {"sku": "NOPE"}, AUTH) for _ in range(10)]
    statuses = [status for status, _, _ in answers]
    assert statuses[:8] == [404] * 8 and statuses[8:] == [429, 429]
    assert int(answers[-1][2]["retry-after"]) >= 1
    assert writer.events == []


def test_cart_writes_are_off_without_a_token() -> None:
    source = FakeSource(snapshot({"W1": 3}))
    server = BackgroundServer(create_app(source, few_left=5), "127.0.0.1", 0).start()
    try:
        assert post_json(f"{server.url}/v1/holds", {"sku": "S"}, AUTH)[0] == 403
        assert get_json(f"{server.url}/v1/cart")[1]["enabled"] is False
    finally:
        server.stop()


def test_the_rate_limit_is_a_fixed_window_per_clock_minute() -> None:
    now = [600.0]  # 00:10:00
    limiter = RateLimiter(2, clock=lambda: now[0])
    assert [limiter.wait_seconds("a") for _ in range(3)] == [0.0, 0.0, 60.0]
    assert limiter.wait_seconds("b") == 0.0  # per client
    now[0] = 635.0  # 35 s later: still the same minute, no refill
    assert limiter.wait_seconds("a") == 25.0
    now[0] = 660.0  # the next minute: the count starts again
    assert [limiter.wait_seconds("a") for _ in range(3)] == [0.0, 0.0, 60.0]


def test_the_stream_sends_every_sku_then_each_change(
    served: tuple[str, FakeSource, ListWriter],
) -> None:
    url, source, _ = served
    import threading

    def change() -> None:
        import time

        time.sleep(0.3)
        source.snapshot = snapshot({"W1": 1, "W2": 0})  # S sells down to 1

    threading.Thread(target=change, daemon=True).start()
    events = read_events(f"{url}/v1/stream?sku=S&sku=NOPE&sku=T", 4)
    names = [name for name, _ in events]
    assert names[:3] == ["availability", "not_found", "availability"]
    first, missing, tie, pushed = (data for _, data in events)
    assert (first["sku"], first["available"], first["message"]) == ("S", 10, "In stock")
    assert missing == {"sku": "NOPE"} and tie["message"] == "Out of stock"
    assert (pushed["sku"], pushed["message"]) == ("S", "Only 1 left in stock")
    assert [w["version"] for w in pushed["warehouses"]] == ["1", "2"]
