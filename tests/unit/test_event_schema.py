"""The events' JSON Schema (docs/schemas/inventory-event.schema.json) against the
generator's output, the contract's example and the dataflow's decoder."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from hypothesis import example, given, settings
from jsonschema import Draft202012Validator

from dataflows.decode import decode_general
from generators.events import EventGenerator, GeneratorConfig
from inventory.core.records import Event, Source
from tests.support.messages import events
from tests.support.paths import ROOT

SCHEMA = json.loads((ROOT / "docs/schemas/inventory-event.schema.json").read_text())
VALIDATOR = Draft202012Validator(SCHEMA)
BASE = {"event_id": "e", "event_type": "sale", "sku": "S", "warehouse_id": "W", "quantity": 1}
SOURCE = Source("inventory.events", 0, 0, 1_795_000_000_000)


def test_the_schema_is_valid_json_schema() -> None:
    Draft202012Validator.check_schema(SCHEMA)


def test_the_generators_well_formed_events_follow_the_schema() -> None:
    config = GeneratorConfig(seed=9, rate=500.0, duplicate_share=0.05, late_share=0.05)
    for message in EventGenerator(config).messages(3_000):
        VALIDATOR.validate(json.loads(message.value or b""))
    carts = GeneratorConfig(seed=9, rate=500.0, hold_share=0.3, self_restock=False)
    kinds = set()
    for message in EventGenerator(carts).messages(3_000):
        event = json.loads(message.value or b"")
        VALIDATOR.validate(event)
        kinds.add((event["event_type"], "reservation_id" in event))
    assert {("reserve", True), ("release", True), ("sale", True), ("sale", False)} <= kinds
    assert not any(kind == "restock" for kind, _ in kinds)  # the supplier restocks


def test_the_suppliers_restocks_follow_the_schema() -> None:
    from generators.supplier import Supplier

    supplier = Supplier(speedup=3600, clock=lambda: 1_795_000_000.0)
    alert = {
        "kind": "low_stock",
        "warehouse_id": "WH-01",
        "sku": "SKU-00001",
        "reorder_quantity": 12,
        "raised_at": "2026-11-18T08:26:40.000Z",
        "expected_at": "2026-11-21T08:26:40.000Z",
        "po_id": "po-abc",
    }
    assert supplier.take([alert]) == 1
    (restock,) = supplier.restocks(supplier.due(everything=True))
    VALIDATOR.validate(json.loads(restock.value))


def test_the_generators_malformed_events_break_it() -> None:
    """Each is not JSON (NaN included), breaks the schema, or breaks a rule the schema
    leaves to the decoder (here: an absurd occurred_at)."""
    config = GeneratorConfig(seed=9, rate=500.0, malformed_share=1.0)
    for message in EventGenerator(config).messages(300):
        try:
            value = json.loads(message.value or b"", parse_constant=_not_json)
        except ValueError:
            continue
        assert not VALIDATOR.is_valid(value) or _out_of_time_range(value), value


def _not_json(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def test_the_contracts_example_follows_the_schema() -> None:
    contracts = (ROOT / "docs/contracts.md").read_text()
    section = contracts.split("## Input: topic `inventory.events`")[1].split("\n## ")[0]
    examples = re.findall(r"```json\n(.*?)```", section, re.S)
    assert examples
    for text in examples:
        VALIDATOR.validate(json.loads(text))


@settings(max_examples=600, deadline=None)
@given(events())
@example({**BASE, "occurred_at": "2000-00-00T00:00:00Z"})  # matches the pattern, no date
@example({**BASE, "quantity": 2.0})  # an integer to JSON Schema, not to the contract
def test_what_the_decoder_accepts_the_schema_accepts(obj: dict[str, Any]) -> None:
    """And the reverse, but for the rules the schema leaves to the decoder (its
    description lists them)."""
    raw = json.dumps(obj).encode()
    accepted = isinstance(decode_general(raw, SOURCE, None, 10**15), Event)
    valid = VALIDATOR.is_valid(obj)
    if accepted:
        assert valid, obj
    elif valid:
        inexpressible = (
            isinstance(obj.get("quantity"), float)
            or not str(obj.get("occurred_at", "")).startswith(("20", "21"))
            or any(
                isinstance(obj.get(name), str) and not obj[name].encode("utf-8", "ignore")
                for name in ("event_id", "order_id", "reservation_id", "po_id")
            )
            or _expires_before_it_occurred(obj)
        )
        assert inexpressible or not raw.isascii() or _out_of_time_range(obj), obj


def _out_of_time_range(obj: dict[str, Any]) -> bool:
    """occurred_at or expires_at is no calendar time, or outside [2000, 2100): rules left
    to the decoder."""
    names = ["occurred_at"] + (["expires_at"] if obj.get("expires_at") is not None else [])
    for name in names:
        try:
            year = datetime.fromisoformat(str(obj.get(name, ""))).year
        except ValueError:
            return True
        if not 2000 <= year < 2100:
            return True
    return False


def _expires_before_it_occurred(obj: dict[str, Any]) -> bool:
    """A reserve whose hold ends before it starts: a rule left to the decoder."""
    try:
        return obj.get("event_type") == "reserve" and datetime.fromisoformat(
            str(obj["expires_at"])
        ) <= datetime.fromisoformat(str(obj["occurred_at"]))
    except (KeyError, ValueError, TypeError):
        return False
