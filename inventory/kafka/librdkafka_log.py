"""librdkafka's log lines go through Python logging, never raw to stderr.

Every client configuration carries a :class:`LibrdkafkaLog` as its ``logger`` property
(confluent-kafka then hands it each line instead of printing ``%3|…|FAIL|…`` on
stderr). The lines are logged at DEBUG on ``inventory.kafka.librdkafka`` (``--log-level
debug`` shows them); a command that fails says what went wrong in one line of its own.
"""

from __future__ import annotations

import logging
import re
from typing import Any

logger = logging.getLogger(__name__)
_THREAD = re.compile(r"^\[thrd:[^\]]*\]: ")


class LibrdkafkaLog:
    """What confluent-kafka calls with each log line; keeps the latest error's text."""

    def __init__(self) -> None:
        self.last_error: str | None = None

    def log(self, level: int, msg: str, *args: Any) -> None:
        text = msg % args if args else msg
        if level >= logging.ERROR:
            self.last_error = _THREAD.sub("", str(args[-1])) if args else text
        logger.debug("%s", text)


LIBRDKAFKA_LOG = LibrdkafkaLog()  # the default of every client of this process
