"""The availability API's view of stock: a snapshot of ``stock_levels`` held in memory.

Requests never wait for ClickHouse. A daemon thread keeps the snapshot current:

- a *full* read (``stock_levels FINAL`` and the catalog names) at start, after a failed
  read, and every ``full_every`` seconds (``INVENTORY_AVAILABILITY_FULL_READ_SECONDS``);
- in between, every ``interval`` seconds, an *incremental* read of the rows written
  since the previous read started minus ``SLACK_MS``, both on ClickHouse's clock (an
  insert is stamped with ``written_at`` when it starts and is visible when it commits;
  the slack covers inserts in flight). A row replaces the held one for its (sku,
  warehouse) unless its ``version`` is lower, which is what FINAL would pick, so
  replayed or re-read rows change nothing. The periodic full read bounds what an insert
  slower than the slack could hide.

Each read swaps in a new snapshot in one assignment. A failed read is logged and the
previous snapshot stays, so answers get older (``age_seconds`` says by how much) rather
than failing. Before the first successful read there is no snapshot (the API says 503).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol, cast

from clickhouse_connect.driver.client import Client

from inventory.availability.rules import available
from inventory.clickhouse.client import connect, database_name
from inventory.core.settings import Settings
from inventory.runtime.background import BackgroundReader

logger = logging.getLogger(__name__)

SLACK_MS = 5_000
FULL_EVERY_SECONDS = 60.0

_COLUMNS = """sku, warehouse_id, on_hand, toUnixTimestamp64Milli(updated_at), version,
    toUnixTimestamp64Milli(written_at), reserved, on_order,
    ifNull(toUnixTimestamp64Milli(next_expected_at), -1)"""
ALL_STOCK = f"SELECT {_COLUMNS} FROM {{db:Identifier}}.stock_levels FINAL"  # noqa: S608
STOCK_SINCE = (
    f"SELECT {_COLUMNS} FROM {{db:Identifier}}.stock_levels "  # noqa: S608 (constant)
    "WHERE written_at >= fromUnixTimestamp64Milli({since:Int64}, 'UTC')"
)
NAMES = "SELECT sku, name FROM {db:Identifier}.products FINAL"
DB_NOW = "SELECT toUnixTimestamp64Milli(now64(3))"


class StockRow(NamedTuple):
    sku: str
    warehouse_id: str
    on_hand: int
    updated_ms: int  # occurred_at of the newest event applied to this (warehouse, sku)
    version: int
    written_ms: int  # when ClickHouse stored the row
    reserved: int = 0  # units of active holds (contract v4)
    on_order: int = 0  # units of the open purchase orders (contract v5)
    next_expected_ms: int = -1  # earliest expected_at of those orders; -1: none (v6)


class StockSource(Protocol):
    """What the API answers from: the latest snapshot (None until the first read), kept
    current between ``start()`` and ``stop()`` (:class:`AvailabilityStore` polls
    ClickHouse; :class:`~inventory.availability.follower.StockFollower` follows the
    stock topic)."""

    @property
    def snapshot(self) -> StockSnapshot | None: ...

    def start(self) -> None: ...

    def stop(self) -> None: ...


class StockReader(Protocol):
    """Where the store reads stock (``ClickHouseStockReader``; tests use fakes)."""

    def read_all(self) -> tuple[int, list[StockRow], dict[str, str]]:
        """The reader's clock (ms) before reading, the current row per (sku,
        warehouse), and catalog names by SKU."""
        ...

    def read_since(self, written_ms: int) -> tuple[int, list[StockRow]]:
        """The reader's clock (ms) before reading, and the rows (any version) written
        at or after ``written_ms``."""
        ...


@dataclass(frozen=True, slots=True)
class WarehouseStock:
    warehouse_id: str
    on_hand: int
    updated_ms: int
    reserved: int = 0
    on_order: int = 0
    next_expected_ms: int = -1  # -1: nothing on order
    version: int = 0  # stock_levels.version: a reader never goes back to a lower one


class Promise(NamedTuple):
    """A SKU's catalog oversell policy (v10; docs/semantics.md, "Backorders and
    preorders"): ``backorder`` or ``preorder`` (SKUs without one deny)."""

    policy: str
    limit: int  # units a warehouse may promise beyond on-hand; 0: no cap
    release_ms: int  # a preorder's release; -1: none


@dataclass(frozen=True)
class StockSnapshot:
    """Current stock by SKU (warehouses in id order) and catalog names, read at ``read_ms``."""

    read_ms: int
    stock: Mapping[str, tuple[WarehouseStock, ...]]
    names: Mapping[str, str] = field(default_factory=dict)
    prices: Mapping[str, float] = field(default_factory=dict)  # catalog unit prices
    promises: Mapping[str, Promise] = field(default_factory=dict)  # v10, topic source only

    def knows(self, sku: str) -> bool:
        """A SKU with stock rows or in the catalog (which may never have had stock)."""
        return sku in self.stock or sku in self.names

    def skus(self) -> list[str]:
        return sorted(self.stock.keys() | self.names.keys())

    def showcase_inputs(self) -> tuple[dict[str, int], dict[str, int]]:
        """What :func:`~inventory.availability.rules.showcase` picks from: every known
        SKU's units available over its warehouses, and the earliest expected delivery
        (epoch ms) of those with units on order."""
        totals: dict[str, int] = {}
        expected: dict[str, int] = {}
        for sku in self.skus():
            rows = self.stock.get(sku, ())
            totals[sku] = sum(available(w.on_hand, w.reserved) for w in rows)
            dates = [w.next_expected_ms for w in rows if w.on_order > 0 and w.next_expected_ms >= 0]
            if dates:
                expected[sku] = min(dates)
        return totals, expected


class ClickHouseStockReader:
    """Reads the configured ClickHouse; one client, reopened after an error."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._params: dict[str, object] = {"db": database_name(settings)}
        self._client: Client | None = None

    def _query(self, sql: str, **params: object) -> list[tuple[object, ...]]:
        if self._client is None:
            self._client = connect(self._settings)
        try:
            rows = self._client.query(sql, parameters={**self._params, **params}).result_rows
        except Exception:
            self._client.close()
            self._client = None
            raise
        return cast("list[tuple[object, ...]]", rows)

    def _now_ms(self) -> int:
        return int(cast("int", self._query(DB_NOW)[0][0]))

    def read_all(self) -> tuple[int, list[StockRow], dict[str, str]]:
        now_ms = self._now_ms()
        stock = [StockRow._make(row) for row in self._query(ALL_STOCK)]
        names = {str(sku): str(name) for sku, name in self._query(NAMES)}
        return now_ms, stock, names

    def read_since(self, written_ms: int) -> tuple[int, list[StockRow]]:
        now_ms = self._now_ms()
        return now_ms, [StockRow._make(r) for r in self._query(STOCK_SINCE, since=written_ms)]


class AvailabilityStore(BackgroundReader):
    """The latest :class:`StockSnapshot`; ``start()`` keeps it current in a daemon thread
    until ``stop()``, the first read at once (module docstring)."""

    thread_name = "availability"

    def __init__(
        self,
        reader: StockReader,
        interval: float,
        *,
        full_every: float = FULL_EVERY_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._reader = reader
        self._interval = interval
        self._full_every = full_every
        self._clock = clock
        self._rows: dict[str, dict[str, StockRow]] = {}  # sku -> warehouse -> row
        self._since = 0  # the next incremental read starts here (reader's clock, ms)
        self._last_full = float("-inf")
        self._snapshot: StockSnapshot | None = None
        super().__init__()

    @property
    def snapshot(self) -> StockSnapshot | None:
        return self._snapshot

    def refresh(self, *, full: bool = False) -> StockSnapshot:
        """Read now: fully if asked, first, or due; else incrementally. Raises what the
        reader raises (the held snapshot is then unchanged)."""
        now = self._clock()
        previous = self._snapshot
        if full or previous is None or now - self._last_full >= self._full_every:
            started, rows, names = self._reader.read_all()
            self._rows = {}
            changed = self._merge(rows)
            stock = {sku: self._warehouses(sku) for sku in self._rows}
            self._last_full = now
        else:
            names = dict(previous.names)
            started, rows = self._reader.read_since(self._since)
            changed = self._merge(rows)
            stock = dict(previous.stock)
            for sku in changed:
                stock[sku] = self._warehouses(sku)
        snapshot = StockSnapshot(int(now * 1000), stock, names)
        self._since = started - SLACK_MS
        self._snapshot = snapshot
        return snapshot

    def _merge(self, rows: list[StockRow]) -> set[str]:
        """Keep the highest version per (sku, warehouse); return the SKUs that changed."""
        changed = set()
        for row in rows:
            held = self._rows.setdefault(row.sku, {})
            current = held.get(row.warehouse_id)
            if current is None or row.version >= current.version:
                if current is None or row[:5] != current[:5] or row[6:] != current[6:]:
                    changed.add(row.sku)
                held[row.warehouse_id] = row
        return changed

    def _warehouses(self, sku: str) -> tuple[WarehouseStock, ...]:
        held = self._rows[sku]
        return tuple(
            WarehouseStock(
                wh,
                row.on_hand,
                row.updated_ms,
                row.reserved,
                row.on_order,
                row.next_expected_ms,
                row.version,
            )
            for wh, row in sorted(held.items())
        )

    def _run(self) -> None:
        failing = False
        while not self._stop.is_set():
            try:
                self.refresh(full=failing)  # after a failure, start over with a full read
                if failing:
                    logger.info("availability refresh recovered")
                failing = False
            except Exception as exc:
                if not failing:  # log the first failure of a streak, not every retry
                    logger.warning("availability refresh failed, keeping the last: %s", exc)
                failing = True
            self._stop.wait(self._interval)
