"""Per-batch decoding of raw Kafka messages into :class:`Event` or :class:`DeadLetter`.

Never raises on input: every message becomes exactly one accepted event or one
dead letter whose ``error`` says which contract rule it broke. Anything else that goes
wrong while decoding is a bug and propagates (the flow stops loudly, nothing is lost).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Protocol

import orjson

from dataflows.typed_decode import decode_typed
from inventory.core.contract import (
    CODE_RE,
    EVENT_TYPES,
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
from inventory.core.errors import InventoryError
from inventory.core.records import DeadLetter, Event, Source
from inventory.core.times import to_ms

MAX_EVENT_BYTES = 64 * 1024
_REQUIRED = ("event_id", "event_type", "sku", "warehouse_id", "quantity", "occurred_at")
_TYPES = frozenset(EVENT_TYPES)


class RawMessage(Protocol):
    """What decoding needs of a Kafka message (bytewax's ``KafkaSourceMessage`` fits)."""

    key: bytes | None
    value: bytes | None
    topic: str | None
    partition: int | None
    offset: int | None
    timestamp: tuple[int, int] | None


class ContractError(InventoryError, ValueError):
    """A contract rule is broken; the message is the dead-letter reason."""


def parse_occurred_at(value: Any, name: str = "occurred_at") -> int:
    """RFC 3339 timestamp with offset -> epoch ms; raises :class:`ContractError`."""
    if not isinstance(value, str) or not RFC3339_RE.fullmatch(value):
        raise ContractError(f"{name} must be an RFC 3339 timestamp with offset")
    try:
        ms = to_ms(datetime.fromisoformat(value))
    except (ValueError, OverflowError) as exc:
        raise ContractError(f"{name} is not a valid timestamp: {exc}") from None
    if ms < MIN_OCCURRED_MS:
        raise ContractError(f"{name} is before 2000-01-01 (absurd timestamp)")
    if ms >= MAX_OCCURRED_MS:
        raise ContractError(f"{name} is not before 2100-01-01 (absurd timestamp)")
    return ms


def _is_utf8(value: str) -> bool:
    """False for text with a lone surrogate (valid JSON escapes, but no UTF-8 form)."""
    if value.isascii():
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _code(obj: dict[str, Any], name: str) -> str:
    value = obj[name]
    if not isinstance(value, str) or not CODE_RE.fullmatch(value):
        raise ContractError(f"{name} must be 1-64 characters of [A-Za-z0-9._-]")
    return value


def _optional_id(obj: dict[str, Any], name: str) -> str | None:
    value = obj.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > MAX_ID_LENGTH:
        raise ContractError(f"{name} must be a string of at most {MAX_ID_LENGTH} characters")
    if not _is_utf8(value):
        raise ContractError(f"{name} must be valid Unicode (no lone surrogates)")
    return value


def validate(
    obj: Any, source: Source, key: bytes | None, payload: bytes, max_future_ms: int
) -> Event:
    """Apply the contract rules to a decoded JSON value; raises :class:`ContractError`."""
    if not isinstance(obj, dict):
        raise ContractError("event must be a JSON object")
    missing = [name for name in _REQUIRED if name not in obj]
    if missing:
        raise ContractError("missing field(s): " + ", ".join(missing))
    event_id = obj["event_id"]
    if not isinstance(event_id, str) or not 1 <= len(event_id) <= MAX_ID_LENGTH:
        raise ContractError(f"event_id must be a string of 1-{MAX_ID_LENGTH} characters")
    if not _is_utf8(event_id):
        raise ContractError("event_id must be valid Unicode (no lone surrogates)")
    event_type = obj["event_type"]
    if not isinstance(event_type, str) or event_type not in _TYPES:
        raise ContractError("event_type must be one of " + ", ".join(EVENT_TYPES))
    sku = _code(obj, "sku")
    warehouse_id = _code(obj, "warehouse_id")
    quantity = obj["quantity"]
    if type(quantity) is not int:
        raise ContractError("quantity must be an integer")
    problem = quantity_problem(event_type, quantity)
    if problem:
        raise ContractError(problem)
    occurred_ms = parse_occurred_at(obj["occurred_at"])
    if (
        max_future_ms >= 0
        and source.timestamp_ms >= 0
        and (occurred_ms > source.timestamp_ms + max_future_ms)
    ):
        raise ContractError("occurred_at is too far after the message timestamp (absurd timestamp)")
    unit_price = obj.get("unit_price")
    if unit_price is not None:
        if type(unit_price) not in (int, float) or not math.isfinite(unit_price):
            raise ContractError("unit_price must be a finite number")
        if not 0 <= unit_price <= MAX_UNIT_PRICE:
            raise ContractError(f"unit_price must be between 0 and {MAX_UNIT_PRICE:g}")
        unit_price = float(unit_price)
    order_id = _optional_id(obj, "order_id")
    reservation_id = _optional_id(obj, "reservation_id")
    expires_at = obj.get("expires_at")
    expires_ms = None if expires_at is None else parse_occurred_at(expires_at, "expires_at")
    problem = reservation_problem(event_type, reservation_id, expires_ms, occurred_ms)
    if problem:
        raise ContractError(problem)
    po_id = _optional_id(obj, "po_id")
    problem = po_problem(event_type, po_id)
    if problem:
        raise ContractError(problem)
    return Event(
        event_id=event_id,
        event_type=event_type,
        sku=sku,
        warehouse_id=warehouse_id,
        quantity=quantity,
        delta=stock_delta(event_type, quantity),
        occurred_ms=occurred_ms,
        unit_price=unit_price,
        order_id=order_id,
        source=source,
        key=key,
        payload=payload,
        reservation_id=reservation_id,
        expires_ms=expires_ms,
        po_id=po_id,
    )


def message_source(msg: RawMessage) -> Source:
    """Position and timestamp of a Kafka message (-1 where the client gives none)."""
    ts = msg.timestamp
    ts_ms = ts[1] if ts is not None and ts[0] != 0 else -1
    return Source(
        topic=msg.topic or "",
        partition=-1 if msg.partition is None else msg.partition,
        offset=-1 if msg.offset is None else msg.offset,
        timestamp_ms=ts_ms,
        topic_id=getattr(msg, "topic_id", ""),
    )


_INVALID = object()


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


def _strict_json_fallback(payload: bytes) -> Any:
    """Standard-library parse for valid JSON orjson refuses (integers beyond 64 bits)."""
    try:
        return json.loads(payload, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        return _INVALID


def decode_one(msg: RawMessage, max_future_ms: int) -> Event | DeadLetter:
    """Decode one message; raises only on a bug (never because of the input)."""
    source = message_source(msg)
    payload = msg.value
    if payload is None:
        return DeadLetter(source, msg.key, None, "empty message (no value)")
    if len(payload) > MAX_EVENT_BYTES:
        return DeadLetter(source, msg.key, payload, f"message larger than {MAX_EVENT_BYTES} bytes")
    event = decode_typed(payload, source, msg.key, max_future_ms)  # the common case, fast
    if event is not None:
        return event
    return decode_general(payload, source, msg.key, max_future_ms)


def decode_general(
    payload: bytes, source: Source, key: bytes | None, max_future_ms: int
) -> Event | DeadLetter:
    """Any payload of at most :data:`MAX_EVENT_BYTES`: the event, or the dead letter with
    the first contract rule it breaks. The reference the fast path is tested against."""
    try:
        obj = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        obj = _strict_json_fallback(payload)
        if obj is _INVALID:
            return DeadLetter(source, key, payload, f"invalid JSON: {exc}")
    try:
        return validate(obj, source, key, payload, max_future_ms)
    except ContractError as exc:  # only input problems are dead letters: a bug fails loudly
        return DeadLetter(source, key, payload, str(exc))


def decode_batch(msgs: Iterable[RawMessage], max_future_ms: int) -> list[Event | DeadLetter]:
    """Decode a batch in order; one output per input message."""
    return [decode_one(msg, max_future_ms) for msg in msgs]
