"""The ClickHouse sink retries transient errors, raises the rest, never double counts."""

from __future__ import annotations

from typing import Any

import pytest
from clickhouse_connect.driver.exceptions import DatabaseError, OperationalError

from inventory.clickhouse.client import connect
from inventory.clickhouse.error_codes import is_data_error, is_transient
from inventory.core.records import StockLevel
from sinks.clickhouse import ClickHouseSink


class FlakyClient:
    """A real chDB client whose inserts fail as scripted: 'before' fails without writing,
    'after' writes and then fails (an insert that succeeded but timed out)."""

    def __init__(self, real: Any, script: list[str]) -> None:
        self.real, self.script, self.calls = real, script, 0

    def insert_arrow(self, *args: Any, **kwargs: Any) -> None:
        self.calls += 1
        step = self.script.pop(0) if self.script else "ok"
        if step == "before":
            raise OperationalError("connection reset")
        self.real.insert_arrow(*args, **kwargs)
        if step == "after":
            raise OperationalError("read timed out")

    def close(self) -> None:
        self.real.close()


def levels(n: int) -> list[StockLevel]:
    return [StockLevel("W", f"S{i}", i, 1, 1_795_000_000_000, f"e{i}") for i in range(n)]


def test_transient_failures_are_retried_and_collapse(make_settings, ch) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(clickhouse_retries=3)
    sleeps: list[float] = []
    flaky = FlakyClient(connect(settings), ["before", "after", "before"])
    sink = ClickHouseSink(settings, client_factory=lambda _: flaky, sleep=sleeps.append)
    part = sink.build("out", 0, 1)
    part.write_batch(levels(10))  # before -> retry -> ok
    part.write_batch(levels(10))  # after (written, then "timeout") -> before -> ok
    part.close()
    assert flaky.calls == 5
    assert sleeps == [0.0, 0.0, 0.0]
    assert ch.query("SELECT count(), sum(on_hand) FROM stock_levels FINAL").result_rows == [
        (10, 45)
    ]


def test_retries_are_bounded_then_raise(make_settings, ch) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(clickhouse_retries=2, clickhouse_backoff_seconds=0.5)
    sleeps: list[float] = []
    flaky = FlakyClient(connect(settings), ["before"] * 10)
    part = ClickHouseSink(settings, client_factory=lambda _: flaky, sleep=sleeps.append).build(
        "out", 0, 1
    )
    with pytest.raises(OperationalError):
        part.write_batch(levels(3))
    assert flaky.calls == 3 and sleeps == [0.5, 1.0]


def test_permanent_error_raises_at_once(make_settings) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(clickhouse_database="no_such_database")
    part = ClickHouseSink(settings, sleep=lambda _: pytest.fail("no retry")).build("o", 0, 1)
    with pytest.raises(Exception, match=r"no_such_database|UNKNOWN_DATABASE"):
        part.write_batch(levels(1))
    part.close()


def test_error_classification() -> None:
    assert is_transient(OperationalError("x"))
    assert is_transient(DatabaseError("Code: 252. DB::Exception: Too many parts", code=252))
    assert not is_transient(DatabaseError("Code: 60. DB::Exception: Unknown table", code=60))
    assert not is_transient(ValueError("bad row"))
    # the code attribute decides, not the message text
    assert not is_transient(DatabaseError("Code: 252. looks transient", code=None))
    assert is_data_error(DatabaseError("Code: 407. DB::Exception: overflow", code=407))
    assert is_data_error(UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed"))
    assert not is_data_error(DatabaseError("Code: 243. NOT_ENOUGH_SPACE", code=243))
    assert not is_data_error(OperationalError("connection reset"))


def test_unreachable_server_url_is_a_clear_transient_error(make_settings) -> None:  # type: ignore[no-untyped-def]
    from inventory.kafka.local_broker import free_port

    port = free_port()  # nothing listens there
    settings = make_settings(clickhouse_url=f"http://app:s3cr3t@127.0.0.1:{port}/inventory")
    with pytest.raises(OperationalError) as info:
        connect(settings, connect_timeout=2, send_receive_timeout=2)
    assert is_transient(info.value)
    assert "s3cr3t" not in str(info.value)
    assert str(port) in str(info.value)
