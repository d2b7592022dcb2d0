"""Bytewax sources reading inventory events from a file (backfill): JSON lines or Parquet.

Each line becomes one message shaped like a Kafka message, so the same flow decodes
it: topic ``file:<name>``, partition 0, offset = line number (from 0), timestamp = the
file's modification time (deterministic for a given file, and the bound for the
"absurd future" check). Resumable: the snapshot is the byte offset of the next line.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
from bytewax.connectors.kafka import KafkaSourceMessage
from bytewax.inputs import FixedPartitionedSource, StatefulSourcePartition

from inventory.runtime.stopping import STOP, StopRequest

Message = KafkaSourceMessage[bytes | None, bytes | None]
Position = tuple[int, int]  # (byte offset, line number) of the next line
ProgressHook = Callable[[int], None]  # bytes read since the last call


def _message(topic: str, offset: int, value: bytes, timestamp: tuple[int, int]) -> Message:
    """A file line or row shaped like a Kafka message of partition 0."""
    return KafkaSourceMessage(
        key=None, value=value, topic=topic, partition=0, offset=offset, timestamp=timestamp
    )


class _JsonlPartition(StatefulSourcePartition[Message, Position]):
    def __init__(
        self,
        path: Path,
        resume: Position | None,
        batch_size: int,
        on_progress: ProgressHook | None,
        stop: StopRequest,
    ) -> None:
        self._stop = stop
        self._file = path.open("rb")
        self._topic = f"file:{path.name}"
        self._timestamp = (1, int(path.stat().st_mtime * 1000))
        self._offset, self._line = resume if resume is not None else (0, 0)
        self._file.seek(self._offset)
        self._batch_size = batch_size
        self._on_progress = on_progress

    def next_batch(self) -> list[Message]:
        if self._stop.requested:
            raise StopIteration
        batch: list[Message] = []
        start = self._offset
        for _ in range(self._batch_size):
            raw = self._file.readline()
            if not raw:
                break
            self._offset += len(raw)
            value = raw.rstrip(b"\r\n")
            if value.strip():  # blank lines are not messages
                batch.append(_message(self._topic, self._line, value, self._timestamp))
            self._line += 1
        if self._on_progress is not None and self._offset > start:
            self._on_progress(self._offset - start)
        if not batch and self._offset == start:
            raise StopIteration
        return batch

    def snapshot(self) -> Position:
        return (self._offset, self._line)

    def close(self) -> None:
        self._file.close()


def _json_default(value: object) -> str:
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return aware.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot encode {type(value).__name__}")


def _finite(value: object) -> object:
    """NaN and infinities have no JSON form (orjson would write null and the field would
    vanish): keep them visible as strings so the decoder rejects them."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


class _ParquetPartition(StatefulSourcePartition[Message, int]):
    """Rows of a Parquet file as JSON messages; offset = row number. Timestamp columns
    become RFC 3339 (naive ones are taken as UTC)."""

    def __init__(
        self,
        path: Path,
        resume: int | None,
        batch_size: int,
        on_progress: ProgressHook | None,
        stop: StopRequest,
    ) -> None:
        import pyarrow.parquet as pq

        self._stop = stop
        self._file = pq.ParquetFile(path)
        self._topic = f"file:{path.name}"
        self._timestamp = (1, int(path.stat().st_mtime * 1000))
        self._row = resume or 0
        self._batches = self._file.iter_batches(batch_size=batch_size)
        self._skip = self._row
        self._on_progress = on_progress

    def next_batch(self) -> list[Message]:
        if self._stop.requested:
            raise StopIteration
        record_batch = next(self._batches, None)
        if record_batch is None:
            raise StopIteration
        rows = record_batch.to_pylist()
        if self._skip:
            skipped, self._skip = min(self._skip, len(rows)), max(self._skip - len(rows), 0)
            rows = rows[skipped:]
        batch: list[Message] = []
        for row in rows:
            value = orjson.dumps(
                {k: _finite(v) for k, v in row.items() if v is not None},
                default=_json_default,
            )
            batch.append(_message(self._topic, self._row, value, self._timestamp))
            self._row += 1
        if self._on_progress is not None:
            self._on_progress(len(batch))
        return batch

    def snapshot(self) -> int:
        return self._row


class FileSource(FixedPartitionedSource[Message, Any]):
    """One partition, the file: Parquet rows for ``.parquet``, else JSON lines."""

    def __init__(
        self,
        path: Path,
        *,
        batch_size: int = 2000,
        on_progress: ProgressHook | None = None,
        stop: StopRequest = STOP,
    ) -> None:
        self._stop = stop
        self._path = path
        self._batch_size = batch_size
        self._on_progress = on_progress

    def list_parts(self) -> list[str]:
        return [str(self._path)]

    def build_part(
        self, step_id: str, for_part: str, resume_state: Any
    ) -> _JsonlPartition | _ParquetPartition:
        if self._path.suffix.lower() == ".parquet":
            return _ParquetPartition(
                self._path, resume_state, self._batch_size, self._on_progress, self._stop
            )
        return _JsonlPartition(
            self._path, resume_state, self._batch_size, self._on_progress, self._stop
        )


def progress_total(path: Path) -> int:
    """What ``on_progress`` counts up to: rows of a Parquet file, bytes of JSON lines."""
    if path.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        return int(pq.ParquetFile(path).metadata.num_rows)
    return path.stat().st_size
