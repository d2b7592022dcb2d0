"""Seeds: per-key state rebuilt from ClickHouse, for keys whose current stock was computed
outside this flow's lineage.

The tables are the durable record of what was accepted; Bytewax recovery is a cache of
the flow's state and source offsets. When the newest ``stock_levels`` row of a key was
written by someone else (a backfill, or this flow before its recovery directory was lost)
the flow must not start that key from zero: it rebuilds the key's state from ``events``
exactly as the flow would have left it (on-hand by the stock rule, accepted count, newest
event, governing count, dedup ids and movements inside the lateness horizon, open sales
windows, the holds it may still need) plus, per source partition, the offset of the last
message already in it, so a replay of those messages is skipped, and its open purchase
orders from ``purchase_orders``. See docs/semantics.md, "Versions, lineage and seeds".

Cost: one query for the foreign keys at start (normally none), a cheap query for new ones
every ``REFRESH_SECONDS``, and a few queries per batch that first meets foreign keys.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from clickhouse_connect.driver.client import Client

from dataflows.per_key.book import ForecastsFor, Seed, no_forecasts
from dataflows.per_key.demand import DemandRules, rebuild
from dataflows.per_key.holds import HoldState, apply_hold, prune_holds
from dataflows.per_key.stock import MIN_PRUNE_AT, SourcePartition, StockState
from dataflows.per_key.windows import WindowTotals, order_key, price_e4
from inventory.clickhouse.queries import query
from inventory.core.records import Event, PurchaseOrder, Source

logger = logging.getLogger(__name__)
DEFAULT_DEMAND_RULES = DemandRules()

REFRESH_SECONDS = 10.0
REFRESH_SLACK_MS = 5_000  # an insert stamped before a refresh may become visible after it
QUERY_KEYS = 2000  # keys per seed query

Key = tuple[str, str]


class SeedReader:
    """The ClickHouse queries behind seeds, on a client opened on the flow's database.

    :arg client_factory: opens the client on first use (never at construction).
    :arg lineage: this flow's lineage; rows of any other are foreign.
    :arg lateness_ms: the lateness horizon (what a key keeps of its recent events).
    :arg window_ms: the sales-window length.
    """

    def __init__(
        self,
        client_factory: Callable[[], Client],
        lineage: str,
        lateness_ms: int,
        window_ms: int,
        demand_rules: DemandRules = DEFAULT_DEMAND_RULES,
        *,
        forecasts_for: ForecastsFor = no_forecasts,
    ) -> None:
        self._client_factory = client_factory
        self._client: Client | None = None
        self.lineage = lineage
        self.lateness_ms = lateness_ms
        self.window_ms = window_ms
        self.demand_rules = demand_rules
        self.forecasts_for = forecasts_for

    def _rows(self, name: str, **parameters: Any) -> list[tuple[Any, ...]]:
        if self._client is None:
            self._client = self._client_factory()
        return [
            tuple(r) for r in self._client.query(query(name), parameters=parameters).result_rows
        ]

    def now_ms(self) -> int:
        """ClickHouse's clock, epoch ms (``written_at`` is on it)."""
        return int(self._rows("clock_ms")[0][0])

    def foreign_keys(self, since_ms: int | None = None) -> set[Key]:
        """Keys whose current stock row is not this lineage's (among the rows written
        since ``since_ms``, if given)."""
        if since_ms is None:
            rows = self._rows("foreign_stock_keys", lineage=self.lineage)
        else:
            rows = self._rows("changed_foreign_stock_keys", lineage=self.lineage, since_ms=since_ms)
        return {(wh, sku) for wh, sku in rows}

    def seeds(self, keys: Iterable[Key]) -> dict[Key, Seed]:
        """Rebuilt states of ``keys`` (keys without events in the tables get none)."""
        out: dict[Key, Seed] = {}
        wanted = sorted(set(keys))
        for start in range(0, len(wanted), QUERY_KEYS):
            out.update(self._seeds(wanted[start : start + QUERY_KEYS]))
        return out

    def _seeds(self, keys: list[Key]) -> dict[Key, Seed]:
        summary = self._rows("seed_summary", keys=keys)
        recent: dict[Key, list[tuple[Any, ...]]] = defaultdict(list)
        reach = self.lateness_ms + self.window_ms
        for wh, sku, *event in self._rows("seed_recent_events", keys=keys, reach_ms=reach):
            recent[(wh, sku)].append(tuple(event))
        applied: dict[Key, dict[SourcePartition, int]] = defaultdict(dict)
        for wh, sku, topic, topic_id, partition, offset in self._rows("seed_positions", keys=keys):
            applied[(wh, sku)][(topic, topic_id, partition)] = offset
        hold_rows = self._rows("seed_holds", keys=keys, lateness_ms=self.lateness_ms)
        newest = {(wh, sku): newest_ms for wh, sku, _, newest_ms, *_ in summary}
        holds = hold_states(hold_rows, newest, self.lateness_ms)
        orders: dict[Key, list[PurchaseOrder]] = defaultdict(list)
        for wh, sku, *values in self._rows("seed_orders", keys=keys):
            po_id, status, qty, opened, expected, received, got, receipt, alert, version = values[
                :10
            ]
            orders[(wh, sku)].append(
                PurchaseOrder(
                    po_id,
                    wh,
                    sku,
                    status,
                    qty,
                    opened,
                    expected,
                    received,
                    got,
                    receipt,
                    alert,
                    version,
                    cancelled_quantity=values[10],
                )
            )
        firsts: dict[Key, tuple[int, list[Any], list[Any], list[Any]]] = {
            (wh, sku): (first_ms, sales, moves, refused)
            for wh, sku, first_ms, sales, moves, refused in self._rows("seed_demand", keys=keys)
        }
        receipts: dict[Key, list[tuple[int, int]]] = defaultdict(list)
        for wh, sku, opened_ms, received_ms in self._rows("seed_lead_times", keys=keys):
            receipts[(wh, sku)].append((opened_ms, received_ms))
        seeds = {}
        for wh, sku, accepted, newest_ms, newest_id, count_ms, count_id, on_hand, over in summary:
            key = (wh, sku)
            count = None if count_ms is None else (count_ms, count_id)
            stock, windows = self._rebuild(recent[key], count, newest_ms)
            stock.on_hand, stock.accepted, stock.oversold = on_hand, accepted, over
            stock.newest, stock.applied_upto = (newest_ms, newest_id), applied[key]
            stock.holds = holds[key]
            first_ms, sales, moves, refused = firsts[key]
            demand = rebuild(
                first_ms,
                newest_ms - self.lateness_ms,
                receipts.get(key, []),
                self.demand_rules,
                sales=[(int(day), int(units)) for day, units in sales],
                moves=[(int(ms), int(c), str(eid), int(v)) for ms, c, eid, v in moves],
                refused=[(int(ms), int(units)) for ms, units in refused],
                forecasts=self.forecasts_for(wh, sku),
            )
            seeds[key] = Seed(wh, sku, stock, windows, tuple(orders.get(key, ())), demand)
        return seeds

    def _rebuild(
        self, recent: list[tuple[Any, ...]], count: tuple[int, str] | None, newest_ms: int
    ) -> tuple[StockState, dict[int, WindowTotals]]:
        """Dedup ids, movements and open windows as :class:`StockBook` and
        :class:`SalesWindows` keep them after pruning at the key's lateness cutoff."""
        cutoff = newest_ms - self.lateness_ms
        seen: dict[str, int] = {}
        moves: list[tuple[int, int]] = []
        windows: dict[int, WindowTotals] = {}
        for event_id, ms, event_type, quantity, delta, unit_price, order_id in recent:
            if ms >= cutoff:
                seen[event_id] = ms
                if event_type != "count" and (count is None or ms > count[0]):
                    moves.append((ms, delta))
            start = ms - ms % self.window_ms
            if event_type == "sale" and start + self.window_ms > cutoff:
                totals = windows.get(start)
                if totals is None:
                    totals = windows[start] = WindowTotals()
                totals.units += quantity
                totals.revenue_e4 += quantity * price_e4(unit_price)
                totals.sales += 1
                totals.orders.add(order_key(event_id, order_id))
        stock = StockState(
            count=count,
            seen=seen,
            moves=sorted(moves),
            prune_at=max(MIN_PRUNE_AT, 2 * len(seen)),
        )
        return stock, windows

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


def hold_states(
    rows: Iterable[Sequence[Any]], newest: Mapping[Key, int], lateness_ms: int
) -> dict[Key, HoldState]:
    """Per key of ``newest`` (key -> newest event time), its holds as the flow keeps them,
    from ``seed_holds`` rows."""
    events: dict[Key, list[Event]] = defaultdict(list)
    for wh, sku, *hold in rows:
        events[(wh, sku)].append(_hold_event(wh, sku, hold))
    states = {}
    for key, newest_ms in newest.items():
        state = HoldState()
        for event in events.get(key, ()):
            apply_hold(state, event, newest_ms)
        prune_holds(state, newest_ms, newest_ms - lateness_ms)
        states[key] = state
    return states


def _hold_event(wh: str, sku: str, row: Sequence[Any]) -> Event:
    """The part of an event :func:`apply_hold` reads, from a ``seed_holds`` row."""
    rid, kind, ms, event_id, qty, expires_ms = row
    return Event(
        event_id, kind, sku, wh, qty, 0, ms, None, None, _NO_SOURCE, None, b"", rid, expires_ms
    )


_NO_SOURCE = Source("", -1, -1, -1)


class Seeder:
    """Run by the ``decode`` step: puts a :class:`Seed` ahead of the first item of each foreign key
    a worker meets (each worker once per key, so the seed reaches the key's owner before
    that worker's events), and re-reads the foreign keys every ``REFRESH_SECONDS``.

    Thread-safe: Bytewax's worker threads of a process share one instance.
    """

    def __init__(self, reader: SeedReader, clock: Callable[[], float] = time.monotonic) -> None:
        self._reader = reader
        self._clock = clock
        self._lock = threading.Lock()
        self._foreign: dict[str, int] = {}  # "warehouse:sku" -> generation
        self._generation = 0
        self._since_ms = 0
        self._next_refresh = 0.0
        self._sent = threading.local()

    def start(self) -> None:
        """Read the foreign keys (at flow start, before any batch)."""
        with self._lock:
            self._since_ms = self._reader.now_ms()
            self._mark(self._reader.foreign_keys())
            self._next_refresh = self._clock() + REFRESH_SECONDS
        if self._foreign:
            logger.info(
                "%d key(s) hold stock this flow did not compute: their state is rebuilt "
                "from ClickHouse as they appear",
                len(self._foreign),
            )

    def _mark(self, keys: set[Key]) -> None:
        if keys:
            self._generation += 1
            foreign = dict(self._foreign)
            for wh, sku in keys:
                foreign[f"{wh}:{sku}"] = self._generation
            self._foreign = foreign

    def _refresh(self) -> None:
        with self._lock:
            if self._clock() < self._next_refresh:
                return
            now_ms = self._reader.now_ms()
            self._mark(self._reader.foreign_keys(self._since_ms - REFRESH_SLACK_MS))
            self._since_ms, self._next_refresh = now_ms, self._clock() + REFRESH_SECONDS

    def attach(self, batch: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
        """``batch`` with seeds inserted ahead of the first item of each new foreign key."""
        if self._clock() >= self._next_refresh:
            self._refresh()
        foreign = self._foreign
        if not foreign:
            return batch
        sent: dict[str, int] | None = getattr(self._sent, "keys", None)
        if sent is None:
            sent = self._sent.keys = {}
        wanted = {
            key
            for key, _ in batch
            if (generation := foreign.get(key)) is not None and sent.get(key) != generation
        }
        if not wanted:
            return batch
        with self._lock:
            found = self._reader.seeds(split_key(key) for key in wanted)
        for key in wanted:
            sent[key] = foreign[key]
        out: list[tuple[str, Any]] = []
        for key, item in batch:
            if key in wanted:
                wanted.discard(key)
                seed = found.get(split_key(key))
                if seed is not None:
                    out.append((key, seed))
            out.append((key, item))
        return out


def split_key(key: str) -> Key:
    """``"warehouse:sku"`` -> (warehouse, sku); neither may contain ``:``."""
    warehouse_id, _, sku = key.partition(":")
    return warehouse_id, sku
