"""The availability store: full and incremental reads, failures (fake reader, no I/O)."""

from __future__ import annotations

import time

from inventory.availability.store import SLACK_MS, AvailabilityStore, StockRow
from tests.support.fakes import FakeReader


def on_hand(store: AvailabilityStore) -> dict[tuple[str, str], int]:
    snapshot = store.snapshot
    assert snapshot is not None
    return {(sku, w.warehouse_id): w.on_hand for sku, ws in snapshot.stock.items() for w in ws}


def test_incremental_reads_keep_the_highest_version_like_final() -> None:
    now = [100.0]
    reader = FakeReader([StockRow("A", "W1", 5, 1, 1, 1_000), StockRow("B", "W1", 9, 1, 1, 1_000)])
    store = AvailabilityStore(reader, 1.0, full_every=60, clock=lambda: now[0])
    reader.now_ms = 1_500
    first = store.refresh()
    assert on_hand(store) == {("A", "W1"): 5, ("B", "W1"): 9}
    reader.rows += [
        StockRow("A", "W1", 3, 2, 2, 2_000),  # newer version
        StockRow("A", "W1", 5, 1, 1, 2_500),  # a replay of the old version, written later
        StockRow("C", "W2", 1, 2, 1, 2_600),  # a new key
    ]
    now[0] = 101.0
    reader.now_ms = 3_000
    second = store.refresh()
    assert reader.calls == ["all", f"since {1_500 - SLACK_MS}"]  # from the last read's start
    assert on_hand(store) == {("A", "W1"): 3, ("B", "W1"): 9, ("C", "W2"): 1}
    assert second.stock["B"] is first.stock["B"]  # unchanged SKUs are shared, not rebuilt
    assert second.read_ms == 101_000
    now[0] = 102.0
    store.refresh()
    assert reader.calls[-1] == f"since {3_000 - SLACK_MS}"
    now[0] = 161.0
    store.refresh()
    assert reader.calls[-1] == "all"  # full read every full_every seconds
    assert on_hand(store) == {("A", "W1"): 3, ("B", "W1"): 9, ("C", "W2"): 1}


def test_names_come_with_full_reads() -> None:
    reader = FakeReader([], {"A": "Apple"})
    store = AvailabilityStore(reader, 1.0, full_every=60, clock=lambda: 0.0)
    assert store.refresh().names == {"A": "Apple"}
    reader.names["B"] = "Banana"
    assert "B" not in store.refresh().names
    assert store.refresh(full=True).knows("B")


def test_the_refresher_survives_failures_and_restarts_with_a_full_read() -> None:
    reader = FakeReader([StockRow("A", "W1", 5, 1, 1, 1_000)])
    reader.fail = True
    store = AvailabilityStore(reader, 0.01, full_every=3600)
    store.start()
    try:
        deadline = time.monotonic() + 10
        while len(reader.calls) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert store.snapshot is None  # nothing read yet: the API answers 503
        reader.fail = False
        while store.snapshot is None and time.monotonic() < deadline:
            time.sleep(0.01)
        first = store.snapshot
        assert first is not None
        reader.fail = True
        failures = len(reader.calls)
        while len(reader.calls) < failures + 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert store.snapshot is first  # the last good snapshot stays
        reader.fail = False
        calls = len(reader.calls)
        while len(reader.calls) < calls + 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert "all" in reader.calls[calls:]  # the first read after failures is full
    finally:
        store.stop()


def test_a_taken_port_fails_naming_the_setting() -> None:
    import pytest

    from inventory.availability.api import create_app
    from inventory.availability.server import BackgroundServer

    store = AvailabilityStore(FakeReader([]), 1.0)
    first = BackgroundServer(create_app(store, few_left=5), "127.0.0.1", 0).start()
    try:
        second = BackgroundServer(create_app(store, few_left=5), "127.0.0.1", first.port)
        with pytest.raises(RuntimeError, match="INVENTORY_API_PORT"):
            second.start(timeout=10)
    finally:
        first.stop()
