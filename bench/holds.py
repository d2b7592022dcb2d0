"""Hold round trip: ``POST /v1/holds`` -> the flow's decision -> the answer, under load.

Usage: .venv/bin/python bench/holds.py [--rate 2000] [--seconds 20] [--rounds 3]

Separate processes, as deployed (see bench/freshness.py): ``inventory run`` (the flow,
tailing, embedded ClickHouse, publishing the stock and decisions topics), ``inventory
serve`` (one API replica following them, cart writes on) and ``inventory generate --rate
R`` (the background load: 2,000 SKUs x 5 warehouses). This process stocks a SKU of its
own, then every 100 ms asks the API to hold one unit of it and times the answer (the
request produced, decided by the flow per key, published, seen by the replica); each
granted hold is released at once (not timed). At the same time it measures freshness as
bench/freshness.py does (a probe count -> the API's event stream). The first 3 s are not
counted. Prints p50/p99/max of both.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import orjson

from bench.freshness import (
    WARMUP_S,
    Probe,
    delays,
    follow_stream,
    free_port,
    spawn,
    summary,
    wait_healthy,
)
from inventory.core.times import format_ms
from inventory.kafka.producer import CheckedProducer

HOLD_SKU, HOLD_WH = "HOLD-00001", "WH-HOLD"
TOKEN = "bench-token"
EVERY = 0.1


def call(port: int, path: str, body: Any) -> tuple[int, Any]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=orjson.dumps(body),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def stock_hold_sku(brokers: str) -> None:
    producer = CheckedProducer(brokers, 10)
    body = {
        "event_id": f"hold-stock-{time.time_ns()}",
        "event_type": "count",
        "sku": HOLD_SKU,
        "warehouse_id": HOLD_WH,
        "quantity": 1_000_000,
        "occurred_at": format_ms(time.time_ns() // 1_000_000),
    }
    producer.produce("inventory.events", orjson.dumps(body), f"{HOLD_WH}:{HOLD_SKU}".encode())
    producer.flush_or_raise()


def wait_stocked(port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            url = f"http://127.0.0.1:{port}/v1/availability/{HOLD_SKU}"
            with urllib.request.urlopen(url, timeout=2) as response:
                if json.loads(response.read())["available"] > 0:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError("the hold SKU's stock never reached the API")


def measure(rate: int, seconds: float) -> dict[str, Any]:
    from inventory.kafka.local_broker import temporary_broker

    work = Path(tempfile.mkdtemp(prefix="bench-holds-"))
    port = free_port()
    with temporary_broker() as brokers:
        env = {k: v for k, v in os.environ.items() if not k.startswith("INVENTORY_")}
        env.update(
            INVENTORY_KAFKA_BROKERS=brokers,
            INVENTORY_CLICKHOUSE_URL=f"chdb://{work / 'ch'}",
            INVENTORY_DATA_DIR=str(work / "data"),
            INVENTORY_API_PORT=str(port),
            INVENTORY_METRICS_PORT="0",
            INVENTORY_API_WRITE_TOKEN=TOKEN,
            INVENTORY_API_WRITE_RATE_PER_MINUTE="1000000",
            INVENTORY_API_DECISION_WAIT_SECONDS="10",
        )
        subprocess.run(
            [sys.executable, "-m", "inventory.cli", "schema", "apply"], env=env, check=True,
            capture_output=True,
        )  # fmt: skip
        flow = spawn(env, "run", log=work / "flow.log")
        api = spawn(env, "serve", log=work / "api.log")
        load = None
        try:
            wait_healthy(port)
            stock_hold_sku(brokers)
            wait_stocked(port)
            probe = Probe(brokers, "inventory.events")
            seen: list[tuple[int, int]] = []
            stop = threading.Event()
            threading.Thread(target=follow_stream, args=(port, seen, stop), daemon=True).start()
            load = spawn(
                env,
                *("generate", "--count", str(int(rate * (seconds + 2))), "--rate", str(rate)),
                *("--event-rate", str(rate), "--start", "now", "--skus", "2000"),
                *("--warehouses", "5", "--no-catalog"),
                log=work / "generate.log",
            )
            t0 = time.monotonic()
            prober = threading.Thread(target=probe.run, daemon=True)
            prober.start()
            started_ms = time.time_ns() // 1_000_000
            round_trips: list[float] = []
            answers: dict[int, int] = {}
            while time.monotonic() - t0 < seconds:
                tick = time.monotonic()
                line = {"sku": HOLD_SKU, "quantity": 1, "warehouse_id": HOLD_WH}
                status, body = call(port, "/v1/holds", line)
                took = (time.monotonic() - tick) * 1000
                answers[status] = answers.get(status, 0) + 1
                if tick - t0 >= WARMUP_S and status == 201:
                    round_trips.append(took)
                if status == 201:
                    call(port, f"/v1/holds/{body['reservation_id']}/release", None)
                time.sleep(max(EVERY - (time.monotonic() - tick), 0.0))
            probe.stop.set()
            prober.join()
            time.sleep(1.0)
            stop.set()
            return {
                "rate": rate,
                "answers": answers,
                "round_trip": summary(round_trips),
                "freshness": summary(delays(probe.sent, seen, started_ms)),
            }
        finally:
            for proc in (load, api, flow):
                if proc is None:
                    continue
                proc.terminate()
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    results = []
    for round_ in range(1, args.rounds + 1):
        result = measure(args.rate, args.seconds)
        result["round"] = round_
        results.append(result)
        for name in ("round_trip", "freshness"):
            s = result[name]
            print(
                f"round {round_} {name:>10} at {args.rate} events/s: p50 {s['p50_ms']:,.0f} ms"
                f"  p99 {s['p99_ms']:,.0f} ms  max {s['max_ms']:,.0f} ms  ({s['count']:.0f})"
            )
        print(f"round {round_} answers: {result['answers']}")
    out = Path(__file__).with_name("results-holds.json")
    out.write_text(json.dumps(results, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
