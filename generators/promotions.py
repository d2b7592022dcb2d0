"""The promotions a generated stream runs (its :class:`~generators.demand.DemandShape`'s
promotion flags) as ``promotions`` rows: what a planner would have put in the table."""

from __future__ import annotations

from collections.abc import Sequence

from generators.catalog import Product
from generators.demand import CYCLE_DAYS, DAY_MS, DemandShape
from inventory.clickhouse.promotions import PromotionEntry


def promotion_entries(
    shape: DemandShape, products: Sequence[Product], start_ms: int, end_ms: int
) -> list[PromotionEntry]:
    """Every promotion of ``products`` (by their index, as the generator draws them) with
    a cycle overlapping [start_ms, end_ms), in every warehouse, at ``promotion_factor``."""
    if not shape.promotion_share:
        return []
    cycle_ms = CYCLE_DAYS * DAY_MS
    first = (start_ms - shape.start_ms) // cycle_ms
    last = (end_ms - 1 - shape.start_ms) // cycle_ms
    out = []
    for index, product in enumerate(products):
        for cycle in range(first, last + 1):
            window = shape.promotion_window(index, shape.start_ms + cycle * cycle_ms)
            if window is not None and window[1] > start_ms and window[0] < end_ms:
                promotion_id = f"gen-{shape.seed}-{cycle}"
                out.append(
                    PromotionEntry(promotion_id, product.sku, *window, shape.promotion_factor)
                )
    return out
