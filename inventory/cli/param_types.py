"""Option types of the command line: each refuses a bad value with a message that says
what it wants (``--skus: must be at least 1``)."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import click

from inventory.core.times import to_ms

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class _Type(click.ParamType):  # type: ignore[type-arg]
    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value  # a default, already converted
        try:
            return self.parse(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)

    def parse(self, value: str) -> Any:
        raise NotImplementedError


def _number(value: str, kind: type[int] | type[float]) -> Any:
    try:
        return kind(value)
    except ValueError:
        noun = "an integer" if kind is int else "a number"
        raise ValueError(f"not {noun}: {value!r}") from None


class Count(_Type):
    """An integer of at least ``minimum`` (1: positive, 0: non-negative)."""

    def __init__(self, minimum: int = 1) -> None:
        self.minimum = minimum
        self.name = "integer" if minimum else "count"

    def parse(self, value: str) -> int:
        number: int = _number(value, int)
        if number < self.minimum:
            wanted = "at least 1" if self.minimum == 1 else f"{self.minimum} or more"
            raise ValueError(f"must be {wanted}, got {number}")
        return number


class PositiveFloat(_Type):
    name = "number"

    def parse(self, value: str) -> float:
        number: float = _number(value, float)
        if not number > 0:
            raise ValueError(f"must be more than 0, got {value}")
        return number


class Share(_Type):
    """A fraction between 0 and 1 (e.g. of malformed events)."""

    name = "share"

    def parse(self, value: str) -> float:
        fraction: float = _number(value, float)
        if not 0.0 <= fraction <= 1.0:
            raise ValueError("a share is between 0 and 1")
        return fraction


class Timestamp(_Type):
    """``now`` or an RFC 3339 timestamp, as epoch milliseconds."""

    name = "timestamp"

    def parse(self, value: str) -> int:
        if value == "now":
            return int(time.time() * 1000)
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"not an RFC 3339 timestamp: {value!r}") from None
        if parsed.tzinfo is None:
            raise ValueError("the timestamp needs a UTC offset (e.g. Z or +00:00)")
        return to_ms(parsed)


class LogLevel(_Type):
    """A logging level name, case-insensitive."""

    name = "level"

    def parse(self, value: str) -> str:
        level = value.upper()
        if level not in LOG_LEVELS:
            raise ValueError(f"one of {', '.join(LOG_LEVELS)}, not {value!r}")
        return level
