"""Argument types shared by the CLI's commands (they raise ``ArgumentTypeError``)."""

from __future__ import annotations

import argparse
import time
from datetime import datetime


def parse_start(value: str) -> int:
    """``now`` or an RFC 3339 timestamp -> epoch ms."""
    from inventory.core.times import to_ms

    if value == "now":
        return int(time.time() * 1000)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an RFC 3339 timestamp: {value!r}") from None
    if parsed.tzinfo is None:
        raise argparse.ArgumentTypeError("the start timestamp needs a UTC offset")
    return to_ms(parsed)


def share(value: str) -> float:
    """A fraction between 0 and 1 (e.g. of malformed events)."""
    try:
        fraction = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if not 0.0 <= fraction <= 1.0:
        raise argparse.ArgumentTypeError("a share is between 0 and 1")
    return fraction


def positive(value: str) -> int:
    """An integer >= 1."""
    number = _integer(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {number}")
    return number


def non_negative(value: str) -> int:
    """An integer >= 0."""
    number = _integer(value)
    if number < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {number}")
    return number


def positive_float(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if not number > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, got {value}")
    return number


def log_level(value: str) -> str:
    """A logging level name, case-insensitive."""
    level = value.upper()
    if level not in LOG_LEVELS:
        raise argparse.ArgumentTypeError(f"one of {', '.join(LOG_LEVELS)}, not {value!r}")
    return level


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def _integer(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {value!r}") from None
