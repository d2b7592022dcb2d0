"""The configuration files checked by the real tools they are written for: the dashboards
against Grafana's own dashboard schema (@grafana/schema through ts-json-schema-generator
and ajv, tools/grafana-schema), the ClickHouse users.d XML with xmllint. compose.yaml is
checked by Docker Compose itself in test_containers.py."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.paths import ROOT
from tests.support.tools import require_tool

SCHEMA_TOOL = ROOT / "tools" / "grafana-schema"
DASHBOARDS = sorted((ROOT / "grafana" / "dashboards").glob("*.json"))
USERS = {
    ROOT / "clickhouse" / "users.d" / "availability-reader.xml": "availability",
    ROOT / "grafana" / "clickhouse" / "grafana-reader.xml": "grafana",
}


def validate_dashboards(*files: Path) -> subprocess.CompletedProcess[str]:
    if shutil.which("node") is None or not (SCHEMA_TOOL / "node_modules").is_dir():
        require_tool("node and tools/grafana-schema/node_modules (scripts/ensure-tools) needed")
    return subprocess.run(
        ["node", str(SCHEMA_TOOL / "validate-dashboards.mjs"), *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_dashboards_match_grafanas_dashboard_schema(tmp_path: Path) -> None:
    assert len(DASHBOARDS) == 3
    result = validate_dashboards(*DASHBOARDS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count(": valid") == 3
    # the check has teeth: a wrong type where Grafana's schema has another is found
    broken = json.loads(DASHBOARDS[0].read_text())
    broken["panels"][0]["gridPos"]["w"] = "wide"
    broken["refresh"] = 5
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(broken))
    result = validate_dashboards(path)
    assert result.returncode == 1
    assert "/panels/0/gridPos/w must be number" in result.stdout


def xmllint(*args: str) -> subprocess.CompletedProcess[str]:
    if shutil.which("xmllint") is None:
        require_tool("xmllint (Debian's libxml2-utils, scripts/ensure-tools) needed")
    return subprocess.run(["xmllint", *args], capture_output=True, text=True, check=False)


@pytest.mark.parametrize("path", list(USERS), ids=lambda p: p.name)
def test_clickhouse_users_xml_is_well_formed_and_read_only(path: Path, tmp_path: Path) -> None:
    assert xmllint("--noout", str(path)).returncode == 0
    user = USERS[path]

    def xpath(expression: str) -> str:
        result = xmllint("--xpath", expression, str(path))
        assert result.returncode == 0, f"{expression}: {result.stderr}"
        return result.stdout.strip()

    assert xpath(f"string(/clickhouse/users/{user}/password/@from_env)")  # never inline
    assert xpath(f"count(/clickhouse/users/{user}/password[text()])") == "0"
    profile = xpath(f"string(/clickhouse/users/{user}/profile)")
    assert xpath(f"string(/clickhouse/profiles/{profile}/readonly)") == "1"
    assert xpath(f"string(/clickhouse/users/{user}/grants/query)") == (
        "GRANT SELECT ON inventory.*"
    )
    broken = tmp_path / path.name
    broken.write_text(path.read_text().replace("</users>", "</user>"))
    assert xmllint("--noout", str(broken)).returncode != 0
