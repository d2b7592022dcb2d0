"""What the cart endpoints (:mod:`inventory.availability.cart`) take and answer: the
request bodies (the event contract's types), producing a request event, and the HTTP
answer to the flow's decision."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import HTTPException
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from dataflows.decode import ContractError, validate
from inventory.availability.cart_writer import EventWriter
from inventory.availability.decisions import Decision
from inventory.availability.documents import Code
from inventory.core.records import Source

API_SOURCE = Source("api", 0, 0, -1)
ReservationId = Annotated[str, PathParam(min_length=1, max_length=128)]


class HoldRequest(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")  # the event contract's types

    sku: Code
    quantity: int = Field(1, ge=1, le=1000)
    warehouse_id: Code | None = None


class HoldChange(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    quantity: int = Field(ge=1, le=1000)


class CartLine(BaseModel):
    """A checkout or release: optional, and if given must name the hold's own line."""

    model_config = ConfigDict(strict=True, extra="forbid")

    sku: Code | None = None
    warehouse_id: Code | None = None
    quantity: int | None = Field(default=None, ge=0, le=1000)


def send(target: EventWriter, body: dict[str, Any]) -> str:
    """Produce the event ``body`` once the flow's contract rules accept it (422 else)."""
    payload = orjson.dumps(body)
    try:
        validate(orjson.loads(payload), API_SOURCE, None, payload, -1)
    except ContractError as exc:
        raise HTTPException(422, f"not a valid event: {exc}") from None
    target.write(f"{body['warehouse_id']}:{body['sku']}".encode(), payload)
    return str(body["event_id"])


def answer(decision: Decision | None, event_id: str, rid: str, ok: int) -> JSONResponse:
    """The HTTP answer to a request's decision: ``ok`` when granted, 409 refused, 202
    pending (no decision yet)."""
    if decision is None:
        body = {"status": "pending", "reservation_id": rid, "event_id": event_id}
        return JSONResponse(body, 202, headers={"Location": f"/v1/holds/{rid}"})
    if decision["decision"] == "refused":
        reason = decision["reason"]
        detail = {
            "insufficient": f"only {max(decision['available'], 0)} available",
            "closed": "the hold was already checked out or released",
            "expired": "the hold has expired",
            "unknown": "no such hold in this warehouse",
            "late": "the request came too late to be decided",
        }.get(reason, reason)
        return JSONResponse({"detail": detail, **decision}, 409)
    return JSONResponse(decision, ok)
