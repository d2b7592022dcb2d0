"""Bounded soak: the flow tails the topic in a subprocess while events arrive at a fixed
rate; prints its RSS and the recovery store's size over time. Not part of the tests.

Usage: .venv/bin/python bench/soak.py [--minutes 3] [--rate 2000] [--skus 2000] [--lateness 600]
Writes bench/results-soak.json.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from generators.events import EventGenerator, GeneratorConfig
from generators.publish import publish_to_kafka
from inventory.core.settings import Settings
from inventory.kafka.local_broker import temporary_broker
from inventory.kafka.topics import ensure_topics


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def dir_mib(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--rate", type=float, default=2000.0, help="events per second")
    parser.add_argument("--skus", type=int, default=2000)
    parser.add_argument("--lateness", type=int, default=600, help="INVENTORY_LATENESS_SECONDS")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="soak-"))
    seconds = args.minutes * 60
    samples = []
    with temporary_broker() as brokers:
        settings = Settings(_env_file=None, kafka_brokers=brokers)  # type: ignore[call-arg]
        ensure_topics(settings, brokers)
        env = {k: v for k, v in os.environ.items() if not k.startswith("INVENTORY_")}
        env.update(
            {
                "INVENTORY_KAFKA_BROKERS": brokers,
                "INVENTORY_DATA_DIR": str(work / "data"),
                "INVENTORY_CLICKHOUSE_URL": f"chdb://{work / 'ch'}",
            }
        )
        flow = subprocess.Popen(
            [sys.executable, "-m", "inventory.cli", "run"],
            env=env,
            cwd=work,
            stderr=subprocess.DEVNULL,
        )
        config = GeneratorConfig(
            seed=3,
            skus=args.skus,
            warehouses=5,
            start_ms=int(time.time() * 1000),
            rate=args.rate,
            duplicate_share=0.01,
            late_share=0.01,
        )
        total = int(seconds * args.rate)
        producer = threading.Thread(
            target=publish_to_kafka,
            args=(EventGenerator(config).messages(total), brokers, settings.events_topic),
            kwargs={"rate": args.rate},
        )
        producer.start()
        start = time.monotonic()
        print(f"{'t (s)':>6} {'RSS MiB':>8} {'recovery MiB':>13}")
        while time.monotonic() - start < seconds + 10 and flow.poll() is None:
            time.sleep(10)
            sample = (
                round(time.monotonic() - start),
                rss_mib(flow.pid),
                dir_mib(work / "data" / "recovery"),
            )
            samples.append(sample)
            print(f"{sample[0]:>6} {sample[1]:>8.0f} {sample[2]:>13.1f}")
        producer.join()
        flow.send_signal(signal.SIGINT)
        try:
            flow.wait(30)
        except subprocess.TimeoutExpired:
            flow.kill()
    out = Path(__file__).with_name("results-soak.json")
    out.write_text(
        json.dumps({"rate": args.rate, "minutes": args.minutes, "samples": samples}, indent=2)
    )


if __name__ == "__main__":
    main()
