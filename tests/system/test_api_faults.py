"""The availability API as its own process following the stock topic, under faults: the
flow SIGKILLed and resumed, the broker restarted (durable tansu on moto's S3), the API
restarted. Throughout, no answer goes back to a lower version than one given before;
at the end the API answers exactly ``stock_levels FINAL``."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from generators.events import GeneratorConfig
from generators.publish import publish_to_kafka
from inventory.core.settings import Settings
from inventory.kafka.local_broker import start_broker
from inventory.kafka.topics import ensure_topics
from tests.support.cli import env_for, query, spawn_cli
from tests.support.durable import moto_s3
from tests.support.http import free_port, get_json
from tests.support.loop_streams import stream_with_receipts
from tests.support.processes import keyed_epochs, start_api, stop

CONFIG = GeneratorConfig(
    seed=5,
    skus=40,
    warehouses=2,
    rate=100.0,
    duplicate_share=0.02,
    late_share=0.03,
    late_max_seconds=600,
    hold_share=0.1,
    self_restock=False,
)
EVENTS = 30_000
SKUS = [f"SKU-{n:05d}" for n in range(1, CONFIG.skus + 1)]
Key = tuple[str, str]


class Watcher:
    """Asks the API for every SKU over and over (a thread), recording each (sku,
    warehouse)'s versions in the order they were answered."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.seen: dict[Key, list[int]] = {}
        self.answers = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Watcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        query_string = "&".join(f"sku={s}" for s in SKUS)
        while not self._stop.is_set():
            try:
                status, body = get_json(f"{self.url}/v1/availability?{query_string}")
            except OSError:  # the API restarting
                time.sleep(0.05)
                continue
            if status == 200:
                self.answers += 1
                for item in body["items"]:
                    for w in item["warehouses"]:
                        key = (item["sku"], w["warehouse_id"])
                        self.seen.setdefault(key, []).append(int(w["version"]))
            time.sleep(0.02)

    def assert_monotone(self) -> None:
        assert self.answers > 10, self.answers
        for key, versions in self.seen.items():
            assert versions == sorted(versions), f"{key} went back in version"


def answers(url: str) -> dict[Key, tuple[int, int, int]]:
    _, body = get_json(f"{url}/v1/availability?" + "&".join(f"sku={s}" for s in SKUS))
    return {
        (item["sku"], w["warehouse_id"]): (w["on_hand"], w["reserved"], int(w["version"]))
        for item in body["items"]
        for w in item["warehouses"]
    }


def final(env: dict[str, str], workdir: Path) -> dict[Key, tuple[int, int, int]]:
    rows = query(
        env,
        workdir,
        "SELECT sku, warehouse_id, on_hand, reserved, toString(version) FROM stock_levels FINAL",
    )
    return {(s, w): (int(h), int(r), int(v)) for s, w, h, r, v in rows}


def wait_equal(url: str, expected: dict[Key, tuple[int, int, int]]) -> None:
    deadline = time.monotonic() + 60
    while answers(url) != expected:
        assert time.monotonic() < deadline, "the API never caught up with stock_levels FINAL"
        time.sleep(0.1)


def publish(settings: Settings) -> None:
    brokers = settings.kafka_brokers or ""
    ensure_topics(settings, brokers)
    stream = stream_with_receipts(
        CONFIG, EVENTS, lateness_ms=settings.lateness_seconds * 1000, lead_ms=60_000,
        grace_ms=60_000,
    )  # fmt: skip
    publish_to_kafka(stream, brokers, settings.events_topic)


def test_flow_sigkills_and_an_api_restart_keep_answers_monotone_and_exact(
    settings: Settings, tmp_path: Path
) -> None:
    publish(settings)
    env = env_for(settings, tmp_path)
    port = free_port()
    api = start_api(env, tmp_path, port)  # before the flow: it follows from the start
    url = f"http://127.0.0.1:{port}"
    recovery_db = tmp_path / "data" / "recovery" / "part-0.sqlite3"
    rng = random.Random(7)
    try:
        with Watcher(url) as watcher:
            for _ in range(2):  # SIGKILL mid-stream, twice: replays publish old versions
                flow = spawn_cli(env, tmp_path, "run", "--exit-at-end")
                before = keyed_epochs(recovery_db)
                deadline = time.monotonic() + 120
                while not keyed_epochs(recovery_db) - before and flow.poll() is None:
                    assert time.monotonic() < deadline, "no progress within 120 s"
                    time.sleep(0.02)
                time.sleep(rng.uniform(0.0, 0.3))
                flow.kill()
                flow.wait()
            flow = spawn_cli(env, tmp_path, "run", "--exit-at-end")
            assert flow.wait(300) == 0, flow.stderr.read() if flow.stderr else ""
            expected = final(env, tmp_path)
            assert len(expected) == 80
            wait_equal(url, expected)
        watcher.assert_monotone()  # (a replayed state is ignored: tests/integration)

        stop(api)  # a restarted replica reads the compacted topic from its start
        api = start_api(env, tmp_path, port)
        assert answers(url) == expected
    finally:
        stop(api)


@pytest.fixture
def durable_broker() -> Iterator[tuple[str, Any]]:
    """A tansu broker on S3 storage: ``restart()`` kills it and starts it again."""
    with moto_s3() as s3_env:
        port = free_port()
        procs = [start_broker(port, detach=False, storage="s3://tansu/", env=s3_env)]

        def restart() -> None:
            procs[-1].kill()
            procs[-1].wait(10)
            procs.append(start_broker(port, detach=False, storage="s3://tansu/", env=s3_env))

        try:
            yield f"127.0.0.1:{port}", restart
        finally:
            procs[-1].kill()
            procs[-1].wait(10)


def test_a_broker_restart_keeps_answers_monotone_and_ends_exact(
    make_settings: Any, durable_broker: tuple[str, Any], tmp_path: Path
) -> None:
    brokers, restart = durable_broker
    settings = make_settings(kafka_brokers=brokers)
    publish(settings)
    env = env_for(settings, tmp_path)
    port = free_port()
    api = start_api(env, tmp_path, port)
    url = f"http://127.0.0.1:{port}"
    recovery_db = tmp_path / "data" / "recovery" / "part-0.sqlite3"
    try:
        with Watcher(url) as watcher:
            flow = spawn_cli(env, tmp_path, "run", "--exit-at-end")
            deadline = time.monotonic() + 120
            while not keyed_epochs(recovery_db) and flow.poll() is None:
                assert time.monotonic() < deadline, "no progress within 120 s"
                time.sleep(0.02)
            restart()  # mid-stream: the flow and the API both lose the broker a while
            if flow.wait(300) != 0:  # allowed: a clear failure; a restart resumes
                flow = spawn_cli(env, tmp_path, "run", "--exit-at-end")
                assert flow.wait(300) == 0, flow.stderr.read() if flow.stderr else ""
            expected = final(env, tmp_path)
            wait_equal(url, expected)
        watcher.assert_monotone()
    finally:
        stop(api)
