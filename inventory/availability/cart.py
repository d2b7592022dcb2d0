"""The cart endpoints: a shopper's hold, checkout and release, decided by the flow.

Each write is a request event (contract v9: ``hold_request``, ``hold_checkout``,
``hold_release``) on the events topic; the flow decides it per key and publishes the
decision, which the endpoint waits for (``INVENTORY_API_DECISION_WAIT_SECONDS``) and
answers with (docs/contracts.md, "Availability API"):

- ``POST /v1/holds`` ``{"sku", "quantity", "warehouse_id"?}``: hold units until
  ``INVENTORY_API_HOLD_SECONDS`` from now, in the named warehouse or, unnamed, in the
  warehouses with units available as last seen, most first, then (a backorder or
  preorder SKU, v10) those that may still promise beyond on-hand, until one grants; 201
  the hold (with ``backordered``, ``ships_at`` and a ``promise_message`` when it promises
  units beyond on-hand), 409 refused (with what is available in the last one asked).
- ``PUT /v1/holds/{reservation_id}`` ``{"quantity"}``: change an active hold's units
  (and extend it); 200 or 409 (the hold stays as it was).
- ``POST /v1/holds/{reservation_id}/checkout`` and ``…/release`` (body optional: ``sku``,
  ``warehouse_id``, ``quantity`` must match the hold if given, else 409): buy or give
  back the hold's units; 200, or 409 when the hold is closed, expired or not there.
- ``GET /v1/holds/{reservation_id}``: the latest decision on the hold.

Any decision not there within the wait: 202 ``{"status": "pending"}`` with a
``Location`` to ask again. An unknown SKU or reservation is 404 and nothing is produced.
Off unless ``INVENTORY_API_WRITE_TOKEN`` is set (403); ``Authorization: Bearer <token>``
(401); writes limited per client (:class:`~inventory.availability.cart_guard.RateLimiter`,
429); bodies over 16 KiB 413; bodies or ids outside the contract 422.
"""

from __future__ import annotations

import hmac
import time
import uuid
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import FastAPI, Header, HTTPException, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from inventory.availability.cart_guard import CartBodyGuard, RateLimiter
from inventory.availability.cart_messages import (
    CartLine,
    HoldChange,
    HoldRequest,
    ReservationId,
    answer,
    send,
)
from inventory.availability.cart_writer import EventWriter
from inventory.availability.decisions import Decision, DecisionBook
from inventory.availability.documents import Problem
from inventory.availability.promises import can_promise, with_promise_message
from inventory.availability.rules import available
from inventory.availability.store import StockSnapshot, StockSource
from inventory.core.times import format_ms
from inventory.runtime.metrics import API_DECISION_WAIT


class Cart:
    """What the cart routes share: the checks and the round trip to the flow's decision."""

    def __init__(
        self,
        store: StockSource,
        *,
        writer: EventWriter | None,
        token: str | None,
        limiter: RateLimiter,
        clock: Callable[[], float],
        decisions: DecisionBook | None,
        wait_seconds: float,
    ) -> None:
        self.store, self.writer, self.token, self.limiter = store, writer, token, limiter
        self.clock, self.decisions, self.wait_seconds = clock, decisions, wait_seconds

    def authorized(self, authorization: str | None) -> EventWriter:
        """The writer, for a request with the bearer token (403 when off, 401 else)."""
        if self.writer is None or not self.token:
            raise HTTPException(403, "cart writes are off (INVENTORY_API_WRITE_TOKEN)")
        scheme, _, given = (authorization or "").partition(" ")
        valid = hmac.compare_digest(given.encode(), self.token.encode())
        if scheme.lower() != "bearer" or not valid:
            raise HTTPException(401, "a valid bearer token is required")
        return self.writer

    def admit(self, request: Request, authorization: str | None) -> EventWriter:
        """:meth:`authorized`, then the client's rate limit (429)."""
        target = self.authorized(authorization)
        client = request.client.host if request.client else "unknown"
        wait = self.limiter.wait_seconds(client)
        if wait > 0:
            raise HTTPException(
                429, "too many cart requests", headers={"Retry-After": str(int(wait) + 1)}
            )
        return target

    def knowing(self, sku: str) -> StockSnapshot:
        """The stock as loaded, if it knows ``sku`` (503 before it loads; 404 else)."""
        snapshot = self.store.snapshot
        if snapshot is None:
            raise HTTPException(503, "stock not loaded yet", headers={"Retry-After": "1"})
        if not snapshot.knows(sku):
            raise HTTPException(404, f"unknown sku: {sku}")
        return snapshot

    def event(self, kind: str, sku: str, warehouse: str, quantity: int, rid: str) -> dict[str, Any]:
        return {
            "event_id": f"api-{uuid.uuid4().hex}",
            "event_type": kind,
            "sku": sku,
            "warehouse_id": warehouse,
            "quantity": quantity,
            "occurred_at": format_ms(int(self.clock() * 1000)),
            "reservation_id": rid,
        }

    async def decided(self, target: EventWriter, body: dict[str, Any], ok: int) -> JSONResponse:
        """Produce the request, wait for its decision and answer with it."""
        event_id = await run_in_threadpool(send, target, body)
        rid = body["reservation_id"]
        if self.decisions is None:
            return answer(None, event_id, rid, ok)
        started = time.perf_counter()
        decision = await self.decisions.wait(event_id, self.wait_seconds)
        outcome = "pending" if decision is None else str(decision["decision"])
        API_DECISION_WAIT.labels(outcome).observe(time.perf_counter() - started)
        return answer(self.promised(decision), event_id, rid, ok)

    def promised(self, decision: Decision | None) -> Decision | None:
        """``decision`` with its backorder or preorder line (:mod:`promises`)."""
        snapshot = self.store.snapshot
        if decision is None or snapshot is None:
            return decision
        return with_promise_message(decision, snapshot.promises.get(decision["sku"]))

    def warehouses_for(self, sku: str, named: str | None) -> list[str]:
        """Where to ask for a hold: the named warehouse, or those with units available as
        last seen, most first (the one holding the SKU if none has any); 404/409."""
        snapshot = self.knowing(sku)
        rows = snapshot.stock.get(sku, ())
        if named is not None:
            return [named]
        ranked = sorted(rows, key=lambda w: (-available(w.on_hand, w.reserved), w.warehouse_id))
        if not ranked:
            raise HTTPException(409, "no warehouse holds this SKU")
        with_units = [w.warehouse_id for w in ranked if available(w.on_hand, w.reserved) > 0]
        promise, now_ms = snapshot.promises.get(sku), int(self.clock() * 1000)
        promising = [  # then those that may promise beyond on-hand (backorder, preorder)
            w.warehouse_id
            for w in ranked
            if w.warehouse_id not in with_units and can_promise(promise, w, now_ms)
        ]
        return with_units + promising or [ranked[0].warehouse_id]

    async def first_granted(
        self, target: EventWriter, line: HoldRequest, warehouses: list[str], expires_at: str
    ) -> JSONResponse:
        """A ``hold_request`` in each warehouse in turn until one is not refused for
        stock; the last answer."""
        answered = None
        for warehouse in warehouses:
            rid = f"cart-{uuid.uuid4().hex[:20]}"
            body = self.event("hold_request", line.sku, warehouse, line.quantity, rid)
            body["expires_at"] = expires_at
            answered = await self.decided(target, body, 201)
            if answered.status_code != 409 or b'"insufficient"' not in answered.body:
                break
        assert answered is not None  # at least one warehouse
        return answered

    async def the_hold(self, rid: str) -> Decision:
        """The hold's latest decision (404 if none appears within the wait)."""
        if self.decisions is None:
            raise HTTPException(404, "hold decisions are not followed (no decisions topic)")
        held = await self.decisions.wait_hold(rid, self.wait_seconds)
        if held is None or (held["decision"] == "refused" and held["request"] == "hold_request"):
            raise HTTPException(404, f"unknown reservation: {rid}")
        return held


def add_cart(
    app: FastAPI,
    store: StockSource,
    *,
    writer: EventWriter | None,
    token: str | None,
    per_minute: int,
    hold_seconds: float,
    clock: Callable[[], float],
    decisions: DecisionBook | None = None,
    wait_seconds: float = 2.0,
) -> None:
    """Add the cart endpoints (module doc) to ``app``; off without ``writer`` and ``token``;
    without ``decisions`` every write answers 202 pending."""
    cart = Cart(
        store,
        writer=writer,
        token=token,
        limiter=RateLimiter(per_minute, clock),
        clock=clock,
        decisions=decisions,
        wait_seconds=wait_seconds,
    )
    app.add_middleware(CartBodyGuard)
    refused: dict[int | str, dict[str, Any]] = {
        code: {"model": Problem} for code in (202, 401, 403, 404, 409, 413, 429)
    }

    def expires() -> str:
        return format_ms(int((clock() + hold_seconds) * 1000))

    @app.get("/v1/cart")
    def cart_settings() -> dict[str, Any]:
        """Whether cart writes are on, how long a hold lasts, whether the flow decides."""
        enabled = writer is not None and bool(token)
        return {"enabled": enabled, "hold_seconds": hold_seconds, "decided": decisions is not None}

    @app.post("/v1/holds", status_code=201, responses=refused)
    async def hold(
        line: HoldRequest,
        request: Request,
        authorization: Annotated[str | None, Header()] = None,
    ) -> JSONResponse:
        """Ask the flow to hold units of a SKU for a cart (a ``hold_request``)."""
        target = cart.admit(request, authorization)
        warehouses = cart.warehouses_for(line.sku, line.warehouse_id)
        return await cart.first_granted(target, line, warehouses, expires())

    @app.put("/v1/holds/{reservation_id}", responses=refused)
    async def change(
        reservation_id: ReservationId,
        line: HoldChange,
        request: Request,
        authorization: Annotated[str | None, Header()] = None,
    ) -> JSONResponse:
        """Change an active hold's units (a ``hold_request`` under its reservation id)."""
        target = cart.admit(request, authorization)
        held = await cart.the_hold(reservation_id)
        sku, warehouse = held["sku"], held["warehouse_id"]
        body = cart.event("hold_request", sku, warehouse, line.quantity, reservation_id)
        body["expires_at"] = expires()
        return await cart.decided(target, body, 200)

    @app.get("/v1/holds/{reservation_id}", responses=refused)
    async def show(
        reservation_id: ReservationId, authorization: Annotated[str | None, Header()] = None
    ) -> JSONResponse:
        """The latest decision on a hold (not rate-limited: ask again after a 202)."""
        cart.authorized(authorization)
        held = decisions.hold(reservation_id) if decisions is not None else None
        if held is None:
            raise HTTPException(404, f"unknown reservation: {reservation_id}")
        return JSONResponse(cart.promised(held))

    def settle(kind: str) -> Callable[..., Any]:
        async def endpoint(
            reservation_id: ReservationId,
            request: Request,
            line: CartLine | None = None,
            authorization: Annotated[str | None, Header()] = None,
        ) -> JSONResponse:
            target = cart.admit(request, authorization)
            held = await cart.the_hold(reservation_id)
            given = line or CartLine()
            for name in ("sku", "warehouse_id", "quantity"):
                mine = getattr(given, name)
                if mine is not None and mine != held[name]:
                    raise HTTPException(409, f"the hold's {name} is {held[name]}, not {mine}")
            snapshot = cart.knowing(held["sku"])
            body = cart.event(kind, held["sku"], held["warehouse_id"], 0, reservation_id)
            price = snapshot.prices.get(held["sku"])
            if kind == "hold_checkout" and price is not None:
                body["unit_price"] = price
            return await cart.decided(target, body, 200)

        return endpoint

    app.post(
        "/v1/holds/{reservation_id}/checkout",
        responses=refused,
        summary="Buy the hold's units (a hold_checkout the flow decides)",
    )(settle("hold_checkout"))
    app.post(
        "/v1/holds/{reservation_id}/release",
        responses=refused,
        summary="Give the hold's units back (a hold_release the flow decides)",
    )(settle("hold_release"))
