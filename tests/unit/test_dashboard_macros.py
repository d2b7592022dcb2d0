"""Grafana macro and variable expansion matches the ClickHouse plugin's text."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from inventory.cli.main import main
from inventory.core.settings import Settings, SettingsError, load_settings
from inventory.dashboards import render
from inventory.dashboards.macros import ALL, MacroError, QueryContext, expand

FROM = datetime(2026, 11, 24, 9, 0, 0, 250000, tzinfo=UTC)
TO = datetime(2026, 11, 24, 10, 30, 0, tzinfo=UTC)
CTX = QueryContext(
    time_from=FROM,
    time_to=TO,
    interval_seconds=30,
    variables={
        "database": "inventory",
        "warehouse": ["WH-1", "O'Hare"],
        "sku": "A'1",
        "few_left": "5",
    },
    options={"warehouse": ["WH-1", "WH-2", "O'Hare"]},
)


def test_time_macros_expand_like_the_plugin() -> None:
    assert expand("$__timeFilter(ts)", CTX) == (
        "ts >= toDateTime(1795510800) AND ts <= toDateTime(1795516200)"
    )
    assert expand("$__timeFilter_ms(ts)", CTX) == (
        "ts >= fromUnixTimestamp64Milli(1795510800250) AND ts <= fromUnixTimestamp64Milli("
        "1795516200000)"
    )
    assert (
        expand("$__dateFilter(d)", CTX) == "d >= toDate('2026-11-24') AND d <= toDate('2026-11-24')"
    )
    assert expand("$__fromTime, $__toTime_ms", CTX) == (
        "toDateTime(1795510800), fromUnixTimestamp64Milli(1795516200000)"
    )
    assert expand("$__timeInterval(ts) / $__interval_s", CTX) == (
        "toStartOfInterval(toDateTime(ts), INTERVAL 30 second) / 30"
    )
    sub_second = QueryContext(FROM, TO, interval_seconds=0.2, variables={})
    assert expand("$__interval_s", sub_second) == "1"
    assert expand("$__dt(d, t)", CTX).startswith("(d >= toDate('2026-11-24')")


def test_variables_and_conditional_all() -> None:
    sql = "WHERE $__conditionalAll(warehouse_id IN (${warehouse:singlequote}), $warehouse)"
    assert expand(sql, CTX) == "WHERE warehouse_id IN ('WH-1','O\\'Hare')"
    every = QueryContext(FROM, TO, variables={"warehouse": ALL}, options={"warehouse": ["a"]})
    assert expand(sql, every) == "WHERE 1=1"
    assert expand("${sku:sqlstring} ${database}.t $database", CTX) == (
        "'A''1' inventory.t inventory"
    )


@pytest.mark.parametrize(
    ("sql", "problem"),
    [
        ("$__timeFiltr(ts)", "unknown macro"),
        ("$nope", "unknown template variable"),
        ("$__timeFilter(a, b)", "takes 1 argument"),
        ("${warehouse}", "give it a format"),
        ("${sku:glob}", "unsupported variable format"),
        ("$__timeFilter(ts", "unbalanced"),
    ],
)
def test_mistakes_are_errors(sql: str, problem: str) -> None:
    with pytest.raises(MacroError, match=problem):
        expand(sql, CTX)


def test_expanded_sql_is_what_clickhouse_accepts() -> None:
    """Every panel's SQL expands without leftovers (the integration test runs it)."""
    for spec in render.all_queries():
        assert "$" not in expand(spec.sql, CTX), spec.where


def test_cli_generate_check(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dashboards", "generate", "--check"]) == 0


def test_provisioning_matches_the_readonly_user() -> None:
    grafana = Path(render.grafana_dir())
    datasource = yaml.safe_load((grafana / render.DATASOURCE_FILE).read_text())["datasources"][0]
    assert datasource["uid"] == "inventory-clickhouse"
    assert datasource["type"] == "grafana-clickhouse-datasource"
    assert datasource["secureJsonData"]["password"] == "${GRAFANA_CLICKHOUSE_PASSWORD}"

    users = ET.parse(grafana / "clickhouse" / "grafana-reader.xml").getroot()
    user = users.find(f"users/{datasource['jsonData']['username']}")
    assert user is not None, "the datasource's user is not defined for ClickHouse"
    assert user.find("password").get("from_env") == "GRAFANA_CLICKHOUSE_PASSWORD"  # type: ignore[union-attr]
    profile = users.find(f"profiles/{user.findtext('profile')}")
    assert profile is not None and profile.findtext("readonly") == "1"
    grants = [q.text for q in user.findall("grants/query")]
    assert grants == [f"GRANT SELECT ON {datasource['jsonData']['defaultDatabase']}.*"]

    provider = yaml.safe_load((grafana / render.PROVIDER_FILE).read_text())["providers"][0]
    assert provider["options"]["path"] == render.DASHBOARDS_MOUNT


def test_grafana_settings_fail_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INVENTORY_GRAFANA_URL", "grafana:3000")
    with pytest.raises(SettingsError, match="INVENTORY_GRAFANA_URL"):
        load_settings(_env_file=None)
    monkeypatch.setenv("INVENTORY_GRAFANA_URL", "http://admin:pw@grafana:3000")
    shown = Settings(_env_file=None).safe_summary()  # type: ignore[call-arg]
    assert shown["grafana_url"] == "http://admin:***@grafana:3000"
