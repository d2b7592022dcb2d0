"""Planned promotions in the ``promotions`` table (contract: docs/contracts.md): what
``inventory forecast`` expects of demand while a promotion runs."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from clickhouse_connect.driver.client import Client

COLUMNS = ["promotion_id", "sku", "warehouse_id", "starts_at", "ends_at", "uplift"]


@dataclass(frozen=True)
class PromotionEntry:
    promotion_id: str
    sku: str
    starts_ms: int
    ends_ms: int  # exclusive
    uplift: float  # expected demand multiplier
    warehouse_id: str = ""  # '': every warehouse


def write_promotions(client: Client, database: str, entries: Iterable[PromotionEntry]) -> int:
    """Upsert promotions (latest write wins per sku, warehouse and id); how many."""
    rows = [
        (
            e.promotion_id,
            e.sku,
            e.warehouse_id,
            datetime.fromtimestamp(e.starts_ms / 1000, UTC),
            datetime.fromtimestamp(e.ends_ms / 1000, UTC),
            e.uplift,
        )
        for e in entries
    ]
    if rows:
        client.insert("promotions", rows, column_names=COLUMNS, database=database)
    return len(rows)
