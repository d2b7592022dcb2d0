"""Memory: RSS of the flow holding state for 1M distinct (warehouse, sku) keys.

Usage: .venv/bin/python bench/memory.py [--keys 1000000] [--events-per-key 2]

Publishes ``events-per-key`` events for every key (a count, then sales) to the local
broker, then runs ``inventory run --exit-at-end`` (recovery on, 1 worker) in a
subprocess and samples its RSS every 0.2 s. Reports the peak and final RSS, the
recovery store's size, and the time taken; writes bench/results-memory.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from inventory.core.settings import Settings
from inventory.core.times import format_ms
from inventory.kafka.local_broker import temporary_broker
from inventory.kafka.producer import CheckedProducer
from inventory.kafka.topics import ensure_topics

WAREHOUSES = 5
START_MS = 1_795_000_000_000


def publish_keys(brokers: str, topic: str, keys: int, per_key: int) -> int:
    producer = CheckedProducer(brokers, 60.0, **{"linger.ms": 50, "batch.size": 1_000_000})
    sent = 0
    for round_no in range(per_key):
        for i in range(keys):
            warehouse, sku = f"WH-{i % WAREHOUSES:02d}", f"SKU-{i // WAREHOUSES:07d}"
            at = START_MS + round_no * 60_000 + i % 60_000
            kind, quantity = ("count", 100) if round_no == 0 else ("sale", 1)
            event = {
                "event_id": f"m-{round_no}-{i}",
                "event_type": kind,
                "sku": sku,
                "warehouse_id": warehouse,
                "quantity": quantity,
                "occurred_at": format_ms(at),
                "unit_price": 9.99,
            }
            producer.produce(topic, orjson.dumps(event), f"{warehouse}:{sku}".encode(), None)
            sent += 1
            if sent % 100_000 == 0:
                producer.flush_or_raise()
    producer.flush_or_raise()
    return sent


def rss_kib(pid: int) -> int:
    return rss_parts_kib(pid).get("VmRSS", 0)


def rss_parts_kib(pid: int) -> dict[str, int]:
    """VmRSS and its parts (RssAnon: heaps; RssFile: mapped files, e.g. libraries)."""
    parts = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "RssAnon", "RssFile", "RssShmem"):
            parts[name] = int(value.split()[0])
    return parts


def child(sink: str) -> None:
    """Run the flow to the end of the topic (in the measured subprocess).

    ``clickhouse``: as ``inventory run``. ``discard``: no rows written, but the embedded
    ClickHouse is loaded (schema, catalog). ``none``: no ClickHouse client in the process
    at all, i.e. the flow's own memory, as with a ClickHouse server (not chDB) minus its
    HTTP client.
    """
    from dataflows import assembly
    from inventory.app import run as runner
    from inventory.clickhouse.catalog import PolicyBook
    from inventory.core.settings import load_settings
    from sinks.discard import DiscardSink

    settings = load_settings()
    if os.environ.get("BENCH_MALLOC_STATS"):  # pymalloc's arenas, once, to a file
        import threading

        def report() -> None:
            time.sleep(float(os.environ["BENCH_MALLOC_STATS"]))
            fd = os.open("/tmp/bench-mallocstats.txt", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            saved = os.dup(2)
            os.dup2(fd, 2)
            sys._debugmallocstats()
            os.dup2(saved, 2)
            smaps = Path(f"/proc/{os.getpid()}/smaps").read_text()
            Path("/tmp/bench-smaps.txt").write_text(smaps)

        threading.Thread(target=report, daemon=True).start()
    if sink != "none":
        from inventory.clickhouse.client import connect, database_name
        from inventory.clickhouse.migrations import apply_migrations

        client = connect(settings)
        apply_migrations(client, database_name(settings))
        client.close()
    else:
        assembly.load_policy_book = lambda s: PolicyBook(s, {})  # type: ignore[assignment]
        assembly.stock_seeder = lambda *a, **k: None  # type: ignore[assignment,return-value]
        assembly.publish_catalog = lambda *a, **k: None  # type: ignore[assignment]
    if sink != "clickhouse":
        assembly.ClickHouseSink = lambda *a, **k: DiscardSink()  # type: ignore[assignment,misc]
    runner.run_inventory(settings, settings.kafka_brokers or "", exit_at_end=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--keys", type=int, default=1_000_000)
    parser.add_argument("--events-per-key", type=int, default=2)
    parser.add_argument(
        "--sink",
        choices=["clickhouse", "discard", "none"],
        default="clickhouse",
        help="discard: no rows written; none: no ClickHouse client loaded (see child())",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an environment variable of the measured process (e.g. "
        "INVENTORY_SOURCE_BATCH_SIZE=10000, MALLOC_ARENA_MAX=2)",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.sink)
        return
    work = Path(tempfile.mkdtemp(prefix="bench-memory-"))
    with temporary_broker() as brokers:
        settings = Settings(_env_file=None, kafka_brokers=brokers)  # type: ignore[call-arg]
        ensure_topics(settings, brokers)
        start = time.perf_counter()
        sent = publish_keys(brokers, settings.events_topic, args.keys, args.events_per_key)
        print(f"published {sent:,} events in {time.perf_counter() - start:.1f} s")
        env = {k: v for k, v in os.environ.items() if not k.startswith("INVENTORY_")}
        env.update(
            INVENTORY_KAFKA_BROKERS=brokers,
            INVENTORY_CLICKHOUSE_URL=(
                "http://127.0.0.1:9/never" if args.sink == "none" else f"chdb://{work / 'ch'}"
            ),
            INVENTORY_DATA_DIR=str(work / "data"),
        )
        env.update(item.split("=", 1) for item in args.set)
        start = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, __file__, "--child", "--sink", args.sink],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        peak = last = 0
        at_peak: dict[str, int] = {}
        timeline: list[tuple[float, int]] = []
        while proc.poll() is None:
            try:
                parts = rss_parts_kib(proc.pid)
            except (FileNotFoundError, ProcessLookupError):
                break
            last = parts.get("VmRSS", 0)
            if last > peak:
                peak, at_peak = last, parts
            timeline.append((time.perf_counter() - start, last // 1024))
            time.sleep(0.2)
        _, err = proc.communicate()
        seconds = time.perf_counter() - start
        if proc.returncode != 0:
            raise SystemExit(err)
    store = work / "data" / "recovery"
    recovery = sum(p.stat().st_size for p in store.rglob("*") if p.is_file())
    keys = sum(p.stat().st_size for p in (store / "keys").rglob("*") if p.is_file())
    result = {
        "keys": args.keys,
        "sink": args.sink,
        "set": args.set,
        "events": sent,
        "peak_rss_mib": peak / 1024,
        "last_rss_mib": last / 1024,
        "recovery_store_mib": recovery / 2**20,
        "key_store_mib": keys / 2**20,
        "at_peak_mib": {name: kib / 1024 for name, kib in at_peak.items()},
        "seconds": seconds,
        "events_per_second": sent / seconds,
        "rss_mib_timeline": timeline[::10],
    }
    print(
        f"{args.keys:,} keys ({args.sink}): peak RSS {result['peak_rss_mib']:,.0f} MiB, last "
        f"{result['last_rss_mib']:,.0f} MiB, recovery store {result['recovery_store_mib']:,.0f} "
        f"MiB (key shards {keys / 2**20:,.0f} MiB), {seconds:.0f} s "
        f"({result['events_per_second']:,.0f} events/s); at the peak: "
        + ", ".join(f"{name} {kib / 1024:,.0f}" for name, kib in at_peak.items())
    )
    out = Path(__file__).with_name(f"results-memory-{args.sink}.json")
    out.write_text(json.dumps(result, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
