"""ClickHouse sink: one insert per table per batch, bounded retries of transient errors,
and rows the database refuses for their values dead-lettered instead of stalling the flow.

Delivery: at-least-once. A batch is retried as a whole, so an insert that succeeded
but timed out is written twice; every target table is a ReplacingMergeTree keyed on
the row's identity, so the duplicate collapses and queries (``FINAL``) do not change.

Rows go as Arrow tables (:mod:`sinks.columns`), one column per C conversion.

Errors, by ClickHouse error code (:mod:`inventory.clickhouse`):

* transient (network, timeouts, overload): retried ``clickhouse_retries`` times with
  exponential backoff, then raised; the dataflow stops and resumes from its snapshot;
* a data error (``DATA_ERROR_CODES``: the values of some rows are refused): the batch is
  split in halves until the refused rows are found; each becomes a dead letter with the
  database's reason (``dead_letters`` and, when configured, the dead-letter topic), and
  every other row is written;
* anything else (unknown table, no space, bad credentials): raised at once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

import pyarrow as pa
from bytewax.outputs import DynamicSink, StatelessSinkPartition
from clickhouse_connect.driver.client import Client

from inventory.clickhouse.client import connect, database_name
from inventory.clickhouse.error_codes import error_summary, is_data_error, is_transient
from inventory.core.records import DeadLetter
from inventory.core.settings import Settings
from inventory.runtime.metrics import (
    CLICKHOUSE_RETRIES,
    ROWS_WRITTEN,
    SINK_BATCH_SECONDS,
    count_dead_letters,
)
from sinks.columns import arrow_table
from sinks.rows import EVENT_COLUMNS, TABLES, Row, group_records, rejected_letter

__all__ = ["EVENT_COLUMNS", "ClickHouseSink", "Row", "WriteHook"]

logger = logging.getLogger(__name__)

WriteHook = Callable[[str, int], None]
# Every table is a ReplacingMergeTree read with FINAL (or argMax by version), so the
# merge pass over each inserted block (``optimize_on_insert``, on by default) only does
# early what FINAL and background merges do anyway (a block holds at most a few versions
# of one row: a purchase order opened and received in one batch); skipping it makes an
# events insert with its materialized views about a third cheaper (bench/README.md):
# https://clickhouse.com/docs/operations/settings/settings#optimize_on_insert
INSERT_SETTINGS = {"optimize_on_insert": 0}
MAX_BACKOFF_SECONDS = 30.0


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
        rejects: StatelessSinkPartition[DeadLetter] | None,
        accepted_by: str = "",
    ) -> None:
        self._client = client
        self._accepted_by = accepted_by
        self._database = database
        self._retries = retries
        self._backoff = backoff
        self._sleep = sleep
        self._on_write = on_write
        self._rejects = rejects

    def write_batch(self, items: list[Row]) -> None:
        rejected: list[DeadLetter] = []
        for kind, records in group_records(items).items():
            self._write(TABLES[kind][0], records, rejected)
        if rejected:
            self._write("dead_letters", rejected, [])  # a refused dead letter raises
            if self._rejects is not None:
                self._rejects.write_batch(rejected)

    def _write(self, table: str, records: Sequence[Row], rejected: list[DeadLetter]) -> None:
        """Insert ``records``; on a data error bisect to the refused ones (O(k log n)
        inserts for k refused rows) and append their dead letters to ``rejected``."""
        started = time.perf_counter()
        try:
            self._insert(table, records)
        except Exception as exc:
            if not is_data_error(exc):
                raise
            if len(records) > 1:
                middle = len(records) // 2
                self._write(table, records[:middle], rejected)
                self._write(table, records[middle:], rejected)
                return
            letter = rejected_letter(table, records[0], error_summary(exc))
            logger.warning(
                "ClickHouse refused a row of %s; dead-lettered at %s/%d/%d: %s",
                table,
                letter.source.topic,
                letter.source.partition,
                letter.source.offset,
                letter.error,
            )
            rejected.append(letter)
            count_dead_letters([letter.error])
            return
        SINK_BATCH_SECONDS.labels(table).observe(time.perf_counter() - started)
        ROWS_WRITTEN.labels(table).inc(len(records))
        if self._on_write is not None:
            self._on_write(table, len(records))

    def _insert(self, table: str, records: Sequence[Row]) -> None:
        """One columnar (Arrow) insert of ``records``, transient errors retried."""
        rows = arrow_table(records)
        if self._accepted_by and table == "events":
            rows = rows.append_column(
                "accepted_by", pa.array([self._accepted_by] * rows.num_rows, pa.string())
            )
        attempt = 0
        while True:
            try:
                self._client.insert_arrow(
                    table, rows, database=self._database, settings=INSERT_SETTINGS
                )
                return
            except Exception as exc:
                if not is_transient(exc) or attempt >= self._retries:
                    if not is_data_error(exc):
                        logger.error(
                            "insert of %d rows into %s failed after %d attempt(s): %s",
                            rows.num_rows,
                            table,
                            attempt + 1,
                            error_summary(exc),
                        )
                    raise
                delay = min(self._backoff * 2**attempt, MAX_BACKOFF_SECONDS)
                attempt += 1
                CLICKHOUSE_RETRIES.labels(table).inc()
                logger.warning(
                    "transient error inserting into %s (attempt %d/%d), retrying in %.1fs: %s",
                    table,
                    attempt,
                    self._retries,
                    delay,
                    error_summary(exc),
                )
                self._sleep(delay)

    def close(self) -> None:
        self._client.close()
        if self._rejects is not None:
            self._rejects.close()


class ClickHouseSink(DynamicSink[Row]):
    """Writes every record the flow emits to its table (``sinks.rows.TABLES``).

    :arg settings: connection, database, retry count and backoff.
    :arg client_factory: opens the client in ``build`` (tests inject failing clients).
    :arg sleep: the backoff's sleep (injected in tests).
    :arg on_write: called with (table, rows) after each successful insert.
    :arg rejects: where refused rows' dead letters are published besides the
        ``dead_letters`` table (the flow passes its dead-letter topic sink).
    :arg accepted_by: written to ``events.accepted_by`` (a backfill's lineage; empty: the
        stream), which tells the parts apart when a key is rebuilt from the tables.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        client_factory: Callable[[Settings], Client] = connect,
        sleep: Callable[[float], None] = time.sleep,
        on_write: WriteHook | None = None,
        rejects: DynamicSink[DeadLetter] | None = None,
        accepted_by: str = "",
    ) -> None:
        self._settings = settings
        self._accepted_by = accepted_by
        self._client_factory = client_factory
        self._sleep = sleep
        self._on_write = on_write
        self._rejects = rejects

    def build(self, step_id: str, worker_index: int, worker_count: int) -> _ClickHousePartition:
        rejects = (
            self._rejects.build(f"{step_id}-rejects", worker_index, worker_count)
            if self._rejects is not None
            else None
        )
        return _ClickHousePartition(
            self._client_factory(self._settings),
            database=database_name(self._settings),
            retries=self._settings.clickhouse_retries,
            backoff=self._settings.clickhouse_backoff_seconds,
            sleep=self._sleep,
            on_write=self._on_write,
            rejects=rejects,
            accepted_by=self._accepted_by,
        )
