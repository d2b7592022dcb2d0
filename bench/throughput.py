"""Throughput: the full flow (1 and 2 workers) against the plain loop, in one run.

Usage: .venv/bin/python bench/throughput.py [--events 200000] [--keys 10000] [--rounds 2]

One local broker and one embedded ClickHouse; the same generated topic (1 % duplicates,
1 % late, 0.5 % malformed) is read by each contender into its own database:

- ``plain``: bench/plain_loop.py, no framework, no recovery (the practical limit);
- ``flow-1w`` / ``flow-2w``: ``run_inventory`` to the end of the topic, recovery on
  (2 s epochs), 1 and 2 worker threads;
- ``flow-2p``: ``inventory run --processes 2`` (a local cluster of 2 processes, 1 worker
  each; with embedded ClickHouse every row goes to process 0's sink);
- ``straight``: bench/straight_loop.py, independent code (own decode, state and rows,
  the same tables), no framework, no recovery: the baseline;
- ``discard-1p`` / ``discard-2p``: 1 and 2 processes (bench/cluster_child.py) with the
  rows discarded instead of written (the flow's own cost, and how it splits over
  processes);
- the generator alone (events built and serialized, no Kafka) and publishing to Kafka.

Rounds alternate the contenders and the best round counts (the machine is shared).
Prints events/s and the ratios; writes bench/results-throughput.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pydantic import SecretStr

from bench.plain_loop import run_plain_loop
from bench.straight_loop import run_straight_loop
from generators.events import EventGenerator, GeneratorConfig
from generators.publish import publish_to_kafka
from inventory.app.cluster import local_addresses, run_local_cluster, settings_environment
from inventory.app.run import run_inventory
from inventory.clickhouse.client import connect
from inventory.clickhouse.migrations import apply_migrations
from inventory.core.key_shards import shard_of
from inventory.core.settings import Settings
from inventory.kafka.local_broker import temporary_broker
from inventory.kafka.topics import ensure_topics
from tests.support.kafka import read_topic


def run_contender(name: str, settings: Settings, brokers: str, events: int) -> None:
    """One contender over the whole topic (see the module docstring), its schema applied."""
    if name == "straight":
        read = run_straight_loop(settings, brokers)
        assert read == events, read
    elif name == "plain":
        read = run_plain_loop(settings, brokers)
        assert read == events, read
    elif name.startswith("discard-"):
        run_discard_cluster(settings, brokers, processes=int(name[-2]))
    elif name == "flow-2p":
        run_local_cluster(settings, brokers, processes=2, workers=1, exit_at_end=True)
    else:
        run_inventory(settings, brokers, exit_at_end=True, workers=int(name[-2]))


def off_shard_messages(brokers: str, settings: Settings) -> int:
    """Messages of the events topic outside their key's shard (they cross processes)."""
    return sum(
        1
        for m in read_topic(brokers, settings.events_topic)
        if m.key() is not None
        and m.partition() != shard_of(m.key().decode(), settings.topic_partitions)
    )


def print_cpu(cpu_us: dict[str, list[float]]) -> None:
    for name, values in cpu_us.items():
        low = min(values)
        print(
            f"{name:>8}: {low:.1f} us CPU per event in all its processes: "
            f"{1e6 / low * int(name[-2]):,.0f} events/s projected for {name[-2]} "
            "process(es) on their own cores"
        )


def children_cpu() -> float:
    """CPU seconds (user + system) of this process's children that have been waited for."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_discard_cluster(settings: Settings, brokers: str, processes: int) -> None:
    """The flow as ``processes`` processes of 1 worker to the end of the topic, rows
    discarded (bench/cluster_child.py); raises if a process fails. Process 0 opens its own
    embedded ClickHouse (catalog, seeds): this process holds the benchmark's."""
    settings = settings.model_copy(
        update={"clickhouse_url": SecretStr(f"chdb://{settings.data_dir.resolve() / 'ch'}")}
    )
    env = {**os.environ, **settings_environment(settings), "INVENTORY_KAFKA_BROKERS": brokers}
    addresses = ";".join(local_addresses(processes))
    context = settings.data_dir.resolve() / f"context-{processes}.pickle"
    command = [sys.executable, str(Path(__file__).with_name("cluster_child.py"))]
    command += ["--addresses", addresses, "--context", str(context), "--exit-at-end"]
    children = [
        subprocess.Popen([*command, "--process", str(k)], env=env) for k in range(processes)
    ]
    codes = [child.wait() for child in children]
    assert codes == [0] * processes, codes


def generator_rate(config: GeneratorConfig, events: int) -> float:
    start = time.perf_counter()
    count = sum(1 for _ in EventGenerator(config).messages(events))
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--keys", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--contenders",
        nargs="+",
        default=["straight", "plain", "flow-1w", "flow-2w", "flow-2p", "discard-1p", "discard-2p"],
        choices=["straight", "plain", "flow-1w", "flow-2w", "flow-2p", "discard-1p", "discard-2p"],
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-throughput-"))
    warehouses = 5
    config = GeneratorConfig(
        seed=3,
        skus=max(1, args.keys // warehouses),
        warehouses=warehouses,
        rate=2000.0,
        malformed_share=0.005,
        duplicate_share=0.01,
        late_share=0.01,
    )
    results: dict[str, list[float]] = {name: [] for name in args.contenders}
    cpu_us: dict[str, list[float]] = {}
    with temporary_broker() as brokers:
        base = Settings(
            _env_file=None,
            kafka_brokers=brokers,  # type: ignore[call-arg]
            clickhouse_url=f"chdb://{work / 'ch'}",
            topic_partitions=4,
        )
        ensure_topics(base, brokers)
        gen_rate = generator_rate(config, args.events)
        start = time.perf_counter()
        publish_to_kafka(EventGenerator(config).messages(args.events), brokers, base.events_topic)
        publish_rate = args.events / (time.perf_counter() - start)
        print(f"generator: {gen_rate:,.0f} events/s built; {publish_rate:,.0f} events/s to Kafka")
        off_shard = off_shard_messages(brokers, base)
        print(f"messages outside their key's shard (they would cross processes): {off_shard}")

        for round_no in range(args.rounds):
            for name, rates in results.items():
                settings = base.model_copy(
                    update={
                        "data_dir": work / f"data-{name}-{round_no}",
                        "clickhouse_database": f"b_{name.replace('-', '_')}_{round_no}",
                    }
                )
                if not name.startswith("discard-"):  # the schema, not timed
                    client = connect(settings)
                    apply_migrations(client, settings.clickhouse_database)
                    client.close()
                cpu_before = children_cpu()
                start = time.perf_counter()
                run_contender(name, settings, brokers, args.events)
                seconds = time.perf_counter() - start
                rate = args.events / seconds
                rates.append(rate)
                cpu = ""
                if name.startswith("discard-"):  # its processes are children, waited for
                    per_event = (children_cpu() - cpu_before) / args.events * 1e6
                    cpu_us.setdefault(name, []).append(per_event)
                    cpu = f", {per_event:.1f} us CPU per event over its processes"
                print(
                    f"round {round_no + 1} {name:>8}: {rate:>9,.0f} events/s ({seconds:.1f} s{cpu})"
                )

    best = {name: max(rates) for name, rates in results.items()}
    print()
    for name, rate in best.items():
        versus = "".join(
            f"  = {rate / best[other]:.2f}x {other}"
            for other in ("straight", "plain")
            if other in best
        )
        print(f"{name:>8}: {rate:>9,.0f} events/s{versus}")
    print_cpu(cpu_us)
    out = Path(__file__).with_name("results-throughput.json")
    out.write_text(
        json.dumps(
            {
                "events": args.events,
                "keys": args.keys,
                "machine": f"{platform.machine()}, {platform.python_version()}",
                "generator_events_per_second": gen_rate,
                "publish_events_per_second": publish_rate,
                "events_per_second": results,
                "best": best,
                "cpu_us_per_event": cpu_us,
                "off_shard_messages": off_shard,
                "ratio_to_straight": {
                    name: rate / best["straight"]
                    for name, rate in best.items()
                    if "straight" in best
                },
            },
            indent=2,
        )
    )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
