"""Throughput of the full flow (recovery on) for several snapshot intervals (epochs).

Usage: .venv/bin/python bench/snapshot_interval.py [--events 100000]
Prints events/s per epoch length and the ratio to the 2 s default, measured in one run
on the local broker and embedded ClickHouse; writes bench/results-snapshot.json.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from generators.events import EventGenerator, GeneratorConfig
from generators.publish import publish_to_kafka
from inventory.app.run import run_inventory
from inventory.clickhouse.client import connect
from inventory.clickhouse.migrations import apply_migrations
from inventory.core.settings import Settings
from inventory.kafka.local_broker import temporary_broker
from inventory.kafka.topics import ensure_topics

EPOCHS = (0.1, 0.5, 2.0, 10.0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-snap-"))
    results = {}
    with temporary_broker() as brokers:
        base = Settings(
            _env_file=None,
            kafka_brokers=brokers,  # type: ignore[call-arg]
            clickhouse_url=f"chdb://{work / 'ch'}",
        )
        ensure_topics(base, brokers)
        config = GeneratorConfig(
            seed=1, skus=1000, warehouses=5, rate=1000.0, duplicate_share=0.01, late_share=0.01
        )
        publish_to_kafka(EventGenerator(config).messages(args.events), brokers, base.events_topic)
        for epoch in EPOCHS:
            settings = base.model_copy(
                update={
                    "epoch_seconds": epoch,
                    "data_dir": work / f"data-{epoch}",
                    "clickhouse_database": f"bench_{str(epoch).replace('.', '_')}",
                }
            )
            client = connect(settings)
            apply_migrations(client, settings.clickhouse_database)
            client.close()
            start = time.perf_counter()
            run_inventory(settings, brokers, exit_at_end=True)
            seconds = time.perf_counter() - start
            results[epoch] = args.events / seconds
            print(f"epoch {epoch:>5} s: {results[epoch]:>9,.0f} events/s ({seconds:.2f} s)")
    default = results[2.0]
    for epoch, rate in results.items():
        print(f"epoch {epoch:>5} s: {rate / default:.2f}x the 2 s default")
    out = Path(__file__).with_name("results-snapshot.json")
    out.write_text(json.dumps({"events": args.events, "events_per_second": results}, indent=2))


if __name__ == "__main__":
    main()
