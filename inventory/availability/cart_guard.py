"""The cart endpoints' guards: a per-client rate limit and the body size and format
checks that run before a route parses a body."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import orjson


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
    """ASGI middleware for ``POST``/``PUT /v1/holds…``: a body over :data:`MAX_BODY_BYTES` is 413
    (read no further), one that is not UTF-8 JSON (or nests deeper than the parser
    allows) 422, before the route parses it; any other request passes untouched."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in ("POST", "PUT")
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
