"""What native code writes to stderr goes to the log, not the terminal.

Bytewax's Rust runtime prints a panic message and the failing step's Python traceback on
file descriptor 2 before it raises the error the command reports in one line; librdkafka
prints its own log lines there too. While a dataflow runs, :func:`native_stderr_to_log`
points fd 2 into a pipe whose lines are logged (``inventory.runtime.native_stderr``):
Rust panics and backtraces at DEBUG (``--log-level debug`` shows them), librdkafka
errors and warnings (its levels 0-4) at WARNING, the rest at DEBUG. Python's own stderr
(``sys.stderr`` and the logging handlers on it) keeps writing to the terminal.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
import threading
from collections.abc import Iterator
from typing import TextIO

logger = logging.getLogger(__name__)

_RDKAFKA_LINE = re.compile(rb"^%(\d)\|")  # %3|1700000000.123|FAIL|rdkafka#producer-1| ...
_RDKAFKA_WARNING = 4


def _pump(read_fd: int) -> None:
    with os.fdopen(read_fd, "rb") as pipe:
        for raw in pipe:
            line = raw.rstrip(b"\n")
            if not line.strip():
                continue
            match = _RDKAFKA_LINE.match(line)
            level = (
                logging.WARNING
                if match and int(match.group(1)) <= _RDKAFKA_WARNING
                else logging.DEBUG
            )
            logger.log(level, "%s", line.decode("utf-8", "replace"))


def _stream_handlers(stream: TextIO) -> list[logging.StreamHandler[TextIO]]:
    loggers = [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]
    found = []
    for each in loggers:
        for handler in getattr(each, "handlers", []):
            if isinstance(handler, logging.StreamHandler) and handler.stream is stream:
                found.append(handler)
    return found


@contextlib.contextmanager
def native_stderr_to_log() -> Iterator[None]:
    """Route fd 2 to the log for the block (see the module doc); restores it after."""
    sys.stderr.flush()
    saved = os.dup(2)
    read_fd, write_fd = os.pipe()
    os.dup2(write_fd, 2)
    os.close(write_fd)
    terminal = open(  # noqa: SIM115 (closed below)
        saved, "w", buffering=1, encoding="utf-8", errors="backslashreplace", closefd=False
    )
    previous = sys.stderr
    handlers = _stream_handlers(previous)
    sys.stderr = terminal
    for handler in handlers:
        handler.setStream(terminal)
    pump = threading.Thread(target=_pump, args=(read_fd,), name="native-stderr", daemon=True)
    pump.start()
    try:
        yield
    finally:
        os.dup2(saved, 2)  # the pipe's last write end closes: the pump sees its end
        pump.join(timeout=5)
        for handler in handlers:
            handler.setStream(previous)
        sys.stderr = previous
        terminal.close()
        os.close(saved)
