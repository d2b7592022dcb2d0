"""One settings object for every command, read from ``INVENTORY_*`` variables and ``.env``.

Invalid values raise :class:`SettingsError` at start, naming the variable.
Secrets (ClickHouse password in the URL) are kept as :class:`SecretStr`.
"""

from __future__ import annotations

import difflib
import logging
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from inventory.core.errors import ConfigurationError

logger = logging.getLogger(__name__)

ENV_PREFIX = "INVENTORY_"
_TOPIC_RE = re.compile(r"^[A-Za-z0-9._-]{1,249}$")
_DB_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


class SettingsError(ConfigurationError, ValueError):
    """Raised when a setting is invalid; the message names the ``INVENTORY_*`` variable."""


class Settings(BaseSettings):
    """Runtime configuration. See README "Configuration" for the table of variables."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=".env", extra="ignore", frozen=True
    )

    kafka_brokers: str | None = Field(
        default=None, description="Bootstrap servers; unset starts the local embedded broker."
    )
    local_broker_port: int = Field(
        default=39092,
        ge=0,
        le=65535,
        description="Port of the local embedded broker (127.0.0.1); 0: any free port.",
    )
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        default="PLAINTEXT", description="librdkafka security.protocol."
    )
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = Field(
        default=None, description="SASL mechanism (with SASL_PLAINTEXT or SASL_SSL)."
    )
    kafka_sasl_username: str | None = Field(default=None, description="SASL username.")
    kafka_sasl_password: SecretStr | None = Field(default=None, description="SASL password.")
    kafka_ssl_ca_location: Path | None = Field(
        default=None, description="CA certificate (PEM) that signed the brokers' certificates."
    )
    kafka_ssl_certificate_location: Path | None = Field(
        default=None, description="Client certificate (PEM) for mutual TLS."
    )
    kafka_ssl_key_location: Path | None = Field(
        default=None, description="Client private key (PEM) for mutual TLS."
    )
    kafka_ssl_key_password: SecretStr | None = Field(
        default=None, description="Password of the client private key."
    )
    kafka_config: SecretStr = Field(
        default=SecretStr("{}"),
        description="JSON object of any other librdkafka properties, for every Kafka client.",
    )
    consumer_group: str = Field(
        default="inventory-dataflow",
        description="Consumer group the dataflow commits its offsets to (for lag monitoring).",
    )
    clickhouse_url: SecretStr = Field(
        default=SecretStr("chdb://./data/clickhouse"),
        description="chdb:///path for embedded ClickHouse, or http(s)://user:pass@host:8123/db.",
    )
    clickhouse_password: SecretStr | None = Field(
        default=None,
        description="Password of the ClickHouse server user; wins over one in the URL.",
    )
    clickhouse_database: str = Field(default="inventory", description="Database of all tables.")
    data_dir: Path = Field(default=Path("./data"), description="Local state: broker, recovery.")

    events_topic: str = "inventory.events"
    alerts_topic: str = "inventory.alerts"
    dlq_topic: str = "inventory.events.dlq"
    topic_partitions: int = Field(default=3, ge=1, le=1024)

    lateness_seconds: int = Field(
        default=600,
        ge=0,
        le=7 * 24 * 3600,
        description="Events older than this behind the newest event of their (warehouse, sku) "
        "are dead-lettered as late; also the dedup horizon.",
    )
    max_future_seconds: int = Field(
        default=300,
        ge=0,
        le=7 * 24 * 3600,
        description="occurred_at may be at most this far after the Kafka message timestamp.",
    )
    low_stock_threshold: int = Field(
        default=10,
        ge=0,
        le=1_000_000_000,
        description="Default low-stock threshold for SKUs without their own.",
    )
    default_target_stock: int = Field(
        default=50,
        ge=1,
        le=1_000_000_000,
        description="Default level a reorder request tops up to, for SKUs without their own.",
    )
    default_lead_time_hours: float = Field(
        default=72,
        gt=0,
        le=8760,
        description="Default supplier lead time (purchase order to delivery), for SKUs "
        "without their own.",
    )
    reorder_grace_hours: float = Field(
        default=24,
        ge=0,
        le=8760,
        description="A purchase order not received this long after its expected time "
        "raises reorder_overdue.",
    )
    window_seconds: int = Field(
        default=60, ge=1, le=24 * 3600, description="Length of the sales-rate windows."
    )
    recovery_dir: Path | None = Field(
        default=None, description="Bytewax recovery database; default <data_dir>/recovery."
    )
    recovery_partitions: int = Field(
        default=1,
        ge=1,
        le=1024,
        description="Recovery partitions created on first use (at least the cluster's "
        "workers); fixed afterwards: set it to the most workers the flow will ever run.",
    )
    cluster_peer_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        le=3600,
        description="A process of a multi-process cluster that hears nothing from another "
        "for this long (UDP heartbeats on the cluster ports) fails the cluster.",
    )
    source_batch_size: int = Field(
        default=10_000,
        ge=1,
        le=1_000_000,
        description="Most messages one read of a partition returns (a backlog is read in "
        "batches this large; a caught-up source returns what has arrived).",
    )
    epoch_seconds: float = Field(
        default=2.0,
        gt=0,
        le=3600,
        description="Bytewax epoch = snapshot interval: sinks may replay up to one epoch.",
    )

    clickhouse_retries: int = Field(default=5, ge=0, le=100)
    clickhouse_backoff_seconds: float = Field(default=0.5, ge=0, le=60)
    kafka_timeout_seconds: float = Field(default=30.0, gt=0, le=3600)

    grafana_url: SecretStr = Field(
        default=SecretStr("http://127.0.0.1:3000"),
        description="Grafana for `inventory dashboards publish`; may carry user:pass.",
    )
    grafana_token: SecretStr | None = Field(
        default=None, description="Grafana service-account token (else the URL's user:pass)."
    )
    grafana_datasource_url: SecretStr | None = Field(
        default=None,
        description="How Grafana reaches ClickHouse, as a read-only user: "
        "clickhouse://user:pass@host:9000/db or http(s)://user:pass@host:8123/db.",
    )

    api_host: str = Field(
        default="127.0.0.1", description="Address the availability API listens on."
    )
    api_port: int = Field(default=8000, ge=1, le=65535, description="Its port.")
    api_access_log: bool = Field(
        default=False, description="Log every availability API request (uvicorn's access log)."
    )
    api_cors_origins: str = Field(
        default="",
        description="Comma-separated origins (https://shop.example) whose pages may call "
        "the availability API from the browser; * for any; empty: none.",
    )
    availability_few_left: int = Field(
        default=5,
        ge=0,
        le=1_000_000,
        description='Up to this many available units the message is "Only N left in stock".',
    )
    availability_refresh_seconds: float = Field(
        default=1.0,
        gt=0,
        le=3600,
        description="How often the availability API reads stock changes from ClickHouse.",
    )
    availability_full_read_seconds: float = Field(
        default=60.0,
        gt=0,
        le=7 * 24 * 3600,
        description="How often it re-reads all of stock_levels FINAL and the catalog names.",
    )
    metrics_port: int = Field(
        default=0,
        ge=0,
        le=65535,
        description="Port of the dataflow process's Prometheus /metrics (0: off).",
    )
    metrics_host: str = Field(
        default="127.0.0.1", description="Address the dataflow's /metrics listens on."
    )
    grafana_alert_webhook_url: SecretStr | None = Field(
        default=None,
        description="Webhook the Grafana contact point posts alerts to "
        "(inventory dashboards publish).",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="WARNING",
        description="Log level of the container's dataflow entry (bytewax.run); the "
        "inventory command takes --log-level.",
    )

    @field_validator("events_topic", "alerts_topic", "dlq_topic")
    @classmethod
    def _topic_name(cls, value: str) -> str:
        if not _TOPIC_RE.match(value):
            raise ValueError("must be 1-249 characters of [A-Za-z0-9._-]")
        return value

    @field_validator("clickhouse_database")
    @classmethod
    def _database_name(cls, value: str) -> str:
        if not _DB_RE.match(value):
            raise ValueError("must be an identifier ([A-Za-z_][A-Za-z0-9_]*)")
        return value

    @field_validator("kafka_brokers")
    @classmethod
    def _brokers(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        for server in value.split(","):
            host, sep, port = server.strip().rpartition(":")
            if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError(f"expected host:port[,host:port...], got {server.strip()!r}")
        return value.strip()

    @field_validator("clickhouse_url")
    @classmethod
    def _clickhouse_url(cls, value: SecretStr) -> SecretStr:
        raw = value.get_secret_value()
        if raw.startswith("chdb://"):
            if not raw[len("chdb://") :]:
                raise ValueError("chdb:// needs a directory, e.g. chdb:///var/lib/inventory")
            return value
        hidden = (
            "(value hidden: it may hold a password; percent-encode any # / @ : % ? in the "
            "password, or give it in INVENTORY_CLICKHOUSE_PASSWORD)"
        )
        parts = urlsplit(raw)
        try:
            parts.port  # noqa: B018 (raises for a port that is not a number)
        except ValueError:
            raise ValueError(f"not a valid http(s) URL {hidden}") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"expected chdb:///path or http(s)://user:pass@host:8123/db {hidden}")
        if parts.fragment or parts.query:
            raise ValueError(f"the URL has a '#' or '?' part {hidden}")
        return value

    @field_validator("api_cors_origins")
    @classmethod
    def _origins(cls, value: str) -> str:
        for origin in filter(None, (o.strip() for o in value.split(","))):
            parts = urlsplit(origin)
            plain = parts.scheme in ("http", "https") and parts.hostname and not parts.path
            if origin != "*" and not plain:
                raise ValueError(f"expected * or scheme://host[:port] origins, got {origin!r}")
        return value

    @property
    def cors_origins(self) -> list[str]:
        return [o.strip() for o in self.api_cors_origins.split(",") if o.strip()]

    @field_validator("grafana_url")
    @classmethod
    def _grafana_url(cls, value: SecretStr) -> SecretStr:
        parts = urlsplit(value.get_secret_value())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("expected http(s)://[user:pass@]host:3000 (value hidden)")
        return value

    @field_validator(
        "kafka_ssl_ca_location", "kafka_ssl_certificate_location", "kafka_ssl_key_location"
    )
    @classmethod
    def _existing_file(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"no such file: {value}")
        return value

    @field_validator("consumer_group")
    @classmethod
    def _group(cls, value: str) -> str:
        if not _TOPIC_RE.match(value):
            raise ValueError("must be 1-249 characters of [A-Za-z0-9._-]")
        return value

    @model_validator(mode="after")
    def _kafka_security(self) -> Settings:
        sasl = self.kafka_security_protocol.startswith("SASL_")
        if sasl:
            missing = [
                f"INVENTORY_KAFKA_SASL_{name.upper()}"
                for name in ("mechanism", "username", "password")
                if getattr(self, f"kafka_sasl_{name}") is None
            ]
            if missing:
                raise ValueError(
                    f"INVENTORY_KAFKA_SECURITY_PROTOCOL={self.kafka_security_protocol} needs "
                    + ", ".join(missing)
                )
        elif self.kafka_sasl_mechanism is not None:
            raise ValueError(
                "INVENTORY_KAFKA_SASL_MECHANISM needs INVENTORY_KAFKA_SECURITY_PROTOCOL "
                "SASL_PLAINTEXT or SASL_SSL"
            )
        if (self.kafka_ssl_certificate_location is None) != (self.kafka_ssl_key_location is None):
            raise ValueError(
                "INVENTORY_KAFKA_SSL_CERTIFICATE_LOCATION and INVENTORY_KAFKA_SSL_KEY_LOCATION "
                "go together (mutual TLS)"
            )
        return self

    @model_validator(mode="after")
    def _distinct_topics(self) -> Settings:
        if len({self.events_topic, self.alerts_topic, self.dlq_topic}) != 3:
            raise ValueError("events_topic, alerts_topic and dlq_topic must differ")
        return self

    @property
    def recovery_path(self) -> Path:
        return self.recovery_dir if self.recovery_dir is not None else self.data_dir / "recovery"

    @property
    def use_local_broker(self) -> bool:
        return self.kafka_brokers is None

    @property
    def is_embedded_clickhouse(self) -> bool:
        return self.clickhouse_url.get_secret_value().startswith("chdb://")

    def chdb_path(self) -> Path:
        """Absolute directory of the embedded ClickHouse data (``chdb://`` URLs only)."""
        raw = self.clickhouse_url.get_secret_value()
        if not raw.startswith("chdb://"):
            raise SettingsError("INVENTORY_CLICKHOUSE_URL is not a chdb:// URL")
        return Path(raw[len("chdb://") :]).expanduser().resolve()

    def safe_summary(self) -> dict[str, Any]:
        """Settings for display, with secrets masked."""
        shown = self.model_dump(mode="json")
        shown["clickhouse_url"] = redact_url(self.clickhouse_url.get_secret_value())
        shown["grafana_url"] = redact_url(self.grafana_url.get_secret_value())
        if self.grafana_datasource_url is not None:
            shown["grafana_datasource_url"] = redact_url(
                self.grafana_datasource_url.get_secret_value()
            )
        return shown


def redact_url(url: str) -> str:
    """Return ``url`` with any password replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


def load_settings(**overrides: Any) -> Settings:
    """Build settings from the environment (and overrides); raise :class:`SettingsError`.

    A variable with the prefix that is no setting (a typo) is ignored with a warning
    naming the closest setting."""
    warn_unknown_variables(os.environ)
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = [str(part) for part in err["loc"]]
            name = (ENV_PREFIX + loc[0].upper()) if loc else "settings"
            problems.append(f"{name}: {err['msg']}")
        raise SettingsError("invalid configuration: " + "; ".join(problems)) from None


def warn_unknown_variables(environ: Mapping[str, str]) -> list[str]:
    """Log a warning for each ``INVENTORY_*`` variable that is not a setting; return them."""
    known = sorted(ENV_PREFIX + name.upper() for name in Settings.model_fields)
    unknown = sorted(name for name in environ if name.startswith(ENV_PREFIX) and name not in known)
    for name in unknown:
        closest = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        hint = f"; did you mean {closest[0]}?" if closest else ""
        logger.warning("%s is not a setting and is ignored%s", name, hint)
    return unknown
