"""Clean stop on SIGTERM and SIGINT.

``docker stop`` and Kubernetes send SIGTERM, a terminal's Ctrl-C sends SIGINT to the
foreground process group. Either one *asks* to stop: the dataflow's sources end at their
next batch (the flow closes its epoch, snapshots, flushes and closes its sinks), loops
that publish stop between messages, and servers shut down. A second signal while the
first is being honoured stops at once (``KeyboardInterrupt``).

The commands then exit 0 after SIGTERM and 130 after SIGINT (the shell's 128 + 2), with
one line on stderr; a restart resumes from the last snapshot.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

SIGNALS = (signal.SIGTERM, signal.SIGINT)


class StopRequest:
    """Whether, and by which signal, a stop was asked. Thread-safe."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.signal: int | None = None

    @property
    def requested(self) -> bool:
        return self._event.is_set()

    def request(self, signum: int) -> None:
        if self.signal is None:
            self.signal = signum
        self._event.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Sleep until a stop is asked or ``timeout`` passes; True if asked."""
        return self._event.wait(timeout)

    def clear(self) -> None:
        self.signal = None
        self._event.clear()

    @property
    def exit_code(self) -> int:
        """0 after SIGTERM (an orderly stop), 130 after SIGINT (interrupted)."""
        return 130 if self.signal == signal.SIGINT else 0


STOP = StopRequest()
"""The process's stop request, read by the sources and loops (``stop=STOP`` defaults)."""


@contextlib.contextmanager
def stop_on_signals(stop: StopRequest = STOP) -> Iterator[StopRequest]:
    """SIGTERM and SIGINT ask ``stop`` to stop while the block runs (main thread only; a
    no-op elsewhere). The previous handlers come back afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handle(signum: int, frame: FrameType | None) -> None:
        if stop.requested:
            raise KeyboardInterrupt  # asked twice: stop now
        stop.request(signum)

    previous = {sig: signal.signal(sig, handle) for sig in SIGNALS}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def signal_name(signum: int | None) -> str:
    return signal.Signals(signum).name if signum is not None else "no signal"
