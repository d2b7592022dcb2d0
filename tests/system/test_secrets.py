"""No error path prints a secret: a ClickHouse password holding ``# / @ : %`` given raw in
the URL (invalid), percent-encoded in it, or in INVENTORY_CLICKHOUSE_PASSWORD, against a
server that does not answer, through every command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest

from inventory.kafka.local_broker import free_port
from tests.support.cli import base_env

PASSWORD = "s3cr3t#/@:%4Ftail"
FRAGMENTS = ("s3cr3t", "4Ftail", quote(PASSWORD, safe=""))
COMMANDS = [
    ["schema", "apply"],
    ["sql", "SELECT 1"],
    ["serve"],
    ["run", "--exit-at-end"],
    ["backfill", "history.jsonl"],
    ["generate", "--count", "1"],
    ["reset", "--yes"],
    ["dashboards", "verify"],
    ["demo", "--events", "10"],
]


def run_all(tmp_path: Path, env: dict[str, str]) -> list[tuple[list[str], int, str]]:
    (tmp_path / "history.jsonl").write_text("{}\n")
    # serve reading ClickHouse (its topic source never connects to it)
    base = {**base_env(), "INVENTORY_AVAILABILITY_SOURCE": "clickhouse"}
    procs = [
        (
            args,
            subprocess.Popen(
                [sys.executable, "-m", "inventory.cli", *args],
                cwd=tmp_path,
                env={**base, **env},
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            ),
        )
        for args in COMMANDS
    ]
    out = []
    for args, proc in procs:
        text, _ = proc.communicate(timeout=180)
        out.append((args, proc.returncode, text))
    return out


def assert_hidden(results: list[tuple[list[str], int, str]]) -> None:
    for args, _, text in results:
        for fragment in FRAGMENTS:
            assert fragment not in text, f"{args} printed a secret: {text}"


def test_a_raw_password_is_refused_naming_the_setting_without_showing_it(
    tmp_path: Path, broker: str
) -> None:
    url = f"http://inventory:{PASSWORD}@127.0.0.1:{free_port()}/inventory"
    results = run_all(
        tmp_path, {"INVENTORY_CLICKHOUSE_URL": url, "INVENTORY_KAFKA_BROKERS": broker}
    )
    assert_hidden(results)
    for args, code, text in results:
        assert code == 2 and "INVENTORY_CLICKHOUSE_URL" in text, (args, text)
        assert "percent-encode" in text


@pytest.mark.parametrize("where", ["url", "setting"])
def test_failures_reaching_the_server_never_show_the_password(
    tmp_path: Path, broker: str, where: str
) -> None:
    port = free_port()  # nothing listens
    env = {"INVENTORY_KAFKA_BROKERS": broker}
    if where == "url":
        env["INVENTORY_CLICKHOUSE_URL"] = (
            f"http://inventory:{quote(PASSWORD, safe='')}@127.0.0.1:{port}/inventory"
        )
    else:
        env["INVENTORY_CLICKHOUSE_URL"] = f"http://inventory@127.0.0.1:{port}/inventory"
        env["INVENTORY_CLICKHOUSE_PASSWORD"] = PASSWORD
    results = run_all(tmp_path, env)
    assert_hidden(results)
    failed = [args for args, code, _ in results if code != 0]
    assert len(failed) >= len(COMMANDS) - 1, results  # reset leaves a server alone: exit 0
