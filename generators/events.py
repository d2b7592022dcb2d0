"""Seeded, realistic inventory event stream.

A catalog of SKUs x warehouses with Zipf-skewed popularity; every key opens with a
stock ``count``, then sales dominate, returns trickle back, restocks arrive when the
generator's own view of stock runs low, with occasional adjustments and recounts.
Event time advances by ``1/rate`` per event from ``start_ms`` (deterministic; wall
clock is only used for pacing by the publisher). Optional shares of malformed,
duplicate and late (out-of-order) messages exercise the pipeline's defences.

With ``hold_share`` > 0 that share of purchases goes through a cart: a ``reserve`` (hold
until ``hold_seconds`` of event time later), then later a checkout ``sale`` carrying the
``reservation_id``, a ``release``, or nothing (the hold expires); with ``decided_holds``
the cart asks instead (contract v9: a ``hold_request``, then a ``hold_checkout`` or a
``hold_release``), and the flow decides. With
``self_restock=False`` the generator never restocks: a supplier (see
:mod:`generators.supplier`) answers the flow's reorder requests, and :meth:`receive`
tells the generator about each delivery. With a :class:`~generators.demand.DemandShape`
(``shape``) the events come faster at the daily and weekly peaks (event time advances by
``1 / (rate x season)`` per event) and promoted SKUs are picked ``promotion_factor`` times
as often. Defaults give the streams of contract v3.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import accumulate

import orjson

from generators.catalog import Catalog, Product
from generators.demand import HOUR_MS, DemandShape
from generators.malformed import malformed_message
from generators.message import Message
from inventory.core.times import format_ms

__all__ = ["EventGenerator", "GeneratorConfig", "Message"]


@dataclass
class GeneratorConfig:
    seed: int = 42
    skus: int = 100
    warehouses: int = 3
    start_ms: int = 1_795_000_000_000  # 2026-11-18T...; deterministic default
    rate: float = 1000.0  # events per second of event time
    malformed_share: float = 0.0
    duplicate_share: float = 0.0
    late_share: float = 0.0
    late_max_seconds: float = 120.0
    hold_share: float = 0.0  # share of purchases made through a cart hold
    hold_seconds: float = 600.0  # a cart hold's life in event time
    decided_holds: bool = False  # carts ask the flow (hold_request, ...) instead of facts
    self_restock: bool = True  # False: a supplier restocks (answering reorder requests)
    # None: the whole stream follows ``seed``, ids included (the same seed repeats the same
    # events). Otherwise the catalog follows ``seed`` and the events this seed, with ids of
    # their own: two runs with different stream seeds never share an event id.
    stream_seed: int | None = None
    shape: DemandShape | None = None  # seasonality and promotions (None: flat)


@dataclass
class Cart:
    index: int  # the key
    reservation_id: str
    quantity: int
    order_id: str


@dataclass
class EventGenerator:
    """Iterates :class:`Message` objects; the same config yields the same bytes."""

    config: GeneratorConfig
    catalog: Catalog = field(init=False)
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.config.seed)
        self.catalog = Catalog.build(self.config.skus, self.config.warehouses, self.rng)
        stream_seed = self.config.stream_seed
        if stream_seed is not None:
            self.rng = random.Random(stream_seed)
        # what makes this stream's ids its own: the seed, or the stream seed in hex
        self.tag = str(self.config.seed) if stream_seed is None else f"{stream_seed:x}"
        self._next = 0  # index of the next event: a later call continues the stream
        self._time_ms = float(self.config.start_ms)  # event time of the next (with a shape)
        self._weights_hour: tuple[int, list[float]] = (-1, self.catalog.weights)
        self._on_hand: dict[int, int] = {}
        self._recent: list[Message] = []
        self._carts: deque[Cart] = deque()
        self._deliveries: deque[tuple[str, str, int]] = deque()  # thread-safe inbox
        self._key_index = {
            (p.sku, w): n for n in range(self.catalog.size) for p, w in [self.catalog.key(n)]
        }

    def receive(self, warehouse_id: str, sku: str, quantity: int) -> None:
        """A supplier delivered ``quantity`` units (the generator's view of stock follows;
        callable from another thread)."""
        self._deliveries.append((warehouse_id, sku, quantity))

    def messages(self, count: int) -> Iterator[Message]:
        """The next ``count`` messages; calls continue one stream (ids, time, stock)."""
        cfg, rng, catalog = self.config, self.rng, self.catalog
        step_ms = 1000.0 / cfg.rate
        on_hand, recent = self._on_hand, self._recent
        keys = range(catalog.size)
        first = self._next
        shape = None if cfg.shape is None or cfg.shape.flat else cfg.shape
        for i in range(first, first + count):
            self._next = i + 1
            now_ms = self._tick(i, step_ms, shape)
            self._take_deliveries()
            if self._carts and rng.random() < 0.5:
                checkout = self._checkout(i, now_ms)
                if checkout is not None:
                    yield checkout
                    continue
            roll = rng.random()
            if roll < cfg.malformed_share:
                yield self._malformed(i, now_ms)
                continue
            roll -= cfg.malformed_share
            if recent and roll < cfg.duplicate_share:
                yield rng.choice(recent)
                continue
            if len(on_hand) < catalog.size and i % 2 == 0:
                index = len(on_hand)  # open every key with a stock count first
            else:
                weights = catalog.weights if shape is None else self._weights(shape, now_ms)
                index = rng.choices(keys, cum_weights=weights)[0]
            product, warehouse = catalog.key(index)
            kind, quantity = self._next_kind(index, product, on_hand)
            if kind == "sale" and cfg.hold_share and rng.random() < cfg.hold_share:
                on_hand[index] += quantity  # not sold yet: held in a cart
                yield self._reserve(i, now_ms, index, quantity)
                continue
            occurred = now_ms
            if rng.random() < cfg.late_share:
                occurred -= int(rng.uniform(1.0, cfg.late_max_seconds) * 1000)
            event: dict[str, object] = {
                "event_id": f"ev-{self.tag}-{i:09d}",
                "event_type": kind,
                "sku": product.sku,
                "warehouse_id": warehouse,
                "quantity": quantity,
                "occurred_at": format_ms(occurred),
            }
            if kind in ("sale", "return"):
                event["unit_price"] = product.unit_price
                event["order_id"] = f"O-{self.tag}-{i // 2:08d}"
            msg = Message(f"{warehouse}:{product.sku}".encode(), orjson.dumps(event))
            if len(recent) < 64:
                recent.append(msg)
            else:
                recent[i % 64] = msg
            yield msg

    def _take_deliveries(self) -> None:
        on_hand = self._on_hand
        while self._deliveries:
            wh, sku, qty = self._deliveries.popleft()
            where = self._key_index.get((sku, wh))
            if where is not None and where in on_hand:
                on_hand[where] += qty

    def _tick(self, i: int, step_ms: float, shape: DemandShape | None) -> int:
        """Event time of event ``i``; with a shape faster at the peaks (module doc)."""
        if shape is None:
            return self.config.start_ms + int(i * step_ms)
        now_ms = int(self._time_ms)
        self._time_ms += step_ms / shape.season(now_ms)
        return now_ms

    def _weights(self, shape: DemandShape, now_ms: int) -> list[float]:
        """Cumulative key weights with the promoted SKUs' multiplied (per hour)."""
        hour, weights = self._weights_hour
        if now_ms // HOUR_MS != hour:
            catalog = self.catalog
            promoted = shape.promoted(len(catalog.products), now_ms)
            weights = catalog.weights
            if promoted:
                per_sku = len(catalog.warehouses)
                flat = [b - a for a, b in zip([0.0, *weights[:-1]], weights, strict=True)]
                flat = [
                    w * (shape.promotion_factor if n // per_sku in promoted else 1.0)
                    for n, w in enumerate(flat)
                ]
                weights = list(accumulate(flat))
            self._weights_hour = (now_ms // HOUR_MS, weights)
        return weights

    def _event(
        self, i: int, kind: str, index: int, quantity: int, now_ms: int
    ) -> dict[str, object]:
        product, warehouse = self.catalog.key(index)
        return {
            "event_id": f"ev-{self.tag}-{i:09d}",
            "event_type": kind,
            "sku": product.sku,
            "warehouse_id": warehouse,
            "quantity": quantity,
            "occurred_at": format_ms(now_ms),
        }

    def _message(self, index: int, event: dict[str, object]) -> Message:
        product, warehouse = self.catalog.key(index)
        return Message(f"{warehouse}:{product.sku}".encode(), orjson.dumps(event))

    def _reserve(self, i: int, now_ms: int, index: int, quantity: int) -> Message:
        cart = Cart(index, f"cart-{self.tag}-{i:09d}", quantity, f"O-{self.tag}-c{i:09d}")
        self._carts.append(cart)
        kind = "hold_request" if self.config.decided_holds else "reserve"
        event = self._event(i, kind, index, quantity, now_ms)
        event["reservation_id"] = cart.reservation_id
        event["expires_at"] = format_ms(now_ms + int(self.config.hold_seconds * 1000))
        return self._message(index, event)

    def _checkout(self, i: int, now_ms: int) -> Message | None:
        """The oldest cart: bought (70 %), released (15 %) or abandoned (None: its hold
        expires, and this event is an ordinary one)."""
        cart = self._carts.popleft()
        roll = self.rng.random()
        decided = self.config.decided_holds
        if roll < 0.7:
            self._on_hand[cart.index] -= cart.quantity
            kind = "hold_checkout" if decided else "sale"
            event = self._event(i, kind, cart.index, cart.quantity, now_ms)
            event["unit_price"] = self.catalog.key(cart.index)[0].unit_price
            event["order_id"] = cart.order_id
        elif roll < 0.85:
            kind = "hold_release" if decided else "release"
            event = self._event(i, kind, cart.index, cart.quantity, now_ms)
        else:
            return None
        event["reservation_id"] = cart.reservation_id
        return self._message(cart.index, event)

    def _next_kind(self, index: int, product: Product, on_hand: dict[int, int]) -> tuple[str, int]:
        rng = self.rng
        if index not in on_hand:
            on_hand[index] = product.target_stock
            return "count", product.target_stock
        stock = on_hand[index]
        roll = rng.random()
        restock_due = stock <= product.low_stock_threshold and roll < 0.3
        if not self.config.self_restock and stock <= 0:
            on_hand[index] = 0  # nothing to sell until the supplier delivers: a recount
            return "count", 0
        if self.config.self_restock and restock_due:
            quantity = product.target_stock - stock
            kind, delta = "restock", quantity
        elif roll < 0.04:
            quantity = rng.choice((1, 1, 2))
            kind, delta = "return", quantity
        elif roll < 0.06:
            quantity = rng.choice((-3, -2, -1, 1, 2))
            kind, delta = "adjustment", quantity
        elif roll < 0.07:
            quantity = max(stock + rng.choice((-1, 0, 0, 1)), 0)
            on_hand[index] = quantity
            return "count", quantity
        else:
            quantity = 1 if rng.random() < 0.85 else rng.choice((2, 3))
            kind, delta = "sale", -quantity
        on_hand[index] = stock + delta
        return kind, quantity

    def _malformed(self, i: int, now_ms: int) -> Message:
        return malformed_message(self.rng, self.tag, i, now_ms)
