"""Daily product trends (refreshable MV) against a computation from the model."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

import pytest

from inventory.app.run import run_inventory
from inventory.core.times import to_ms
from sinks.clickhouse import EVENT_COLUMNS
from tests.support.pipeline import produce_and_expect

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


def refreshed(ch: Any, view: str) -> None:
    ch.command(f"SYSTEM REFRESH VIEW {view}")
    ch.command(f"SYSTEM WAIT VIEW {view}")


def test_stockout_minutes_per_day_by_hand(ch: Any) -> None:
    m, t = 60_000, 1_795_000_000_000 - 1_795_000_000_000 % DAY  # midnight UTC
    rows = [
        ("a", "count", 2, 0, t + 10 * m),  # 2
        ("b", "sale", 2, -2, t + 20 * m),  # 0: out from 00:20 ...
        ("c", "restock", 5, 5, t + 50 * m),  # ... to 00:50 (30 min)
        ("d", "sale", 5, -5, t + DAY - 30 * m),  # 0 from 23:30 (30 min today) ...
        ("e", "count", 4, 0, t + DAY + 60 * m),  # ... to 01:00 tomorrow (60 min)
        ("f", "sale", 4, -4, t + DAY + 120 * m),  # 0 at 02:00 and at once
        ("g", "return", 1, 1, t + DAY + 120 * m),  # 1 (same ms: no time out)
        ("h", "adjustment", -1, -1, t + DAY + 180 * m),  # 0 from 03:00 ...
        ("i", "restock", 1, 1, t + DAY + 210 * m),  # ... to 03:30 (30 min)
    ]
    ch.insert(
        "events",
        [(eid, kind, "S", "W", q, d, None, None, ms, ms) for eid, kind, q, d, ms in rows],
        column_names=list(EVENT_COLUMNS[:10]),
    )
    refreshed(ch, "stockout_daily")
    assert ch.query(
        "SELECT toUnixTimestamp(day) * 1000, stockout_minutes FROM stockout_daily"
    ).result_rows == [(t, 60.0), (t + DAY, 90.0)]


def test_stockout_minutes_equal_an_independent_timeline(settings: Any, ch: Any) -> None:
    expected, _ = produce_and_expect(settings, ch)
    run_inventory(settings, settings.kafka_brokers or "", exit_at_end=True)
    refreshed(ch, "stockout_daily")
    refreshed(ch, "product_trends")
    events = list(expected.accepted.values())
    end = max(to_ms(e.occurred_at) for e in events)
    want: dict[tuple[str, str, int], float] = defaultdict(float)
    by_key: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for e in events:
        by_key[(e.warehouse_id, e.sku)].append(e)
    for key, evs in by_key.items():
        evs.sort(key=lambda e: (to_ms(e.occurred_at), e.event_type == "count", e.event_id))
        level, times = 0, [to_ms(e.occurred_at) for e in evs] + [end]
        for i, e in enumerate(evs):
            level = (
                e.quantity
                if e.event_type == "count"
                else level + (-e.quantity if e.event_type == "sale" else e.quantity)
            )
            start, stop = times[i], times[i + 1]
            while level <= 0 and start < stop:  # split at midnight
                day = start - start % DAY
                cut = min(stop, day + DAY)
                want[(key[0], key[1], day)] += (cut - start) / 60_000
                start = cut
    got = {
        (r[0], r[1], r[2]): r[3]
        for r in ch.query(
            "SELECT warehouse_id, sku, toUnixTimestamp(day) * 1000, stockout_minutes "
            "FROM stockout_daily"
        ).result_rows
    }
    assert got and got.keys() == {k for k, v in want.items() if v > 0}
    for k, v in got.items():
        assert v == pytest.approx(want[k])
    trends = ch.query(
        "SELECT sum(stockout_minutes_28d), sum(stockout_days_28d) FROM product_trends"
    ).result_rows[0]
    assert trends[0] == pytest.approx(sum(want.values()))
    assert trends[1] == len(got)
