"""The promotions table rows of a generated stream (``inventory generate --promotions``):
exactly the windows its demand shape promotes, over its events and the next cycle."""

from __future__ import annotations

from generators.demand import CYCLE_DAYS, DAY_MS, DemandShape
from generators.events import EventGenerator, GeneratorConfig
from inventory.app.generate import planned_promotions


def test_the_planned_promotions_are_the_shapes_windows() -> None:
    start = 1_795_000_000_000
    shape = DemandShape(promotion_share=0.5, promotion_factor=4.0, seed=3, start_ms=start)
    generator = EventGenerator(
        GeneratorConfig(seed=3, skus=20, rate=1.0, start_ms=start, shape=shape)
    )
    entries = planned_promotions(generator, 86_400 * 30)  # 30 days of events at 1/s
    end = start + (30 + CYCLE_DAYS) * DAY_MS
    assert entries and all(e.uplift == 4.0 and e.warehouse_id == "" for e in entries)
    skus = {p.sku: i for i, p in enumerate(generator.catalog.products)}
    expected = set()
    for sku, index in skus.items():
        for cycle in range(0, 3):
            window = shape.promotion_window(index, start + cycle * CYCLE_DAYS * DAY_MS)
            if window and window[1] > start and window[0] < end:
                expected.add((sku, *window))
    assert {(e.sku, e.starts_ms, e.ends_ms) for e in entries} == expected
    flat = EventGenerator(GeneratorConfig(seed=3, skus=20))
    assert planned_promotions(flat, 1000) == []
