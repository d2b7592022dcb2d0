"""The generator's product catalog: SKUs with prices, thresholds and lead times, spread
over warehouses with Zipf-skewed popularity (the ``products`` rows it writes)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from itertools import accumulate

from inventory.clickhouse.catalog import CatalogEntry


@dataclass(frozen=True)
class Product:
    sku: str
    unit_price: float
    low_stock_threshold: int
    target_stock: int
    lead_time_hours: float = 72.0


LEAD_TIMES_HOURS = (24.0, 48.0, 72.0, 96.0)  # by SKU number: no draw, streams unchanged
SUPPLIERS = ("Acme Supply", "Borealis Goods", "Cobalt Trading")  # by SKU number too


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
            lead = LEAD_TIMES_HOURS[i % len(LEAD_TIMES_HOURS)]
            products.append(Product(f"SKU-{i + 1:05d}", price, threshold, threshold * 5, lead))
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

    def entries(
        self, demand_share: float = 0.0, backorder_share: float = 0.0, forecast_share: float = 0.0
    ) -> list[CatalogEntry]:
        """The catalog as ``products`` rows (thresholds the dataflow alerts on).

        :arg demand_share: this share of the SKUs, spread evenly over the SKU numbers,
            has the ``demand`` replenishment policy (the rest ``static``).
        :arg backorder_share: this share, spread evenly from the SKU numbers' other end,
            has the ``backorder`` oversell policy (the rest ``deny``).
        :arg forecast_share: of the SKUs not on ``demand``, this share of all, spread
            evenly from the SKU numbers' other end, has the ``forecast`` policy (v12).
        """
        last = len(self.products) - 1
        return [
            CatalogEntry(
                p.sku,
                f"Product {p.sku[4:]}",
                p.unit_price,
                p.low_stock_threshold,
                p.target_stock,
                p.lead_time_hours,
                replenishment_policy=_replenishment(i, last, demand_share, forecast_share),
                supplier=SUPPLIERS[i % len(SUPPLIERS)],
                oversell_policy=("backorder" if _picked(last - i, backorder_share) else "deny"),
            )
            for i, p in enumerate(self.products)
        ]


def _replenishment(index: int, last: int, demand_share: float, forecast_share: float) -> str:
    if _picked(index, demand_share):
        return "demand"
    return "forecast" if _picked(last - index, forecast_share) else "static"


def _picked(index: int, share: float) -> bool:
    """Whether the ``index``-th of a list is in ``share`` of it, spread evenly."""
    return int((index + 1) * share) > int(index * share)
