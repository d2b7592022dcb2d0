"""The ClickHouse sink of a cluster over embedded ClickHouse: one writer process.

chDB opens a data path in one process only, so every row of every process is routed to a
single sink partition, ``clickhouse``, which only the writer process lists: Bytewax makes
a worker that lists a partition its primary and routes the partition's items there
(``FixedPartitionedSink``). Rows of one key come from the key's owner worker in order and
stay in order on the way. Same delivery and errors as :class:`~sinks.clickhouse.ClickHouseSink`.
"""

from __future__ import annotations

from typing import Any

from bytewax.outputs import FixedPartitionedSink, StatefulSinkPartition

from sinks.clickhouse import ClickHouseSink, Row

PARTITION = "clickhouse"


class _WriterPartition(StatefulSinkPartition[Row, None]):
    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def write_batch(self, items: list[Row]) -> None:
        self._inner.write_batch(items)

    def snapshot(self) -> None:
        return None  # nothing to resume: the tables collapse replayed rows

    def close(self) -> None:
        self._inner.close()


class SingleWriterClickHouseSink(FixedPartitionedSink[Row, None]):
    """Takes ``(key, row)`` items; writes them all in the process where ``writer`` is true.

    :arg sink: the ClickHouse sink whose client and settings the writer uses.
    :arg writer: whether this process writes (process 0 with embedded ClickHouse).
    """

    def __init__(self, sink: ClickHouseSink, *, writer: bool) -> None:
        self._sink = sink
        self._writer = writer

    def list_parts(self) -> list[str]:
        return [PARTITION] if self._writer else []

    def part_fn(self, item_key: str) -> int:
        return 0

    def build_part(self, step_id: str, for_part: str, resume_state: None) -> _WriterPartition:
        return _WriterPartition(self._sink.build(step_id, 0, 1))
