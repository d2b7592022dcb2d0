"""Time formats of the contract: epoch milliseconds and RFC 3339 UTC text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


def to_ms(value: datetime) -> int:
    """Epoch milliseconds of an aware datetime, sub-millisecond digits truncated."""
    return (value - _EPOCH) // _MS


def format_ms(ms: int) -> str:
    """RFC 3339 UTC with milliseconds, e.g. ``2026-11-24T09:15:02.123Z``."""
    return f"{_second_text(ms // 1000)}{ms % 1000:03d}Z"


@lru_cache(maxsize=65_536)
def _second_text(second: int) -> str:
    """``YYYY-MM-DDTHH:MM:SS.`` of an epoch second (a stream formats the same seconds
    again and again)."""
    return (_EPOCH + timedelta(seconds=second)).strftime("%Y-%m-%dT%H:%M:%S.")
