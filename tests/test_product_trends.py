"""Daily product trends (refreshable MV) against a computation from the model."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

import pytest

from inventory.models import to_ms
from inventory.runner import run_inventory
from tests.test_pipeline_integration import produce_and_expect

pytestmark = pytest.mark.integration
DAY = 86_400_000


def test_trends_days_of_cover_and_abc(settings: Any, ch: Any) -> None:
    expected, _ = produce_and_expect(settings, ch)
    run_inventory(settings, settings.kafka_brokers or "", exit_at_end=True)
    ch.command("SYSTEM REFRESH VIEW product_trends")
    ch.command("SYSTEM WAIT VIEW product_trends")
    rows = {
        (r[0], r[1]): r[2:]
        for r in ch.query(
            "SELECT warehouse_id, sku, on_hand, units_7d, units_28d, revenue_28d, "
            "days_of_cover, abc_class FROM product_trends"
        ).result_rows
    }

    sales = [e for e in expected.accepted.values() if e.event_type == "sale"]
    last_day = max(to_ms(e.occurred_at) // DAY for e in sales)
    units: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for e in sales:
        age = last_day - to_ms(e.occurred_at) // DAY
        acc = units[(e.warehouse_id, e.sku)]
        acc[0] += e.quantity if age < 7 else 0
        acc[1] += e.quantity if age < 28 else 0
        acc[2] += e.quantity * round((e.unit_price or 0) * 10_000) if age < 28 else 0
    assert set(rows) == set(expected.stock) | set(units)
    for key, (on_hand, u7, u28, revenue, cover, _) in rows.items():
        want = units.get(key, [0, 0, 0])
        assert (on_hand, u7, u28, revenue) == (
            expected.stock[key][0],
            want[0],
            want[1],
            Decimal(want[2]).scaleb(-4),
        )
        if u7 == 0:
            assert cover is None
        else:
            assert cover == pytest.approx(max(on_hand, 0) / (u7 / 7))

    # ABC: SKUs by 28-day revenue, A covers the first 80 %, B the next 15 %
    by_sku: dict[str, int] = defaultdict(int)
    for (_, sku), acc in units.items():
        by_sku[sku] += acc[2]
    total, before, classes = sum(by_sku.values()), 0, {}
    for sku, revenue in sorted(by_sku.items(), key=lambda kv: (-kv[1], kv[0])):
        classes[sku] = (
            "C"
            if revenue <= 0
            else "A"
            if before < 0.8 * total
            else "B"
            if before < 0.95 * total
            else "C"
        )
        before += revenue
    assert {sku: r[5] for (_, sku), r in rows.items() if sku in classes} == classes
    assert {"A", "B", "C"} <= set(classes.values())
