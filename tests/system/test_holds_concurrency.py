"""No oversell under concurrency: two availability API replicas (their own processes, no
shared state) and the flow tailing the events topic. 200 concurrent hold requests per SKU
with K units on hand (several K, all at once) are granted exactly K times and refused
with 409 the rest; no answer or table shows available below 0; each granted hold checked
out twice at once (once through each replica) sells once; a replica started afterwards
knows the holds from the decisions topic. A backorder SKU (v10) with 1 unit on hand and
49 on order (the flow's own purchase order after the count) grants exactly 50, the 49
beyond on-hand each told when they ship, and no more."""

from __future__ import annotations

import subprocess
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import orjson

from generators.message import Message
from generators.publish import publish_to_kafka
from inventory.core.settings import Settings
from inventory.core.times import format_ms
from inventory.kafka.topics import ensure_topics
from tests.support.cli import env_for, read_tables, spawn_cli
from tests.support.http import free_port, get_json, post_json
from tests.support.processes import start_api, stop

TOKEN = "concurrency-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
UNITS = {"K-1": 1, "K-7": 7, "K-60": 60, "B-1": 1}  # SKU -> units on hand in W1
# a backorder SKU (reorder point 10, target 50): the count of 1 orders 49, all promisable
ON_ORDER = {"B-1": 49}
BACKORDER_ROW = (
    "INSERT INTO products (sku, name, low_stock_threshold, target_stock, oversell_policy, "
    "updated_at) VALUES ('B-1', 'Backordered boots', 10, 50, 'backorder', now64(3))"
)
REQUESTS = 200  # per SKU


def stock_counts(settings: Settings) -> None:
    now = format_ms(int(time.time() * 1000))
    publish_to_kafka(
        [
            Message(
                f"W1:{sku}".encode(),
                orjson.dumps(
                    {
                        "event_id": f"count-{sku}",
                        "event_type": "count",
                        "sku": sku,
                        "warehouse_id": "W1",
                        "quantity": units,
                        "occurred_at": now,
                    }
                ),
            )
            for sku, units in UNITS.items()
        ],
        settings.kafka_brokers or "",
        settings.events_topic,
    )


def start_replica(env: dict[str, str], workdir: Path) -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    return start_api(env, workdir, port), f"http://127.0.0.1:{port}"


def wait_stocked(url: str) -> None:
    deadline = time.monotonic() + 120
    query_string = "&".join(f"sku={s}" for s in UNITS)
    while True:
        status, body = get_json(f"{url}/v1/availability?{query_string}")
        if status == 200 and {i["sku"]: i["available"] for i in body["items"]} == UNITS:
            return
        assert time.monotonic() < deadline, f"the stock never reached the API: {body}"
        time.sleep(0.1)


def settled(url: str, answer: tuple[int, Any, dict[str, str]]) -> tuple[int, Any]:
    """A 202 asked again until the flow's decision is there."""
    status, body, _ = answer
    deadline = time.monotonic() + 60
    while status == 202:
        assert time.monotonic() < deadline, body
        time.sleep(0.2)
        _, held = get_json(f"{url}/v1/holds/{body['reservation_id']}", AUTH)
        if held.get("event_id") == body["event_id"]:
            status = 409 if held["decision"] == "refused" else 201
            body = held
    return status, body


def test_two_replicas_grant_exactly_what_is_available(settings: Settings, tmp_path: Path) -> None:
    ensure_topics(settings, settings.kafka_brokers or "")
    env = {
        **env_for(settings, tmp_path),
        "INVENTORY_API_WRITE_TOKEN": TOKEN,
        "INVENTORY_API_WRITE_RATE_PER_MINUTE": "1000000",
        "INVENTORY_API_DECISION_WAIT_SECONDS": "10",
    }
    for step in (("schema", "apply"), ("sql", BACKORDER_ROW)):  # the catalog, for the flow
        proc = spawn_cli(env, tmp_path, *step)
        assert proc.wait(120) == 0, proc.communicate()[1]
    flow = spawn_cli(env, tmp_path, "run")
    apis: list[subprocess.Popen[str]] = []
    try:
        urls = []
        for _ in range(2):
            proc, url = start_replica(env, tmp_path)
            apis.append(proc)
            urls.append(url)
        stock_counts(settings)
        for url in urls:
            wait_stocked(url)

        def hold(n: int) -> tuple[str, str, int, Any]:
            sku, url = list(UNITS)[n % len(UNITS)], urls[n % 2]
            line = {"sku": sku, "quantity": 1, "warehouse_id": "W1"}
            status, body = settled(url, post_json(f"{url}/v1/holds", line, AUTH))
            return sku, url, status, body

        with ThreadPoolExecutor(64) as pool:
            answers = list(pool.map(hold, range(REQUESTS * len(UNITS))))
        for sku, units in UNITS.items():
            promised = units + ON_ORDER.get(sku, 0)
            statuses = Counter(status for s, _, status, _ in answers if s == sku)
            assert statuses == {201: promised, 409: REQUESTS - promised}, (sku, statuses)
        assert all(body["available"] >= -ON_ORDER.get(s, 0) for s, *_, body in answers)
        beyond = [b for s, _, st, b in answers if st == 201 and b["backordered"]]
        assert len(beyond) == ON_ORDER["B-1"]  # each of 1 unit, told the order's date
        assert all(b["promise_message"].startswith("Backorder: 1 ships by ") for b in beyond)
        assert len({b["ships_at"] for b in beyond}) == 1
        granted = [body["reservation_id"] for _, _, status, body in answers if status == 201]

        def checkout(n: int) -> tuple[str, int]:
            rid, url = granted[n // 2], urls[n % 2]
            status, body, _ = post_json(f"{url}/v1/holds/{rid}/checkout", None, AUTH)
            assert status in (200, 409), body
            return rid, status

        with ThreadPoolExecutor(64) as pool:
            tries = pool.map(checkout, range(2 * len(granted)))
            sold = Counter(rid for rid, status in tries if status == 200)
        assert sold == dict.fromkeys(granted, 1)  # each hold sold once, whichever replica
        # a replica started now reads the decisions of the last 2 x hold seconds: it knows
        late, late_url = start_replica(env, tmp_path)
        apis.append(late)
        status, held = get_json(f"{late_url}/v1/holds/{granted[0]}", AUTH)
        assert status == 200 and held["decision"] == "checked_out", held
        status, body, _ = post_json(f"{late_url}/v1/holds/{granted[0]}/checkout", None, AUTH)
        assert status == 409 and body["reason"] == "closed", body
        late_sku = held["sku"]
    finally:
        for proc in apis:
            stop(proc)
        stop(flow)
    tables = read_tables(
        env,
        tmp_path,
        {
            "stock": "SELECT sku, on_hand, reserved, available, oversold FROM stock_levels FINAL",
            "decided": "SELECT sku, decision, count() FROM hold_decisions FINAL GROUP BY ALL",
        },
    )
    stock = {r[0]: tuple(int(x) for x in r[1:]) for r in tables["stock"]}
    # all sold through holds, none over (the backordered units: owed, on order)
    assert stock == {sku: (-ON_ORDER.get(sku, 0), 0, -ON_ORDER.get(sku, 0), 0) for sku in UNITS}
    expected = set()
    for sku, units in UNITS.items():
        held = units + ON_ORDER.get(sku, 0)
        expected |= {(sku, "granted", held), (sku, "checked_out", held)}
        again = held + (sku == late_sku)  # the second checkouts, and the late replica's
        expected |= {(sku, "refused", REQUESTS - held + again)}
    assert {(s, d, int(c)) for s, d, c in tables["decided"]} == expected
