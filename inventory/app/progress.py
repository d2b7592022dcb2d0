"""The progress line ``inventory run`` prints every few seconds: read rate, lag, rows."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping

from prometheus_client import REGISTRY

PROGRESS_SECONDS = 10.0


def _metric_sum(name: str) -> float:
    return sum(
        sample.value
        for metric in REGISTRY.collect()
        for sample in metric.samples
        if sample.name == name
    )


class ProgressReporter:
    """Calls ``emit`` with one line every ``every`` seconds until :meth:`stop`.

    :arg rows: rows written so far per table (the command's counter).
    :arg emit: where the line goes (the CLI prints it on stderr).
    """

    def __init__(
        self,
        rows: Mapping[str, int],
        emit: Callable[[str], None],
        every: float = PROGRESS_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._rows = rows
        self._emit = emit
        self._every = every
        self._clock = clock
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="progress", daemon=True)

    def line(self, read: float, seconds: float) -> str:
        lag = int(_metric_sum("inventory_consumer_lag_messages"))
        written = ", ".join(f"{t}={n:,}" for t, n in sorted(self._rows.items())) or "none"
        rate = read / seconds if seconds > 0 else 0.0
        return f"progress: {rate:,.0f} messages/s read, lag {lag:,} messages, rows {written}"

    def _run(self) -> None:
        read, started = _metric_sum("inventory_messages_read_total"), self._clock()
        while not self._done.wait(self._every):
            now_read, now = _metric_sum("inventory_messages_read_total"), self._clock()
            self._emit(self.line(now_read - read, now - started))
            read, started = now_read, now

    def __enter__(self) -> ProgressReporter:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join(timeout=5)
