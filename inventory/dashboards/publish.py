"""Publish the datasource, dashboards and alert rules to a running Grafana over its HTTP API.

For a Grafana that is not provisioned from ``grafana/`` (compose does that): the same
objects, pushed with ``grafana-client``. Idempotent: re-running updates in place (by uid).

Order: Grafana health (``/api/health``, database ok) -> ClickHouse datasource (create or
update by uid) -> datasource health (Grafana connects to ClickHouse) -> folder -> the three
dashboards (overwrite) -> the alert rule group -> with ``INVENTORY_GRAFANA_ALERT_WEBHOOK_URL``,
the "inventory-oncall" webhook contact point and the notification policy tree routing to
it. Raises :class:`PublishError` naming the step that failed; the password, token and
webhook URL are never logged.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

from grafana_client.api import GrafanaApi
from grafana_client.client import GrafanaClientError, GrafanaException

from inventory.core.errors import InventoryError
from inventory.core.settings import Settings, SettingsError
from inventory.dashboards import render
from inventory.dashboards.alert_rules import FOLDER_TITLE, FOLDER_UID, GROUP, build_rules
from inventory.dashboards.alert_rules import rule_group as rule_group_body
from inventory.dashboards.datasource import datasource_body
from inventory.dashboards.notifications import (
    CONTACT_POINT,
    RECEIVER_UID,
    contact_point_body,
    policy_tree,
)
from inventory.dashboards.query import DATASOURCE_UID

logger = logging.getLogger(__name__)

DATASOURCE_NAME = "Inventory ClickHouse"
TIMEOUT_SECONDS = 15.0
_DEFAULT_PORTS = {
    ("native", False): 9000,
    ("native", True): 9440,
    ("http", False): 8123,
    ("http", True): 8443,
}


class PublishError(InventoryError):
    """Publishing stopped; the message names the step and Grafana's answer."""


@dataclass
class PublishReport:
    grafana_version: str = ""
    datasource: str = ""
    dashboards: list[str] = field(default_factory=list)
    alert_rules: int = 0
    contact_point: str = "skipped (INVENTORY_GRAFANA_ALERT_WEBHOOK_URL not set)"


def connect(settings: Settings) -> GrafanaApi:
    """A client for ``INVENTORY_GRAFANA_URL`` with the token, else the URL's user:pass."""
    url = settings.grafana_url.get_secret_value()
    token = settings.grafana_token.get_secret_value() if settings.grafana_token else None
    api: GrafanaApi = GrafanaApi.from_url(url, credential=token, timeout=TIMEOUT_SECONDS)
    return api


def dashboards_for(database: str, few_left: int | None = None) -> list[dict[str, Any]]:
    """The dashboards' JSON with the hidden ``database`` constant set to ``database`` and
    ``few_left`` (the "Only N left" limit) to the API's, when given."""
    boards = []
    for build in render.BOARDS.values():
        board: dict[str, Any] = json.loads(render.dashboard_json(build()))
        for variable in board["templating"]["list"]:
            if variable["name"] == "database":
                variable["query"] = database
            if variable["name"] == "few_left" and few_left is not None:
                variable["query"] = str(few_left)
        boards.append(board)
    return boards


def publish(settings: Settings, api: GrafanaApi | None = None) -> PublishReport:
    """Push everything to Grafana; see the module docstring for the steps."""
    if settings.grafana_datasource_url is None:
        raise SettingsError(
            "INVENTORY_GRAFANA_DATASOURCE_URL is not set: how Grafana reaches ClickHouse "
            "(e.g. clickhouse://grafana:secret@clickhouse:9000/inventory, a read-only user)"
        )
    database = settings.clickhouse_database
    datasource = datasource_body(settings.grafana_datasource_url.get_secret_value(), database)
    api = api or connect(settings)
    report = PublishReport()

    health = _step("Grafana health", lambda: api.client.GET("/health"))
    if health.get("database") != "ok":
        raise PublishError(f"Grafana health: database is {health.get('database')!r}")
    report.grafana_version = str(health.get("version", ""))

    if _exists("datasource", lambda: api.datasource.get_datasource_by_uid(DATASOURCE_UID)):
        _step(
            "update datasource",
            lambda: api.datasource.update_datasource_by_uid(DATASOURCE_UID, datasource),
        )
        report.datasource = "updated"
    else:
        _step("create datasource", lambda: api.datasource.create_datasource(datasource))
        report.datasource = "created"
    checked = _step("datasource health", lambda: api.datasource.health(DATASOURCE_UID))
    if str(checked.get("status", "")).upper() != "OK":
        raise PublishError(f"datasource health: {checked.get('message', checked)}")

    if not _exists("folder", lambda: api.folder.get_folder(FOLDER_UID)):
        _step("create folder", lambda: api.folder.create_folder(FOLDER_TITLE, uid=FOLDER_UID))

    for board in dashboards_for(database, settings.availability_few_left):
        body = {
            "dashboard": board,
            "folderUid": FOLDER_UID,
            "overwrite": True,
            "message": "inventory dashboards publish",
        }
        _step(f"dashboard {board['uid']}", lambda body=body: api.dashboard.update_dashboard(body))
        report.dashboards.append(board["uid"])

    rules, _ = build_rules(database)
    _step(
        "alert rules",
        lambda: api.alertingprovisioning.update_rule_group(
            FOLDER_UID, GROUP, rule_group_body(rules), disable_provenance=True
        ),
    )
    report.alert_rules = len(rules)
    if settings.grafana_alert_webhook_url is not None:
        report.contact_point = publish_notifications(
            api, settings.grafana_alert_webhook_url.get_secret_value()
        )
    logger.info("published to Grafana %s: %s", report.grafana_version, report)
    return report


def publish_notifications(api: GrafanaApi, webhook_url: str) -> str:
    """The webhook contact point (created or updated) and the policy tree routing to it."""
    body = contact_point_body(webhook_url)
    provisioning = api.alertingprovisioning
    found = _step("contact points", lambda: provisioning.get_contactpoints(name=CONTACT_POINT))
    if any(point.get("uid") == RECEIVER_UID for point in found or []):
        _step(
            "update contact point",
            lambda: provisioning.update_contactpoint(RECEIVER_UID, body, disable_provenance=True),
        )
        state = "updated"
    else:
        _step(
            "create contact point",
            lambda: provisioning.create_contactpoint(body, disable_provenance=True),
        )
        state = "created"
    _step(
        "notification policy",
        lambda: provisioning.set_notification_policy_tree(policy_tree(), disable_provenance=True),
    )
    return state


def _step(name: str, call: Any) -> Any:
    try:
        return call()
    except GrafanaException as exc:
        raise PublishError(f"{name}: HTTP {exc.status_code or 'error'}: {exc.message}") from exc


def _exists(name: str, call: Any) -> bool:
    try:
        call()
    except GrafanaClientError as exc:
        if exc.status_code == 404:
            return False
        raise PublishError(f"look up {name}: HTTP {exc.status_code}: {exc.message}") from exc
    except GrafanaException as exc:
        raise PublishError(f"look up {name}: {exc.message}") from exc
    return True
