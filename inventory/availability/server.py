"""Running the availability API: in a background thread (beside a dataflow in the same
process, which embedded ClickHouse requires) or in the foreground (``inventory serve``)."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable

import uvicorn
from fastapi import FastAPI

from inventory.availability.api import CartOptions, create_app
from inventory.availability.cart_writer import TopicWriter
from inventory.availability.decisions import DecisionFollower
from inventory.availability.follower import StockFollower
from inventory.availability.store import (
    AvailabilityStore,
    ClickHouseStockReader,
    StockSnapshot,
)
from inventory.clickhouse.client import database_name
from inventory.core.settings import Settings
from inventory.kafka.local_broker import brokers_for
from inventory.kafka.topics import ensure_topics
from inventory.runtime.stopping import STOP, StopRequest

logger = logging.getLogger(__name__)


class CartParts:
    """The cart's clients: the events writer and the decisions follower (either None)."""

    def __init__(self, writer: TopicWriter | None, follower: DecisionFollower | None) -> None:
        self.writer = writer
        self.follower = follower

    def start(self) -> None:
        if self.follower is not None:
            self.follower.start()

    def wait_ready(self, settings: Settings) -> None:
        """Read the decisions topic to its end once (RuntimeError if it cannot)."""
        timeout = settings.kafka_connect_timeout_seconds + 60
        if self.follower is not None and not self.follower.wait_ready(timeout):
            raise RuntimeError(
                f"could not read the decisions topic {settings.hold_decisions_topic} to its "
                f"end within {timeout:g} s"
            )

    def stop(self) -> None:
        if self.follower is not None:
            self.follower.stop()
        if self.writer is not None:
            self.writer.close()


def build_service(
    settings: Settings,
) -> tuple[StockFollower | AvailabilityStore, FastAPI, CartParts]:
    """The stock source ``INVENTORY_AVAILABILITY_SOURCE`` names (the stock topic followed,
    or ClickHouse polled), the app over it and the cart's clients (not started). With
    ``INVENTORY_API_WRITE_TOKEN`` the cart endpoints produce to the events topic and, with
    ``INVENTORY_HOLD_DECISIONS_TOPIC``, answer with the flow's decisions."""
    store: StockFollower | AvailabilityStore
    brokers = None
    if settings.availability_source == "topic":
        brokers = brokers_for(settings)
        ensure_topics(settings, brokers)
        store = StockFollower(settings, brokers)
    else:
        store = AvailabilityStore(
            ClickHouseStockReader(settings),
            settings.availability_refresh_seconds,
            full_every=settings.availability_full_read_seconds,
        )
    token = settings.api_write_token.get_secret_value() if settings.api_write_token else None
    writer = follower = None
    if token:
        brokers = brokers or brokers_for(settings)
        ensure_topics(settings, brokers)
        writer = TopicWriter(settings, brokers)
        if settings.hold_decisions_topic:
            follower = DecisionFollower(settings, brokers)
    cart = CartOptions(
        writer,
        token,
        settings.api_write_rate_per_minute,
        settings.api_hold_seconds,
        follower.book if follower is not None else None,
        settings.api_decision_wait_seconds,
    )
    app = create_app(
        store,
        few_left=settings.availability_few_left,
        cors_origins=settings.cors_origins,
        cart=cart,
    )
    return store, app, CartParts(writer, follower)


def wait_first_read(store: StockFollower | AvailabilityStore, settings: Settings) -> None:
    """Read stock once before listening, so an unreachable source fails at start
    (``RuntimeError``) instead of answering 503 forever."""
    if isinstance(store, StockFollower):
        timeout = settings.kafka_connect_timeout_seconds + 60
        if not store.wait_ready(timeout):
            raise RuntimeError(
                f"could not read the stock topic {settings.stock_topic} to its end within "
                f"{timeout:g} s"
            )
        return
    try:
        store.refresh()
    except Exception as exc:
        database = database_name(settings)
        raise RuntimeError(
            f"cannot read stock from ClickHouse ({database}.stock_levels); "
            "is the schema applied (inventory schema apply)?"
        ) from exc


def _config(
    app: FastAPI, host: str, port: int, access_log: bool, forwarded_allow_ips: str
) -> uvicorn.Config:
    # access logs off by default: at hundreds of requests per second they cost more than
    # the answers; INVENTORY_API_ACCESS_LOG turns them on (uvicorn's "uvicorn.access", info)
    level = "info" if access_log else "warning"
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        access_log=access_log,
        log_level=level,
        timeout_graceful_shutdown=5,
        proxy_headers=True,  # the client's address from a trusted proxy's X-Forwarded-For
        forwarded_allow_ips=forwarded_allow_ips,
    )


class BackgroundServer:
    """uvicorn in a daemon thread. ``start()`` returns once it listens (``port`` 0 picks
    a free port, see :attr:`port`); ``stop()`` shuts it down. Raises ``RuntimeError`` if
    it cannot listen."""

    def __init__(
        self,
        app: FastAPI,
        host: str,
        port: int,
        *,
        access_log: bool = False,
        forwarded_allow_ips: str = "127.0.0.1",
    ) -> None:
        self._app = app
        self._server = uvicorn.Server(_config(app, host, port, access_log, forwarded_allow_ips))
        self._host = host
        self._thread = threading.Thread(target=self._run, name="availability-api", daemon=True)
        self.port = port

    def _run(self) -> None:
        try:
            asyncio.run(self._server.serve())
        except SystemExit:  # uvicorn's way of saying it could not start; start() reports it
            logger.debug("availability API server exited at start")

    def start(self, timeout: float = 15.0) -> BackgroundServer:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(
                    f"availability API could not listen on {self._host}:{self.port} "
                    "(in use? set INVENTORY_API_HOST / INVENTORY_API_PORT)"
                )
            time.sleep(0.02)
        sockets = self._server.servers[0].sockets
        self.port = int(sockets[0].getsockname()[1])
        return self

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self.port}"

    def stop(self) -> None:
        closing = getattr(self._app.state, "closing", None)
        if closing is not None:
            closing.set()  # event streams end, so the server need not wait for them
        self._server.should_exit = True
        self._thread.join(timeout=10)


class AvailabilityService:
    """Store refresher plus API server, started and stopped together."""

    def __init__(self, settings: Settings, *, port: int | None = None) -> None:
        self.store, app, self.cart = build_service(settings)
        port = settings.api_port if port is None else port
        self.server = BackgroundServer(
            app,
            settings.api_host,
            port,
            access_log=settings.api_access_log,
            forwarded_allow_ips=settings.api_forwarded_allow_ips,
        )

    def __enter__(self) -> AvailabilityService:
        self.store.start()
        self.cart.start()
        try:
            self.server.start()
        except BaseException:
            self.cart.stop()
            self.store.stop()
            raise
        logger.info("availability API and storefront on %s", self.server.url)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()
        self.cart.stop()
        self.store.stop()

    def first_snapshot(self, settings: Settings) -> StockSnapshot:
        """The stock once it has been read (see :func:`wait_first_read`)."""
        wait_first_read(self.store, settings)
        snapshot = self.store.snapshot
        assert snapshot is not None  # read above
        return snapshot


def serve_forever(
    settings: Settings,
    on_ready: Callable[[str], None] | None = None,
    stop: StopRequest = STOP,
) -> None:
    """Serve in the foreground until a stop is asked (SIGTERM/SIGINT, see
    :mod:`inventory.runtime.stopping`); then shut down.

    Reads stock once before listening (:func:`wait_first_read`). ``on_ready`` gets the
    URL once it listens.
    """
    store, app, cart = build_service(settings)
    if isinstance(store, AvailabilityStore):
        wait_first_read(store, settings)
    store.start()
    cart.start()
    try:
        if isinstance(store, StockFollower):
            wait_first_read(store, settings)
        cart.wait_ready(settings)
        server = BackgroundServer(
            app,
            settings.api_host,
            settings.api_port,
            access_log=settings.api_access_log,
            forwarded_allow_ips=settings.api_forwarded_allow_ips,
        ).start()
        try:
            if on_ready is not None:
                on_ready(server.url)
            while not stop.wait(0.5):
                pass
        finally:
            server.stop()
    finally:
        cart.stop()
        store.stop()
