"""Where a shard's key states live between batches: one SQLite file per shard in the
recovery directory (:class:`SqliteKeyStore`), or a dict for a run without recovery
(:class:`MemoryKeyStore`). Values are the per-key blobs of
:func:`dataflows.per_key.state_codec.encode_state`.

Incremental snapshots: the shard's *generation* ``g`` counts its snapshots. A snapshot
writes only the keys that changed since the previous one, as generation ``g``, with each
changed key's previous blob in an undo log, and commits; Bytewax then records ``g`` as
the shard's snapshot. Resuming at ``g`` undoes every generation newer than ``g``
(written by epochs that never completed).

Compaction: the undo rows of a generation are dropped once it is committed. The shard
learns that from Bytewax's backpressure: a source emits an epoch's items only after
every earlier epoch's snapshots are written and committed on every worker, so a shard
that received items in its current epoch knows its previous generation is committed.
The file then holds one row per key plus the undo rows of the last two generations.

Durability: SQLite in WAL mode with ``synchronous=FULL`` (each commit is on disk before
the snapshot naming it is written), as Bytewax's own recovery partitions use WAL.
Errors: :class:`sqlite3.Error` propagates (a store that cannot be written stops the flow
before its snapshot can name state that was not kept).
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

logger = logging.getLogger(__name__)

CACHE_KIB = 4096  # SQLite's page cache per shard file (RSS); the OS caches the rest
WAL_LIMIT_BYTES = 64 << 20  # the write-ahead log is truncated to this after a checkpoint
_CHUNK = 500  # keys per SELECT ... IN (...)


class KeyStore(Protocol):
    def load(self, keys: Iterable[str]) -> dict[str, bytes]:
        """The newest state of each of ``keys`` held (absent: a key never stored)."""
        ...

    def put(self, generation: int, items: list[tuple[str, bytes]]) -> None:
        """Store ``items`` as generation ``generation`` (not yet committed)."""
        ...

    def commit(self, generation: int, *, previous_committed: bool) -> None:
        """Make everything put so far durable as ``generation``; with
        ``previous_committed``, drop versions superseded by generation - 1."""
        ...

    def key_count(self) -> int: ...

    def close(self) -> None: ...


class MemoryKeyStore:
    """The state of a run without recovery: newest blob per key, nothing kept."""

    def __init__(self) -> None:
        self._blobs: dict[str, bytes] = {}

    def load(self, keys: Iterable[str]) -> dict[str, bytes]:
        blobs = self._blobs
        return {key: blob for key in keys if (blob := blobs.get(key)) is not None}

    def put(self, generation: int, items: list[tuple[str, bytes]]) -> None:
        self._blobs.update(items)

    def commit(self, generation: int, *, previous_committed: bool) -> None:
        pass

    def key_count(self) -> int:
        return len(self._blobs)

    def close(self) -> None:
        pass


class SqliteKeyStore:
    """A shard's keys in ``path``, resumed at ``generation`` (0: nothing committed).

    Table ``state`` holds each key's newest blob and the generation that wrote it; table
    ``undo`` holds, for each generation, the blob each key it changed had before (NULL:
    the key was new). Resuming at g undoes the generations after g, newest first;
    compaction deletes the undo rows of committed generations. Reads and writes are by
    primary key; resume and compaction cost the keys changed, not the keys held."""

    def __init__(self, path: Path, generation: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        # one worker thread uses a shard at a time; Bytewax may build it on another
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        db = self._db
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
        db.execute(f"PRAGMA journal_size_limit={WAL_LIMIT_BYTES}")
        db.execute(
            "CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, generation INTEGER "
            "NOT NULL, blob BLOB NOT NULL) WITHOUT ROWID"
        )
        db.execute(
            "CREATE TABLE IF NOT EXISTS undo (generation INTEGER NOT NULL, key TEXT NOT "
            "NULL, blob BLOB, PRIMARY KEY (generation, key)) WITHOUT ROWID"
        )
        db.execute("BEGIN")
        if generation == 0:  # nothing of this shard was ever committed
            db.execute("DELETE FROM state")
        undone = db.execute(
            "SELECT generation, key, blob FROM undo WHERE generation > ? ORDER BY generation DESC",
            (generation,),
        ).fetchall()
        for _, key, blob in undone:  # newest first: each key ends at its oldest undo
            if blob is None:
                db.execute("DELETE FROM state WHERE key = ?", (key,))
            else:
                db.execute(
                    "UPDATE state SET blob = ?, generation = ? WHERE key = ?",
                    (blob, generation, key),
                )
        db.execute("DELETE FROM undo")  # the rest undo committed generations: not needed
        db.execute("COMMIT")
        self._generation = generation  # the open generation's undo rows are written
        self._saved: set[str] = set()  # keys whose undo row the open generation has
        self._keys = db.execute("SELECT count(*) FROM state").fetchone()[0]
        self._open = False
        self.bytes_written = 0
        if undone or generation:
            logger.info(
                "key store %s resumed at generation %d: %d key(s), %d change(s) of "
                "uncommitted generations undone in %.2f s",
                path.name,
                generation,
                self._keys,
                len(undone),
                time.monotonic() - started,
            )

    def load(self, keys: Iterable[str]) -> dict[str, bytes]:
        wanted = list(keys)
        found: dict[str, bytes] = {}
        db = self._db
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            found.update(
                db.execute(
                    f"SELECT key, blob FROM state WHERE key IN ({marks})",  # noqa: S608 (placeholders only)
                    chunk,
                )
            )
        return found

    def put(self, generation: int, items: list[tuple[str, bytes]]) -> None:
        if not items:
            return
        db = self._db
        if not self._open:
            db.execute("BEGIN")
            self._open = True
        if generation != self._generation:
            self._generation, self._saved = generation, set()
        saved = self._saved
        first = [key for key, _ in items if key not in saved]
        if first:  # the committed blob, once per key and generation, before it changes
            db.executemany(
                "INSERT OR IGNORE INTO undo SELECT ?, ?, (SELECT blob FROM state WHERE key = ?)",
                [(generation, key, key) for key in first],
            )
            saved.update(first)
        db.executemany(
            "INSERT INTO state VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET "
            "generation = excluded.generation, blob = excluded.blob",
            [(key, generation, blob) for key, blob in items],
        )
        self.bytes_written += sum(len(blob) for _, blob in items)

    def commit(self, generation: int, *, previous_committed: bool) -> None:
        if previous_committed:  # the undo rows up to generation - 1 are never needed
            if not self._open:
                self._db.execute("BEGIN")
                self._open = True
            self._db.execute("DELETE FROM undo WHERE generation < ?", (generation,))
        if self._open:
            self._db.execute("COMMIT")
            self._open = False

    def key_count(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM state").fetchone()[0])

    def resumed_keys(self) -> int:
        """Keys held when the store was opened."""
        return int(self._keys)

    def close(self) -> None:
        if self._open:
            self._db.execute("ROLLBACK")  # never committed: a resume would drop it anyway
            self._open = False
        self._db.close()
