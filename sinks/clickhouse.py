"""ClickHouse sink: one insert per table per batch, bounded retries of transient errors.

Delivery: at-least-once. A batch is retried as a whole, so an insert that succeeded
but timed out is written twice; every target table is a ReplacingMergeTree keyed on
the row's identity, so the duplicate collapses and queries (``FINAL``) do not change.
After ``clickhouse_retries`` failed attempts, or at once on a permanent error, the
last error is raised and the dataflow stops (Bytewax resumes it from its snapshot).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from bytewax.outputs import DynamicSink, StatelessSinkPartition
from clickhouse_connect.driver.client import Client

from inventory.clickhouse import connect, database_name, is_transient
from inventory.models import REVENUE_EXPONENT, Alert, DeadLetter, Event, SalesWindow, StockLevel
from inventory.settings import Settings

logger = logging.getLogger(__name__)

Row = Event | StockLevel | DeadLetter | SalesWindow | Alert
WriteHook = Callable[[str, int], None]

EVENT_COLUMNS = (
    "event_id",
    "event_type",
    "sku",
    "warehouse_id",
    "quantity",
    "delta",
    "unit_price",
    "order_id",
    "occurred_at",
    "ingested_at",
)
STOCK_COLUMNS = ("warehouse_id", "sku", "on_hand", "version", "updated_at", "last_event_id")
DEAD_LETTER_COLUMNS = (
    "topic",
    "partition",
    "offset",
    "key",
    "payload",
    "error",
    "received_at",
)


def event_row(e: Event) -> tuple[Any, ...]:
    return (
        e.event_id,
        e.event_type,
        e.sku,
        e.warehouse_id,
        e.quantity,
        e.delta,
        e.unit_price,
        e.order_id,
        e.occurred_ms,
        max(e.source.timestamp_ms, 0),
    )


def stock_row(s: StockLevel) -> tuple[Any, ...]:
    return (s.warehouse_id, s.sku, s.on_hand, s.version, max(s.updated_ms, 0), s.last_event_id)


def dead_letter_row(d: DeadLetter) -> tuple[Any, ...]:
    return (
        d.source.topic,
        d.source.partition,
        d.source.offset,
        d.key,
        d.payload or b"",
        d.error,
        max(d.source.timestamp_ms, 0),
    )


SALES_COLUMNS = (
    "warehouse_id",
    "sku",
    "window_start",
    "window_end",
    "units_sold",
    "revenue",
    "orders",
    "version",
)
ALERT_COLUMNS = (
    "alert_id",
    "kind",
    "warehouse_id",
    "sku",
    "on_hand",
    "threshold",
    "reorder_quantity",
    "event_id",
    "raised_at",
)


def sales_row(w: SalesWindow) -> tuple[Any, ...]:
    revenue = Decimal(w.revenue_e4).scaleb(REVENUE_EXPONENT)
    return (
        w.warehouse_id,
        w.sku,
        w.window_start_ms,
        w.window_end_ms,
        w.units_sold,
        revenue,
        w.orders,
        w.version,
    )


def alert_row(a: Alert) -> tuple[Any, ...]:
    return (
        a.alert_id,
        a.kind,
        a.warehouse_id,
        a.sku,
        a.on_hand,
        a.threshold,
        a.reorder_quantity,
        a.event_id,
        a.raised_ms,
    )


TABLES: dict[type, tuple[str, Sequence[str], Callable[[Any], tuple[Any, ...]]]] = {
    Event: ("events", EVENT_COLUMNS, event_row),
    StockLevel: ("stock_levels", STOCK_COLUMNS, stock_row),
    DeadLetter: ("dead_letters", DEAD_LETTER_COLUMNS, dead_letter_row),
    SalesWindow: ("sales_rates", SALES_COLUMNS, sales_row),
    Alert: ("alerts", ALERT_COLUMNS, alert_row),
}


def group_rows(items: list[Row]) -> dict[type, list[tuple[Any, ...]]]:
    """Rows per record type, in one pass."""
    grouped: dict[type, list[tuple[Any, ...]]] = {}
    for item in items:
        kind = type(item)
        rows = grouped.get(kind)
        if rows is None:
            rows = grouped[kind] = []
        rows.append(TABLES[kind][2](item))
    return grouped


class _ClickHousePartition(StatelessSinkPartition[Row]):
    def __init__(
        self,
        client: Client,
        *,
        database: str,
        retries: int,
        backoff: float,
        sleep: Callable[[float], None],
        on_write: WriteHook | None,
    ) -> None:
        self._client = client
        self._database = database
        self._retries = retries
        self._backoff = backoff
        self._sleep = sleep
        self._on_write = on_write

    def write_batch(self, items: list[Row]) -> None:
        for kind, rows in group_rows(items).items():
            table, columns, _ = TABLES[kind]
            self._insert(table, columns, rows)
            if self._on_write is not None:
                self._on_write(table, len(rows))

    def _insert(self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        attempt = 0
        while True:
            try:
                self._client.insert(
                    table, rows, column_names=list(columns), database=self._database
                )
                return
            except Exception as exc:
                if not is_transient(exc) or attempt >= self._retries:
                    logger.error(
                        "insert of %d rows into %s failed after %d attempt(s): %s",
                        len(rows),
                        table,
                        attempt + 1,
                        exc,
                    )
                    raise
                delay = min(self._backoff * 2**attempt, 30.0)
                attempt += 1
                logger.warning(
                    "transient error inserting into %s (attempt %d/%d), retrying in %.1fs: %s",
                    table,
                    attempt,
                    self._retries,
                    delay,
                    exc,
                )
                self._sleep(delay)

    def close(self) -> None:
        self._client.close()


class ClickHouseSink(DynamicSink[Row]):
    """Writes ``Event``, ``StockLevel`` and ``DeadLetter`` records to their tables."""

    def __init__(
        self,
        settings: Settings,
        *,
        client_factory: Callable[[Settings], Client] = connect,
        sleep: Callable[[float], None] = time.sleep,
        on_write: WriteHook | None = None,
    ) -> None:
        self._settings = settings
        self._client_factory = client_factory
        self._sleep = sleep
        self._on_write = on_write

    def build(self, step_id: str, worker_index: int, worker_count: int) -> _ClickHousePartition:
        return _ClickHousePartition(
            self._client_factory(self._settings),
            database=database_name(self._settings),
            retries=self._settings.clickhouse_retries,
            backoff=self._settings.clickhouse_backoff_seconds,
            sleep=self._sleep,
            on_write=self._on_write,
        )
