"""One shard's per-key logic: the keyed step of the flow is keyed by shard
(:mod:`inventory.core.key_shards`), and each shard runs every (warehouse, sku) key of it.

A key touched recently holds its live :class:`KeyBook` (at most ``cap`` per shard, least
recently used evicted); every other key is only its blob in the shard's
:class:`~dataflows.state.key_store.KeyStore`. At the epoch's snapshot the keys changed
since the last one are encoded and written as the shard's next generation, and the
snapshot Bytewax keeps is just ``(SHARD_STATE, generation)``: the snapshot is
incremental (keys changed, not keys held) and its size does not grow with the keys.

Order: within a batch each key's items are applied in arrival order, keys in order of
their first item; what one key emits does not depend on other keys.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from bytewax.operators import StatefulBatchLogic

from dataflows.per_key.book import (
    DEFAULT_ORDER_RULES,
    ForecastsFor,
    KeyBook,
    KeyInput,
    KeyOutput,
    decode_state,
    no_forecasts,
)
from dataflows.per_key.orders import OrderRules
from dataflows.state.key_store import KeyStore, MemoryKeyStore, SqliteKeyStore
from inventory.core.key_shards import shard_number
from inventory.core.records import DeadLetter, ProductPolicy
from inventory.runtime.metrics import DUPLICATES_DROPPED, KEYS_IN_STATE, SNAPSHOT_KEYS

SHARD_STATE = "key-shard/1"  # what Bytewax holds per shard: (SHARD_STATE, generation)
DEAD_LETTERS = ""  # the stock key dead letters travel under within a shard's batch
LIVE_BOOKS = 20_000  # live books per flow (about 2 KB each), shared out over the shards

ShardItems = dict[str, list[KeyInput | DeadLetter]]  # stock key -> items, arrival order
ShardBatch = tuple[str, ShardItems]  # (shard name, items): what decoding sends a shard


@dataclass(frozen=True, slots=True)
class KeyConfig:
    lateness_ms: int
    window_ms: int
    policy_for: Callable[[str], ProductPolicy]
    lineage: str = ""
    seeded: bool = False
    rules: OrderRules = DEFAULT_ORDER_RULES
    forecasts_for: ForecastsFor = no_forecasts
    store_dir: Path | None = None  # None: state in memory (a run without recovery)
    live_books: int = 1_000  # per shard


class ShardStateError(RuntimeError):
    """A shard's snapshot names a key store this flow was not given."""


def open_store(config: KeyConfig, shard: str, generation: int) -> KeyStore:
    if config.store_dir is None:
        if generation:
            raise ShardStateError(
                f"the recovery store holds {shard} at generation {generation} but the flow "
                "was built without its key store directory (build_flow(key_store=...))"
            )
        return MemoryKeyStore()
    return SqliteKeyStore(config.store_dir / f"shard-{shard_number(shard)}.sqlite3", generation)


class ShardLogic(StatefulBatchLogic[ShardBatch, list[KeyOutput], tuple[str, int]]):
    """A shard's keys. Its store is opened on its first batch (Bytewax does not tell the
    builder the shard's name; the name rides in every batch)."""

    __slots__ = ("config", "dirty", "fed", "generation", "live", "name", "store")

    def __init__(self, config: KeyConfig, generation: int) -> None:
        self.config = config
        self.generation = generation  # of the last snapshot
        self.store: KeyStore | None = None
        self.name = ""
        self.live: dict[str, KeyBook] = {}  # least recently used first
        self.dirty: set[str] = set()  # changed since the last snapshot
        self.fed = False  # items arrived in this epoch (see key_store: compaction)

    def attach(self, name: str) -> None:
        if self.store is None:
            self.name = name
            self.store = open_store(self.config, name, self.generation)
            if isinstance(self.store, SqliteKeyStore):
                KEYS_IN_STATE.inc(self.store.resumed_keys())

    def on_batch(self, groups: list[ShardBatch]) -> tuple[Iterable[list[KeyOutput]], bool]:
        self.attach(groups[0][0])
        merged = groups[0][1] if len(groups) == 1 else _merge(groups)
        self.fed = True
        out: list[KeyOutput] = []
        dead = merged.pop(DEAD_LETTERS, None)
        if dead:
            out.extend(dead)  # type: ignore[arg-type]
        live, dirty, config = self.live, self.dirty, self.config
        missing = [key for key in merged if key not in live]
        blobs = self.store.load(missing) if missing else {}  # type: ignore[union-attr]
        apply_seeds = config.seeded
        duplicates = 0
        for key, items in merged.items():
            book = live.pop(key, None)
            if book is None:
                blob = blobs.get(key)
                if blob is None:
                    KEYS_IN_STATE.inc()  # a key met for the first time
                book = KeyBook(
                    lateness_ms=config.lateness_ms,
                    window_ms=config.window_ms,
                    policy_for=config.policy_for,
                    state=None if blob is None else decode_state(blob),
                    lineage=config.lineage,
                    rules=config.rules,
                    forecasts_for=config.forecasts_for,
                )
            live[key] = book  # most recently used last
            dirty.add(key)
            out.extend(book.apply_items(items) if apply_seeds else book.apply_batch(items))  # type: ignore[arg-type]
            if book.duplicates:
                duplicates += book.duplicates
                book.duplicates = 0
        if duplicates:
            DUPLICATES_DROPPED.inc(duplicates)
        if len(live) > config.live_books:
            self._evict(len(live) - config.live_books)
        return [out], StatefulBatchLogic.RETAIN

    def _evict(self, count: int) -> None:
        """Drop the ``count`` least recently used books, storing the changed ones as the
        open generation (a resume before its snapshot drops them again)."""
        live, dirty = self.live, self.dirty
        evicted = []
        for key in list(live)[:count]:
            book = live.pop(key)
            if key in dirty:
                dirty.discard(key)
                evicted.append((key, book.encode()))
        self.store.put(self.generation + 1, evicted)  # type: ignore[union-attr]

    def snapshot(self) -> tuple[str, int]:
        store = self.store
        if store is not None:
            generation = self.generation + 1
            live = self.live
            changed = [(key, live[key].encode()) for key in self.dirty]
            store.put(generation, changed)
            store.commit(generation, previous_committed=self.fed)
            SNAPSHOT_KEYS.inc(len(changed))
            self.dirty.clear()
            self.fed = False
            self.generation = generation
        return (SHARD_STATE, self.generation)


def _merge(groups: list[ShardBatch]) -> ShardItems:
    """Several batches of one shard in one activation, each key's items in order."""
    merged: ShardItems = {}
    for _, group in groups:
        for key, items in group.items():
            held = merged.get(key)
            if held is None:
                merged[key] = list(items)
            else:
                held.extend(items)
    return merged


def build_shard(config: KeyConfig) -> Callable[[tuple[str, int] | None], ShardLogic]:
    """Bytewax's builder for the keyed step: a new shard, or one resumed from its
    snapshot ``(SHARD_STATE, generation)``."""

    def build(resume: tuple[str, int] | None) -> ShardLogic:
        if resume is None:
            return ShardLogic(config, 0)
        if not (isinstance(resume, tuple) and len(resume) == 2 and resume[0] == SHARD_STATE):
            raise ShardStateError(
                f"unknown shard snapshot {type(resume).__name__}: the recovery store was "
                "written by another version of the flow"
            )
        return ShardLogic(config, int(resume[1]))

    return build
