"""Malformed messages of every kind the pipeline must dead-letter (the generator's
``malformed_share``)."""

from __future__ import annotations

import random

import orjson

from generators.message import Message
from inventory.core.times import format_ms

MALFORMED_KINDS = (
    "bad-json",
    "not-object",
    "missing-field",
    "bad-type",
    "bad-quantity",
    "bad-sku",
    "naive-time",
    "unknown-type",
    "nan-price",
    "ancient-time",
)


def malformed_message(rng: random.Random, tag: str, i: int, now_ms: int) -> Message:
    """One malformed message of a kind drawn from :data:`MALFORMED_KINDS`."""
    kind = rng.choice(MALFORMED_KINDS)
    good: dict[str, object] = {
        "event_id": f"bad-{tag}-{i:09d}",
        "event_type": "sale",
        "sku": "SKU-00001",
        "warehouse_id": "WH-01",
        "quantity": 1,
        "occurred_at": format_ms(now_ms),
    }
    if kind == "bad-json":
        return Message(None, b'{"event_id": "broken", "quantity": ')
    if kind == "not-object":
        return Message(None, b'["sale", 1]')
    if kind == "missing-field":
        del good["sku"]
    elif kind == "bad-type":
        good["quantity"] = "5"
    elif kind == "bad-quantity":
        good["quantity"] = -2
    elif kind == "bad-sku":
        good["sku"] = "SKU 1; DROP TABLE"
    elif kind == "naive-time":
        good["occurred_at"] = "2026-11-24 09:15:02"
    elif kind == "unknown-type":
        good["event_type"] = "teleport"
    elif kind == "nan-price":
        return Message(b"WH-01:SKU-00001", orjson.dumps(good)[:-1] + b',"unit_price":NaN}')
    elif kind == "ancient-time":
        good["occurred_at"] = "1970-01-01T00:00:00Z"
    return Message(b"WH-01:SKU-00001", orjson.dumps(good))
