"""The decoder's fast path: a typed msgspec decode of a plain event in one C pass.

msgspec checks the JSON and the field types (and id lengths, code patterns, the event
type) while it parses, instead of a dict and a Python check per field. Contract: for
every payload, :func:`decode_typed` returns either ``None`` (the fast path does not
decide: the full decoder in :mod:`dataflows.decode` does, and gives the dead-letter
reason) or exactly the :class:`~inventory.core.records.Event` the full decoder returns. So it
only accepts what it can be sure of: ASCII payloads (no UTF-8 question), a flat object
(no nesting-depth question), and values that pass every rule the full decoder applies;
tests compare the two on generated and hostile input.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Literal

import msgspec

from inventory.core.contract import (
    MAX_ID_LENGTH,
    MAX_OCCURRED_MS,
    MAX_UNIT_PRICE,
    MIN_OCCURRED_MS,
    RFC3339_RE,
    po_problem,
    quantity_problem,
    reservation_problem,
    stock_delta,
)
from inventory.core.records import Event, Source
from inventory.core.times import to_ms

_Code = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9._-]{1,64}\Z")]  # re.search
_Id = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_ID_LENGTH)]
_OptionalId = Annotated[str, msgspec.Meta(max_length=MAX_ID_LENGTH)]


class _Wire(msgspec.Struct, forbid_unknown_fields=False):
    event_id: _Id
    event_type: Literal[
        "sale", "return", "restock", "adjustment", "count", "reserve", "release", "cancel"
    ]
    sku: _Code
    warehouse_id: _Code
    quantity: int
    occurred_at: str
    unit_price: float | None = None
    order_id: _OptionalId | None = None
    reservation_id: _OptionalId | None = None
    expires_at: str | None = None
    po_id: _OptionalId | None = None


_DECODER = msgspec.json.Decoder(_Wire)


def decode_typed(
    payload: bytes, source: Source, key: bytes | None, max_future_ms: int
) -> Event | None:
    """The event ``payload`` holds, or ``None`` when the full decoder must decide."""
    if not payload.isascii() or payload.count(b"{") != 1 or b"[" in payload:
        return None
    try:
        wire = _DECODER.decode(payload)
    except msgspec.DecodeError:  # ValidationError included: the full decoder says why
        return None
    ids = (wire.event_id, wire.order_id or "", wire.reservation_id or "", wire.po_id or "")
    if not all(text.isascii() for text in ids):
        return None  # escapes (a lone surrogate, say): the full decoder's rules decide
    if quantity_problem(wire.event_type, wire.quantity) is not None:
        return None
    occurred_ms = _timestamp_ms(wire.occurred_at)
    if occurred_ms is None:
        return None
    expires_ms = None
    if wire.expires_at is not None:
        expires_ms = _timestamp_ms(wire.expires_at)
        if expires_ms is None:
            return None
    if reservation_problem(wire.event_type, wire.reservation_id, expires_ms, occurred_ms):
        return None
    if po_problem(wire.event_type, wire.po_id):
        return None
    if max_future_ms >= 0 and 0 <= source.timestamp_ms < occurred_ms - max_future_ms:
        return None
    unit_price = wire.unit_price
    if unit_price is not None and not (
        math.isfinite(unit_price) and 0 <= unit_price <= MAX_UNIT_PRICE
    ):
        return None
    return Event(
        event_id=wire.event_id,
        event_type=wire.event_type,
        sku=wire.sku,
        warehouse_id=wire.warehouse_id,
        quantity=wire.quantity,
        delta=stock_delta(wire.event_type, wire.quantity),
        occurred_ms=occurred_ms,
        unit_price=unit_price,
        order_id=wire.order_id,
        source=source,
        key=key,
        payload=payload,
        reservation_id=wire.reservation_id,
        expires_ms=expires_ms,
        po_id=wire.po_id,
    )


def _timestamp_ms(text: str) -> int | None:
    """Epoch ms of an accepted timestamp, or ``None`` (the full decoder says why)."""
    if not RFC3339_RE.fullmatch(text):
        return None
    try:
        ms = to_ms(datetime.fromisoformat(text))
    except (ValueError, OverflowError):
        return None
    return ms if MIN_OCCURRED_MS <= ms < MAX_OCCURRED_MS else None
