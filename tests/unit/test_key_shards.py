"""The two hashes key-affine state rests on: a key's shard is CRC-32 of
``warehouse_id:sku`` (librdkafka's default partitioner), and the worker Bytewax runs a
shard on is computed as Bytewax itself routes keys (checked against a Bytewax run)."""

from __future__ import annotations

import threading
import zlib
from collections import defaultdict

import bytewax.operators as op
import pytest
from bytewax.dataflow import Dataflow
from bytewax.operators import StatefulBatchLogic
from bytewax.testing import TestingSink, TestingSource, cluster_main

from dataflows.placement import Placement
from inventory.core.key_shards import (
    _SALTS,
    bytewax_worker,
    find_salt,
    shard_name,
    shard_number,
    shard_of,
    shard_process,
)


def test_the_shard_is_crc32_of_the_stock_key() -> None:
    # the worked example of docs/scaling.md
    assert zlib.crc32(b"WH-01:SKU-0001") == 1_145_496_755
    assert shard_of("WH-01:SKU-0001", 6) == 1_145_496_755 % 6 == 5


class _Where(StatefulBatchLogic[str, str, None]):
    def __init__(self, seen: dict[int, set[str]]) -> None:
        self.seen = seen

    def on_batch(self, values: list[str]) -> tuple[list[str], bool]:
        self.seen[threading.get_ident()].update(values)
        return [], StatefulBatchLogic.RETAIN

    def snapshot(self) -> None:
        return None


@pytest.mark.parametrize("workers", [2, 3, 5])
def test_bytewax_runs_each_key_on_the_worker_computed_for_it(workers: int) -> None:
    seen: dict[int, set[str]] = defaultdict(set)
    keys = [shard_name(i) for i in range(48)] + [f"W{i}:S{i}" for i in range(100)]
    flow = Dataflow("where")
    keyed = op.key_on("key", op.input("in", flow, TestingSource(keys)), lambda k: k)
    ran = op.stateful_batch("keys", keyed, lambda _: _Where(seen))
    op.output("out", ran, TestingSink([]))
    cluster_main(flow, [], 0, worker_count_per_proc=workers)
    computed = [{bytewax_worker(key, workers) for key in group} for group in seen.values()]
    assert all(len(indices) == 1 for indices in computed)  # one computed worker per thread
    assert sorted(next(iter(i)) for i in computed) == list(range(workers))


@pytest.mark.parametrize(("processes", "workers"), [(2, 1), (3, 1), (2, 2), (4, 1)])
def test_every_partition_is_read_by_exactly_the_process_running_its_shard(
    processes: int, workers: int
) -> None:
    shards = 12
    addresses = tuple(f"h{i}:2101" for i in range(processes))
    readers = {
        p: [
            process
            for process in range(processes)
            if (reads := Placement(process, addresses, workers).reads_partition(shards))
            and reads(p)
        ]
        for p in range(16)  # 4 partitions added after the store fixed 12 shards
    }
    assert all(len(r) == 1 for r in readers.values()), readers
    for p, (reader,) in readers.items():
        assert reader == shard_process(p % shards, processes, workers)
    assert Placement().reads_partition(shards) is None  # alone: every partition


def test_shards_run_round_robin_on_the_workers_whatever_their_number() -> None:
    assert [find_salt(n) for n in range(0, len(_SALTS), 9)] == list(_SALTS[::9])
    for workers in (1, 2, 3, 4, 5, 6, 8, 10, 12):
        for n in range(130):
            assert bytewax_worker(shard_name(n), workers) == n % workers
            assert shard_number(shard_name(n)) == n
