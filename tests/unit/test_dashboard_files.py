"""The generated Grafana files: up to date, every query a checked one, the metrics they read
exported, the panels and the alerting the issues asked for."""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

from inventory.dashboards import render
from inventory.dashboards.datasource import PROMETHEUS_UID
from inventory.dashboards.query import DATASOURCE_UID, PLUGIN_ID
from tests.support.paths import ROOT

GRAFANA = ROOT / "grafana"


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
        "Availability API freshness",
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
