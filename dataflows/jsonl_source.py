"""A Bytewax source reading inventory events from a JSON-lines file (backfill).

Each line becomes one message shaped like a Kafka message, so the same flow decodes
it: topic ``file:<name>``, partition 0, offset = line number (from 0), timestamp = the
file's modification time (deterministic for a given file, and the bound for the
"absurd future" check). Resumable: the snapshot is the byte offset of the next line.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bytewax.connectors.kafka import KafkaSourceMessage
from bytewax.inputs import FixedPartitionedSource, StatefulSourcePartition

Message = KafkaSourceMessage[bytes | None, bytes | None]
Position = tuple[int, int]  # (byte offset, line number) of the next line
ProgressHook = Callable[[int], None]  # bytes read since the last call


class _JsonlPartition(StatefulSourcePartition[Message, Position]):
    def __init__(
        self, path: Path, resume: Position | None, batch_size: int, on_progress: ProgressHook | None
    ) -> None:
        self._file = path.open("rb")
        self._topic = f"file:{path.name}"
        self._timestamp = (1, int(path.stat().st_mtime * 1000))
        self._offset, self._line = resume if resume is not None else (0, 0)
        self._file.seek(self._offset)
        self._batch_size = batch_size
        self._on_progress = on_progress

    def next_batch(self) -> list[Message]:
        batch: list[Message] = []
        start = self._offset
        for _ in range(self._batch_size):
            raw = self._file.readline()
            if not raw:
                break
            self._offset += len(raw)
            value = raw.rstrip(b"\r\n")
            if value.strip():  # blank lines are not messages
                batch.append(
                    KafkaSourceMessage(
                        key=None,
                        value=value,
                        topic=self._topic,
                        partition=0,
                        offset=self._line,
                        timestamp=self._timestamp,
                    )
                )
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


class JsonlSource(FixedPartitionedSource[Message, Position]):
    """One partition: the file. Raises ``FileNotFoundError`` at build if it is missing."""

    def __init__(
        self, path: Path, *, batch_size: int = 2000, on_progress: ProgressHook | None = None
    ) -> None:
        self._path = path
        self._batch_size = batch_size
        self._on_progress = on_progress

    def list_parts(self) -> list[str]:
        return [str(self._path)]

    def build_part(
        self, step_id: str, for_part: str, resume_state: Position | None
    ) -> _JsonlPartition:
        return _JsonlPartition(self._path, resume_state, self._batch_size, self._on_progress)
