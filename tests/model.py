"""Independent reference model of the documented semantics, for tests only.

Validation uses the pydantic ``InventoryEvent`` (not the dataflow's fast decoder);
stock is computed by sorting each key's accepted set, not by replaying increments.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from pydantic import ValidationError

from inventory.models import InventoryEvent, stock_delta, to_ms


@dataclass(frozen=True)
class Msg:
    key: bytes | None
    value: bytes | None
    partition: int
    offset: int
    timestamp_ms: int


@dataclass
class Expected:
    stock: dict[tuple[str, str], tuple[int, int, int, str]] = field(default_factory=dict)
    accepted: dict[str, InventoryEvent] = field(default_factory=dict)
    dead: dict[tuple[int, int], str] = field(default_factory=dict)  # (partition, offset) -> why


def expected_tables(msgs: list[Msg], lateness_ms: int, max_future_ms: int) -> Expected:
    """What the tables must hold for messages given in per-partition offset order."""
    out = Expected()
    per_key: dict[tuple[str, str], list[tuple[Msg, InventoryEvent]]] = defaultdict(list)
    for msg in sorted(msgs, key=lambda m: (m.partition, m.offset)):
        try:
            if msg.value is None or len(msg.value) > 64 * 1024:
                raise ValueError("empty or oversize")
            event = InventoryEvent.model_validate_json(msg.value)
            if to_ms(event.occurred_at) > msg.timestamp_ms + max_future_ms:
                raise ValueError("future")
        except (ValidationError, ValueError):
            out.dead[(msg.partition, msg.offset)] = "invalid"
            continue
        per_key[(event.warehouse_id, event.sku)].append((msg, event))
    for key, items in per_key.items():
        newest: int | None = None
        accepted: list[InventoryEvent] = []
        ids: set[str] = set()
        for msg, event in items:
            ms = to_ms(event.occurred_at)
            if newest is not None and ms < newest - lateness_ms:
                out.dead[(msg.partition, msg.offset)] = "late"
                continue
            if event.event_id in ids:
                continue
            ids.add(event.event_id)
            accepted.append(event)
            newest = ms if newest is None else max(newest, ms)
        out.stock[key] = stock_of(accepted)
        out.accepted.update({e.event_id: e for e in accepted})
    return out


def stock_of(accepted: list[InventoryEvent]) -> tuple[int, int, int, str]:
    """(on_hand, version, updated_ms, last_event_id) from a key's accepted events."""
    ordered = sorted(accepted, key=lambda e: (to_ms(e.occurred_at), e.event_id))
    counts = [e for e in ordered if e.event_type == "count"]
    if counts:
        last = counts[-1]
        base, after = last.quantity, to_ms(last.occurred_at)
    else:
        base, after = 0, -1
    on_hand = base + sum(
        stock_delta(e.event_type, e.quantity)
        for e in ordered
        if e.event_type != "count" and to_ms(e.occurred_at) > after
    )
    newest = ordered[-1]
    return on_hand, len(ordered), to_ms(newest.occurred_at), newest.event_id
