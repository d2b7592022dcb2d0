"""The one builder of every Kafka client's configuration (source, producers, admin).

A :class:`KafkaConnection` holds the bootstrap servers and the options every client of
the deployment needs: the security settings (``INVENTORY_KAFKA_SECURITY_PROTOCOL``,
``…_SASL_*``, ``…_SSL_*``) and the librdkafka pass-through ``INVENTORY_KAFKA_CONFIG``
(a JSON object of any other librdkafka property, e.g. ``{"client.dns.lookup": …}``).
Each client's configuration is, in order of precedence (later wins):

1. the role's defaults (tuning: ``linger.ms``, prefetch sizes, …);
2. what the calling code asks for;
3. the connection's options (the operator's settings and pass-through);
4. the role's required keys, which the delivery guarantees depend on (idempotent
   ``acks=all`` producers; no auto-commit in the source). The pass-through may not set
   them, nor a key a dedicated setting already sets: :func:`kafka_connection` refuses
   both at start, as it refuses any configuration librdkafka does not accept, with a
   :class:`~inventory.core.settings.SettingsError` naming the variable (exit 2).

Secrets (SASL and key passwords, anything in the pass-through) are never logged: the
connection's ``repr`` shows the option names only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from inventory.core.settings import Settings, SettingsError
from inventory.kafka.librdkafka_log import LIBRDKAFKA_LOG

PRODUCER_DEFAULTS: Mapping[str, Any] = {
    "linger.ms": 20,
    "compression.type": "lz4",
    "message.timeout.ms": 60_000,
}
PRODUCER_REQUIRED: Mapping[str, Any] = {"enable.idempotence": True, "acks": "all"}
CONSUMER_REQUIRED: Mapping[str, Any] = {"enable.auto.commit": False}
REQUIRED_KEYS = frozenset(PRODUCER_REQUIRED) | frozenset(CONSUMER_REQUIRED) | {"group.id"}

# librdkafka property -> the setting that sets it
SECURITY_SETTINGS = {
    "security.protocol": "kafka_security_protocol",
    "sasl.mechanism": "kafka_sasl_mechanism",
    "sasl.username": "kafka_sasl_username",
    "sasl.password": "kafka_sasl_password",
    "ssl.ca.location": "kafka_ssl_ca_location",
    "ssl.certificate.location": "kafka_ssl_certificate_location",
    "ssl.key.location": "kafka_ssl_key_location",
    "ssl.key.password": "kafka_ssl_key_password",
}
_PROPERTY_RE = re.compile(r'property:?\s*"?([A-Za-z0-9._-]+)"?')


@dataclass(frozen=True)
class KafkaConnection:
    """How to reach the brokers: bootstrap servers plus the deployment's options."""

    brokers: str
    options: tuple[tuple[str, Any], ...] = ()

    def __repr__(self) -> str:  # option values may be secrets
        names = ", ".join(name for name, _ in self.options)
        return f"KafkaConnection(brokers={self.brokers!r}, options=[{names}])"

    def config(
        self,
        defaults: Mapping[str, Any] | None = None,
        required: Mapping[str, Any] | None = None,
        **overrides: Any,
    ) -> dict[str, Any]:
        """A client configuration (see the module doc for the precedence); librdkafka
        logs through Python logging (:mod:`inventory.kafka.librdkafka_log`)."""
        config: dict[str, Any] = {"bootstrap.servers": self.brokers, "logger": LIBRDKAFKA_LOG}
        config.update(defaults or {})
        config.update(overrides)
        config.update(self.options)
        config.update(required or {})
        return config


Target = str | KafkaConnection


def connection_of(target: Target) -> KafkaConnection:
    """A connection as given, or plain brokers (tests, the local broker)."""
    return target if isinstance(target, KafkaConnection) else KafkaConnection(target)


def producer_config(target: Target, **overrides: Any) -> dict[str, Any]:
    return connection_of(target).config(PRODUCER_DEFAULTS, PRODUCER_REQUIRED, **overrides)


def consumer_config(target: Target, *, group: str, **overrides: Any) -> dict[str, Any]:
    """A consumer of assigned partitions: ``group`` is where offsets are committed (for
    monitoring), never a subscription."""
    required = {**CONSUMER_REQUIRED, "group.id": group}
    return connection_of(target).config(None, required, **overrides)


def admin_config(target: Target, **overrides: Any) -> dict[str, Any]:
    return connection_of(target).config(**overrides)


def security_options(settings: Settings) -> dict[str, Any]:
    """The librdkafka properties the dedicated settings set (secrets revealed)."""
    options: dict[str, Any] = {}
    for prop, name in SECURITY_SETTINGS.items():
        value = getattr(settings, name)
        if value is None or (prop == "security.protocol" and value == "PLAINTEXT"):
            continue
        secret = getattr(value, "get_secret_value", None)
        options[prop] = secret() if secret is not None else str(value)
    return options


def pass_through(settings: Settings) -> dict[str, Any]:
    """``INVENTORY_KAFKA_CONFIG`` as librdkafka properties; raises :class:`SettingsError`."""
    raw = settings.kafka_config.get_secret_value().strip() or "{}"
    try:
        options = json.loads(raw)
    except ValueError:
        raise SettingsError("INVENTORY_KAFKA_CONFIG: not JSON (value hidden)") from None
    if not isinstance(options, dict) or not all(
        isinstance(value, str | int | float | bool) and not isinstance(value, dict)
        for value in options.values()
    ):
        raise SettingsError(
            "INVENTORY_KAFKA_CONFIG: expected a JSON object of librdkafka properties with "
            'string, number or boolean values, e.g. {"client.id": "inventory"}'
        )
    for key in options:
        if key in REQUIRED_KEYS or key == "bootstrap.servers":
            raise SettingsError(
                f"INVENTORY_KAFKA_CONFIG: {key!r} is set by the project "
                "(bootstrap.servers by INVENTORY_KAFKA_BROKERS; the others keep the "
                "delivery guarantees) and cannot be overridden"
            )
        if key in SECURITY_SETTINGS:
            variable = "INVENTORY_" + SECURITY_SETTINGS[key].upper()
            raise SettingsError(f"INVENTORY_KAFKA_CONFIG: set {key!r} with {variable} instead")
    return options


def kafka_connection(settings: Settings, brokers: str) -> KafkaConnection:
    """The deployment's connection to ``brokers``, checked by librdkafka itself.

    Raises :class:`SettingsError` naming the variable if librdkafka refuses the options.
    """
    options = {**security_options(settings), **pass_through(settings)}
    connection = KafkaConnection(brokers, tuple(sorted(options.items())))
    _check(connection, "INVENTORY_KAFKA_CONFIG" if pass_through(settings) else None)
    return connection


_checked: set[KafkaConnection] = set()


def _check(connection: KafkaConnection, variable: str | None) -> None:
    """Build (and drop) a producer and an admin client with the options, as librdkafka
    validates properties and values when a client is created."""
    if connection in _checked or not connection.options:
        return
    from confluent_kafka import KafkaException, Producer
    from confluent_kafka.admin import AdminClient

    try:
        Producer(producer_config(connection)).flush(0)
        AdminClient(admin_config(connection))
    except (KafkaException, ValueError, TypeError) as exc:
        names = {name for name, _ in connection.options}
        match = _PROPERTY_RE.search(str(exc))
        prop = match.group(1) if match else None
        named = (
            "INVENTORY_" + SECURITY_SETTINGS[prop].upper()
            if prop in SECURITY_SETTINGS
            else variable or "INVENTORY_KAFKA_*"
        )
        what = f"property {prop!r}" if prop in names or prop else "its options"
        raise SettingsError(f"{named}: librdkafka refuses {what} (value hidden)") from None
    _checked.add(connection)
