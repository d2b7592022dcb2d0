"""An independent straight loop doing the flow's work: the baseline the flow is compared to.

Unlike bench/plain_loop.py (which reuses the project's decoder, per-key logic and sink,
and so measures only the framework), nothing here comes from dataflows/, sinks/ or
inventory.models: its own JSON decode and contract checks, its own per-key state (stock
with count resets, dedup by event id, lateness, per-minute sales windows, low/out/back
alerts), its own row tuples, inserted with clickhouse-connect into the same tables, and
dead letters and alerts produced with confluent-kafka. One thread, one batch per
consume, one insert per table per batch, no recovery. It is a benchmark, not a second
implementation: the tables it writes are close to, not tested equal to, the flow's.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition

from inventory.clickhouse.client import connect
from inventory.core.settings import Settings

_CODE = re.compile(r"[A-Za-z0-9._-]{1,64}")
_TYPES = {"sale": -1, "return": 1, "restock": 1, "adjustment": 1, "count": 0}
_EPOCH = datetime.fromisoformat("1970-01-01T00:00:00+00:00")
_MS = timedelta(milliseconds=1)
THRESHOLD, TARGET = 10, 50  # the catalog's defaults (no catalog in the benchmark)


def _parse(value: bytes) -> dict[str, Any] | str:
    """The event as a dict, or why not."""
    try:
        obj = orjson.loads(value)
    except orjson.JSONDecodeError:
        return "invalid JSON"
    if not isinstance(obj, dict):
        return "not an object"
    for name in ("event_id", "sku", "warehouse_id", "occurred_at"):
        if not isinstance(obj.get(name), str):
            return f"bad {name}"
    if obj.get("event_type") not in _TYPES or type(obj.get("quantity")) is not int:
        return "bad type or quantity"
    if not (_CODE.fullmatch(obj["sku"]) and _CODE.fullmatch(obj["warehouse_id"])):
        return "bad code"
    try:
        obj["ms"] = (datetime.fromisoformat(obj["occurred_at"]) - _EPOCH) // _MS
    except (ValueError, TypeError):  # TypeError: no offset
        return "bad occurred_at"
    return obj


class _Key:
    __slots__ = ("band", "changed", "count_ms", "newest", "on_hand", "seen", "windows")

    def __init__(self) -> None:
        self.on_hand, self.newest, self.count_ms = 0, -1, -1
        self.seen: set[str] = set()
        self.windows: dict[int, list[int]] = {}  # start -> [units, revenue_e4, orders]
        self.band = "ok"
        self.changed: set[int] = set()  # windows changed in this batch


def _consume(consumer: Consumer, partitions: set[int]) -> Iterator[list[Any]]:
    while partitions:
        batch = []
        for msg in consumer.consume(10_000, 1.0):
            err = msg.error()
            if err is None:
                batch.append(msg)
            elif err.code() == KafkaError._PARTITION_EOF:
                partitions.discard(msg.partition())
            else:
                raise RuntimeError(err.str())
        if batch:
            yield batch


def run_straight_loop(settings: Settings, brokers: str) -> int:  # noqa: PLR0915
    """Process the events topic to its end into the tables; return messages read."""
    consumer = Consumer(
        {
            "bootstrap.servers": brokers,
            "group.id": "bench-straight",
            "enable.auto.commit": False,
            "enable.partition.eof": True,
        }
    )
    topic = settings.events_topic
    partitions = consumer.list_topics(topic, timeout=30).topics[topic].partitions
    consumer.assign([TopicPartition(topic, p, 0) for p in partitions])
    producer = Producer({"bootstrap.servers": brokers, "linger.ms": 5})
    client = connect(settings, database=settings.clickhouse_database)
    keys: dict[tuple[str, str], _Key] = {}
    lateness, window = settings.lateness_seconds * 1000, settings.window_seconds * 1000
    read = 0
    for batch in _consume(consumer, set(partitions)):
        read += len(batch)
        events, dead, alerts = [], [], []
        touched: dict[tuple[str, str], str] = {}
        for msg in batch:
            obj = _parse(msg.value() or b"")
            if isinstance(obj, str):
                dead.append(
                    (
                        msg.topic(),
                        "",
                        msg.partition(),
                        msg.offset(),
                        msg.key(),
                        msg.value() or b"",
                        obj,
                        "other",
                        msg.timestamp()[1],
                    )
                )
                producer.produce(settings.dlq_topic, msg.value(), msg.key())
                continue
            key = (obj["warehouse_id"], obj["sku"])
            state = keys.get(key) or keys.setdefault(key, _Key())
            ms, kind, quantity = obj["ms"], obj["event_type"], obj["quantity"]
            if ms < state.newest - lateness or obj["event_id"] in state.seen:
                continue
            state.seen.add(obj["event_id"])
            state.newest = max(state.newest, ms)
            if kind == "count":
                if ms >= state.count_ms:
                    state.count_ms, state.on_hand = ms, quantity
            elif ms > state.count_ms:
                state.on_hand += _TYPES[kind] * quantity
            if kind == "sale":
                start = ms - ms % window
                totals = state.windows.setdefault(start, [0, 0, 0])
                totals[0] += quantity
                totals[1] += round((obj.get("unit_price") or 0) * 10_000) * quantity
                totals[2] += 1
                state.changed.add(start)
            band = "out" if state.on_hand <= 0 else "low" if state.on_hand <= THRESHOLD else "ok"
            if band != state.band and not (state.band == "out" and band == "low"):
                alert_kind = {"ok": "back_in_stock", "low": "low_stock", "out": "out_of_stock"}
                alerts.append(
                    (
                        f"{key}-{obj['event_id']}",
                        alert_kind[band],
                        key[0],
                        key[1],
                        state.on_hand,
                        THRESHOLD,
                        max(TARGET - state.on_hand, 1),
                        obj["event_id"],
                        ms,
                    )
                )
                producer.produce(settings.alerts_topic, orjson.dumps(alerts[-1]), msg.key())
            state.band = band
            touched[key] = obj["event_id"]
            events.append(
                (
                    obj["event_id"],
                    kind,
                    key[1],
                    key[0],
                    quantity,
                    _TYPES[kind] * quantity,
                    obj.get("unit_price"),
                    obj.get("order_id"),
                    ms,
                    msg.timestamp()[1],
                    msg.topic(),
                    "",
                    msg.partition(),
                    msg.offset(),
                )
            )
        stock, windows = [], []
        now_ms = int(time.time() * 1000)
        for key, last_event in touched.items():
            state = keys[key]
            stock.append(
                (key[0], key[1], state.on_hand, len(state.seen), state.newest, last_event, "bench")
            )
            for start in state.changed:
                units, revenue, orders = state.windows[start]
                windows.append(
                    (
                        key[0],
                        key[1],
                        start,
                        start + window,
                        units,
                        Decimal(revenue).scaleb(-4),
                        orders,
                        now_ms,
                    )
                )
            state.changed.clear()
            for start in [s for s in state.windows if s + window < state.newest - lateness]:
                del state.windows[start]
        for table, rows, columns in (
            ("events", events, _EVENT_COLUMNS),
            ("stock_levels", stock, _STOCK_COLUMNS),
            ("sales_rates", windows, _SALES_COLUMNS),
            ("alerts", alerts, _ALERT_COLUMNS),
            ("dead_letters", dead, _DEAD_COLUMNS),
        ):
            if rows:
                client.insert(table, rows, column_names=columns)
        producer.flush()
    consumer.close()
    client.close()
    return read


_EVENT_COLUMNS = [
    "event_id",
    "event_type",
    "sku",
    "warehouse_id",
    "quantity",
    "delta",
    "unit_price",
    "order_id",
    "occurred_at",
    "ingested_at",
    "source_topic",
    "source_topic_id",
    "source_partition",
    "source_offset",
]
_STOCK_COLUMNS = [
    "warehouse_id",
    "sku",
    "on_hand",
    "version",
    "updated_at",
    "last_event_id",
    "lineage",
]
_SALES_COLUMNS = [
    "warehouse_id",
    "sku",
    "window_start",
    "window_end",
    "units_sold",
    "revenue",
    "orders",
    "version",
]
_ALERT_COLUMNS = [
    "alert_id",
    "kind",
    "warehouse_id",
    "sku",
    "on_hand",
    "threshold",
    "reorder_quantity",
    "event_id",
    "raised_at",
]
_DEAD_COLUMNS = [
    "topic",
    "topic_id",
    "partition",
    "offset",
    "key",
    "payload",
    "error",
    "reason",
    "received_at",
]
