"""Prometheus metrics of the availability API: requests by route and status, latency, and
the age of the stock snapshot answers come from; served at ``GET /metrics`` (the
process's whole registry: with ``run --serve`` the dataflow's metrics too)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from inventory.availability.store import StockSource
from inventory.runtime.metrics import API_LATENCY, API_REQUESTS, API_SNAPSHOT_AGE

Scope = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[dict[str, Any]], Any]


class RequestMetrics:
    """ASGI middleware counting each request by route template (``/v1/availability/{sku}``,
    not the SKU: bounded label values) and status, and timing it."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def record_status(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            API_REQUESTS.labels(route, str(status)).inc()
            API_LATENCY.labels(route).observe(time.perf_counter() - started)


def instrument(app: FastAPI, store: StockSource, clock: Callable[[], float]) -> None:
    """Add the request metrics, the snapshot-age gauge and ``GET /metrics`` to ``app``."""

    def snapshot_age() -> float:
        snapshot = store.snapshot
        return float("nan") if snapshot is None else max(clock() - snapshot.read_ms / 1000, 0.0)

    API_SNAPSHOT_AGE.set_function(snapshot_age)
    app.add_middleware(RequestMetrics)

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
