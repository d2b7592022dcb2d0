"""A message the generators produce: Kafka key and value bytes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Message:
    key: bytes | None
    value: bytes
