"""The availability HTTP API (FastAPI) and the storefront page it serves.

- ``GET /v1/availability/{sku}[?warehouse=W]``: one SKU; 404 if the SKU is neither in
  stock nor in the catalog.
- ``GET /v1/availability?sku=A&sku=B[&warehouse=W]``: up to 100 SKUs; unknown ones are
  listed in ``not_found``.
- ``GET /v1/products?limit=N[&pick=first|showcase][&sku=S...]``: SKUs with names and
  prices, for a product grid: the first N in SKU order, a showcase of every status,
  scarce and incoming first (``rules.showcase``), or the ``sku`` given (known ones).
- ``GET /v1/stream?sku=…``: the same documents pushed as Server-Sent Events
  (:mod:`inventory.availability.stream`); ``/v1/cart``, ``/v1/holds…``: a shopper's
  holds, checkouts and releases, decided by the flow (:mod:`inventory.availability.cart`).
- ``GET /healthz``; ``GET /`` the storefront; ``GET /openapi.json`` the schema;
  ``GET /metrics`` Prometheus metrics (:mod:`inventory.availability.observability`).

Malformed requests get 422 with FastAPI's validation body; before the first stock read
503 with ``Retry-After``; any other failure 500 ``{"detail": "internal error"}`` (the
cause is logged, never sent). Answers come from the snapshot of a
:class:`~inventory.availability.store.StockSource`: the stock topic followed
(:mod:`inventory.availability.follower`) or ClickHouse polled.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import orjson
from fastapi import FastAPI, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

from inventory.availability.cart import add_cart
from inventory.availability.cart_writer import EventWriter
from inventory.availability.decisions import DecisionBook
from inventory.availability.documents import (
    CODE_PATTERN,
    Availability,
    AvailabilityList,
    Code,
    Health,
    Problem,
    Product,
    ProductList,
    availability_of,
)
from inventory.availability.observability import instrument
from inventory.availability.rules import showcase
from inventory.availability.store import StockSnapshot, StockSource
from inventory.availability.stream import add_stream
from inventory.core.times import format_ms

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).with_name("static")
MAX_BATCH = 100
CACHE_CONTROL = "public, max-age=1"


class OrjsonResponse(Response):
    """A JSON body already built from plain values (no per-request model validation),
    cacheable for a second."""

    media_type = "application/json"

    def __init__(self, content: Any) -> None:
        super().__init__(content, headers={"Cache-Control": CACHE_CONTROL})

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


NOT_LOADED: dict[int | str, dict[str, Any]] = {
    503: {"model": Problem, "description": "Stock not read from ClickHouse yet."}
}


DOCS_ASSETS = "/docs-assets"


ECHO_CHARS = 64  # of a refused input, in a 422 answer


def short(error: Any) -> dict[str, Any]:
    """A validation error as JSON, its ``input`` cut to :data:`ECHO_CHARS` characters."""
    out = {k: v for k, v in dict(error).items() if k not in ("input", "ctx", "url")}
    if "input" in error:
        text = orjson.dumps(error["input"], default=str).decode()
        out["input"] = text if len(text) <= ECHO_CHARS else text[:ECHO_CHARS] + "…"
    return out


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


@dataclass(frozen=True)
class CartOptions:
    """The cart endpoints' configuration (:mod:`inventory.availability.cart`)."""

    writer: EventWriter | None = None  # None: writes off
    token: str | None = None  # None: writes off
    per_minute: int = 60
    hold_seconds: float = 900.0
    decisions: DecisionBook | None = None  # None: writes answer 202 pending
    wait_seconds: float = 2.0


def create_app(
    store: StockSource,
    *,
    few_left: int,
    cors_origins: Sequence[str] = (),
    clock: Callable[[], float] = time.time,
    cart: CartOptions = CartOptions(),
) -> FastAPI:
    """The API over ``store``'s snapshots; ``clock`` (epoch seconds) is injected for tests.

    ``cors_origins``: pages of these origins may call the API from the browser (GET).
    Availability answers carry ``Cache-Control: public, max-age=1``: a CDN or browser
    may reuse one for a second, about as long as the data takes to refresh anyway.
    ``app.state.closing`` (a ``threading.Event``) ends the event streams: set it before
    shutting the server down.
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
            CORSMiddleware,
            allow_origins=list(cors_origins),
            allow_methods=["GET", "POST", "PUT"],
            allow_headers=["Authorization", "Content-Type"],
            max_age=600,
        )
    app.state.closing = threading.Event()
    add_stream(app, store, few_left=few_left, clock=clock, closing=app.state.closing)
    add_cart(
        app,
        store,
        writer=cart.writer,
        token=cart.token,
        per_minute=cart.per_minute,
        hold_seconds=cart.hold_seconds,
        clock=clock,
        decisions=cart.decisions,
        wait_seconds=cart.wait_seconds,
    )

    def current() -> StockSnapshot:
        snapshot = store.snapshot
        if snapshot is None:
            raise HTTPException(
                503, "stock not loaded yet, retry shortly", headers={"Retry-After": "1"}
            )
        return snapshot

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        """422 with what was wrong, never more than :data:`ECHO_CHARS` of the input back."""
        return JSONResponse({"detail": [short(e) for e in exc.errors()]}, status_code=422)

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
        sku: Annotated[list[str] | None, Query(max_length=100)] = None,
    ) -> ProductList:
        snapshot = current()
        if sku:  # these SKUs (the storefront's ?skus=), in the order asked, known ones only
            skus = [s for s in dict.fromkeys(sku) if snapshot.knows(s)][:limit]
        elif pick == "first":
            skus = snapshot.skus()[:limit]
        else:
            totals, expected = snapshot.showcase_inputs()
            skus = showcase(totals, limit, few_left, expected)
        return ProductList(
            items=[
                Product(sku=s, name=snapshot.names.get(s), unit_price=snapshot.prices.get(s))
                for s in skus
            ]
        )

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
