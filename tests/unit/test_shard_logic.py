"""A shard runs each of its keys exactly as a key's own book would, whatever its live-book
cap, and a shard resumed from its snapshot (a generation of its key store) continues
exactly; the store keeps one version per key plus the last generations'."""

from __future__ import annotations

from pathlib import Path

import pytest
from bytewax.operators import StatefulBatchLogic
from msgspec import structs

from dataflows.per_key.book import KeyBook, decode_state
from dataflows.state.key_store import SqliteKeyStore
from dataflows.state.shard_logic import (
    DEAD_LETTERS,
    SHARD_STATE,
    KeyConfig,
    ShardStateError,
    build_shard,
)
from inventory.core.records import DeadLetter, Event, ProductPolicy, Source
from tests.support.builders import ev

POLICY = ProductPolicy(threshold=5, target_stock=20)


def at(event: Event, sku: str) -> Event:
    return structs.replace(event, sku=sku, event_id=f"{sku}-{event.event_id}")


def book() -> KeyBook:
    return KeyBook(lateness_ms=300_000, window_ms=60_000, policy_for=lambda _: POLICY)


BATCHES = [
    [at(ev("c", "count", 8, 0), sku) for sku in "ABC"],
    [at(ev("s1", "sale", 3, 1, order="o"), "A"), at(ev("r", "restock", 4, 2), "B")],
    [at(ev("s2", "sale", 9, 2, order="o"), "C"), at(ev("s1", "sale", 3, 1), "A")],
    [at(ev("s3", "sale", 1, 5), sku) for sku in "CBA"],
    [at(ev("r2", "restock", 30, 6), "A"), at(ev("s4", "sale", 2, 7), "D")],
]


def grouped(batch: list[Event]) -> dict[str, list[object]]:
    items: dict[str, list[object]] = {}
    for event in batch:
        items.setdefault(event.stock_key, []).append(event)
    return items


def config(store: Path | None, live_books: int) -> KeyConfig:
    return KeyConfig(
        lateness_ms=300_000,
        window_ms=60_000,
        policy_for=lambda _: POLICY,
        store_dir=store,
        live_books=live_books,
    )


@pytest.mark.parametrize("live_books", [1, 2, 100])
@pytest.mark.parametrize("cut", [0, 1, 2, 3])
def test_a_shard_resumed_from_its_snapshot_equals_the_keys_own_books(
    tmp_path: Path, live_books: int, cut: int
) -> None:
    references: dict[str, KeyBook] = {}
    build = build_shard(config(tmp_path, live_books))
    shard = build(None)
    token = None
    for number, batch in enumerate(BATCHES):
        expected: list[object] = []
        for key, items in grouped(batch).items():
            expected.extend(references.setdefault(key, book()).apply_batch(items))  # type: ignore[arg-type]
        out, retain = shard.on_batch([("shard-0", grouped(batch))])  # type: ignore[list-item]
        assert retain is StatefulBatchLogic.RETAIN
        assert list(out) == [expected]
        assert len(shard.live) <= live_books
        if number == cut:
            token = shard.snapshot()
            assert token == (SHARD_STATE, 1)
            resumed = build(token)  # a crash after the snapshot: later batches again
            for later in BATCHES[number + 1 :]:
                resumed.on_batch([("shard-0", grouped(later))])  # type: ignore[list-item]
            resumed.snapshot()  # generation 2, never committed by Bytewax
            shard = build(token)  # the restart resumes at generation 1
    final = shard.snapshot()
    store = SqliteKeyStore(tmp_path / "shard-0.sqlite3", final[1])
    held = store.load(list(references))
    for key, reference in references.items():
        assert decode_state(held[key]) == decode_state(reference.encode())
    assert store.key_count() == len(references)


def test_dead_letters_pass_through_and_batches_of_one_activation_apply_in_order() -> None:
    shard = build_shard(config(None, 10))(None)
    letter = DeadLetter(Source("t", 3, 7, 0), b"x", b"not JSON", "bad")
    first, second = BATCHES[0], BATCHES[1]
    out, _ = shard.on_batch(
        [("shard-0", {**grouped(first), DEAD_LETTERS: [letter]}), ("shard-0", grouped(second))]  # type: ignore[list-item]
    )
    reference = {key: book() for key in "ABC"}
    expected: list[object] = [letter]
    merged: dict[str, list[Event]] = {}
    for event in first + second:
        merged.setdefault(event.stock_key, []).append(event)
    for key, items in merged.items():
        expected.extend(reference[key.split(":")[1]].apply_batch(items))
    assert list(out) == [expected]


def test_a_snapshot_without_its_key_store_is_refused() -> None:
    shard = build_shard(config(None, 10))((SHARD_STATE, 4))
    with pytest.raises(ShardStateError, match="generation 4"):
        shard.on_batch([("shard-0", grouped(BATCHES[0]))])  # type: ignore[list-item]
    with pytest.raises(ShardStateError, match="another version"):
        build_shard(config(None, 10))(b"a per-key blob")  # type: ignore[arg-type]


def test_the_store_drops_uncommitted_generations_and_compacts_committed_ones(
    tmp_path: Path,
) -> None:
    path = tmp_path / "s.sqlite3"
    store = SqliteKeyStore(path, 0)
    keys = [f"W:{n}" for n in range(50)]
    for generation in range(1, 6):
        store.put(generation, [(key, f"{key}@{generation}".encode()) for key in keys])
        store.commit(generation, previous_committed=True)
    undo = store._db.execute("SELECT count(*) FROM undo").fetchone()[0]
    assert undo == len(keys)  # generation 5's, until 5 is known committed
    assert store.key_count() == len(keys)
    store.put(6, [(keys[0], b"uncommitted")])
    store.commit(6, previous_committed=False)
    store.close()
    resumed = SqliteKeyStore(path, 5)  # Bytewax committed generation 5 only
    assert resumed.load([keys[0], keys[1], "W:none"]) == {
        keys[0]: b"W:0@5",
        keys[1]: b"W:1@5",
    }
    assert resumed._db.execute("SELECT count(*) FROM undo").fetchone()[0] == 0
    assert resumed.resumed_keys() == len(keys)
    resumed.put(6, [(keys[1], b"again"), ("W:new", b"new")])
    resumed.commit(6, previous_committed=False)
    resumed.close()
    once_more = SqliteKeyStore(path, 5)  # generation 6 never committed either
    assert once_more.load([keys[1], "W:new"]) == {keys[1]: b"W:1@5"}
    once_more.close()
    fresh = SqliteKeyStore(path, 0)  # a new recovery store: nothing was committed
    assert fresh.key_count() == 0
