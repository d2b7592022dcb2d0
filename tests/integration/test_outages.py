"""Outages: ClickHouse failing mid-stream, Kafka deliveries failing, the broker hanging.
Failures are loud and bounded; after them nothing is lost."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from bytewax.errors import BytewaxRuntimeError
from clickhouse_connect.driver.exceptions import DatabaseError

from generators.events import EventGenerator, GeneratorConfig
from generators.publish import publish_to_kafka
from inventory.app.run import run_inventory
from inventory.clickhouse.client import connect
from inventory.clickhouse.migrations import apply_migrations
from inventory.core.errors import describe
from inventory.core.settings import Settings
from inventory.kafka.local_broker import free_port, start_broker
from inventory.kafka.producer import CheckedProducer, DeliveryError
from inventory.kafka.topics import ensure_topics
from sinks.clickhouse import ClickHouseSink
from tests.support.durable import moto_s3
from tests.support.kafka import read_topic
from tests.support.model import Msg, expected_tables
from tests.support.tables import sales_table, stock_table

CONFIG = GeneratorConfig(
    seed=5,
    skus=30,
    warehouses=2,
    rate=100.0,
    malformed_share=0.01,
    duplicate_share=0.02,
    late_share=0.03,
    late_max_seconds=900,
)


def produce(settings: Settings, count: int) -> Any:
    brokers = settings.kafka_brokers or ""
    ensure_topics(settings, brokers)
    publish_to_kafka(EventGenerator(CONFIG).messages(count), brokers, settings.events_topic)
    msgs = [
        Msg(m.key(), m.value(), m.partition(), m.offset(), m.timestamp()[1])
        for m in read_topic(brokers, settings.events_topic)
    ]
    return expected_tables(
        msgs, settings.lateness_seconds * 1000, settings.max_future_seconds * 1000
    )


class FailingAfter:
    """A real client whose inserts start failing permanently after ``ok`` of them."""

    def __init__(self, real: Any, ok: int) -> None:
        self.real, self.ok = real, ok

    def insert_arrow(self, *args: Any, **kwargs: Any) -> Any:
        if self.ok <= 0:
            raise DatabaseError(
                "Code: 243. DB::Exception: Cannot reserve 1.00 MiB, not enough "
                "space. (NOT_ENOUGH_SPACE)"
            )
        self.ok -= 1
        return self.real.insert_arrow(*args, **kwargs)

    def close(self) -> None:
        self.real.close()


def test_clickhouse_failure_stops_the_flow_loudly_and_resume_loses_nothing(
    settings: Settings, ch: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings.model_copy(update={"source_batch_size": 500})  # many inserts
    expected = produce(settings, 20_000)
    brokers = settings.kafka_brokers or ""
    monkeypatch.setattr(
        "dataflows.assembly.ClickHouseSink",
        lambda s, **kw: ClickHouseSink(
            s, client_factory=lambda s2: FailingAfter(connect(s2), ok=12), **kw
        ),
    )
    with pytest.raises(BytewaxRuntimeError) as info:
        run_inventory(settings, brokers, exit_at_end=True)
    assert "NOT_ENOUGH_SPACE" in describe(info.value)  # the CLI reports the root cause
    assert stock_table(ch) != expected.stock  # it really stopped part-way
    monkeypatch.undo()
    run_inventory(settings, brokers, exit_at_end=True)  # disk freed: resume from snapshot
    assert stock_table(ch) == expected.stock
    assert sales_table(ch) == expected.windows
    dead = ch.query("SELECT partition, offset FROM dead_letters FINAL").result_rows
    assert set(dead) == set(expected.dead)


def test_undeliverable_kafka_messages_raise() -> None:
    port = free_port()  # nothing listens there
    producer = CheckedProducer(f"127.0.0.1:{port}", timeout=10, **{"message.timeout.ms": 1500})
    producer.produce("inventory.alerts", b"{}", b"k")
    with pytest.raises(DeliveryError, match=r"failed delivery|not delivered"):
        producer.flush_or_raise()


def start_flow_and_wait_for_progress(
    settings: Settings,
) -> tuple[threading.Thread, list[BaseException]]:
    """Run the flow to the end of the topic in a thread; return once rows were written."""
    client = connect(settings)
    apply_migrations(client, settings.clickhouse_database)
    client.close()
    errors: list[BaseException] = []
    progress = threading.Event()

    def run() -> None:
        try:
            run_inventory(
                settings,
                settings.kafka_brokers or "",
                exit_at_end=True,
                on_write=lambda table, rows: progress.set(),
            )
        except BaseException as exc:
            errors.append(exc)

    flow = threading.Thread(target=run)
    flow.start()
    assert progress.wait(120), errors
    return flow, errors


def test_broker_hang_mid_stream_is_survived_with_nothing_lost(
    make_settings: Any, tmp_path: Any
) -> None:
    port = free_port()
    broker = start_broker(port, detach=False)
    try:
        settings = make_settings(kafka_brokers=f"127.0.0.1:{port}", epoch_seconds=0.2)
        expected = produce(settings, 60_000)
        flow, errors = start_flow_and_wait_for_progress(settings)
        os.kill(broker.pid, signal.SIGSTOP)  # broker unresponsive: no replies, no errors
        time.sleep(4)
        assert flow.is_alive(), "the outage must happen mid-stream"
        os.kill(broker.pid, signal.SIGCONT)
        flow.join(240)
        assert not flow.is_alive() and not errors, errors
        ch = connect(settings, database=settings.clickhouse_database)
        assert stock_table(ch) == expected.stock
        assert sales_table(ch) == expected.windows
        ch.close()
    finally:
        os.kill(broker.pid, signal.SIGCONT)
        broker.kill()
        broker.wait(10)


@pytest.fixture
def durable_broker_env() -> Iterator[dict[str, str]]:
    with moto_s3() as env:
        yield env


def test_broker_restart_mid_stream_loses_nothing(
    make_settings: Any, durable_broker_env: dict[str, str]
) -> None:
    port = free_port()

    def start() -> subprocess.Popen[bytes]:
        return start_broker(port, detach=False, storage="s3://tansu/", env=durable_broker_env)

    broker = start()
    try:
        settings = make_settings(kafka_brokers=f"127.0.0.1:{port}", epoch_seconds=0.2)
        expected = produce(settings, 40_000)
        flow, errors = start_flow_and_wait_for_progress(settings)
        broker.kill()  # the broker dies mid-stream ...
        broker.wait(10)
        time.sleep(3)
        assert flow.is_alive(), "the outage must happen mid-stream"
        broker = start()  # ... and comes back with its data
        flow.join(240)
        assert not flow.is_alive()
        if errors:  # allowed: a clear failure, then a restart resumes from the snapshot
            run_inventory(settings, settings.kafka_brokers or "", exit_at_end=True)
        ch = connect(settings, database=settings.clickhouse_database)
        assert stock_table(ch) == expected.stock
        assert sales_table(ch) == expected.windows
        dead = ch.query("SELECT partition, offset FROM dead_letters FINAL").result_rows
        assert set(dead) == set(expected.dead)
        ch.close()
    finally:
        broker.kill()
        broker.wait(10)
