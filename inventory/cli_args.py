"""Argument types shared by the CLI's commands (they raise ``ArgumentTypeError``)."""

from __future__ import annotations

import argparse
import time
from datetime import datetime


def parse_start(value: str) -> int:
    """``now`` or an RFC 3339 timestamp -> epoch ms."""
    from inventory.models import to_ms

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
    fraction = float(value)
    if not 0.0 <= fraction <= 1.0:
        raise argparse.ArgumentTypeError("a share is between 0 and 1")
    return fraction
