"""Stable reason codes for dead letters, derived from the human reason.

The ``error`` text of a dead letter says exactly which rule a message broke
(docs/semantics.md, "Decoding"); the code groups them for counting (metrics, dashboards)
and never changes when a message's wording does.
"""

from __future__ import annotations

# (prefix of the reason, code), first match wins
_PREFIXES: tuple[tuple[str, str], ...] = (
    ("late:", "late"),
    ("rejected by ClickHouse", "rejected"),
    ("empty message", "empty"),
    ("message larger than", "too_large"),
    ("invalid JSON", "invalid_json"),
    ("event must be a JSON object", "not_object"),
    ("missing field", "missing_field"),
    ("event_id ", "bad_event_id"),
    ("event_type ", "bad_event_type"),
    ("sku ", "bad_sku"),
    ("warehouse_id ", "bad_warehouse_id"),
    ("quantity ", "bad_quantity"),
    ("occurred_at is before", "absurd_time"),
    ("occurred_at is not before", "absurd_time"),
    ("occurred_at is too far after", "absurd_time"),
    ("occurred_at ", "bad_occurred_at"),
    ("unit_price ", "bad_unit_price"),
    ("order_id ", "bad_order_id"),
    ("reservation_id ", "bad_reservation_id"),
    ("expires_at ", "bad_expires_at"),
    ("po_id ", "bad_po_id"),
    ("undecodable event", "undecodable"),
)
REASON_CODES = (*dict.fromkeys(code for _, code in _PREFIXES), "other")


def reason_code(error: str) -> str:
    """The code of a dead letter's reason (``other`` for an unknown one)."""
    for prefix, code in _PREFIXES:
        if error.startswith(prefix):
            return code
    return "other"
