"""Every example query in inventory/clickhouse/sql/analyst/ runs on generated data with
sensible rows."""

from __future__ import annotations

from typing import Any

import pytest

from inventory.app.run import run_inventory
from tests.support.paths import ROOT
from tests.support.pipeline import produce_and_expect

ANALYST_DIR = ROOT / "inventory" / "clickhouse" / "sql" / "analyst"


@pytest.fixture
def loaded(settings: Any, ch: Any) -> Any:
    expected, _ = produce_and_expect(settings, ch)
    run_inventory(settings, settings.kafka_brokers or "", exit_at_end=True)
    for view in ("stock_reconciliation", "product_trends"):
        ch.command(f"SYSTEM REFRESH VIEW {view}")
        ch.command(f"SYSTEM WAIT VIEW {view}")
    return ch, expected


def run(ch: Any, name: str) -> list[dict[str, Any]]:
    result = ch.query((ANALYST_DIR / name).read_text())
    return [dict(zip(result.column_names, row, strict=True)) for row in result.result_rows]


def test_every_example_is_covered() -> None:
    assert {p.name for p in ANALYST_DIR.glob("*.sql")} == {
        "top_sellers.sql",
        "slow_movers.sql",
        "stockout_history.sql",
        "sales_velocity_trend.sql",
        "stockout_forecast.sql",
        "hold_conversion.sql",  # on the flow's decisions: tests/db/test_hold_queries.py
    }


def test_examples_return_sensible_rows(loaded: Any) -> None:
    ch, expected = loaded
    top = run(ch, "top_sellers.sql")
    assert len(top) == 10 and top[0]["units"] >= top[-1]["units"] > 0
    assert all(r["orders"] <= r["units"] for r in top)

    slow = run(ch, "slow_movers.sql")
    assert slow and all(r["on_hand"] > 0 and r["units_28d"] <= 4 for r in slow)

    history = run(ch, "stockout_history.sql")
    outs = sum(1 for a in expected.alerts.values() for x in a if x[0] == "out_of_stock")
    assert len(history) == outs > 0
    assert all(r["back_at"] is None or r["back_at"] >= r["out_at"] for r in history)
    assert any(r["back_at"] is not None for r in history)

    trend = run(ch, "sales_velocity_trend.sql")
    assert trend and all(r["units"] > 0 and r["moving_avg_7d"] > 0 for r in trend)

    forecast = run(ch, "stockout_forecast.sql")
    assert forecast
    covers = [r["days_of_cover"] for r in forecast]
    assert covers == sorted(covers)
    assert all(r["on_hand"] > 0 and r["stockout_date"] is not None for r in forecast)


def test_analyst_views_match_the_tables(loaded: Any) -> None:
    ch, expected = loaded
    current = ch.query(
        "SELECT warehouse_id, sku, on_hand, status, low_stock_threshold FROM current_stock"
    ).result_rows
    assert {(r[0], r[1]): r[2] for r in current} == {k: v[0] for k, v in expected.stock.items()}
    for _, _, on_hand, status, threshold in current:
        assert status == ("out" if on_hand <= 0 else "low" if on_hand <= threshold else "ok")
    assert (
        ch.query("SELECT sum(units_sold) FROM daily_sales").result_rows
        == ch.query("SELECT sum(units_sold) FROM hourly_sales").result_rows
        == ch.query("SELECT sum(units_sold) FROM minute_sales").result_rows
    )
    assert ch.query("SELECT count() FROM alert_log").result_rows[0][0] == sum(
        len(a) for a in expected.alerts.values()
    )
