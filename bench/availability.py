"""Latency of the availability API under load from a second process, on loopback.

Usage: .venv/bin/python bench/availability.py [--rate 500] [--seconds 20] [--skus 2000]

Setup (separate processes, as a user runs them): ``inventory generate`` puts events for
``--skus`` SKUs x 5 warehouses on the local broker, ``inventory run --exit-at-end`` fills
an embedded ClickHouse. Then two server set-ups are loaded in turn:

- ``serve``: ``inventory serve`` alone on that data;
- ``serve+flow``: ``inventory run --serve``, the flow tailing live events at
  ``--flow-rate`` events/s in the same process as the API (the embedded-ClickHouse demo).

This process is the client: an open-loop schedule at ``--rate`` requests/s (latency is
measured from each request's scheduled time, so a stall is not hidden by fewer sends),
8 keep-alive connections, single-SKU requests for random SKUs, then batch requests of 24
SKUs. Prints p50/p99/max; writes bench/results-availability.json.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.latency import percentile
from inventory.kafka.local_broker import temporary_broker

CLIENTS = 8
WAREHOUSES = 5


def cli(env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "inventory.cli", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_healthy(port: int, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit("the availability API did not become healthy")


def load(port: int, paths: list[str], rate: float, seconds: float) -> dict[str, Any]:
    """Open-loop load; returns latency figures in ms and the error count."""
    total = int(rate * seconds)
    start = time.perf_counter() + 0.5
    counter = itertools.count()
    lock = threading.Lock()
    latencies: list[float] = []
    errors = [0]

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        mine: list[float] = []
        while True:
            with lock:
                k = next(counter)
            if k >= total:
                break
            due = start + k / rate
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            try:
                conn.request("GET", paths[k % len(paths)])
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    errors[0] += 1
            except (OSError, http.client.HTTPException):
                errors[0] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            mine.append((time.perf_counter() - due) * 1000)
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ints = [round(x * 1000) for x in latencies]  # microseconds, for percentile()
    return {
        "requests": len(latencies),
        "errors": errors[0],
        "p50_ms": percentile(ints, 0.50) / 1000,
        "p99_ms": percentile(ints, 0.99) / 1000,
        "max_ms": max(latencies),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--skus", type=int, default=2000)
    parser.add_argument("--flow-rate", type=float, default=1000.0)
    parser.add_argument("--setups", nargs="+", default=["serve", "serve+flow"])
    parser.add_argument("--refresh", type=float, default=1.0, help="seconds between stock reads")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-availability-"))
    rng = random.Random(5)
    skus = [f"SKU-{i:05d}" for i in range(1, args.skus + 1)]
    single = [f"/v1/availability/{rng.choice(skus)}" for _ in range(5000)]
    batch = [
        "/v1/availability?" + "&".join(f"sku={s}" for s in rng.sample(skus, 24)) for _ in range(500)
    ]
    results: dict[str, Any] = {
        "rate": args.rate,
        "seconds": args.seconds,
        "skus": args.skus,
        "refresh_seconds": args.refresh,
    }
    with temporary_broker() as brokers:
        env = {k: v for k, v in os.environ.items() if not k.startswith("INVENTORY_")}
        env.update(
            INVENTORY_KAFKA_BROKERS=brokers,
            INVENTORY_CLICKHOUSE_URL=f"chdb://{work / 'ch'}",
            INVENTORY_DATA_DIR=str(work / "data"),
        )
        generate = ("generate", "--skus", str(args.skus), "--warehouses", str(WAREHOUSES))
        events = args.skus * WAREHOUSES * 4
        assert cli(env, *generate, "--count", str(events)).wait() == 0
        assert cli(env, "run", "--exit-at-end").wait() == 0
        for setup in args.setups:
            port = 18000 + len(results)
            server_env = {
                **env,
                "INVENTORY_API_PORT": str(port),
                "INVENTORY_AVAILABILITY_REFRESH_SECONDS": str(args.refresh),
            }
            server = cli(server_env, *(("serve",) if setup == "serve" else ("run", "--serve")))
            feeder = None
            try:
                wait_healthy(port)
                if setup == "serve+flow":
                    live = ("--rate", str(args.flow_rate), "--event-rate", str(args.flow_rate))
                    count = int(args.flow_rate * args.seconds * 3)
                    feeder = cli(
                        env,
                        *(*generate, *live, "--start", "now", "--count", str(count)),
                        *("--seed", "2", "--no-catalog"),  # new event ids; chDB is the server's
                    )
                    time.sleep(2.0)
                for name, paths in (("single", single), ("batch24", batch)):
                    figures = load(port, paths, args.rate, args.seconds)
                    results[f"{setup}/{name}"] = figures
                    print(
                        f"{setup:>10} {name:>7} @ {args.rate:,.0f} req/s: "
                        f"p50 {figures['p50_ms']:6.2f} ms  p99 {figures['p99_ms']:6.2f} ms  "
                        f"max {figures['max_ms']:7.1f} ms  ({figures['requests']:,} requests, "
                        f"{figures['errors']} errors)"
                    )
            finally:
                if feeder is not None:
                    feeder.kill()
                server.send_signal(signal.SIGINT)
                try:
                    server.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    server.kill()
    out = Path(__file__).with_name("results-availability.json")
    out.write_text(json.dumps(results, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
