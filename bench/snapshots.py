"""Incremental snapshots of a key shard: time and bytes per epoch against keys changed
and keys held, the store's size, and the time to resume (open a shard at its last
generation), with the flow's own shard logic and SQLite key store (no broker, no
Bytewax runtime: the snapshot itself).

Usage: .venv/bin/python bench/snapshots.py [--held 100000 1000000] [--changed 1000 10000 100000]

For each number of keys held, one shard is filled (each key: a count, then a sale), then
for each number changed an epoch sends one sale to that many keys and takes the
snapshot (keys beyond the flow's 20,000 live books are written as they are evicted, in
the same generation: the bytes count both). Writes bench/results-snapshots.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dataflows.state.key_store import SqliteKeyStore
from dataflows.state.shard_logic import LIVE_BOOKS, KeyConfig, ShardLogic, build_shard
from inventory.core.records import Event, ProductPolicy, Source

T0 = 1_795_000_000_000
POLICY = ProductPolicy(threshold=5, target_stock=20)
FEED = 50_000  # keys per batch while filling


def event(n: int, key: int, kind: str, at_ms: int) -> Event:
    return Event(
        event_id=f"e{n}-{key}",
        event_type=kind,
        sku=f"SKU-{key:08d}",
        warehouse_id="WH-01",
        quantity=100 if kind == "count" else 1,
        delta=0 if kind == "count" else -1,
        occurred_ms=at_ms,
        unit_price=None if kind == "count" else 9.99,
        order_id=None,
        source=Source("events", 0, n, at_ms),
        key=None,
        payload=b"{}",
    )


def feed(shard: ShardLogic, keys: range, n: int, kind: str, at_ms: int) -> None:
    for start in range(0, len(keys), FEED):
        batch = {
            f"WH-01:SKU-{k:08d}": [event(n, k, kind, at_ms)] for k in keys[start : start + FEED]
        }
        shard.on_batch([("shard-0", batch)])  # type: ignore[list-item]


def measure(held: int, changed: list[int], work: Path) -> dict[str, object]:
    config = KeyConfig(
        lateness_ms=300_000,
        window_ms=60_000,
        policy_for=lambda _: POLICY,
        store_dir=work,
        live_books=LIVE_BOOKS,
    )
    shard = build_shard(config)(None)
    started = time.perf_counter()
    feed(shard, range(held), 0, "count", T0)
    shard.snapshot()
    feed(shard, range(held), 1, "sale", T0 + 1_000)
    shard.snapshot()
    fill = time.perf_counter() - started
    store = shard.store
    assert isinstance(store, SqliteKeyStore)
    epochs = []
    for n, count in enumerate(changed, start=2):
        before = store.bytes_written
        feed(shard, range(0, held, max(1, held // count)), n, "sale", T0 + n * 1_000)
        started = time.perf_counter()
        token = shard.snapshot()
        seconds = time.perf_counter() - started
        epochs.append(
            {
                "keys_changed": len(range(0, held, max(1, held // count))),
                "snapshot_seconds": seconds,  # the changed keys still live, and commit
                "snapshot_bytes": store.bytes_written - before,
                "bytewax_snapshot": repr(token),
            }
        )
    shard.snapshot()  # a last epoch: the previous one's superseded versions compacted
    path = work / "shard-0.sqlite3"
    size = sum(p.stat().st_size for p in work.glob("shard-0.sqlite3*"))
    generation = shard.generation
    store.close()
    started = time.perf_counter()
    resumed = SqliteKeyStore(path, generation)
    resume = time.perf_counter() - started
    resumed.close()
    return {
        "keys_held": held,
        "fill_seconds": fill,
        "epochs": epochs,
        "store_bytes": size,
        "store_bytes_per_key": size / held,
        "resume_seconds": resume,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--held", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--changed", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    args = parser.parse_args()
    results = []
    for held in args.held:
        with tempfile.TemporaryDirectory(prefix="bench-snapshots-") as work:
            result = measure(held, [c for c in args.changed if c <= held], Path(work))
        results.append(result)
        print(
            f"{held:,} keys held: store {result['store_bytes_per_key']:.0f} B/key, resume "
            f"{result['resume_seconds']:.2f} s, fill {result['fill_seconds']:.1f} s"
        )
        for epoch in result["epochs"]:  # type: ignore[attr-defined]
            print(
                f"  {epoch['keys_changed']:>9,} keys changed: snapshot "
                f"{epoch['snapshot_seconds'] * 1000:,.0f} ms, "
                f"{epoch['snapshot_bytes'] / 2**20:,.1f} MiB "
                f"({epoch['snapshot_bytes'] / epoch['keys_changed']:.0f} B/key); "
                f"Bytewax keeps {epoch['bytewax_snapshot']}"
            )
    out = Path(__file__).with_name("results-snapshots.json")
    out.write_text(json.dumps(results, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
