"""The ClickHouse datasource Grafana uses, for the HTTP API and the provisioning file."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit

from inventory.core.settings import SettingsError
from inventory.dashboards.query import DATASOURCE_UID, PLUGIN_ID, PLUGIN_VERSION

DATASOURCE_NAME = "Inventory ClickHouse"
_DEFAULT_PORTS = {
    ("native", False): 9000,
    ("native", True): 9440,
    ("http", False): 8123,
    ("http", True): 8443,
}


def datasource_body(url: str, database: str) -> dict[str, Any]:
    """The ClickHouse plugin's datasource for a URL.

    ``clickhouse://user:pass@host:9000/db`` (native protocol, ``clickhouses://`` for TLS)
    or ``http(s)://user:pass@host:8123/db``; the path's database wins over ``database``.
    """
    parts = urlsplit(url)
    scheme = parts.scheme
    if scheme not in ("clickhouse", "clickhouses", "http", "https") or not parts.hostname:
        raise SettingsError(
            "INVENTORY_GRAFANA_DATASOURCE_URL: expected clickhouse://user:pass@host:9000/db "
            "or http(s)://user:pass@host:8123/db (value hidden: it may hold a password)"
        )
    secure = scheme in ("clickhouses", "https")
    protocol = "http" if scheme.startswith("http") else "native"
    return datasource_config(
        host=parts.hostname,
        port=parts.port or _DEFAULT_PORTS[(protocol, secure)],
        protocol=protocol,
        secure=secure,
        username=unquote(parts.username or "default"),
        password=unquote(parts.password or ""),
        database=parts.path.strip("/") or database,
    )


def datasource_config(
    *,
    host: str,
    port: int,
    protocol: str,
    secure: bool,
    username: str,
    password: str,
    database: str,
) -> dict[str, Any]:
    """The datasource as both the HTTP API and the provisioning file take it."""
    return {
        "uid": DATASOURCE_UID,
        "name": DATASOURCE_NAME,
        "type": PLUGIN_ID,
        "access": "proxy",
        "isDefault": True,
        "jsonData": {
            "version": PLUGIN_VERSION,
            "host": host,
            "port": port,
            "protocol": protocol,
            "secure": secure,
            "username": username,
            "defaultDatabase": database,
        },
        "secureJsonData": {"password": password},
    }


PROMETHEUS_UID = "inventory-prometheus"
PROMETHEUS_URL = "http://prometheus:9090"  # compose's prometheus service


def prometheus_datasource() -> dict[str, Any]:
    """The Prometheus datasource (compose's ``prometheus``, scraping the dataflow's and the
    availability API's ``/metrics``): lag, throughput, dead letters, sink latency."""
    return {
        "uid": PROMETHEUS_UID,
        "name": "Inventory Prometheus",
        "type": "prometheus",
        "access": "proxy",
        "url": PROMETHEUS_URL,
        "isDefault": False,
        "editable": False,
        "jsonData": {"httpMethod": "POST", "timeInterval": "15s"},
    }
