"""The one CLI runner of the tests: ``inventory`` commands as subprocesses, in an
environment free of the developer's settings; and reading the tables they leave with one
``inventory sql`` process (one chDB start-up for every table)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from inventory.core.settings import Settings

COMMAND = [sys.executable, "-m", "inventory.cli"]


def base_env() -> dict[str, str]:
    """None of the developer's INVENTORY_* settings, and a local broker on a free port
    (not the fixed default a developer's demo may hold)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("INVENTORY_")}
    env["INVENTORY_LOCAL_BROKER_PORT"] = "0"
    return env


def clean_env(**extra: str) -> dict[str, str]:
    return {**base_env(), **extra}


def env_for(settings: Settings, workdir: Path) -> dict[str, str]:
    """Commands on the test's broker and topics, with their own chDB under ``workdir``,
    short epochs and small reads (a stream spans many epochs: a kill lands mid-stream)."""
    return clean_env(
        INVENTORY_KAFKA_BROKERS=settings.kafka_brokers or "",
        INVENTORY_CLICKHOUSE_URL=f"chdb://{workdir / 'clickhouse'}",
        INVENTORY_DATA_DIR=str(workdir / "data"),
        INVENTORY_EVENTS_TOPIC=settings.events_topic,
        INVENTORY_ALERTS_TOPIC=settings.alerts_topic,
        INVENTORY_DLQ_TOPIC=settings.dlq_topic,
        INVENTORY_STOCK_TOPIC=settings.stock_topic,
        INVENTORY_CATALOG_TOPIC=settings.catalog_topic,
        INVENTORY_HOLD_DECISIONS_TOPIC=settings.hold_decisions_topic,
        INVENTORY_EPOCH_SECONDS="0.2",
        INVENTORY_SOURCE_BATCH_SIZE="500",
    )


def cli(
    workdir: Path, *args: str, timeout: float = 300, **env: str
) -> subprocess.CompletedProcess[str]:
    """``inventory ARGS`` run to its end in ``workdir`` (a clean environment plus ``env``)."""
    return subprocess.run(
        [*COMMAND, *args],
        cwd=workdir,
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def spawn_cli(
    env: Mapping[str, str], workdir: Path, *args: str, session: bool = False
) -> subprocess.Popen[str]:
    """``inventory ARGS`` started in ``workdir`` with ``env``; ``session``: in a process
    group of its own, like a terminal's foreground job (signals reach all of it)."""
    return subprocess.Popen(
        [*COMMAND, *args],
        cwd=workdir,
        env=dict(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=session,
    )


def read_tables(
    env: Mapping[str, str], workdir: Path, queries: Mapping[str, str]
) -> dict[str, list[list[str]]]:
    """Each query's rows (values as text, NULL as ``\\N``, as TSV prints them), read by
    one ``inventory sql`` process."""
    proc = spawn_cli(env, workdir, "sql", ";\n".join(queries.values()), "--format", "json")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    results = [json.loads(line) for line in out.splitlines()]
    return {
        name: [[_text(value) for value in row.values()] for row in rows]
        for name, rows in zip(queries, results, strict=True)
    }


def query(env: Mapping[str, str], workdir: Path, sql: str) -> list[list[str]]:
    """The rows of one query (see :func:`read_tables`)."""
    return read_tables(env, workdir, {"rows": sql})["rows"]


def _text(value: Any) -> str:
    return "\\N" if value is None else str(value)


class Lines:
    """A started command's stderr, read line by line as it comes (a thread), so a test
    can wait for a line instead of sleeping; :meth:`finish` waits for the exit."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def wait_for(self, wanted: Callable[[str], bool], timeout: float = 120) -> str:
        """The first line ``wanted`` accepts; fails if the command ends or the time runs
        out first."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = next((line for line in self.lines if wanted(line)), None)
                if found is not None:
                    return found
                assert self._reader.is_alive(), "\n".join(self.lines)
                left = deadline - time.monotonic()
                assert left > 0, "no such line in time:\n" + "\n".join(self.lines)
                self._changed.wait(left)

    def finish(self, timeout: float = 60) -> tuple[int, str]:
        """(exit code, all of stderr) once the command has ended."""
        code = self.proc.wait(timeout)
        self._reader.join(timeout)
        return code, "\n".join(self.lines)
