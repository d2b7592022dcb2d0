"""``GET /v1/stream?sku=A&sku=B[&warehouse=W]``: availability pushed to the page as
Server-Sent Events, instead of polling.

The answer is ``text/event-stream``: at once one ``availability`` event per known SKU
asked for (the document of ``GET /v1/availability/{sku}``), then one each time a SKU's
stock changes in the snapshot the API answers from (checked every
:data:`TICK_SECONDS`), and a comment line every :data:`KEEPALIVE_SECONDS` so proxies
keep the connection. Unknown SKUs get one ``not_found`` event. The stream ends when the
client goes or the server stops; browsers' ``EventSource`` reconnects by itself.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Callable
from typing import Annotated

import orjson
from fastapi import FastAPI, Query
from fastapi.responses import StreamingResponse

from inventory.availability.documents import CODE_PATTERN, Code, availability_of
from inventory.availability.store import StockSnapshot, StockSource, WarehouseStock

TICK_SECONDS = 0.01
KEEPALIVE_SECONDS = 15.0
MAX_SKUS = 100


def sse(event: str, data: object) -> bytes:
    return b"event: " + event.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


def add_stream(
    app: FastAPI,
    store: StockSource,
    *,
    few_left: int,
    clock: Callable[[], float],
    closing: threading.Event,
) -> None:
    """Add ``GET /v1/stream`` to ``app``; streams end once ``closing`` is set."""

    @app.get(
        "/v1/stream",
        response_class=StreamingResponse,
        responses={200: {"content": {"text/event-stream": {}}}},
    )
    async def stream(
        sku: Annotated[list[Code], Query(min_length=1, max_length=MAX_SKUS)],
        warehouse: Annotated[str | None, Query(pattern=CODE_PATTERN)] = None,
    ) -> StreamingResponse:
        """Availability of these SKUs as Server-Sent Events (see the module doc)."""
        wanted = list(dict.fromkeys(sku))
        return StreamingResponse(
            _events(store, _Subscription(wanted, warehouse, few_left, clock), closing),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )


class _Subscription:
    """One stream's SKUs and what it sent of each."""

    def __init__(
        self, wanted: list[str], warehouse: str | None, few_left: int, clock: Callable[[], float]
    ) -> None:
        self.wanted, self.warehouse, self.few_left, self.clock = wanted, warehouse, few_left, clock
        self.sent: dict[str, tuple[WarehouseStock, ...] | None] = {}
        self.missing_told: set[str] = set()

    def changes(self, snapshot: StockSnapshot) -> list[bytes]:
        """Events for the SKUs whose stock differs from what was sent (all, at first)."""
        out = []
        now_ms = int(self.clock() * 1000)
        for sku in self.wanted:
            held = snapshot.stock.get(sku)
            if sku in self.sent and (self.sent[sku] is held or self.sent[sku] == held):
                continue
            if not snapshot.knows(sku):
                if sku not in self.missing_told:
                    self.missing_told.add(sku)
                    out.append(sse("not_found", {"sku": sku}))
                continue
            self.sent[sku] = held
            document = availability_of(snapshot, sku, self.warehouse, self.few_left, now_ms)
            out.append(sse("availability", document))
        return out


async def _events(
    store: StockSource, subscription: _Subscription, closing: threading.Event
) -> AsyncIterator[bytes]:
    last_write = time.monotonic()
    while not closing.is_set():
        snapshot = store.snapshot
        if snapshot is not None:
            for chunk in subscription.changes(snapshot):
                last_write = time.monotonic()
                yield chunk
        if time.monotonic() - last_write >= KEEPALIVE_SECONDS:
            last_write = time.monotonic()
            yield b": keep-alive\n\n"
        await asyncio.sleep(TICK_SECONDS)
