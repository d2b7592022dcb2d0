"""Kafka settings: brokers, security, the librdkafka pass-through, topics, the consumer
group and timeouts (the client configurations: :mod:`inventory.kafka.config`)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator

from inventory.core.settings.base import TOPIC_RE


class KafkaSettings(BaseModel):
    """Group of :class:`~inventory.core.settings.Settings`: the Kafka clients."""

    kafka_brokers: str | None = Field(
        default=None,
        description="bootstrap servers `host:port[,host:port]`; unset starts/reuses the "
        "local embedded broker",
    )
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        default="PLAINTEXT",
        description="librdkafka `security.protocol`: `PLAINTEXT`, `SSL`, `SASL_PLAINTEXT` or "
        "`SASL_SSL` (Redpanda Cloud, Confluent Cloud and MSK use `SASL_SSL`)",
    )
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = Field(
        default=None,
        description="`PLAIN`, `SCRAM-SHA-256` or `SCRAM-SHA-512` (required with `SASL_*`)",
    )
    kafka_sasl_username: str | None = Field(
        default=None, description="SASL username (required with `SASL_*`)"
    )
    kafka_sasl_password: SecretStr | None = Field(
        default=None, description="SASL password (a secret: never printed)"
    )
    kafka_ssl_ca_location: Path | None = Field(
        default=None,
        description="CA certificate (PEM file) the brokers' certificates are checked "
        "against; default: the system's",
    )
    kafka_ssl_certificate_location: Path | None = Field(
        default=None,
        description="client certificate (PEM) for mutual TLS, with the key below",
    )
    kafka_ssl_key_location: Path | None = Field(
        default=None, description="client private key (PEM) for mutual TLS"
    )
    kafka_ssl_key_password: SecretStr | None = Field(
        default=None, description="password of that key (secret)"
    )
    kafka_config: SecretStr = Field(
        default=SecretStr("{}"),
        description="JSON object of any other librdkafka property for every Kafka client, "
        'e.g. `{"client.id": "inventory", "sasl.oauthbearer.method": "oidc"}`; the '
        "properties the guarantees depend on (`acks`, `enable.idempotence`, "
        "`enable.auto.commit`, `group.id`) and those a setting above sets are refused; "
        "librdkafka's own refusal stops every command that uses Kafka at start (exit 2) "
        "naming this variable. Treated as a secret",
    )
    consumer_group: str = Field(
        default="inventory-dataflow",
        description="the consumer group the dataflow commits its offsets to after each "
        "snapshot, so Redpanda Console and `rpk group describe inventory-dataflow` show its "
        "lag (monitoring only: the dataflow resumes from its own snapshots)",
    )
    events_topic: str = Field(default="inventory.events", description="input topic")
    alerts_topic: str = Field(default="inventory.alerts", description="alerts and reorder requests")
    dlq_topic: str = Field(default="inventory.events.dlq", description="dead letters")
    stock_topic: str = Field(
        default="inventory.stock",
        description="compacted changelog of each (warehouse, sku)'s latest stock, which the "
        "availability API follows; empty: not published (the API then reads ClickHouse)",
    )
    catalog_topic: str = Field(
        default="inventory.catalog",
        description="compacted copy of the catalog's names and prices (published by the "
        "flow at start) for the availability API; empty: not published",
    )
    hold_decisions_topic: str = Field(
        default="inventory.hold-decisions",
        description="the flow's decision on every hold request, checkout and release, and "
        "each hold's expiry (JSON keyed by reservation_id), which the availability API "
        "waits on; empty: not published (the cart endpoints then answer 202 without a "
        "decision)",
    )
    forecast_topic: str = Field(
        default="inventory.forecasts",
        description="forecast versions (JSON keyed by warehouse_id:sku:version, v12) that "
        "`inventory forecast` publishes and the flow's `forecast` SKUs reorder on, "
        "followed while it runs; empty: not published nor read (`forecast` SKUs then use "
        "the `demand` policy's levels)",
    )
    topic_partitions: int = Field(
        default=3,
        ge=1,
        le=1024,
        description="partitions when this project creates the topics",
    )
    kafka_connect_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        le=3600,
        description="how long a command waits at start for a broker to answer before it "
        "fails, naming the address (librdkafka's own log lines: `--log-level debug`)",
    )
    kafka_timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        description="how long a produce may wait for the broker's acknowledgement",
    )

    @field_validator("events_topic", "alerts_topic", "dlq_topic", "consumer_group")
    @classmethod
    def _topic_name(cls, value: str) -> str:
        if not TOPIC_RE.match(value):
            raise ValueError("must be 1-249 characters of [A-Za-z0-9._-]")
        return value

    @field_validator("stock_topic", "catalog_topic", "hold_decisions_topic", "forecast_topic")
    @classmethod
    def _optional_topic_name(cls, value: str) -> str:
        if value and not TOPIC_RE.match(value):
            raise ValueError("must be empty or 1-249 characters of [A-Za-z0-9._-]")
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

    @field_validator(
        "kafka_ssl_ca_location", "kafka_ssl_certificate_location", "kafka_ssl_key_location"
    )
    @classmethod
    def _existing_file(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"no such file: {value}")
        return value

    @model_validator(mode="after")
    def _kafka_security(self) -> KafkaSettings:
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
    def _distinct_topics(self) -> KafkaSettings:
        topics = [self.events_topic, self.alerts_topic, self.dlq_topic]
        topics += self.published_topics
        if len(set(topics)) != len(topics):
            raise ValueError(
                "events_topic, alerts_topic, dlq_topic, stock_topic, catalog_topic, "
                "hold_decisions_topic and forecast_topic must differ"
            )
        return self

    @property
    def published_topics(self) -> list[str]:
        """The optional topics that are set (stock, catalog, hold decisions, forecasts)."""
        topics = (self.stock_topic, self.catalog_topic, self.hold_decisions_topic)
        return [t for t in (*topics, self.forecast_topic) if t]

    @property
    def use_local_broker(self) -> bool:
        return self.kafka_brokers is None
