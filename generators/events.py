"""Seeded, realistic inventory event stream.

A catalog of SKUs x warehouses with Zipf-skewed popularity; every key opens with a
stock ``count``, then sales dominate, returns trickle back, restocks arrive when the
generator's own view of stock runs low, with occasional adjustments and recounts.
Event time advances by ``1/rate`` per event from ``start_ms`` (deterministic; wall
clock is only used for pacing by the publisher). Optional shares of malformed,
duplicate and late (out-of-order) messages exercise the pipeline's defences.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import accumulate

import orjson

from inventory.catalog import CatalogEntry
from inventory.models import format_ms


@dataclass(frozen=True)
class Product:
    sku: str
    unit_price: float
    low_stock_threshold: int
    target_stock: int


@dataclass(frozen=True)
class Catalog:
    products: list[Product]
    warehouses: list[str]
    weights: list[float]  # cumulative popularity over (product, warehouse) keys

    @classmethod
    def build(cls, skus: int, warehouses: int, rng: random.Random) -> Catalog:
        products = []
        for i in range(skus):
            price = round(min(max(rng.lognormvariate(3.2, 0.9), 0.99), 2000.0), 2)
            threshold = rng.choice((5, 10, 10, 15, 20))
            products.append(Product(f"SKU-{i + 1:05d}", price, threshold, threshold * 5))
        whs = [f"WH-{j + 1:02d}" for j in range(warehouses)]
        rank_weight = [1.0 / (rank + 1) ** 1.05 for rank in range(skus)]
        rng.shuffle(rank_weight)
        wh_weight = [1.0 / (j + 1) ** 0.5 for j in range(warehouses)]
        flat = [p * w for p in rank_weight for w in wh_weight]
        return cls(products, whs, list(accumulate(flat)))

    def key(self, index: int) -> tuple[Product, str]:
        product = self.products[index // len(self.warehouses)]
        return product, self.warehouses[index % len(self.warehouses)]

    @property
    def size(self) -> int:
        return len(self.products) * len(self.warehouses)

    def entries(self) -> list[CatalogEntry]:
        """The catalog as ``products`` rows (thresholds the dataflow alerts on)."""
        return [
            CatalogEntry(
                p.sku, f"Product {p.sku[4:]}", p.unit_price, p.low_stock_threshold, p.target_stock
            )
            for p in self.products
        ]


@dataclass(frozen=True)
class Message:
    key: bytes | None
    value: bytes


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


MALFORMED_KINDS = (
    "bad-json",
    "not-object",
    "missing-field",
    "bad-type",
    "bad-quantity",
    "bad-sku",
    "naive-time",
    "unknown-type",
    "nan-price",
    "ancient-time",
)


@dataclass
class EventGenerator:
    """Iterates :class:`Message` objects; the same config yields the same bytes."""

    config: GeneratorConfig
    catalog: Catalog = field(init=False)
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.config.seed)
        self.catalog = Catalog.build(self.config.skus, self.config.warehouses, self.rng)
        self._next = 0  # index of the next event: a later call continues the stream
        self._on_hand: dict[int, int] = {}
        self._recent: list[Message] = []

    def messages(self, count: int) -> Iterator[Message]:
        """The next ``count`` messages; calls continue one stream (ids, time, stock)."""
        cfg, rng, catalog = self.config, self.rng, self.catalog
        step_ms = 1000.0 / cfg.rate
        on_hand, recent = self._on_hand, self._recent
        keys = range(catalog.size)
        first = self._next
        for i in range(first, first + count):
            self._next = i + 1
            now_ms = cfg.start_ms + int(i * step_ms)
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
                index = rng.choices(keys, cum_weights=catalog.weights)[0]
            product, warehouse = catalog.key(index)
            kind, quantity = self._next_kind(index, product, on_hand)
            occurred = now_ms
            if rng.random() < cfg.late_share:
                occurred -= int(rng.uniform(1.0, cfg.late_max_seconds) * 1000)
            event: dict[str, object] = {
                "event_id": f"ev-{cfg.seed}-{i:09d}",
                "event_type": kind,
                "sku": product.sku,
                "warehouse_id": warehouse,
                "quantity": quantity,
                "occurred_at": format_ms(occurred),
            }
            if kind in ("sale", "return"):
                event["unit_price"] = product.unit_price
                event["order_id"] = f"O-{cfg.seed}-{i // 2:08d}"
            msg = Message(f"{warehouse}:{product.sku}".encode(), orjson.dumps(event))
            if len(recent) < 64:
                recent.append(msg)
            else:
                recent[i % 64] = msg
            yield msg

    def _next_kind(self, index: int, product: Product, on_hand: dict[int, int]) -> tuple[str, int]:
        rng = self.rng
        if index not in on_hand:
            on_hand[index] = product.target_stock
            return "count", product.target_stock
        stock = on_hand[index]
        roll = rng.random()
        if stock <= product.low_stock_threshold and roll < 0.3:
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
        kind = self.rng.choice(MALFORMED_KINDS)
        good: dict[str, object] = {
            "event_id": f"bad-{self.config.seed}-{i:09d}",
            "event_type": "sale",
            "sku": "SKU-00001",
            "warehouse_id": "WH-01",
            "quantity": 1,
            "occurred_at": format_ms(now_ms),
        }
        if kind == "bad-json":
            return Message(None, b'{"event_id": "broken", "quantity": ')
        if kind == "not-object":
            return Message(None, b'["sale", 1]')
        if kind == "missing-field":
            del good["sku"]
        elif kind == "bad-type":
            good["quantity"] = "5"
        elif kind == "bad-quantity":
            good["quantity"] = -2
        elif kind == "bad-sku":
            good["sku"] = "SKU 1; DROP TABLE"
        elif kind == "naive-time":
            good["occurred_at"] = "2026-11-24 09:15:02"
        elif kind == "unknown-type":
            good["event_type"] = "teleport"
        elif kind == "nan-price":
            return Message(b"WH-01:SKU-00001", orjson.dumps(good)[:-1] + b',"unit_price":NaN}')
        elif kind == "ancient-time":
            good["occurred_at"] = "1970-01-01T00:00:00Z"
        return Message(b"WH-01:SKU-00001", orjson.dumps(good))
