"""Freshness: an event -> the availability API's answer, and -> the storefront in a browser.

Usage: .venv/bin/python bench/latency.py --consumers api browser [--rates 2000 10000]
(or this module directly, same options).

Separate processes, as deployed: ``inventory run`` (the flow, tailing, embedded
ClickHouse, publishing the stock topic), ``inventory serve`` (an API replica following
the topic; ClickHouse is not on its path) and ``inventory generate --rate R`` (the live
load: 2,000 SKUs x 5 warehouses). This process publishes a probe every 100 ms: a
``count`` of a SKU of its own, its quantity a sequence number, stamped when sent. It
measures when that number shows:

- **api**: on the API's event stream (``GET /v1/stream``, what the storefront follows),
  read by this process;
- **browser**: in headless Chromium on the storefront page, which records when each
  pushed document arrived (``Date.now()``, the same clock).

The first 3 s are not counted. Prints p50/p99/max per rate.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import orjson

from inventory.core.times import format_ms
from inventory.kafka.producer import CheckedProducer

PROBE_SKU, PROBE_WH = "PROBE-00001", "WH-PROBE"
PROBE_EVERY = 0.1
WARMUP_S = 3.0
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
# records when each pushed document arrived, in the page (same clock as this process)
RECORDER = """
window.probeSamples = [];
const source = new EventSource('/v1/stream?sku=%s');
source.addEventListener('availability', (event) => {
  const doc = JSON.parse(event.data);
  window.probeSamples.push([doc.available, Date.now()]);
});
"""


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def spawn(env: dict[str, str], *args: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "inventory.cli", *args], env=env, stdout=out, stderr=out
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
    raise RuntimeError("the API did not become healthy")


class Probe:
    """Publishes the probe's counts and remembers when each was sent (ms)."""

    def __init__(self, brokers: str, topic: str) -> None:
        self.producer = CheckedProducer(brokers, 10, **{"linger.ms": 0})
        self.topic = topic
        self.sent: dict[int, int] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        n = 0
        while not self.stop.wait(PROBE_EVERY):
            n += 1
            now = time.time_ns() // 1_000_000
            body = {
                "event_id": f"probe-{now}-{n}",
                "event_type": "count",
                "sku": PROBE_SKU,
                "warehouse_id": PROBE_WH,
                "quantity": n,
                "occurred_at": format_ms(now),
            }
            self.sent[n] = now
            self.producer.produce(
                self.topic, orjson.dumps(body), f"{PROBE_WH}:{PROBE_SKU}".encode()
            )
            self.producer.flush_or_raise()


def follow_stream(port: int, seen: list[tuple[int, int]], stop: threading.Event) -> None:
    """This process as a stream client: (sequence number, ms received) per push."""
    url = f"http://127.0.0.1:{port}/v1/stream?sku={PROBE_SKU}"
    while not stop.is_set():
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                for raw in response:
                    if stop.is_set():
                        return
                    line = raw.decode()
                    if line.startswith("data: "):
                        doc = json.loads(line[6:])
                        if "available" in doc:  # not the first "not_found"
                            seen.append((doc["available"], time.time_ns() // 1_000_000))
        except OSError:
            time.sleep(0.1)


def open_browser(port: int) -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.get(f"http://127.0.0.1:{port}/?skus={PROBE_SKU}")
    driver.execute_script(RECORDER % PROBE_SKU)
    return driver


def delays(sent: dict[int, int], seen: list[tuple[int, int]], t0: int) -> list[float]:
    """Per probe number n, when the answer first reflected it (showed n or a later
    probe: a newer count may overtake it) minus when it was sent."""
    out = []
    for n, at_sent in sent.items():
        if at_sent < t0 + WARMUP_S * 1000:
            continue
        shown = [at for number, at in seen if number >= n]
        if shown:
            out.append(float(min(shown) - at_sent))
    return out


def measure_freshness(
    rate: int, seconds: float, *, browser: bool, source: str = "topic"
) -> dict[str, Any]:
    """One run at ``rate`` events/s: api (and browser) delays of the probe. ``source``
    ``clickhouse``: the API polls ClickHouse (the way before the stock topic), so it runs
    in the flow's process (``inventory run --serve``: embedded ClickHouse)."""
    from inventory.kafka.local_broker import temporary_broker

    work = Path(tempfile.mkdtemp(prefix="bench-freshness-"))
    api_port = free_port()
    with temporary_broker() as brokers:
        env = {k: v for k, v in os.environ.items() if not k.startswith("INVENTORY_")}
        env.update(
            INVENTORY_KAFKA_BROKERS=brokers,
            INVENTORY_CLICKHOUSE_URL=f"chdb://{work / 'ch'}",
            INVENTORY_DATA_DIR=str(work / "data"),
            INVENTORY_API_PORT=str(api_port),
            INVENTORY_METRICS_PORT="0",
            INVENTORY_AVAILABILITY_SOURCE=source,
        )
        subprocess.run(
            [sys.executable, "-m", "inventory.cli", "schema", "apply"], env=env, check=True,
            capture_output=True,
        )  # fmt: skip
        if source == "topic":
            flow = spawn(env, "run", log=work / "flow.log")
            api = spawn(env, "serve", log=work / "api.log")
        else:
            flow = api = spawn(env, "run", "--serve", log=work / "flow.log")
        driver = None
        try:
            wait_healthy(api_port)
            probe = Probe(brokers, "inventory.events")
            stream_seen: list[tuple[int, int]] = []
            stop = threading.Event()
            threading.Thread(
                target=follow_stream, args=(api_port, stream_seen, stop), daemon=True
            ).start()
            if browser:
                driver = open_browser(api_port)
            load = spawn(
                env,
                *("generate", "--count", str(int(rate * (seconds + 2))), "--rate", str(rate)),
                *("--event-rate", str(rate), "--start", "now", "--skus", "2000"),
                *("--warehouses", "5", "--no-catalog"),
                log=work / "generate.log",
            )
            t0 = time.time_ns() // 1_000_000
            prober = threading.Thread(target=probe.run, daemon=True)
            prober.start()
            time.sleep(seconds)
            probe.stop.set()
            prober.join()
            time.sleep(1.0)  # the last probes arrive
            stop.set()
            load.kill()
            load.wait()
            result: dict[str, Any] = {"rate": rate, "source": source, "probes": len(probe.sent)}
            api_delays = delays(probe.sent, stream_seen, t0)
            result["api"] = summary(api_delays)
            if driver is not None:
                samples = driver.execute_script("return window.probeSamples;")
                seen = [(int(n), int(at)) for n, at in samples]
                result["browser"] = summary(delays(probe.sent, seen, t0))
            return result
        finally:
            if driver is not None:
                driver.quit()
            for proc in dict.fromkeys((api, flow)):
                proc.terminate()
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()


def summary(values: list[float]) -> dict[str, float]:
    return {
        "count": float(len(values)),
        "p50_ms": percentile(values, 0.5),
        "p99_ms": percentile(values, 0.99),
        "max_ms": max(values, default=float("nan")),
    }


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--rates", type=int, nargs="+", default=[2000, 10000])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--sources", nargs="+", default=["topic"], choices=["topic", "clickhouse"])
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    results = []
    for round_ in range(1, args.rounds + 1):
        for rate in args.rates:
            for source in args.sources:
                result = measure_freshness(
                    rate, args.seconds, browser=not args.no_browser, source=source
                )
                result["round"] = round_
                results.append(result)
                print_result(result)
    out = Path(__file__).with_name("results-freshness.json")
    out.write_text(json.dumps(results, indent=2))
    print(f"wrote {out}")


def print_result(result: dict[str, Any]) -> None:
    for where in ("api", "browser"):
        if where in result:
            s = result[where]
            print(
                f"round {result.get('round', 1)} {result.get('source', 'topic'):>10} "
                f"{where:>7} {result['rate']:>6} events/s: p50 {s['p50_ms']:>6,.0f} ms  "
                f"p99 {s['p99_ms']:>6,.0f} ms  max {s['max_ms']:>6,.0f} ms  "
                f"({s['count']:.0f} of {result['probes']} probes)"
            )


if __name__ == "__main__":
    main()
