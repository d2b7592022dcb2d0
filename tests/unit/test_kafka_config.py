"""Every Kafka client gets its configuration from one builder: the security settings and
the librdkafka pass-through reach the source, the producers, the admin client and the
topic-range reader; librdkafka's refusals fail at start naming the variable; secrets are
never shown. And the dataflow commits its offsets to its consumer group."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from inventory.core.settings import Settings, SettingsError, load_settings
from inventory.kafka.config import admin_config, kafka_connection, producer_config
from inventory.kafka.librdkafka_log import LIBRDKAFKA_LOG

SECURITY = {
    "security.protocol": "SASL_SSL",
    "sasl.mechanism": "SCRAM-SHA-512",
    "sasl.username": "inventory",
    "sasl.password": "pa:ss/w@rd#%",
}


@pytest.fixture
def secured(tmp_path: Path, make_settings: Any) -> Settings:
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")  # only its path reaches librdkafka here
    return make_settings(
        kafka_brokers="broker-1:9093,broker-2:9093",
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_mechanism="SCRAM-SHA-512",
        kafka_sasl_username="inventory",
        kafka_sasl_password="pa:ss/w@rd#%",
        kafka_ssl_ca_location=ca,
        kafka_config=json.dumps({"client.id": "inventory-test", "socket.keepalive.enable": True}),
    )


def test_every_client_gets_the_security_settings_and_the_pass_through(
    secured: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dataflows.sources.events_topic as kafka_source
    import dataflows.sources.topic_range as topic_range
    import inventory.kafka.producer as producer
    import inventory.kafka.topics as kafka
    from dataflows.flow import kafka_source as build_source
    from sinks.kafka import alert_sink

    seen: dict[str, dict[str, Any]] = {}

    class Recorder:
        def __init__(self, role: str) -> None:
            self.role = role

        def __call__(self, config: dict[str, Any]) -> Any:
            seen[self.role] = config
            raise RuntimeError("recorded")

    monkeypatch.setattr(producer, "Producer", Recorder("producer"))
    monkeypatch.setattr(kafka, "AdminClient", Recorder("admin"))
    monkeypatch.setattr(kafka_source, "Consumer", Recorder("source"))
    monkeypatch.setattr(kafka_source, "AdminClient", Recorder("topic-id"))
    monkeypatch.setattr(topic_range, "Consumer", Recorder("topic-range"))
    monkeypatch.setattr("inventory.kafka.config._check", lambda *_: None)  # no such brokers
    brokers = secured.kafka_brokers or ""

    for build in (
        lambda: alert_sink(secured, brokers).build("alerts", 0, 1),
        lambda: kafka.ensure_topics(secured, brokers),
        lambda: build_source(secured, brokers, tail=True).list_parts(),
        lambda: kafka_source.topic_id(kafka_connection(secured, brokers), "t"),
        lambda: topic_range.partitions(kafka_connection(secured, brokers), "t"),
    ):
        with pytest.raises(RuntimeError, match="recorded"):
            build()
    assert set(seen) == {"producer", "admin", "source", "topic-id", "topic-range"}
    for role, config in seen.items():
        assert config["bootstrap.servers"] == brokers, role
        assert {k: config[k] for k in SECURITY} == SECURITY, role
        assert config["ssl.ca.location"] == str(secured.kafka_ssl_ca_location), role
        assert config["client.id"] == "inventory-test", role
    assert seen["producer"]["enable.idempotence"] is True and seen["producer"]["acks"] == "all"
    assert seen["source"]["group.id"] == "inventory-dataflow"
    assert seen["source"]["enable.auto.commit"] is False
    assert seen["topic-range"]["group.id"] == "inventory-backfill"


def test_the_pass_through_wins_over_tuning_but_not_over_the_guarantees(
    make_settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("inventory.kafka.config._check", lambda *_: None)
    settings = make_settings(kafka_config='{"linger.ms": 5, "compression.type": "zstd"}')
    connection = kafka_connection(settings, "b:9092")
    config = producer_config(connection, **{"linger.ms": 50})
    assert (config["linger.ms"], config["compression.type"], config["acks"]) == (5, "zstd", "all")
    assert "zstd" not in repr(connection) and "compression.type" in repr(connection)
    for refused, variable in (
        ('{"acks": "1"}', "INVENTORY_KAFKA_CONFIG"),
        ('{"enable.auto.commit": true}', "INVENTORY_KAFKA_CONFIG"),
        ('{"bootstrap.servers": "x:1"}', "INVENTORY_KAFKA_CONFIG"),
        ('{"sasl.password": "s3cr3t"}', "INVENTORY_KAFKA_SASL_PASSWORD"),
        ('["not", "an", "object"]', "INVENTORY_KAFKA_CONFIG"),
        ("{not json s3cr3t", "INVENTORY_KAFKA_CONFIG"),
    ):
        with pytest.raises(SettingsError, match=variable) as info:
            kafka_connection(make_settings(kafka_config=refused), "b:9092")
        assert "s3cr3t" not in str(info.value)


def test_librdkafka_refusals_fail_at_start_naming_the_variable(make_settings: Any) -> None:
    for refused, variable in (
        ('{"no.such.property": 1}', "INVENTORY_KAFKA_CONFIG"),
        ('{"socket.timeout.ms": "s3cr3t"}', "INVENTORY_KAFKA_CONFIG"),
    ):
        with pytest.raises(SettingsError, match=variable) as info:
            kafka_connection(make_settings(kafka_config=refused), "127.0.0.1:1")
        assert "s3cr3t" not in str(info.value)
    kafka_connection(make_settings(kafka_config='{"client.id": "ok"}'), "127.0.0.1:1")
    assert admin_config("127.0.0.1:1") == {
        "bootstrap.servers": "127.0.0.1:1",
        "logger": LIBRDKAFKA_LOG,  # librdkafka's lines through logging, never raw on stderr
    }


def test_security_settings_are_validated_naming_the_variables(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for env, named in (
        ({"INVENTORY_KAFKA_SECURITY_PROTOCOL": "SASL_SSL"}, "INVENTORY_KAFKA_SASL_USERNAME"),
        ({"INVENTORY_KAFKA_SASL_MECHANISM": "PLAIN"}, "INVENTORY_KAFKA_SECURITY_PROTOCOL"),
        ({"INVENTORY_KAFKA_SSL_CA_LOCATION": str(tmp_path / "nope.pem")}, "no such file"),
        ({"INVENTORY_KAFKA_SECURITY_PROTOCOL": "TLS"}, "INVENTORY_KAFKA_SECURITY_PROTOCOL"),
        (
            {"INVENTORY_KAFKA_SSL_KEY_LOCATION": str(Path(__file__))},
            "INVENTORY_KAFKA_SSL_CERTIFICATE_LOCATION",
        ),
    ):
        with monkeypatch.context() as patch:
            for name, value in env.items():
                patch.setenv(name, value)
            with pytest.raises(SettingsError, match=named):
                load_settings(_env_file=None)
