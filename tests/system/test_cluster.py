"""The flow as a multi-process Bytewax cluster (``inventory run --processes N``) on the
real broker: tables equal to the model, rescaling across restarts, a killed process."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from confluent_kafka import Producer

from generators.events import EventGenerator, GeneratorConfig
from generators.publish import publish_to_kafka
from inventory.core.key_shards import shard_of
from inventory.core.settings import Settings
from inventory.kafka.local_broker import temporary_broker
from inventory.kafka.topics import ensure_topics
from tests.support.cli import env_for, spawn_cli
from tests.support.netns import TwoHosts, namespaces_unavailable, two_hosts
from tests.support.processes import assert_tables_equal_model, keyed_epochs, topic_model

CONFIG = GeneratorConfig(
    seed=17,
    skus=40,
    warehouses=3,
    rate=100.0,
    malformed_share=0.01,
    duplicate_share=0.02,
    late_share=0.03,
    late_max_seconds=900,
    hold_share=0.1,  # carts asking the flow (v9): decided by whichever process owns the key
    decided_holds=True,
)


@pytest.fixture(autouse=True)
def no_process_left(tmp_path: Path) -> Iterator[None]:
    """After the test, whatever passed or failed, kill every process still working in
    its directory (a tailing cluster left running would load the machine for good)."""
    yield
    for entry in Path("/proc").iterdir():
        try:
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue
        if entry.name.isdigit() and cwd.startswith(str(tmp_path)):
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(entry.name), signal.SIGKILL)


def written_events(stderr: str) -> int:
    """The ``events=`` count of a run's ``rows written:`` summary line."""
    summary = [line for line in stderr.splitlines() if line.startswith("rows written: ")]
    assert summary, stderr
    parts = dict(p.split("=") for p in summary[-1][14:].split(", ") if "=" in p)
    return int(parts.get("events", "0"))


def cluster_processes(workdir: Path) -> list[int]:
    """Pids of the ``python -m inventory.app.cluster`` processes whose context is in ``workdir``."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"inventory.app.cluster" in args and str(workdir).encode() in b" ".join(args):
            found.append(int(entry.name))
    return found


def run_to_end(env: dict[str, str], workdir: Path, processes: int) -> str:
    args = ["run", "--exit-at-end"] + (["--processes", str(processes)] if processes > 1 else [])
    proc = spawn_cli(env, workdir, *args)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    return err


def test_rescaling_two_one_two_processes_resumes_exactly(
    settings: Settings, tmp_path: Path
) -> None:
    """Each run is a restart from the snapshots with another number of processes: it
    writes only the events published since, and the tables equal the model each time."""
    brokers = settings.kafka_brokers or ""
    ensure_topics(settings, brokers)
    env = env_for(settings, tmp_path)
    messages = list(EventGenerator(CONFIG).messages(24_000))
    accepted_before = 0
    for part, processes in enumerate((2, 1, 2)):
        publish_to_kafka(
            messages[part * 8_000 : (part + 1) * 8_000], brokers, settings.events_topic
        )
        expected = topic_model(settings)
        err = run_to_end(env, tmp_path, processes)
        assert written_events(err) == len(expected.accepted) - accepted_before, err
        accepted_before = len(expected.accepted)
        assert_tables_equal_model(env, tmp_path, expected)


def test_off_key_messages_and_keys_moved_to_another_partition_are_exact(
    settings: Settings, tmp_path: Path
) -> None:
    """Key-affine state's fallback across two processes: after a well-keyed run, the
    same keys' next events arrive keyed by something else in the last partition (a key
    moves partitions; its events cross to the process of its shard): the tables equal
    the model. (Moved events go to one partition after the key's own, so each key's
    arrival order is the model's per-partition order.)"""
    brokers = settings.kafka_brokers or ""
    ensure_topics(settings, brokers)
    env = env_for(settings, tmp_path)
    messages = list(EventGenerator(CONFIG).messages(9_000))
    publish_to_kafka(messages[:6_000], brokers, settings.events_topic)
    run_to_end(env, tmp_path, 2)
    last = settings.topic_partitions - 1
    producer = Producer({"bootstrap.servers": brokers, "linger.ms": 20})
    moved = 0
    for n, msg in enumerate(messages[6_000:]):
        if msg.key is None or shard_of(msg.key.decode(), settings.topic_partitions) == last:
            producer.produce(settings.events_topic, value=msg.value, key=msg.key)
        else:
            producer.produce(
                settings.events_topic, value=msg.value, key=f"order-{n}".encode(), partition=last
            )
            moved += 1
    assert producer.flush(30) == 0
    assert moved > 1_000
    expected = topic_model(settings)
    err = run_to_end(env, tmp_path, 2)
    assert written_events(err) > 0, err
    assert_tables_equal_model(env, tmp_path, expected)


def test_a_killed_process_stops_the_cluster_loudly_and_a_restart_resumes_exactly(
    settings: Settings, tmp_path: Path
) -> None:
    brokers = settings.kafka_brokers or ""
    ensure_topics(settings, brokers)
    publish_to_kafka(EventGenerator(CONFIG).messages(30_000), brokers, settings.events_topic)
    expected = topic_model(settings)
    env = env_for(settings, tmp_path)
    recovery = tmp_path / "data" / "recovery"
    proc = spawn_cli(env, tmp_path, "run", "--processes", "2")  # tails: only a failure ends it
    deadline = time.monotonic() + 120
    # kill once a few epochs with processed events are snapshotted (and so committed)
    seen: set[int] = set()
    while len(seen) < 3:
        seen.update(*map(keyed_epochs, recovery.glob("part-*.sqlite3")))
        assert proc.poll() is None, proc.communicate()[1]
        assert time.monotonic() < deadline, f"3 epochs not snapshotted in 120 s: {seen}"
        time.sleep(0.05)
    peers = cluster_processes(tmp_path)
    assert len(peers) == 1, peers
    os.kill(peers[0], signal.SIGKILL)
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("the cluster went on after one of its processes was killed")
    assert proc.returncode == 1, err
    assert "error: process 1 was killed by SIGKILL; the cluster stopped" in err, err
    assert "Traceback" not in err, err

    err = run_to_end(env, tmp_path, 2)
    assert written_events(err) < len(expected.accepted), "it started over"
    assert_tables_equal_model(env, tmp_path, expected)


UNAVAILABLE = namespaces_unavailable()


def host_process(
    hosts: TwoHosts, host: str, env: dict[str, str], workdir: Path, *args: str
) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "inventory.app.cluster", *args]
    return subprocess.Popen(
        hosts.command(host, command),
        cwd=workdir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def start_two_hosts(
    hosts: TwoHosts, env: dict[str, str], workdir: Path, run: int, *extra: str
) -> list[subprocess.Popen[str]]:
    addresses = f"{hosts.a_address}:7101;{hosts.b_address}:7102"
    common = ["--addresses", addresses, "--context", str(workdir / f"context-{run}"), *extra]
    return [
        host_process(hosts, hosts.a, env, workdir, "--process", "0", *common),
        host_process(hosts, hosts.b, env, workdir, "--process", "1", *common),
    ]


@pytest.mark.skipif(UNAVAILABLE is not None, reason=f"no network namespaces: {UNAVAILABLE}")
def test_two_hosts_fail_loudly_when_their_link_is_cut_and_resume_exactly(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    """Process 0 on host A, process 1 on host B (own addresses, own link); the broker
    is reached through each host's gateway. Cutting the A-B link stops both loudly; with
    the link back, a restart resumes from the snapshots to the model's tables."""
    with two_hosts() as hosts, temporary_broker(hosts.root_address) as brokers:
        settings = make_settings(kafka_brokers=brokers)
        ensure_topics(settings, brokers)
        publish_to_kafka(EventGenerator(CONFIG).messages(30_000), brokers, settings.events_topic)
        expected = topic_model(settings)
        env = env_for(settings, tmp_path) | {"INVENTORY_CLUSTER_PEER_TIMEOUT_SECONDS": "3"}
        recovery = tmp_path / "data" / "recovery"
        procs = start_two_hosts(hosts, env, tmp_path, 1)  # tailing: only a failure ends them
        seen: set[int] = set()
        deadline = time.monotonic() + 120
        while len(seen) < 3:
            seen.update(*map(keyed_epochs, recovery.glob("part-*.sqlite3")))
            for proc in procs:
                assert proc.poll() is None, proc.communicate()[1]
            assert time.monotonic() < deadline, f"3 epochs not snapshotted in 120 s: {seen}"
            time.sleep(0.05)
        hosts.cut()
        errors = []
        for proc in procs:
            try:
                errors.append(proc.communicate(timeout=90)[1])
            except subprocess.TimeoutExpired:
                for each in procs:
                    each.kill()
                pytest.fail("a process went on after the link to the other was cut")
            assert proc.returncode == 1, errors[-1]
        for k, err in enumerate(errors):
            assert f"error: process {k} heard nothing from process {1 - k}" in err, err

        hosts.mend()
        procs = start_two_hosts(hosts, env, tmp_path, 2, "--exit-at-end")
        errs = [proc.communicate(timeout=300)[1] for proc in procs]
        assert [proc.returncode for proc in procs] == [0, 0], errs
        assert_tables_equal_model(env, tmp_path, expected)
