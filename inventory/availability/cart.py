"""The cart endpoints: a shopper's hold, checkout and release, written as events.

- ``GET /v1/cart``: whether cart writes are on, and how long a hold lasts.
- ``POST /v1/holds`` ``{"sku", "quantity", "warehouse_id"?}``: a ``reserve`` event holding
  the units until ``INVENTORY_API_HOLD_SECONDS`` from now, in the asked warehouse or the
  one with the most available; 202 ``{"reservation_id", "warehouse_id", "expires_at",
  "event_id"}``.
- ``POST /v1/holds/{reservation_id}/checkout`` and ``…/release`` with ``{"sku",
  "warehouse_id", "quantity"}``: the ``sale`` carrying the reservation id, or the
  ``release``; 202 ``{"event_id"}``.

Off unless ``INVENTORY_API_WRITE_TOKEN`` is set (403 otherwise); each request needs
``Authorization: Bearer <token>`` (401), at most ``INVENTORY_API_WRITE_RATE_PER_MINUTE``
requests per clock minute per client address (a fixed window; 429 with ``Retry-After``:
the seconds to the next minute); an unknown SKU is 404, more than is available 409, a
body over 16 KiB 413, a body outside the event contract (not UTF-8 JSON, too deep, a
reservation id outside 1-128 characters, …) 422. Every event is
checked by the flow's own contract rules before it is produced, and the answer comes
once the broker acknowledged it (``acks=all``): nothing is produced for a refused request.
"""

from __future__ import annotations

import hmac
import threading
import time
import uuid
from collections.abc import Callable
from typing import Annotated, Any, Protocol

import orjson
from fastapi import FastAPI, Header, HTTPException, Request
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field

from dataflows.decode import ContractError, validate
from inventory.availability.documents import Code, Problem
from inventory.availability.rules import available
from inventory.availability.store import StockSnapshot, StockSource
from inventory.core.records import Source
from inventory.core.settings import Settings
from inventory.core.times import format_ms
from inventory.kafka.config import kafka_connection
from inventory.kafka.producer import CheckedProducer

API_SOURCE = Source("api", 0, 0, -1)


class EventWriter(Protocol):
    """Where accepted cart events go (the events topic; tests use a list)."""

    def write(self, key: bytes, value: bytes) -> None:
        """Produce one event; returns once acknowledged, raises otherwise."""
        ...


class TopicWriter:
    """Produces cart events to ``INVENTORY_EVENTS_TOPIC``, one acknowledged at a time."""

    def __init__(self, settings: Settings, brokers: str) -> None:
        self._topic = settings.events_topic
        self._producer = CheckedProducer(
            kafka_connection(settings, brokers), settings.kafka_timeout_seconds, **{"linger.ms": 0}
        )
        self._lock = threading.Lock()

    def write(self, key: bytes, value: bytes) -> None:
        with self._lock:
            self._producer.produce(self._topic, value, key)
            self._producer.flush_or_raise()


class HoldRequest(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")  # the event contract's types

    sku: Code
    quantity: int = Field(1, ge=1, le=1000)
    warehouse_id: Code | None = None


class CartLine(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    sku: Code
    warehouse_id: Code
    quantity: int = Field(ge=1, le=1000)


class RateLimiter:
    """A fixed window per client: at most ``per_minute`` requests in each clock minute
    (``clock`` seconds, UTC epoch: windows start at :00); the count starts again at the
    next minute. Memory: the clients of the current minute."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.time) -> None:
        self._limit = per_minute
        self._clock = clock
        self._window = -1
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def wait_seconds(self, client: str) -> float:
        """0 if ``client`` may go now (counted), else the seconds until the next minute."""
        with self._lock:
            now = self._clock()
            window = int(now // 60)
            if window != self._window:
                self._window, self._counts = window, {}
            used = self._counts.get(client, 0)
            if used < self._limit:
                self._counts[client] = used + 1
                return 0.0
            return (window + 1) * 60 - now


MAX_BODY_BYTES = 16 * 1024  # a cart request's JSON body; larger: 413


class CartBodyGuard:
    """ASGI middleware for ``POST /v1/holds…``: a body over :data:`MAX_BODY_BYTES` is 413
    (read no further), one that is not UTF-8 JSON (or nests deeper than the parser
    allows) 422, before the route parses it; any other request passes untouched."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or not scope["path"].startswith("/v1/holds")
        ):
            await self.app(scope, receive, send)
            return
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, receive, send)  # a disconnect: let the route see it
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > MAX_BODY_BYTES:
                await _problem(
                    send, 413, f"a cart request's body is at most {MAX_BODY_BYTES} bytes"
                )
                return
        try:
            orjson.loads(bytes(body).decode("utf-8"))  # UTF-8, JSON, depth: orjson's limits
        except (UnicodeDecodeError, orjson.JSONDecodeError):
            await _problem(send, 422, "the body is not a UTF-8 JSON object of the contract")
            return
        replayed = False

        async def replay() -> Any:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        await self.app(scope, replay, send)


async def _problem(send: Any, status: int, detail: str) -> None:
    payload = orjson.dumps({"detail": detail})
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


def send(target: EventWriter, body: dict[str, Any]) -> str:
    """Produce the event ``body`` once the flow's contract rules accept it (422 else)."""
    payload = orjson.dumps(body)
    try:
        validate(orjson.loads(payload), API_SOURCE, None, payload, -1)
    except ContractError as exc:
        raise HTTPException(422, f"not a valid event: {exc}") from None
    target.write(f"{body['warehouse_id']}:{body['sku']}".encode(), payload)
    return str(body["event_id"])


def add_cart(
    app: FastAPI,
    store: StockSource,
    *,
    writer: EventWriter | None,
    token: str | None,
    per_minute: int,
    hold_seconds: float,
    clock: Callable[[], float],
) -> None:
    """Add the cart endpoints (module doc) to ``app``; off without ``writer`` and ``token``."""
    limiter = RateLimiter(per_minute, clock)
    app.add_middleware(CartBodyGuard)
    refused: dict[int | str, dict[str, Any]] = {
        code: {"model": Problem} for code in (401, 403, 404, 409, 413, 429)
    }

    def admit(request: Request, authorization: str | None) -> EventWriter:
        if writer is None or not token:
            raise HTTPException(403, "cart writes are off (INVENTORY_API_WRITE_TOKEN)")
        scheme, _, given = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), token.encode()):
            raise HTTPException(401, "a valid bearer token is required")
        client = request.client.host if request.client else "unknown"
        wait = limiter.wait_seconds(client)
        if wait > 0:
            raise HTTPException(
                429, "too many cart requests", headers={"Retry-After": str(int(wait) + 1)}
            )
        return writer

    def knowing(sku: str) -> StockSnapshot:
        """The stock as loaded, if it knows ``sku`` (503 before it loads; 404 else)."""
        snapshot = store.snapshot
        if snapshot is None:
            raise HTTPException(503, "stock not loaded yet", headers={"Retry-After": "1"})
        if not snapshot.knows(sku):
            raise HTTPException(404, f"unknown sku: {sku}")
        return snapshot

    def event(kind: str, sku: str, warehouse_id: str, quantity: int) -> dict[str, Any]:
        return {
            "event_id": f"api-{uuid.uuid4().hex}",
            "event_type": kind,
            "sku": sku,
            "warehouse_id": warehouse_id,
            "quantity": quantity,
            "occurred_at": format_ms(int(clock() * 1000)),
        }

    @app.get("/v1/cart")
    def cart_settings() -> dict[str, Any]:
        """Whether cart writes are on, and how long a hold lasts."""
        return {"enabled": writer is not None and bool(token), "hold_seconds": hold_seconds}

    @app.post("/v1/holds", status_code=202, responses=refused)
    def hold(
        line: HoldRequest,
        request: Request,
        authorization: Annotated[str | None, Header()] = None,
    ) -> dict[str, Any]:
        """Hold units of a SKU for a cart (a ``reserve`` event)."""
        target = admit(request, authorization)
        rows = knowing(line.sku).stock.get(line.sku, ())
        if line.warehouse_id is not None:
            rows = tuple(w for w in rows if w.warehouse_id == line.warehouse_id)
        best = max(
            rows, key=lambda w: (available(w.on_hand, w.reserved), w.warehouse_id), default=None
        )
        units = available(best.on_hand, best.reserved) if best else 0
        if best is None or units < line.quantity:
            raise HTTPException(409, f"only {units} available")
        body = event("reserve", line.sku, best.warehouse_id, line.quantity)
        body["reservation_id"] = f"cart-{uuid.uuid4().hex[:20]}"
        body["expires_at"] = format_ms(int((clock() + hold_seconds) * 1000))
        event_id = send(target, body)
        return {
            "reservation_id": body["reservation_id"],
            "warehouse_id": best.warehouse_id,
            "expires_at": body["expires_at"],
            "event_id": event_id,
        }

    def settle(kind: str) -> Callable[..., dict[str, str]]:
        def endpoint(
            reservation_id: Annotated[str, PathParam(min_length=1, max_length=128)],
            line: CartLine,
            request: Request,
            authorization: Annotated[str | None, Header()] = None,
        ) -> dict[str, str]:
            target = admit(request, authorization)
            knowing(line.sku)
            body = event(kind, line.sku, line.warehouse_id, line.quantity)
            body["reservation_id"] = reservation_id
            return {"event_id": send(target, body)}

        return endpoint

    app.post(
        "/v1/holds/{reservation_id}/checkout",
        status_code=202,
        responses=refused,
        summary="Buy held units (a sale carrying the reservation id)",
    )(settle("sale"))
    app.post(
        "/v1/holds/{reservation_id}/release",
        status_code=202,
        responses=refused,
        summary="Give held units back (a release)",
    )(settle("release"))
