"""Write generated messages to Kafka (keyed ``warehouse:sku``) or as JSON lines.

Delivery to Kafka is confirmed: :func:`publish_to_kafka` raises ``DeliveryError``
if any message is not acknowledged.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)

from generators.message import Message
from inventory.kafka.config import Target
from inventory.kafka.producer import CheckedProducer
from inventory.runtime.stopping import STOP, StopRequest

ProgressHook = Callable[[int], None]


def progress_bar(*, enabled: bool = True) -> Progress:
    """A rich progress bar on stderr (disabled: renders nothing)."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        disable=not enabled,
    )


class Pacer:
    """Sleeps so that ``count`` items take at least ``count / rate`` seconds."""

    def __init__(
        self,
        rate: float | None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._rate = rate
        self._clock = clock
        self._sleep = sleep
        self._start = clock()

    def wait(self, done: int) -> None:
        if not self._rate:
            return
        ahead = done / self._rate - (self._clock() - self._start)
        if ahead > 0.001:
            self._sleep(ahead)


def publish_to_kafka(
    messages: Iterable[Message],
    brokers: Target,
    topic: str,
    *,
    rate: float | None = None,
    timeout: float = 60.0,
    on_progress: ProgressHook | None = None,
    stop: StopRequest = STOP,
) -> int:
    """Produce every message, or those before a stop request (SIGTERM/SIGINT); return how
    many were acknowledged. Whatever was produced is flushed either way."""
    producer = CheckedProducer(brokers, timeout, **{"linger.ms": 50, "batch.size": 1_000_000})
    pacer = Pacer(rate)
    step = pacing_step(rate)
    sent = 0
    for msg in messages:
        if stop.requested:
            break
        producer.produce(topic, msg.value, msg.key)
        sent += 1
        if sent % step == 0:
            pacer.wait(sent)
            if on_progress:
                on_progress(step)
    producer.flush_or_raise()
    if on_progress:
        on_progress(sent % step)
    return producer.delivered


def pacing_step(rate: float | None) -> int:
    """Messages between pacing checks: 1,000, or fewer so a slow rate is paced smoothly
    (at most about 50 checks per second)."""
    if not rate:
        return 1000
    return max(1, min(1000, int(rate // 50)))


def write_jsonl(
    messages: Iterable[Message],
    out: TextIO = sys.stdout,
    *,
    rate: float | None = None,
    stop: StopRequest = STOP,
) -> int:
    """Write each message value as one line, until a stop request; return the count."""
    pacer = Pacer(rate)
    step = pacing_step(rate)
    count = 0
    for msg in messages:
        if stop.requested:
            break
        out.write(msg.value.decode("utf-8", "replace"))
        out.write("\n")
        count += 1
        if count % step == 0:
            pacer.wait(count)
    out.flush()
    return count
