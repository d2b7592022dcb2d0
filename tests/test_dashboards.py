"""Dashboards and alert rules: generated files current, every query runs on real output.

The integration test runs the pipeline on the generated stream (real broker, chDB), then
executes every panel, variable and alert-rule query with Grafana's macros and variables
expanded, and checks the columns each panel reads.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from inventory.app.run import run_inventory
from inventory.cli.main import main
from inventory.dashboards import render
from inventory.dashboards.datasource import PROMETHEUS_UID
from inventory.dashboards.macros import ALL, QueryContext
from inventory.dashboards.query import DATASOURCE_UID, PLUGIN_ID, QuerySpec
from inventory.dashboards.verify import run_query
from tests.test_pipeline_integration import produce_and_expect

GRAFANA = Path(__file__).resolve().parent.parent / "grafana"
NUMERIC = ("Int", "UInt", "Float", "Decimal")


def dashboards() -> dict[str, dict[str, Any]]:
    return {p.stem: json.loads(p.read_text()) for p in (GRAFANA / "dashboards").glob("*.json")}


def test_generated_files_are_up_to_date() -> None:
    stale = render.stale()
    assert not stale, f"run `inventory dashboards generate`; stale: {stale}"
    assert set(dashboards()) == set(render.BOARDS)


def test_every_query_in_the_files_is_a_checked_query() -> None:
    checked = {spec.sql for spec in render.all_queries()}
    seen = set()
    for uid, board in dashboards().items():
        assert board["uid"] == uid
        for variable in board["templating"]["list"]:
            if variable["type"] == "query":
                assert variable["datasource"]["uid"] == DATASOURCE_UID
                seen.add(variable["query"])
        ids = [panel["id"] for panel in board["panels"]]
        assert len(ids) == len(set(ids)), f"{uid}: duplicate panel ids"
        for panel in board["panels"]:
            if panel["type"] == "row":
                continue
            assert panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24
            if panel["datasource"]["type"] == "prometheus":  # checked by the next test
                assert panel["datasource"]["uid"] == PROMETHEUS_UID
                continue
            assert panel["datasource"] == {"type": PLUGIN_ID, "uid": DATASOURCE_UID}
            for target in panel["targets"]:
                assert target["datasource"]["uid"] == DATASOURCE_UID
                assert target["editorType"] == "sql"
                seen.add(target["rawSql"])
    alerting = yaml.safe_load((GRAFANA / render.ALERTS_FILE).read_text())
    for rule in alerting["groups"][0]["rules"]:
        query = rule["data"][0]
        assert query["datasourceUid"] == DATASOURCE_UID
        seen.add(query["model"]["rawSql"])
    assert seen == checked


def test_prometheus_panels_query_only_metrics_the_dataflow_exports() -> None:
    """Every PromQL expression names metrics of inventory.runtime.metrics (a typo would draw an
    empty panel); the panels the issue asks for are there."""
    from prometheus_client import REGISTRY

    import inventory.runtime.metrics  # noqa: F401 (registers the metrics)

    suffixes = {"counter": ("_total",), "gauge": ("",), "histogram": ("_bucket", "_sum", "_count")}
    exported = {
        metric.name + suffix
        for metric in REGISTRY.collect()
        if metric.name.startswith("inventory_")
        for suffix in suffixes[metric.type]
    }
    health = dashboards()["inventory-pipeline"]
    exprs = [
        target["expr"]
        for panel in health["panels"]
        if panel.get("datasource", {}).get("type") == "prometheus"
        for target in panel["targets"]
    ]
    assert exprs == render.BOARDS["inventory-pipeline"]().promql_log
    used = {name for expr in exprs for name in re.findall(r"inventory_[a-z_]+", expr)}
    assert used and used <= exported, used - exported
    titles = {
        p["title"] for p in health["panels"] if p.get("datasource", {}).get("type") == "prometheus"
    }
    assert titles == {
        "Consumer lag",
        "Throughput",
        "Dead-letter rate by reason",
        "ClickHouse insert latency",
    }


def test_live_stock_refreshes_every_5_seconds_and_panels_cover_the_issue() -> None:
    boards = dashboards()
    assert boards["inventory-live-stock"]["refresh"] == "5s"
    titles = {uid: {p["title"] for p in b["panels"]} for uid, b in boards.items()}
    assert {"Current stock", "Stock over time: $sku", "Sales rate (units per minute)"} <= titles[
        "inventory-live-stock"
    ]
    assert {"Latest alerts", "Dead letters"} <= titles["inventory-live-stock"]
    assert {
        "Daily sales",
        "Top movers",
        "Slow movers",
        "Days of cover",
        "Stockout minutes per day",
        "Reconciliation",
    } <= titles["inventory-trends"]
    assert {
        "Events ingested per second",
        "Event-to-ingest lag",
        "Dead letters by reason",
    } <= titles["inventory-pipeline"]


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


@pytest.mark.integration
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


@pytest.mark.integration
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


@pytest.mark.integration
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


@pytest.mark.integration
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


def test_alerting_reaches_the_contact_point_in_the_dashboards_folder() -> None:
    """One "Inventory" folder: rules and dashboards both name it by title (file
    provisioning of rule groups has no folder uid; see render.provider_document). Every
    alert is routed to the webhook contact point whose URL comes from Grafana's
    environment; the critical route matches a label the rules carry."""
    provisioning = GRAFANA / "provisioning"
    provider = yaml.safe_load((provisioning / "dashboards" / "inventory.yaml").read_text())
    (source,) = provider["providers"]
    assert source["folder"] == "Inventory" and "folderUid" not in source
    rules = yaml.safe_load((GRAFANA / render.ALERTS_FILE).read_text())
    assert {group["folder"] for group in rules["groups"]} == {"Inventory"}
    points = yaml.safe_load((GRAFANA / render.CONTACT_POINTS_FILE).read_text())
    (point,) = points["contactPoints"]
    (receiver,) = point["receivers"]
    assert receiver["type"] == "webhook"
    assert receiver["settings"]["url"] == "$GRAFANA_ALERT_WEBHOOK_URL"
    policies = yaml.safe_load((GRAFANA / render.POLICIES_FILE).read_text())
    (tree,) = policies["policies"]
    assert tree["receiver"] == point["name"]
    assert all(route["receiver"] == point["name"] for route in tree["routes"])
    severities = {rule["labels"]["severity"] for rule in rules["groups"][0]["rules"]}
    matched = {m[2] for route in tree["routes"] for m in route["object_matchers"]}
    assert matched <= severities and "critical" in severities
    compose = yaml.safe_load((GRAFANA.parent / "compose.yaml").read_text())
    assert "GRAFANA_ALERT_WEBHOOK_URL" in compose["services"]["grafana"]["environment"]
