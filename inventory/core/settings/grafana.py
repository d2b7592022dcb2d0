"""Grafana settings, for ``inventory dashboards publish``: where Grafana is, how to log
in, how it reaches ClickHouse, and where its alerts go."""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import BaseModel, Field, SecretStr, field_validator


class GrafanaSettings(BaseModel):
    """Group of :class:`~inventory.core.settings.Settings`: publishing to Grafana."""

    grafana_url: SecretStr = Field(
        default=SecretStr("http://127.0.0.1:3000"),
        description="Grafana for `inventory dashboards publish`; may carry `user:pass@` "
        "(secret, never printed)",
    )
    grafana_token: SecretStr | None = Field(
        default=None,
        description="Grafana service-account token; when set it is used instead of the URL's "
        "user:pass",
    )
    grafana_datasource_url: SecretStr | None = Field(
        default=None,
        description="how Grafana reaches ClickHouse, as a read-only user: "
        "`clickhouse://user:pass@host:9000/db` (native) or `http(s)://user:pass@host:8123/db`;"
        " required by `publish`",
    )
    grafana_alert_webhook_url: SecretStr | None = Field(
        default=None,
        description='for `inventory dashboards publish`: the webhook the "inventory-oncall" '
        "contact point posts alerts to (secret; compose's Grafana takes "
        "`GRAFANA_ALERT_WEBHOOK_URL` instead)",
    )

    @field_validator("grafana_url")
    @classmethod
    def _grafana_url(cls, value: SecretStr) -> SecretStr:
        parts = urlsplit(value.get_secret_value())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("expected http(s)://[user:pass@]host:3000 (value hidden)")
        return value
