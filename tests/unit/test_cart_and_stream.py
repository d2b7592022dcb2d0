"""The cart endpoints and the event stream over a fake stock source (real HTTP server, no
broker): requests are decided by the flow's own key books (a writer that applies each
event and publishes the decisions to the API's decision book); what each refusal answers
and that nothing is written for one the API refuses itself; the stream's first documents
and a change pushed."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import orjson
import pytest
from bytewax.connectors.kafka import KafkaSourceMessage

from dataflows.decode import decode_one
from dataflows.per_key.book import KeyBook
from dataflows.per_key.state_codec import KeyState
from inventory.availability.api import CartOptions, create_app
from inventory.availability.cart_guard import RateLimiter
from inventory.availability.decisions import DecisionBook
from inventory.availability.server import BackgroundServer
from inventory.availability.store import StockSnapshot, WarehouseStock
from inventory.core.records import HoldDecision, ProductPolicy
from inventory.core.times import format_ms
from tests.support.http import get_json, post_json, post_raw, put_json, read_events

TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
NOW = 1_796_731_200.0


@dataclass
class FakeSource:
    snapshot: StockSnapshot | None

    def start(self) -> None: ...

    def stop(self) -> None: ...


class ListWriter:
    """Keeps what the API writes and decides it as the flow would (one key book per key,
    stocked as the snapshot says), publishing each decision to ``decisions``."""

    def __init__(
        self,
        on_hand: dict[str, int],
        policies: dict[str, ProductPolicy] | None = None,
        states: dict[bytes, KeyState] | None = None,
    ) -> None:
        """``on_hand`` by warehouse (SKU S) or ``warehouse:sku``; ``policies`` by SKU
        (else threshold 1, target 10); ``states``: keys' states to start from."""
        self.events: list[tuple[bytes, dict[str, object]]] = []
        self.decisions = DecisionBook()
        self.policies = policies or {}
        self.books: dict[bytes, KeyBook] = {}
        for key, state in (states or {}).items():
            self.books[key] = self._book(state)
        for where, units in on_hand.items():
            wh, _, sku = where.partition(":")
            count = {
                "event_id": f"count-{where}",
                "event_type": "count",
                "sku": sku or "S",
                "warehouse_id": wh,
                "quantity": units,
                "occurred_at": format_ms(int(NOW * 1000) - 1),
            }
            self._apply(f"{wh}:{count['sku']}".encode(), orjson.dumps(count))

    def _book(self, state: KeyState | None) -> KeyBook:
        return KeyBook(
            lateness_ms=600_000,
            window_ms=60_000,
            policy_for=lambda sku: self.policies.get(sku, ProductPolicy(1, 10)),
            state=state,
        )

    def write(self, key: bytes, value: bytes) -> None:
        self.events.append((key, orjson.loads(value)))
        self._apply(key, value)

    def _apply(self, key: bytes, value: bytes) -> None:
        book = self.books.get(key) or self.books.setdefault(key, self._book(None))
        message = KafkaSourceMessage(
            key,
            value,
            topic="events",
            partition=0,
            offset=len(self.events),
            timestamp=(1, int(NOW * 1000)),
        )
        event = decode_one(message, 300_000)
        for out in book.apply_batch([event]):  # type: ignore[list-item]
            if type(out) is HoldDecision:
                self.decisions.take(orjson.loads(orjson.dumps(out.to_json())))


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
    writer = ListWriter({"W1": 3, "W2": 7})
    app = create_app(
        source,
        few_left=5,
        clock=lambda: NOW,
        cart=CartOptions(
            writer,
            TOKEN,
            per_minute=12,
            hold_seconds=600,
            decisions=writer.decisions,
            wait_seconds=0.2,
        ),
    )
    server = BackgroundServer(app, "127.0.0.1", 0).start()
    try:
        yield server.url, source, writer
    finally:
        server.stop()


def test_a_hold_is_decided_in_the_warehouse_with_the_most(
    served: tuple[str, FakeSource, ListWriter],
) -> None:
    url, _, writer = served
    status, body, _ = post_json(f"{url}/v1/holds", {"sku": "S", "quantity": 2}, AUTH)
    assert status == 201, body
    assert (body["decision"], body["warehouse_id"], body["quantity"]) == ("granted", "W2", 2)
    assert body["expires_at"] == "2026-12-08T12:10:00.000Z" and body["available"] == 5
    [(key, event)] = writer.events
    assert key == b"W2:S"
    assert event["event_type"] == "hold_request" and event["quantity"] == 2
    rid = body["reservation_id"]
    assert event["reservation_id"] == rid
    status, body, _ = post_json(f"{url}/v1/holds/{rid}", {"quantity": 9}, AUTH)
    assert status == 405  # a change is a PUT
    status, bought, _ = post_json(f"{url}/v1/holds/{rid}/checkout", {"sku": "S"}, AUTH)
    assert status == 200 and (bought["decision"], bought["quantity"]) == ("checked_out", 2)
    status, again, _ = post_json(f"{url}/v1/holds/{rid}/checkout", None, AUTH)
    assert status == 409 and again["reason"] == "closed", again
    assert post_json(f"{url}/v1/holds/{rid}/release", None, AUTH)[0] == 409
    kinds = [(e["event_type"], e.get("reservation_id")) for _, e in writer.events]
    assert kinds == [
        ("hold_request", rid),
        ("hold_checkout", rid),
        ("hold_checkout", rid),
        ("hold_release", rid),
    ]
    assert writer.events[1][1]["unit_price"] == 9.5  # the catalog's price
    cart = {"enabled": True, "hold_seconds": 600.0, "decided": True}
    assert get_json(f"{url}/v1/cart") == (200, cart)


def test_more_than_available_is_refused_by_the_flow_with_what_is_available(
    served: tuple[str, FakeSource, ListWriter],
) -> None:
    url, _, writer = served
    named = {"sku": "S", "warehouse_id": "W2", "quantity": 8}
    status, body, _ = post_json(f"{url}/v1/holds", named, AUTH)
    assert status == 409 and (body["reason"], body["available"]) == ("insufficient", 7), body
    one = {"sku": "S", "warehouse_id": "W1", "quantity": 3}
    status, body, _ = post_json(f"{url}/v1/holds", one, AUTH)
    assert status == 201, body
    status, body, _ = post_json(f"{url}/v1/holds", {**one, "quantity": 1}, AUTH)
    assert status == 409 and body["detail"] == "only 0 available", body
    assert len(writer.events) == 3  # each request is recorded with its decision


def test_an_unnamed_warehouse_is_asked_most_available_first_until_one_grants(
    served: tuple[str, FakeSource, ListWriter],
) -> None:
    url, _, writer = served
    status, body, _ = post_json(f"{url}/v1/holds", {"sku": "S", "quantity": 7}, AUTH)
    assert status == 201 and body["warehouse_id"] == "W2", body
    # the API's view still shows W2 with 7: the flow refuses there, W1 grants
    status, body, _ = post_json(f"{url}/v1/holds", {"sku": "S", "quantity": 3}, AUTH)
    assert status == 201 and body["warehouse_id"] == "W1", body
    status, body, _ = post_json(f"{url}/v1/holds", {"sku": "S", "quantity": 1}, AUTH)
    assert status == 409 and body["warehouse_id"] == "W1", body  # both asked, both empty
    assert [key for key, _ in writer.events] == [b"W2:S", b"W2:S", b"W1:S", b"W2:S", b"W1:S"]


@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [
        ({"sku": "S"}, {}, 401),  # no token
        ({"sku": "S"}, {"Authorization": "Bearer wrong"}, 401),
        ({"sku": "S"}, {"Authorization": TOKEN}, 401),  # not a bearer
        ({"sku": "NOPE"}, AUTH, 404),
        ({"sku": "S; DROP"}, AUTH, 422),
        ({"sku": "S", "quantity": 0}, AUTH, 422),
        ({"sku": "S", "quantity": "2"}, AUTH, 422),
        ({}, AUTH, 422),
    ],
)
def test_holds_the_api_refuses_write_nothing(
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


def test_a_checkout_acts_on_its_hold_only(
    served: tuple[str, FakeSource, ListWriter],
) -> None:
    url, _, writer = served
    assert post_json(f"{url}/v1/holds/{'r' * 129}/checkout", None, AUTH)[0] == 422
    assert post_json(f"{url}/v1/holds/r1/checkout", {"quantity": -1}, AUTH)[0] == 422
    # unknown reservations (ids of up to 128 characters of any valid Unicode): 404
    assert post_json(f"{url}/v1/holds/{'r' * 128}/checkout", None, AUTH)[0] == 404
    assert post_json(f"{url}/v1/holds/bad%20id!/release", None, AUTH)[0] == 404
    assert writer.events == []
    _, held, _ = post_json(f"{url}/v1/holds", {"sku": "S", "quantity": 1}, AUTH)
    rid = held["reservation_id"]
    for line in ({"sku": "T"}, {"warehouse_id": "W1"}, {"quantity": 2}):
        status, body, _ = post_json(f"{url}/v1/holds/{rid}/checkout", line, AUTH)
        assert status == 409 and "the hold's" in body["detail"], body
    assert len(writer.events) == 1
    assert get_json(f"{url}/v1/holds/{rid}", AUTH)[1]["decision"] == "granted"
    status, changed, _ = put_json(f"{url}/v1/holds/{rid}", {"quantity": 7}, AUTH)
    assert status == 200 and changed["quantity"] == 7  # its own unit counts as available
    status, refused, _ = put_json(f"{url}/v1/holds/{rid}", {"quantity": 8}, AUTH)
    assert status == 409 and refused["available"] == 0
    status, gone, _ = post_json(f"{url}/v1/holds/{rid}/release", None, AUTH)
    assert status == 200 and (gone["decision"], gone["quantity"]) == ("released", 7)


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
    answers = [post_json(f"{url}/v1/holds", {"sku": "NOPE"}, AUTH) for _ in range(14)]
    statuses = [status for status, _, _ in answers]
    assert statuses[:12] == [404] * 12 and statuses[12:] == [429, 429]
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
