"""Progress lines the long-running commands print every ``INVENTORY_PROGRESS_SECONDS``:
``run`` and ``backfill`` (read rate, lag, duplicates dropped, rows written) and
``supplier`` (requests taken, restocks delivered, orders pending)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping

from prometheus_client import REGISTRY

from generators.supplier import Supplier


def metric_sum(name: str) -> float:
    """The sum of every sample of metric ``name`` (over its labels) in this process."""
    return sum(
        sample.value
        for metric in REGISTRY.collect()
        for sample in metric.samples
        if sample.name == name
    )


class Periodic:
    """A context manager calling ``emit(line())`` every ``every`` seconds until it exits
    (never with ``every`` 0).

    :arg line: makes the line (called on the reporter's thread).
    :arg emit: where the line goes (the CLI prints it on stderr).
    """

    def __init__(self, line: Callable[[], str], emit: Callable[[str], None], every: float) -> None:
        self._line = line
        self._emit = emit
        self._every = every
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="progress", daemon=True)

    def _run(self) -> None:
        while not self._done.wait(self._every):
            self._emit(self._line())

    def __enter__(self) -> Periodic:
        if self._every > 0:  # 0: never
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)


class FlowProgress:
    """The flow's progress line: messages read per second since the previous line and the
    consumer lag (with ``topic``), the duplicates dropped so far and the rows written per
    table.

    :arg rows: rows written so far per table (the command's counter).
    :arg topic: the flow reads a topic (a backfill of a file reads none).
    """

    def __init__(
        self,
        rows: Mapping[str, int],
        *,
        topic: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._rows = rows
        self._topic = topic
        self._clock = clock
        self._read = metric_sum("inventory_messages_read_total")
        self._since = clock()

    def line(self) -> str:
        read, now = metric_sum("inventory_messages_read_total"), self._clock()
        seconds = now - self._since
        rate = (read - self._read) / seconds if seconds > 0 else 0.0
        self._read, self._since = read, now
        lag = int(metric_sum("inventory_consumer_lag_messages"))
        duplicates = int(metric_sum("inventory_duplicates_dropped_total"))
        written = ", ".join(f"{t}={n:,}" for t, n in sorted(self._rows.items())) or "none"
        reading = f"{rate:,.0f} messages/s read, lag {lag:,} messages, " if self._topic else ""
        return f"progress: {reading}{duplicates:,} duplicates dropped, rows {written}"


def supplier_line(supplier: Supplier) -> str:
    """The supplier's progress line."""
    return (
        f"supplier: {supplier.taken:,} reorder request(s) taken, {supplier.delivered:,} "
        f"restock(s) delivered, {supplier.pending:,} pending"
    )
