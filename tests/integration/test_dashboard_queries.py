"""Dashboards and alert rules: generated files current, every query runs on real output.

The integration test runs the pipeline on the generated stream (real broker, chDB), then
executes every panel, variable and alert-rule query with Grafana's macros and variables
expanded, and checks the columns each panel reads.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from inventory.app.run import run_inventory
from inventory.cli.main import main
from inventory.dashboards import render
from inventory.dashboards.macros import ALL, QueryContext
from inventory.dashboards.query import QuerySpec
from inventory.dashboards.verify import run_query
from tests.support.paths import ROOT
from tests.support.pipeline import produce_and_expect

GRAFANA = ROOT / "grafana"
NUMERIC = ("Int", "UInt", "Float", "Decimal")


@pytest.fixture
def loaded(settings: Any, ch: Any) -> Any:
    produce_and_expect(settings, ch)
    run_inventory(settings, settings.kafka_brokers or "", exit_at_end=True)
    for view in ("stock_reconciliation", "stockout_daily", "product_trends"):
        ch.command(f"SYSTEM REFRESH VIEW {view}")
        ch.command(f"SYSTEM WAIT VIEW {view}")
    return ch


def context(ch: Any, database: str, warehouse: Any) -> QueryContext:
    warehouses = [
        r[0] for r in ch.query("SELECT DISTINCT warehouse_id FROM stock_levels").result_rows
    ]
    sku = ch.query(
        "SELECT sku FROM events FINAL GROUP BY sku ORDER BY count() DESC, sku LIMIT 1"
    ).result_rows[0][0]
    first = ch.query("SELECT toUnixTimestamp(min(occurred_at)) FROM events").result_rows[0][0]
    return QueryContext(
        time_from=datetime.fromtimestamp(first, UTC) - timedelta(days=1),
        time_to=datetime.now(UTC) + timedelta(hours=1),
        interval_seconds=60,
        variables={"database": database, "warehouse": warehouse, "sku": sku, "few_left": "5"},
        options={"warehouse": warehouses},
    )


def check(ch: Any, spec: QuerySpec, ctx: QueryContext) -> list[tuple[Any, ...]]:
    outcome = run_query(ch, spec, ctx)
    assert not outcome.error, f"{spec.where}: {outcome.error}"
    assert outcome.columns == spec.columns, spec.where
    if not spec.may_be_empty:
        assert outcome.rows, f"{spec.where}: no rows on generated data"
    if spec.format == "timeseries":
        assert outcome.columns[0] == "time"
        assert outcome.types[0].startswith("DateTime"), spec.where
        assert any(t.startswith(NUMERIC) for t in outcome.types[1:]), spec.where
    return outcome.rows


def test_every_query_runs_on_pipeline_output(loaded: Any, settings: Any) -> None:
    database = settings.clickhouse_database
    specs = render.all_queries(database)
    assert len(specs) >= 25
    everywhere = context(loaded, database, ALL)
    for spec in specs:
        check(loaded, spec, everywhere)

    # One warehouse picked: the IN (...) branch of $__conditionalAll.
    one = everywhere.options["warehouse"][0]
    picked = context(loaded, database, [one])
    stock = next(s for s in specs if s.where == "Current stock")
    rows = check(loaded, stock, picked)
    assert {row[0] for row in rows} == {one}


def test_the_dashboard_tells_only_n_left_as_the_api_does(loaded: Any, settings: Any) -> None:
    """One rule (docs/semantics.md): the live board's availability column, run on
    ClickHouse, says for every key what the API's rules say for its units."""
    from inventory.availability.rules import available, display_message

    spec = next(s for s in render.all_queries() if s.where == "Current stock")
    ctx = context(loaded, settings.clickhouse_database, ALL)
    held = {
        (r[0], r[1]): r[2:]
        for r in loaded.query(
            "SELECT warehouse_id, sku, on_hand, reserved FROM stock_levels FINAL"
        ).result_rows
    }
    rows = check(loaded, spec, ctx)
    column = spec.columns.index("availability")
    assert rows and len(rows) == min(len(held), 500)
    messages = set()
    for row in rows:
        on_hand, reserved = held[(row[0], row[1])]
        assert row[column] == display_message(available(on_hand, reserved), 5), row
        messages.add(row[column].split(" ")[0])
    assert {"Out", "Only", "In"} <= messages, messages


def test_stock_over_time_ends_at_current_stock(loaded: Any, settings: Any) -> None:
    spec = next(s for s in render.all_queries() if s.where == "Stock over time")
    ctx = context(loaded, settings.clickhouse_database, ALL)
    rows = check(loaded, spec, ctx)
    last = {warehouse: on_hand for _, warehouse, on_hand in rows}
    sku = ctx.variables["sku"]
    current = dict(
        loaded.query(
            "SELECT warehouse_id, on_hand FROM stock_levels FINAL WHERE sku = {sku:String}",
            parameters={"sku": sku},
        ).result_rows
    )
    assert last == current


def test_cli_verify_runs_every_query(
    loaded: Any,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("INVENTORY_CLICKHOUSE_URL", settings.clickhouse_url.get_secret_value())
    monkeypatch.setenv("INVENTORY_CLICKHOUSE_DATABASE", settings.clickhouse_database)
    assert main(["dashboards", "verify", "--days", "3650"]) == 0
    total = len(render.all_queries())
    assert f"{total} of {total} queries ok" in capsys.readouterr().out

    # A view the dashboards read disappears: verify names the broken queries and fails.
    loaded.command("DROP VIEW minute_sales")
    assert main(["dashboards", "verify"]) == 1
    out = capsys.readouterr().out
    assert "Sales rate" in out and f"{total - 1} of {total} queries ok" in out
