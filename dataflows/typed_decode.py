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
from typing import Annotated

import msgspec

from inventory.core.contract import (
    CODE_RE,
    MAX_ID_LENGTH,
    MAX_OCCURRED_MS,
    MAX_UNIT_PRICE,
    MIN_OCCURRED_MS,
    RFC3339_RE,
    EventType,
    po_problem,
    quantity_problem,
    reservation_problem,
    stock_delta,
)
from inventory.core.records import Event, Source
from inventory.core.times import to_ms

_Id = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_ID_LENGTH)]
_OptionalId = Annotated[str, msgspec.Meta(max_length=MAX_ID_LENGTH)]


class _Wire(msgspec.Struct, forbid_unknown_fields=False, gc=False):
    event_id: _Id
    event_type: EventType
    sku: str  # codes: checked by _is_code (a set of the codes seen, then the pattern)
    warehouse_id: str
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
    if not (_is_code(wire.sku) and _is_code(wire.warehouse_id)):
        return None
    if b"\\u" in payload:  # an ASCII payload without \u escapes has ASCII text only
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


_KNOWN_CODES: set[str] = set()  # warehouse ids and SKUs that passed the pattern
_MAX_KNOWN_CODES = 200_000
_MINUTES: dict[str, int] = {}  # "YYYY-MM-DDTHH:MM" -> epoch ms of that minute (UTC)
_MAX_MINUTES = 100_000


def _is_code(text: str) -> bool:
    """``CODE_RE`` in full, remembered for the codes seen (a stream repeats them)."""
    if text in _KNOWN_CODES:
        return True
    if not CODE_RE.fullmatch(text):
        return False
    if len(_KNOWN_CODES) < _MAX_KNOWN_CODES:
        _KNOWN_CODES.add(text)
    return True


def _timestamp_ms(text: str) -> int | None:
    """Epoch ms of an accepted timestamp, or ``None`` (the full decoder says why).

    The form producers send (``2026-11-18T11:06:40.123Z``) is read from its minute,
    parsed once per minute, and its seconds and milliseconds digits; any other form
    takes the general parse."""
    if (
        len(text) == 24
        and text[23] == "Z"
        and text[19] == "."
        and text[16] == ":"
        and text.isascii()  # no other digits than 0-9 (an escape may bring some)
    ):
        minute = _MINUTES.get(text[:16])
        if minute is None:
            minute = _minute_ms(text[:16])
        seconds, millis = text[17:19], text[20:23]
        if minute >= 0 and seconds.isdigit() and millis.isdigit() and seconds < "60":
            ms = minute + int(seconds) * 1000 + int(millis)
            return ms if MIN_OCCURRED_MS <= ms < MAX_OCCURRED_MS else None
    return _parse_ms(text)


def _minute_ms(prefix: str) -> int:
    """Epoch ms of ``YYYY-MM-DDTHH:MM`` in UTC, -1 if it is no such minute."""
    parsed = _parse_ms(prefix + ":00Z")
    ms = -1 if parsed is None else parsed
    if len(_MINUTES) >= _MAX_MINUTES:
        _MINUTES.clear()
    _MINUTES[prefix] = ms
    return ms


def _parse_ms(text: str) -> int | None:
    """The general parse: the contract's pattern, then ISO 8601, then the range."""
    if not RFC3339_RE.fullmatch(text):
        return None
    try:
        ms = to_ms(datetime.fromisoformat(text))
    except (ValueError, OverflowError):
        return None
    return ms if MIN_OCCURRED_MS <= ms < MAX_OCCURRED_MS else None
