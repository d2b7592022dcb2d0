"""The process-wide behaviour of an entry point the CLI does not wrap (the container's
``python -m bytewax.run "dataflows.main:flow()"``): the same clean stop, quiet native
stderr and one-line errors as ``inventory run``.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import sys
from types import TracebackType

from inventory.core.errors import describe
from inventory.runtime.native_stderr import native_stderr_to_log
from inventory.runtime.stopping import STOP, signal_name, stop_on_signals

logger = logging.getLogger(__name__)
_process = contextlib.ExitStack()


def prepare_entry_process(stopped_message: str) -> None:
    """For the rest of the process: SIGTERM/SIGINT ask the flow to stop at its next batch;
    at exit print ``stopped on SIGTERM: <stopped_message>`` and exit 0 (130 after SIGINT);
    native stderr goes to the log; an uncaught error prints one line (the full traceback
    at DEBUG) and exits 1. Call from the main thread, before the flow runs."""
    if not logging.getLogger().handlers:  # INVENTORY_LOG_LEVEL applies once settings load
        logging.basicConfig(
            level=logging.WARNING,
            stream=sys.stderr,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )
    _process.enter_context(stop_on_signals(STOP))
    _process.enter_context(native_stderr_to_log())
    sys.excepthook = _one_line_error

    def report_stop() -> None:
        if STOP.requested:
            print(f"stopped on {signal_name(STOP.signal)}: {stopped_message}", file=sys.stderr)
            sys.stderr.flush()
            if STOP.exit_code:
                os._exit(STOP.exit_code)  # 130 after SIGINT; a normal exit would give 0

    atexit.register(report_stop)


def _one_line_error(
    kind: type[BaseException], exc: BaseException, traceback: TracebackType | None
) -> None:
    logger.debug("uncaught error", exc_info=(kind, exc, traceback))
    if isinstance(exc, KeyboardInterrupt):
        print("interrupted", file=sys.stderr)
        sys.stderr.flush()
        os._exit(130)
    print(f"error: {describe(exc)}", file=sys.stderr)
