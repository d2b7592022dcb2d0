"""`inventory dashboards publish` against a local HTTP server that records the API calls.

The server keeps Grafana's state (datasources, folders, dashboards, rule groups) in
memory and answers like Grafana's HTTP API, so create-then-update is exercised.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from pydantic import SecretStr

from inventory.cli.main import main
from inventory.core.settings import Settings, SettingsError
from inventory.dashboards.publish import PublishError, publish

TOKEN = "glsa_test_token"
PASSWORD = "s3cret-pw"


class FakeGrafana:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, Any, str]] = []
        self.datasources: dict[str, Any] = {}
        self.folders: dict[str, Any] = {}
        self.dashboards: dict[str, Any] = {}
        self.rule_groups: dict[str, Any] = {}
        self.contact_points: dict[str, Any] = {}
        self.policies: Any = None
        self.health_status = 200
        self.datasource_health = {"status": "OK", "message": "Data source is working"}

    def handle(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        if path == "/api/health":
            return self.health_status, {"database": "ok", "version": "12.3.1"}
        if path.startswith("/api/datasources/uid/") and path.endswith("/health"):
            return 200, self.datasource_health
        if path.startswith("/api/datasources/uid/"):
            uid = path.rsplit("/", 1)[1]
            if method == "GET":
                found = self.datasources.get(uid)
                return (200, found) if found else (404, {"message": "Data source not found"})
            self.datasources[uid] = body
            return 200, {"message": "Datasource updated", "datasource": body}
        if path == "/api/datasources" and method == "POST":
            self.datasources[body["uid"]] = body
            return 200, {"message": "Datasource added", "datasource": body}
        if path.startswith("/api/folders/") and method == "GET":
            uid = path.rsplit("/", 1)[1]
            found = self.folders.get(uid)
            return (200, found) if found else (404, {"message": "folder not found"})
        if path == "/api/folders" and method == "POST":
            self.folders[body["uid"]] = body
            return 200, body
        if path == "/api/dashboards/db" and method == "POST":
            uid = body["dashboard"]["uid"]
            self.dashboards[uid] = body
            return 200, {"status": "success", "uid": uid, "version": 1}
        if path.startswith("/api/v1/provisioning/folder/") and method == "PUT":
            self.rule_groups[path] = body
            return 200, body
        if path == "/api/v1/provisioning/contact-points" and method == "GET":
            return 200, list(self.contact_points.values())
        if path == "/api/v1/provisioning/contact-points" and method == "POST":
            self.contact_points[body["uid"]] = body
            return 202, body
        if path.startswith("/api/v1/provisioning/contact-points/") and method == "PUT":
            self.contact_points[path.rsplit("/", 1)[1]] = body
            return 202, {"message": "contactpoint updated"}
        if path == "/api/v1/provisioning/policies" and method == "PUT":
            self.policies = body
            return 202, {"message": "policies updated"}
        return 404, {"message": f"no route {method} {path}"}


@pytest.fixture
def grafana() -> Iterator[tuple[FakeGrafana, str]]:
    state = FakeGrafana()

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            path = self.path.split("?", 1)[0]
            state.calls.append((self.command, path, body, self.headers.get("Authorization", "")))
            status, answer = state.handle(self.command, path, body)
            payload = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = _serve  # noqa: N815 (http.server names)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def grafana_settings(make_settings: Callable[..., Settings], grafana: Any) -> Settings:
    _, url = grafana
    return make_settings(
        grafana_url=url,
        grafana_token=TOKEN,
        grafana_datasource_url=f"clickhouse://grafana:{PASSWORD}@ch.internal:9000/inventory",
        clickhouse_database="shop",
    )


def test_publish_creates_then_updates(grafana: Any, grafana_settings: Settings) -> None:
    state, _ = grafana
    first = publish(grafana_settings)
    assert first.datasource == "created"
    assert first.grafana_version == "12.3.1"
    assert sorted(first.dashboards) == [
        "inventory-live-stock",
        "inventory-pipeline",
        "inventory-trends",
    ]
    assert first.alert_rules == 5
    assert all(auth == f"Bearer {TOKEN}" for *_, auth in state.calls)
    steps = [(method, path) for method, path, *_ in state.calls]
    assert steps[0] == ("GET", "/api/health")
    assert ("POST", "/api/datasources") in steps
    assert ("POST", "/api/folders") in steps
    assert steps[-1] == ("PUT", "/api/v1/provisioning/folder/inventory/rule-groups/inventory")

    datasource = state.datasources["inventory-clickhouse"]
    assert datasource["type"] == "grafana-clickhouse-datasource"
    assert datasource["jsonData"]["host"] == "ch.internal"
    assert datasource["jsonData"]["protocol"] == "native"
    assert datasource["jsonData"]["username"] == "grafana"
    assert datasource["secureJsonData"]["password"] == PASSWORD

    for body in state.dashboards.values():
        assert body["overwrite"] is True
        assert body["folderUid"] == "inventory"
        constant = next(
            v for v in body["dashboard"]["templating"]["list"] if v["name"] == "database"
        )
        assert constant["query"] == "shop"
    (group,) = state.rule_groups.values()
    assert len(group["rules"]) == 5
    for rule in group["rules"]:
        assert "FROM shop." in rule["data"][0]["model"]["rawSql"]
        assert rule["folderUID"] == "inventory"

    assert first.contact_point.startswith("skipped")  # no webhook URL configured
    assert state.contact_points == {}

    state.calls.clear()
    second = publish(grafana_settings)
    assert second.datasource == "updated"
    steps = [(method, path) for method, path, *_ in state.calls]
    assert ("PUT", "/api/datasources/uid/inventory-clickhouse") in steps
    assert ("POST", "/api/folders") not in steps
    assert len(state.dashboards) == 3


def test_unhealthy_grafana_stops_before_any_change(
    grafana: Any, grafana_settings: Settings
) -> None:
    state, _ = grafana
    state.health_status = 503
    with pytest.raises(PublishError, match="Grafana health"):
        publish(grafana_settings)
    assert [(m, p) for m, p, *_ in state.calls] == [("GET", "/api/health")]


def test_datasource_that_cannot_reach_clickhouse_fails(
    grafana: Any, grafana_settings: Settings
) -> None:
    state, _ = grafana
    state.datasource_health = {"status": "ERROR", "message": "dial tcp: connection refused"}
    with pytest.raises(PublishError, match="connection refused"):
        publish(grafana_settings)
    assert not state.dashboards


def test_publish_needs_the_datasource_url(make_settings: Callable[..., Settings]) -> None:
    with pytest.raises(SettingsError, match="INVENTORY_GRAFANA_DATASOURCE_URL"):
        publish(make_settings())


def test_cli_publish_never_prints_secrets(
    grafana: Any,
    grafana_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, url = grafana
    monkeypatch.setenv("INVENTORY_GRAFANA_URL", url)
    monkeypatch.setenv("INVENTORY_GRAFANA_TOKEN", TOKEN)
    monkeypatch.setenv(
        "INVENTORY_GRAFANA_DATASOURCE_URL", f"http://grafana:{PASSWORD}@ch.internal:8123/"
    )
    assert main(["--log-level", "DEBUG", "dashboards", "publish"]) == 0
    out, err = capsys.readouterr()
    assert "published to Grafana 12.3.1" in out
    assert PASSWORD not in out + err
    assert TOKEN not in out + err

    monkeypatch.setenv("INVENTORY_GRAFANA_DATASOURCE_URL", "postgres://nope")
    assert main(["dashboards", "publish"]) == 2
    assert "INVENTORY_GRAFANA_DATASOURCE_URL" in capsys.readouterr().err


def test_publish_sends_the_contact_point_and_the_policy(
    grafana: Any, grafana_settings: Settings
) -> None:
    state, _ = grafana
    hook = "https://hooks.example/T000/B000/s3cret-hook"
    settings = grafana_settings.model_copy(update={"grafana_alert_webhook_url": SecretStr(hook)})
    assert publish(settings).contact_point == "created"
    point = state.contact_points["inventory-webhook"]
    assert (point["name"], point["type"], point["settings"]["url"]) == (
        "inventory-oncall",
        "webhook",
        hook,
    )
    assert state.policies["receiver"] == "inventory-oncall"
    assert state.policies["routes"][0]["object_matchers"] == [["severity", "=", "critical"]]
    assert publish(settings).contact_point == "updated"
    assert ("PUT", "/api/v1/provisioning/contact-points/inventory-webhook") in [
        (m, p) for m, p, *_ in state.calls
    ]
