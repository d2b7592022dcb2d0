"""End-to-end latency: occurred_at -> the event's row is queryable in ClickHouse, and
(``--consumers api browser``) an event -> the availability API's answer and the
storefront in a browser (:mod:`bench.freshness`).

Usage: .venv/bin/python bench/latency.py [--rates 5000 20000] [--seconds 20]
       .venv/bin/python bench/latency.py --consumers api browser --rates 2000 10000

For each rate: a generator subprocess (``inventory generate --rate R --event-rate R
--start now``) publishes to the local broker, so each event's ``occurred_at`` is its
send time; the flow (recovery on, 1 worker) tails the topic in this process. When an
insert into ``events`` returns, the rows are queryable; the sink records
``now - occurred_at`` for each of them. The first 3 s (start-up) are not counted.
Prints p50/p99/max per rate; writes bench/results-latency.json.
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
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bytewax.errors import BytewaxRuntimeError
from bytewax.outputs import DynamicSink, StatelessSinkPartition

from bench.plain_loop import run_plain_loop
from dataflows.assembly import load_policy_book
from dataflows.flow import build_flow
from inventory.app.run import execute
from inventory.clickhouse.client import connect
from inventory.clickhouse.migrations import apply_migrations
from inventory.core.records import Event
from inventory.core.settings import Settings
from inventory.kafka.local_broker import temporary_broker
from inventory.kafka.topics import ensure_topics
from sinks.clickhouse import ClickHouseSink, Row

WARMUP_MS = 3000
CONSUMERS = ("flow", "plain", "api", "browser")


def run_freshness(rates: list[int], seconds: float, *, browser: bool) -> None:
    """Event -> API (and -> browser) per rate; writes bench/results-freshness.json."""
    from bench.freshness import measure_freshness, print_result

    results = []
    for rate in rates:
        result = measure_freshness(rate, seconds, browser=browser)
        results.append(result)
        print_result(result)
    out = Path(__file__).with_name("results-freshness.json")
    out.write_text(json.dumps(results, indent=2))
    print(f"wrote {out}")


class _Timed(StatelessSinkPartition[Row]):
    def __init__(
        self,
        inner: StatelessSinkPartition[Row],
        samples: list[int],
        inserts: list[tuple[int, float]],
        t0: int,
    ) -> None:
        self.inner, self.samples, self.inserts, self.t0 = inner, samples, inserts, t0

    def write_batch(self, items: list[Row]) -> None:
        started = time.perf_counter()
        self.inner.write_batch(items)
        now = time.time_ns() // 1_000_000
        self.inserts.append((len(items), time.perf_counter() - started))
        self.samples.extend(
            now - item.occurred_ms
            for item in items
            if type(item) is Event and item.occurred_ms >= self.t0 + WARMUP_MS
        )

    def close(self) -> None:
        self.inner.close()


class TimedSink(DynamicSink[Row]):
    """The real ClickHouse sink, timing each event's row once its insert returned."""

    def __init__(self, settings: Settings, samples: list[int], t0: int) -> None:
        self.inner, self.samples, self.t0 = ClickHouseSink(settings), samples, t0
        self.inserts: list[tuple[int, float]] = []  # (rows, seconds) per write_batch

    def build(self, step_id: str, worker_index: int, worker_count: int) -> _Timed:
        inner = self.inner.build(step_id, worker_index, worker_count)
        return _Timed(inner, self.samples, self.inserts, self.t0)


def percentile(values: list[int], share: float) -> float:
    ordered = sorted(values)
    return float(ordered[min(len(ordered) - 1, int(share * len(ordered)))])


def measure(
    base: Settings, brokers: str, work: Path, rate: int, *, seconds: float, consumer: str
) -> dict[str, Any]:
    """One run at ``rate``; ``consumer`` is ``flow`` (the dataflow) or ``plain``."""
    name = f"{consumer}_{rate}"
    settings = base.model_copy(
        update={
            "events_topic": f"lat-{name}",
            "alerts_topic": f"lat-{name}-alerts",
            "dlq_topic": f"lat-{name}-dlq",
            "clickhouse_database": f"lat_{name}",
            "data_dir": work / f"data-{name}",
        }
    )
    ensure_topics(settings, brokers)
    client = connect(settings)
    apply_migrations(client, settings.clickhouse_database)
    client.close()
    samples: list[int] = []
    t0 = time.time_ns() // 1_000_000 + 2000  # the generator starts in 2 s
    count = int(rate * seconds)
    env = {k: v for k, v in os.environ.items() if not k.startswith("INVENTORY_")}
    env.update(
        INVENTORY_KAFKA_BROKERS=brokers,
        INVENTORY_EVENTS_TOPIC=settings.events_topic,
        INVENTORY_CLICKHOUSE_URL=f"chdb://{work / f'gen-{name}'}",
    )
    stopping = threading.Event()

    def drive() -> None:
        time.sleep(max(0.0, (t0 - time.time_ns() // 1_000_000) / 1000))
        subprocess.run(
            [
                *(sys.executable, "-m", "inventory.cli", "generate", "--count", str(count)),
                *("--rate", str(rate), "--event-rate", str(rate), "--start", "now"),
                *("--skus", "2000", "--warehouses", "5", "--no-catalog"),
            ],
            env=env,
            check=True,
            capture_output=True,
        )
        time.sleep(3.0)  # drain
        stopping.set()
        if consumer == "flow":
            os.kill(os.getpid(), signal.SIGINT)

    sink = TimedSink(settings, samples, t0)
    driver = threading.Thread(target=drive, daemon=True)
    driver.start()
    started = time.perf_counter()
    if consumer == "plain":
        run_plain_loop(settings, brokers, stop=stopping, sink=sink.build("plain", 0, 1))
    else:
        flow = build_flow(
            settings, brokers, policies=load_policy_book(settings), tail=True, rows_sink=sink
        )
        try:
            execute(flow, settings)
        except (KeyboardInterrupt, BytewaxRuntimeError):
            if not stopping.is_set():
                raise
    elapsed = time.perf_counter() - started
    driver.join()
    batches = len(sink.inserts) or 1
    busy = sum(spent for _, spent in sink.inserts)
    return {
        "consumer": consumer,
        "rate": rate,
        "events_timed": len(samples),
        "events_sent": count,
        "p50_ms": percentile(samples, 0.50),
        "p99_ms": percentile(samples, 0.99),
        "max_ms": float(max(samples)),
        "sink_batches": len(sink.inserts),
        "rows_per_batch": sum(rows for rows, _ in sink.inserts) / batches,
        "ms_per_batch": 1000 * busy / batches,
        "sink_busy_share": busy / elapsed,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rates", type=int, nargs="+", default=[5000, 20000])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--epoch", type=float, default=2.0)
    parser.add_argument("--consumers", nargs="+", default=["flow", "plain"], choices=CONSUMERS)
    args = parser.parse_args()
    if {"api", "browser"} & set(args.consumers):
        run_freshness(args.rates, args.seconds, browser="browser" in args.consumers)
        args.consumers = [c for c in args.consumers if c in ("flow", "plain")]
        if not args.consumers:
            return
    work = Path(tempfile.mkdtemp(prefix="bench-latency-"))
    results = []
    with temporary_broker() as brokers:
        base = Settings(
            _env_file=None,
            kafka_brokers=brokers,  # type: ignore[call-arg]
            clickhouse_url=f"chdb://{work / 'ch'}",
            epoch_seconds=args.epoch,
        )
        for rate in args.rates:
            for consumer in args.consumers:
                result = measure(base, brokers, work, rate, seconds=args.seconds, consumer=consumer)
                results.append(result)
                print(
                    f"{consumer:>5} {rate:>6} events/s: p50 {result['p50_ms']:>7,.0f} ms  "
                    f"p99 {result['p99_ms']:>7,.0f} ms  max {result['max_ms']:>7,.0f} ms  "
                    f"({result['events_timed']:,} timed; sink {result['rows_per_batch']:,.0f} "
                    f"rows / {result['ms_per_batch']:.1f} ms per batch, "
                    f"busy {result['sink_busy_share']:.0%})"
                )
    out = Path(__file__).with_name("results-latency.json")
    out.write_text(json.dumps({"epoch_seconds": args.epoch, "runs": results}, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
