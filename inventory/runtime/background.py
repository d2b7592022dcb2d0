"""Background readers (the availability API's stock store and followers, the flow's
forecast follower): one daemon thread each, running :meth:`BackgroundReader._run` from
:meth:`start` until :meth:`stop`."""

from __future__ import annotations

import threading


class BackgroundReader:
    """A daemon thread named ``thread_name`` running ``_run`` until ``stop``; ``_run``
    checks ``self._stop`` and sets ``self._ready`` once it has read everything once."""

    thread_name = "reader"

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def wait_ready(self, timeout: float) -> bool:
        """Block until the source was read to its end once (or ``timeout``)."""
        return self._ready.wait(timeout)

    def _run(self) -> None:
        raise NotImplementedError
