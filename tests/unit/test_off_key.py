"""Events whose Kafka message key is not their warehouse_id:sku are counted (the
precondition for key-affine state, docs/scaling.md); the flow keys by the value."""

from __future__ import annotations

import json

from prometheus_client import REGISTRY

from dataflows.flow import decode_keyed
from tests.support.messages import GOOD, FakeMsg


def off_key() -> float:
    return REGISTRY.get_sample_value("inventory_events_off_key_total") or 0.0


def test_off_key_events_are_counted_and_keyed_by_their_value() -> None:
    body = {**GOOD, "warehouse_id": "W1", "sku": "S1"}
    value = json.dumps(body).encode()
    messages = [
        FakeMsg(value, b"W1:S1", offset=1),  # well keyed
        FakeMsg(value, b"order-17", offset=2),  # keyed by order
        FakeMsg(value, None, offset=3),  # no key
        FakeMsg(b"not json", b"x", offset=4),  # a dead letter: not counted
    ]
    before = off_key()
    keyed = decode_keyed(messages, -1)
    assert off_key() - before == 2
    assert [key for key, _ in keyed[:3]] == ["W1:S1"] * 3
