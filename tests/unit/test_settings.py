"""Configuration fails fast with the variable's name; secrets never show."""

from __future__ import annotations

import logging

import pytest

from inventory.core.settings import Settings, SettingsError, load_settings, redact_url


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name in list(__import__("os").environ):
        if name.startswith("INVENTORY_"):
            monkeypatch.delenv(name)


def test_defaults_use_local_broker_and_embedded_clickhouse() -> None:
    settings = load_settings()
    assert settings.use_local_broker and settings.is_embedded_clickhouse
    assert settings.chdb_path().name == "clickhouse"
    assert settings.events_topic == "inventory.events"


@pytest.mark.parametrize(
    ("var", "value", "expected"),
    [
        ("INVENTORY_KAFKA_BROKERS", "localhost", "INVENTORY_KAFKA_BROKERS"),
        ("INVENTORY_KAFKA_BROKERS", "host:99999", "INVENTORY_KAFKA_BROKERS"),
        ("INVENTORY_CLICKHOUSE_URL", "postgres://x", "INVENTORY_CLICKHOUSE_URL"),
        ("INVENTORY_CLICKHOUSE_URL", "chdb://", "INVENTORY_CLICKHOUSE_URL"),
        ("INVENTORY_EVENTS_TOPIC", "bad topic!", "INVENTORY_EVENTS_TOPIC"),
        ("INVENTORY_LATENESS_SECONDS", "-5", "INVENTORY_LATENESS_SECONDS"),
        ("INVENTORY_LATENESS_SECONDS", "soon", "INVENTORY_LATENESS_SECONDS"),
        ("INVENTORY_TOPIC_PARTITIONS", "0", "INVENTORY_TOPIC_PARTITIONS"),
        ("INVENTORY_CLICKHOUSE_DATABASE", "inv; DROP", "INVENTORY_CLICKHOUSE_DATABASE"),
        ("INVENTORY_DLQ_TOPIC", "inventory.events", "distinct"),
        ("INVENTORY_API_PORT", "0", "INVENTORY_API_PORT"),
        ("INVENTORY_API_CORS_ORIGINS", "shop.example", "INVENTORY_API_CORS_ORIGINS"),
        ("INVENTORY_API_CORS_ORIGINS", "https://shop.example/path", "INVENTORY_API_CORS_ORIGINS"),
        ("INVENTORY_AVAILABILITY_REFRESH_SECONDS", "0", "INVENTORY_AVAILABILITY_REFRESH_SECONDS"),
        (
            "INVENTORY_AVAILABILITY_FULL_READ_SECONDS",
            "-1",
            "INVENTORY_AVAILABILITY_FULL_READ_SECONDS",
        ),
    ],
)
def test_invalid_setting_is_named(
    monkeypatch: pytest.MonkeyPatch, var: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(var, value)
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert expected in str(info.value) or "must differ" in str(info.value)


def test_env_file_is_read(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / ".env").write_text("INVENTORY_KAFKA_BROKERS=broker-1:9092,broker-2:9092\n")
    assert load_settings().kafka_brokers == "broker-1:9092,broker-2:9092"


def test_password_never_in_repr_logs_or_errors(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("INVENTORY_CLICKHOUSE_URL", "https://app:s3cr3t@ch.example:8443/inv")
    settings = load_settings()
    logging.getLogger("t").warning("settings: %s %r", settings, settings)
    assert "s3cr3t" not in repr(settings) and "s3cr3t" not in str(settings)
    assert "s3cr3t" not in caplog.text
    assert "s3cr3t" not in str(settings.safe_summary())
    assert (
        redact_url("https://app:s3cr3t@ch.example:8443/inv")
        == "https://app:***@ch.example:8443/inv"
    )
    monkeypatch.setenv("INVENTORY_CLICKHOUSE_URL", "ftp://app:s3cr3t@ch.example")
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert "s3cr3t" not in str(info.value)


def test_cors_origins_are_listed() -> None:
    settings = Settings(_env_file=None, api_cors_origins=" https://a.example, http://b:8080 ,")  # type: ignore[call-arg]
    assert settings.cors_origins == ["https://a.example", "http://b:8080"]
    assert Settings(_env_file=None).cors_origins == []  # type: ignore[call-arg]
