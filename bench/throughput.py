"""Throughput: the full flow (1 and 2 workers) against the plain loop, in one run.

Usage: .venv/bin/python bench/throughput.py [--events 200000] [--keys 10000] [--rounds 2]

One local broker and one embedded ClickHouse; the same generated topic (1 % duplicates,
1 % late, 0.5 % malformed) is read by each contender into its own database:

- ``plain``: bench/plain_loop.py, no framework, no recovery (the practical limit);
- ``flow-1w`` / ``flow-2w``: ``run_inventory`` to the end of the topic, recovery on
  (2 s epochs), 1 and 2 worker threads;
- the generator alone (events built and serialized, no Kafka) and publishing to Kafka.

Rounds alternate the contenders and the best round counts (the machine is shared).
Prints events/s and the ratios; writes bench/results-throughput.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.plain_loop import run_plain_loop
from generators.events import EventGenerator, GeneratorConfig
from generators.publish import publish_to_kafka
from inventory.broker import temporary_broker
from inventory.clickhouse import connect
from inventory.kafka import ensure_topics
from inventory.runner import run_inventory
from inventory.schema import apply_migrations
from inventory.settings import Settings


def generator_rate(config: GeneratorConfig, events: int) -> float:
    start = time.perf_counter()
    count = sum(1 for _ in EventGenerator(config).messages(events))
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--keys", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=2)
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
    results: dict[str, list[float]] = {"plain": [], "flow-1w": [], "flow-2w": []}
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

        for round_no in range(args.rounds):
            for name, rates in results.items():
                settings = base.model_copy(
                    update={
                        "data_dir": work / f"data-{name}-{round_no}",
                        "clickhouse_database": f"b_{name.replace('-', '_')}_{round_no}",
                    }
                )
                client = connect(settings)
                apply_migrations(client, settings.clickhouse_database)
                client.close()
                start = time.perf_counter()
                if name == "plain":
                    read = run_plain_loop(settings, brokers)
                    assert read == args.events, read
                else:
                    workers = int(name[-2])
                    run_inventory(settings, brokers, exit_at_end=True, workers=workers)
                seconds = time.perf_counter() - start
                rate = args.events / seconds
                rates.append(rate)
                print(f"round {round_no + 1} {name:>8}: {rate:>9,.0f} events/s ({seconds:.1f} s)")

    best = {name: max(rates) for name, rates in results.items()}
    print()
    for name, rate in best.items():
        print(f"{name:>8}: {rate:>9,.0f} events/s  = {rate / best['plain']:.2f}x the plain loop")
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
                "ratio_to_plain": {name: rate / best["plain"] for name, rate in best.items()},
            },
            indent=2,
        )
    )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
