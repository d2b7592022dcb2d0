"""Decoding rules of contracts.md section 1, and agreement with the pydantic model."""

from __future__ import annotations

import json
import math
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from pydantic import ValidationError

from dataflows.decode import MAX_EVENT_BYTES, decode_batch, decode_one
from inventory.core.contract import InventoryEvent
from inventory.core.records import DeadLetter, Event
from tests.support.messages import GOOD, TS, FakeMsg, events


def decode(obj: Any) -> Event | DeadLetter:
    raw = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
    return decode_one(FakeMsg(raw), max_future_ms=300_000)


def test_valid_event_decodes_with_signed_delta() -> None:
    event = decode(GOOD)
    assert isinstance(event, Event)
    assert (event.delta, event.occurred_ms, event.stock_key) == (
        -2,
        TS - 60_000 + 123,
        "WH-1:SKU-1",
    )
    assert (event.unit_price, event.order_id, event.source.timestamp_ms) == (9.5, "o-1", TS)
    assert event.payload == json.dumps(GOOD).encode()


@pytest.mark.parametrize(
    ("event_type", "quantity", "delta"),
    [
        ("sale", 3, -3),
        ("return", 3, 3),
        ("restock", 3, 3),
        ("adjustment", -4, -4),
        ("adjustment", 4, 4),
        ("count", 0, 0),
        ("count", 7, 0),
    ],
)
def test_stock_effect_per_type(event_type: str, quantity: int, delta: int) -> None:
    event = decode({**GOOD, "event_type": event_type, "quantity": quantity})
    assert isinstance(event, Event)
    assert event.delta == delta


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"quantity": 0}, "quantity must be >= 1 for sale"),
        ({"event_type": "restock", "quantity": -1}, "quantity must be >= 1 for restock"),
        ({"event_type": "adjustment", "quantity": 0}, "non-zero for adjustment"),
        ({"event_type": "count", "quantity": -1}, ">= 0 for count"),
        ({"quantity": "2"}, "quantity must be an integer"),
        ({"quantity": 2.0}, "quantity must be an integer"),
        ({"quantity": True}, "quantity must be an integer"),
        ({"quantity": 2**62}, "quantity out of range"),
        ({"quantity": 10**30}, "quantity must be an integer"),  # orjson reads it as a float
        ({"event_type": "teleport"}, "event_type must be one of"),
        ({"sku": "bad sku"}, "sku must be 1-64 characters"),
        ({"sku": ""}, "sku must be 1-64 characters"),
        ({"warehouse_id": "W" * 65}, "warehouse_id must be 1-64 characters"),
        ({"warehouse_id": 5}, "warehouse_id must be 1-64 characters"),
        ({"event_id": ""}, "event_id must be a string of 1-128"),
        ({"event_id": "x" * 129}, "event_id must be a string of 1-128"),
        ({"occurred_at": "2026-11-18 20:26:40"}, "RFC 3339"),
        ({"occurred_at": 1795000000}, "RFC 3339"),
        ({"occurred_at": "2026-02-30T00:00:00Z"}, "not a valid timestamp"),
        ({"occurred_at": "1999-12-31T23:59:59Z"}, "before 2000-01-01"),
        ({"occurred_at": "2026-11-18T11:11:40.001Z"}, "too far after the message timestamp"),
        ({"occurred_at": "2026-11-18T12:11:40.001+01:00"}, "too far after the message timestamp"),
        ({"unit_price": -1}, "unit_price must be between"),
        ({"unit_price": "9.99"}, "unit_price must be a finite number"),
        ({"unit_price": 1e300}, "unit_price must be between"),
        ({"order_id": 12}, "order_id must be a string"),
    ],
)
def test_contract_violations_are_dead_lettered_with_reason(
    change: dict[str, Any], reason: str
) -> None:
    letter = decode({**GOOD, **change})
    assert isinstance(letter, DeadLetter)
    assert reason in letter.error
    assert letter.payload == json.dumps({**GOOD, **change}).encode()


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"{not json", "invalid JSON"),
        (b'{"quantity": NaN}', "invalid JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b'"sale"', "must be a JSON object"),
        (b"{}", "missing field(s): event_id, event_type, sku"),
        (b"\xff\xfe", "invalid JSON"),
        (b"{" + b" " * MAX_EVENT_BYTES + b"}", "larger than"),
    ],
)
def test_undecodable_bytes_are_dead_lettered(raw: bytes, reason: str) -> None:
    letter = decode(raw)
    assert isinstance(letter, DeadLetter)
    assert reason in letter.error


def test_empty_value_and_extra_fields() -> None:
    letter = decode_one(FakeMsg(None), 0)
    assert isinstance(letter, DeadLetter) and "no value" in letter.error
    assert isinstance(decode({**GOOD, "colour": "red", "nested": {"a": [1]}}), Event)


def test_batch_keeps_order_and_one_output_per_message() -> None:
    msgs = [FakeMsg(orjson.dumps({**GOOD, "event_id": f"e{i}"}), offset=i) for i in range(5)]
    msgs.insert(2, FakeMsg(b"junk", offset=99))
    out = decode_batch(msgs, 300_000)
    assert [o.source.offset for o in out] == [0, 1, 99, 2, 3, 4]


@settings(max_examples=600, deadline=None)
@given(events())
def test_fast_decoder_agrees_with_pydantic_model(obj: dict[str, Any]) -> None:
    """Whatever the input, the hot path accepts exactly what the documented model accepts."""
    raw = json.dumps(obj).encode()
    fast = decode_one(FakeMsg(raw), max_future_ms=10**15)
    try:
        model = InventoryEvent.model_validate_json(raw)
    except ValidationError:
        model = None
    assert isinstance(fast, Event) == (model is not None), (fast, model)
    if model is not None and isinstance(fast, Event):
        assert (fast.event_id, fast.quantity, fast.sku) == (
            model.event_id,
            model.quantity,
            model.sku,
        )
        assert fast.unit_price == model.unit_price or (
            fast.unit_price is not None and math.isclose(fast.unit_price, model.unit_price or 0)
        )


def test_a_bug_in_the_decoder_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only input problems become dead letters; a programming error propagates."""

    def broken(event_type: str, quantity: int) -> int:
        raise KeyError("a bug")

    for path in ("dataflows.decode.stock_delta", "dataflows.typed_decode.stock_delta"):
        monkeypatch.setattr(path, broken)  # the general decoder and the fast path
    with pytest.raises(KeyError, match="a bug"):
        decode(GOOD)
    with pytest.raises(KeyError, match="a bug"):
        decode({**GOOD, "note": "é"})  # not ASCII: the general decoder
