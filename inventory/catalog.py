"""Product catalog: per-SKU stock policy (threshold, target) in the ``products`` table.

The dataflow reads the catalog once at start; SKUs missing from it use
``INVENTORY_LOW_STOCK_THRESHOLD`` and ``INVENTORY_DEFAULT_TARGET_STOCK``. A catalog
change therefore applies from the next start of the flow (alerts already raised stay).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from clickhouse_connect.driver.client import Client

from inventory.models import ProductPolicy
from inventory.settings import Settings


@dataclass(frozen=True)
class CatalogEntry:
    sku: str
    name: str
    unit_price: float | None
    low_stock_threshold: int
    target_stock: int


def write_catalog(client: Client, database: str, entries: Iterable[CatalogEntry]) -> int:
    """Upsert catalog rows (latest write wins); return how many were written."""
    now_ms = int(time.time() * 1000)
    rows = [
        (e.sku, e.name, e.unit_price, e.low_stock_threshold, e.target_stock, now_ms)
        for e in entries
    ]
    if rows:
        client.insert(
            "products",
            rows,
            column_names=[
                "sku",
                "name",
                "unit_price",
                "low_stock_threshold",
                "target_stock",
                "updated_at",
            ],
            database=database,
        )
    return len(rows)


def load_policies(client: Client, database: str) -> dict[str, ProductPolicy]:
    """Current policy of every SKU in the catalog."""
    result = client.query(
        "SELECT sku, low_stock_threshold, target_stock FROM {db:Identifier}.products FINAL",
        parameters={"db": database},
    )
    return {sku: ProductPolicy(int(t), int(target)) for sku, t, target in result.result_rows}


class PolicyBook:
    """Policy lookup with the documented defaults."""

    def __init__(self, settings: Settings, policies: Mapping[str, ProductPolicy]) -> None:
        self._policies = dict(policies)
        self._default = ProductPolicy(settings.low_stock_threshold, settings.default_target_stock)

    def for_sku(self, sku: str) -> ProductPolicy:
        return self._policies.get(sku, self._default)

    def __len__(self) -> int:
        return len(self._policies)

    @property
    def policies(self) -> dict[str, ProductPolicy]:
        """The catalog's own policies (without the defaults)."""
        return dict(self._policies)
