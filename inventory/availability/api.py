"""The availability HTTP API (FastAPI) and the storefront page it serves.

- ``GET /v1/availability/{sku}[?warehouse=W]``: one SKU; 404 if the SKU is neither in
  stock nor in the catalog.
- ``GET /v1/availability?sku=A&sku=B[&warehouse=W]``: up to 100 SKUs; unknown ones are
  listed in ``not_found``.
- ``GET /v1/products?limit=N[&pick=first|showcase]``: SKUs with names, for a product
  grid: the first N in SKU order, or a showcase of every status (``rules.showcase``).
- ``GET /healthz``; ``GET /`` the storefront; ``GET /openapi.json`` the schema;
  ``GET /metrics`` Prometheus metrics (:mod:`inventory.availability.observability`).

Malformed requests get 422 with FastAPI's validation body; before the first stock read
503 with ``Retry-After``; any other failure 500 ``{"detail": "internal error"}`` (the
cause is logged, never sent). Answers come from :class:`AvailabilityStore`'s snapshot.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

import orjson
from fastapi import FastAPI, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field, StringConstraints
from swagger_ui_bundle import swagger_ui_path

from inventory.availability.observability import instrument
from inventory.availability.rules import (
    Status,
    available,
    display_message,
    expected_back_ms,
    restock_message,
    showcase,
    status_for,
)
from inventory.availability.store import AvailabilityStore, StockSnapshot
from inventory.core.contract import CODE_RE
from inventory.core.times import format_ms

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).with_name("static")
MAX_BATCH = 100
CACHE_CONTROL = "public, max-age=1"
CODE_PATTERN = "^" + CODE_RE.pattern + "$"
Code = Annotated[str, StringConstraints(pattern=CODE_PATTERN)]


class WarehouseAvailability(BaseModel):
    warehouse_id: str
    on_hand: int = Field(description="Stock the pipeline counts; negative when oversold.")
    reserved: int = Field(0, description="Units held by active cart and checkout holds.")
    available: int = Field(description="max(on_hand - reserved, 0)")
    on_order: int = Field(0, description="Units of this warehouse's open purchase orders.")
    next_expected_at: str | None = Field(
        None, description="Earliest expected delivery of those orders (RFC 3339, UTC, ms)."
    )
    updated_at: str = Field(
        description="occurred_at of the newest event applied (RFC 3339, UTC, ms)."
    )


class Availability(BaseModel):
    sku: str
    name: str | None = Field(description="Catalog name, if the SKU is in the catalog.")
    available: int = Field(description="Sum of available units over the warehouses asked for.")
    status: Status
    message: str = Field(examples=["In stock", "Only 2 left in stock", "Out of stock"])
    incoming: int = Field(0, description="Units on open purchase orders of these warehouses.")
    expected_back_at: str | None = Field(
        None,
        description="For a low or out-of-stock SKU with units incoming: the earliest "
        "expected delivery (RFC 3339, UTC); otherwise null.",
    )
    restock_message: str | None = Field(
        None,
        examples=["Back in stock by Tue 8 Dec", "More arriving Wed 9 Dec", "Back in stock soon"],
        description="The storefront's restock line for a low or out-of-stock SKU with "
        "units incoming (soon: the delivery is late); otherwise null.",
    )
    warehouses: list[WarehouseAvailability]
    updated_at: str | None = Field(description="Newest stock change of these warehouses.")
    as_of: str = Field(description="When this service last read stock from ClickHouse.")
    age_seconds: float = Field(description="Seconds since as_of: how stale the answer may be.")


class AvailabilityList(BaseModel):
    items: list[Availability]
    not_found: list[str]


class Product(BaseModel):
    sku: str
    name: str | None


class ProductList(BaseModel):
    items: list[Product]


class Problem(BaseModel):
    detail: str


class Health(BaseModel):
    status: str
    as_of: str
    skus: int


class OrjsonResponse(Response):
    """A JSON body already built from plain values (no per-request model validation),
    cacheable for a second."""

    media_type = "application/json"

    def __init__(self, content: Any) -> None:
        super().__init__(content, headers={"Cache-Control": CACHE_CONTROL})

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def availability_of(
    snapshot: StockSnapshot, sku: str, warehouse: str | None, few_left: int, now_ms: int
) -> dict[str, Any]:
    """One known SKU as an :class:`Availability` document (display rules in ``rules``)."""
    rows = [
        w for w in snapshot.stock.get(sku, ()) if warehouse is None or w.warehouse_id == warehouse
    ]
    total = sum(available(w.on_hand, w.reserved) for w in rows)
    status = status_for(total, few_left)
    incoming = sum(w.on_order for w in rows)
    dates = [w.next_expected_ms for w in rows if w.on_order > 0 and w.next_expected_ms >= 0]
    next_expected = min(dates, default=-1)
    back = expected_back_ms(status, incoming, next_expected)
    return {
        "sku": sku,
        "name": snapshot.names.get(sku),
        "available": total,
        "status": status,
        "message": display_message(total, few_left),
        "incoming": incoming,
        "expected_back_at": None if back is None else format_ms(back),
        "restock_message": restock_message(status, incoming, next_expected, now_ms),
        "warehouses": [
            {
                "warehouse_id": w.warehouse_id,
                "on_hand": w.on_hand,
                "reserved": w.reserved,
                "available": available(w.on_hand, w.reserved),
                "on_order": w.on_order,
                "next_expected_at": (
                    format_ms(w.next_expected_ms) if w.next_expected_ms >= 0 else None
                ),
                "updated_at": format_ms(w.updated_ms),
            }
            for w in rows
        ],
        "updated_at": format_ms(max(w.updated_ms for w in rows)) if rows else None,
        "as_of": format_ms(snapshot.read_ms),
        "age_seconds": max(now_ms - snapshot.read_ms, 0) / 1000,
    }


NOT_LOADED: dict[int | str, dict[str, Any]] = {
    503: {"model": Problem, "description": "Stock not read from ClickHouse yet."}
}


DOCS_ASSETS = "/docs-assets"


def serve_docs(app: FastAPI) -> None:
    """``/docs``: Swagger UI from the ``swagger-ui-bundle`` package, so it works offline
    (FastAPI's "self-hosting JavaScript and CSS for docs")."""
    app.mount(DOCS_ASSETS, StaticFiles(directory=swagger_ui_path), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} - API",
            swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS}/favicon-32x32.png",
        )


def create_app(
    store: AvailabilityStore,
    *,
    few_left: int,
    cors_origins: Sequence[str] = (),
    clock: Callable[[], float] = time.time,
) -> FastAPI:
    """The API over ``store``'s snapshots; ``clock`` (epoch seconds) is injected for tests.

    ``cors_origins``: pages of these origins may call the API from the browser (GET).
    Availability answers carry ``Cache-Control: public, max-age=1``: a CDN or browser
    may reuse one for a second, about as long as the data takes to refresh anyway.
    """
    now = clock
    app = FastAPI(
        title="Inventory availability",
        version="1",
        description="Live per-SKU availability for storefronts, from the inventory pipeline.",
        docs_url=None,  # served below from the package: the default loads it from a CDN
        redoc_url=None,
    )
    serve_docs(app)
    if cors_origins:
        app.add_middleware(
            CORSMiddleware, allow_origins=list(cors_origins), allow_methods=["GET"], max_age=600
        )

    def current() -> StockSnapshot:
        snapshot = store.snapshot
        if snapshot is None:
            raise HTTPException(
                503, "stock not loaded yet, retry shortly", headers={"Retry-After": "1"}
            )
        return snapshot

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("availability request %s failed", request.url.path)
        return JSONResponse({"detail": "internal error"}, status_code=500)

    # The two availability routes answer with OrjsonResponse: the models document them
    # (response_model) but are not built per request, which would cost more than the answer.
    @app.get(
        "/v1/availability/{sku}",
        response_model=Availability,
        responses={404: {"model": Problem, "description": "Unknown SKU."}, **NOT_LOADED},
    )
    def get_availability(
        sku: Annotated[str, PathParam(pattern=CODE_PATTERN)],
        warehouse: Annotated[str | None, Query(pattern=CODE_PATTERN)] = None,
    ) -> Response:
        snapshot = current()
        if not snapshot.knows(sku):
            raise HTTPException(404, f"unknown sku: {sku}")
        return OrjsonResponse(
            availability_of(snapshot, sku, warehouse, few_left, int(now() * 1000))
        )

    @app.get("/v1/availability", response_model=AvailabilityList, responses=NOT_LOADED)
    def list_availability(
        sku: Annotated[list[Code], Query(min_length=1, max_length=MAX_BATCH)],
        warehouse: Annotated[str | None, Query(pattern=CODE_PATTERN)] = None,
    ) -> Response:
        snapshot = current()
        now_ms = int(now() * 1000)
        wanted = list(dict.fromkeys(sku))  # in request order, each once
        return OrjsonResponse(
            {
                "items": [
                    availability_of(snapshot, s, warehouse, few_left, now_ms)
                    for s in wanted
                    if snapshot.knows(s)
                ],
                "not_found": [s for s in wanted if not snapshot.knows(s)],
            }
        )

    @app.get("/v1/products", responses=NOT_LOADED)
    def list_products(
        limit: Annotated[int, Query(ge=1, le=500)] = 24,
        pick: Literal["first", "showcase"] = "first",
    ) -> ProductList:
        snapshot = current()
        if pick == "first":
            skus = snapshot.skus()[:limit]
        else:
            totals = {
                sku: sum(available(w.on_hand, w.reserved) for w in snapshot.stock.get(sku, ()))
                for sku in snapshot.skus()
            }
            skus = showcase(totals, limit, few_left)
        return ProductList(items=[Product(sku=s, name=snapshot.names.get(s)) for s in skus])

    @app.get("/healthz", responses=NOT_LOADED)
    def health() -> Health:
        snapshot = current()
        return Health(status="ok", as_of=format_ms(snapshot.read_ms), skus=len(snapshot.skus()))

    @app.get("/", include_in_schema=False)
    def storefront() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html")

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    instrument(app, store, now)
    return app
