"""Where a shard's key states live between batches: one SQLite file per shard in the
recovery directory (:class:`SqliteKeyStore`), or a dict for a run without recovery
(:class:`MemoryKeyStore`). Values are the per-key blobs of
:func:`dataflows.per_key.state_codec.encode_state`.

Incremental snapshots: the shard's *generation* ``g`` counts its snapshots. A snapshot
writes only the keys that changed since the previous one, as versions ``(key, g,
blob)``, and commits; Bytewax then records ``g`` as the shard's snapshot. A key's state
is its newest version. Resuming at ``g`` drops every version newer than ``g`` (written
by epochs that never completed) and keeps, per key, the newest of the rest.

Compaction: a version superseded by one of generation ``c`` is dropped once ``c`` is
committed. The shard learns that from Bytewax's backpressure: a source emits an epoch's
items only after every earlier epoch's snapshots are written and committed on every
worker, so a shard that received items in its current epoch knows its previous
generation is committed. The file then holds one version per key plus the keys changed
in the last two generations.

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
    """A shard's versions in ``path``, resumed at ``generation`` (0: nothing committed)."""

    def __init__(self, path: Path, generation: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        # one worker thread uses a shard at a time; Bytewax may build it on another
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        db = self._db
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
        db.execute(
            "CREATE TABLE IF NOT EXISTS versions (key TEXT NOT NULL, generation INTEGER "
            "NOT NULL, blob BLOB NOT NULL, PRIMARY KEY (key, generation)) WITHOUT ROWID"
        )
        db.execute("BEGIN")
        dropped = db.execute("DELETE FROM versions WHERE generation > ?", (generation,)).rowcount
        superseded = db.execute(
            "DELETE FROM versions WHERE (key, generation) IN (SELECT key, generation FROM "
            "(SELECT key, generation, row_number() OVER (PARTITION BY key ORDER BY "
            "generation DESC) AS newer FROM versions) WHERE newer > 1)"
        ).rowcount
        db.execute("COMMIT")
        self._keys = db.execute("SELECT count(*) FROM versions").fetchone()[0]
        self._open = False
        self._written: dict[int, list[str]] = {}  # generation -> keys (not yet compacted)
        self.bytes_written = 0
        if dropped or superseded or generation:
            logger.info(
                "key store %s resumed at generation %d: %d key(s), %d uncommitted and %d "
                "superseded version(s) dropped in %.2f s",
                path.name,
                generation,
                self._keys,
                dropped,
                superseded,
                time.monotonic() - started,
            )

    def load(self, keys: Iterable[str]) -> dict[str, bytes]:
        wanted = list(keys)
        found: dict[str, tuple[int, bytes]] = {}
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            for key, generation, blob in self._db.execute(
                f"SELECT key, generation, blob FROM versions WHERE key IN ({marks})",  # noqa: S608 (placeholders only)
                chunk,
            ):
                held = found.get(key)
                if held is None or held[0] < generation:
                    found[key] = (generation, blob)
        return {key: blob for key, (_, blob) in found.items()}

    def put(self, generation: int, items: list[tuple[str, bytes]]) -> None:
        if not items:
            return
        if not self._open:
            self._db.execute("BEGIN")
            self._open = True
        self._db.executemany(
            "INSERT OR REPLACE INTO versions VALUES (?, ?, ?)",
            [(key, generation, blob) for key, blob in items],
        )
        self._written.setdefault(generation, []).extend(key for key, _ in items)
        self.bytes_written += sum(len(blob) for _, blob in items)

    def commit(self, generation: int, *, previous_committed: bool) -> None:
        if previous_committed:
            done = [g for g in self._written if g < generation]
            for g in done:
                if not self._open:
                    self._db.execute("BEGIN")
                    self._open = True
                self._db.executemany(
                    "DELETE FROM versions WHERE key = ? AND generation < ?",
                    [(key, g) for key in self._written.pop(g)],
                )
        if self._open:
            self._db.execute("COMMIT")
            self._open = False

    def key_count(self) -> int:
        return int(self._db.execute("SELECT count(DISTINCT key) FROM versions").fetchone()[0])

    def resumed_keys(self) -> int:
        """Keys held when the store was opened."""
        return int(self._keys)

    def close(self) -> None:
        if self._open:
            self._db.execute("ROLLBACK")  # never committed: a resume would drop it anyway
            self._open = False
        self._db.close()
