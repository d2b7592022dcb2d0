"""Product catalog: per-SKU replenishment policy (reorder point, order-up-to level,
supplier lead time, case pack, minimum and maximum order) in the ``products`` table.

The dataflow reads the catalog once at start; SKUs missing from it use
``INVENTORY_LOW_STOCK_THRESHOLD``, ``INVENTORY_DEFAULT_TARGET_STOCK`` and
``INVENTORY_DEFAULT_LEAD_TIME_HOURS`` (as does a lead time of 0), a case pack of 1, no
minimum and a maximum of 10 x the target (docs/semantics.md, "Replenishment"). A catalog
change therefore applies from the next start of the flow (alerts already raised stay).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from clickhouse_connect.driver.client import Client

from inventory.core.records import OVERSELL_POLICIES, ProductPolicy
from inventory.core.settings import Settings


@dataclass(frozen=True)
class CatalogEntry:
    sku: str
    name: str
    unit_price: float | None
    low_stock_threshold: int
    target_stock: int
    lead_time_hours: float = 0.0  # 0: INVENTORY_DEFAULT_LEAD_TIME_HOURS
    case_pack: int = 1
    min_order_quantity: int = 0  # 0: none
    max_order_quantity: int = 0  # 0: 10 x target_stock
    replenishment_policy: str = "static"  # or "demand" (v6)
    service_level: float = 0.0  # 0: INVENTORY_DEFAULT_SERVICE_LEVEL
    review_period_days: float = 0.0  # 0: INVENTORY_DEFAULT_REVIEW_PERIOD_DAYS
    order_cost: float = 0.0
    holding_cost: float = 0.0  # per unit and year
    supplier: str = ""
    oversell_policy: str = "deny"  # v10: or backorder, preorder
    oversell_limit: int = 0  # v10: units promised beyond on-hand; 0: no cap
    release_at: datetime | None = None  # v10: a preorder SKU's release


HOUR_MS = 3_600_000
logger = logging.getLogger(__name__)


def write_catalog(client: Client, database: str, entries: Iterable[CatalogEntry]) -> int:
    """Upsert catalog rows (latest write wins); return how many were written."""
    now_ms = int(time.time() * 1000)
    rows = [
        (
            e.sku,
            e.name,
            e.unit_price,
            e.low_stock_threshold,
            e.target_stock,
            e.lead_time_hours,
            e.case_pack,
            e.min_order_quantity,
            e.max_order_quantity,
            e.replenishment_policy,
            e.service_level,
            e.review_period_days,
            e.order_cost,
            e.holding_cost,
            e.supplier,
            e.oversell_policy,
            e.oversell_limit,
            e.release_at,
            now_ms,
        )
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
                "lead_time_hours",
                "case_pack",
                "min_order_quantity",
                "max_order_quantity",
                "replenishment_policy",
                "service_level",
                "review_period_days",
                "order_cost",
                "holding_cost",
                "supplier",
                "oversell_policy",
                "oversell_limit",
                "release_at",
                "updated_at",
            ],
            database=database,
        )
    return len(rows)


def load_policies(
    client: Client, database: str, default_lead_time_hours: float = 72.0
) -> dict[str, ProductPolicy]:
    """Current policy of every SKU in the catalog (a lead time of 0: the default)."""
    result = client.query(
        "SELECT sku, low_stock_threshold, target_stock, lead_time_hours, case_pack, "
        "min_order_quantity, max_order_quantity, replenishment_policy, service_level, "
        "review_period_days, order_cost, holding_cost, oversell_policy, oversell_limit, "
        "ifNull(toUnixTimestamp64Milli(release_at), -1) FROM {db:Identifier}.products FINAL",
        parameters={"db": database},
    )
    return {
        row[0]: ProductPolicy(
            int(row[1]),
            int(row[2]),
            lead_time_ms(row[3] or default_lead_time_hours),
            int(row[4]) or 1,
            int(row[5]),
            int(row[6]),
            str(row[7]),
            float(row[8]),
            float(row[9]),
            float(row[10]),
            float(row[11]),
            *oversell_of(str(row[12]), int(row[13]), int(row[14])),
        )
        for row in result.result_rows
    }


def oversell_of(policy: str, limit: int, release_ms: int) -> tuple[str, int, int]:
    """A catalog row's oversell policy as the flow applies it: an unknown policy, or a
    ``preorder`` without ``release_at``, is ``deny`` (logged)."""
    if policy not in OVERSELL_POLICIES or (policy == "preorder" and release_ms < 0):
        logger.warning("catalog: oversell_policy %r without what it needs: deny", policy)
        return "deny", limit, release_ms
    return policy, limit, release_ms


def lead_time_ms(hours: float) -> int:
    return round(hours * HOUR_MS)


class PolicyBook:
    """Policy lookup with the documented defaults."""

    def __init__(self, settings: Settings, policies: Mapping[str, ProductPolicy]) -> None:
        self._policies = dict(policies)
        self._default = ProductPolicy(
            settings.low_stock_threshold,
            settings.default_target_stock,
            lead_time_ms(settings.default_lead_time_hours),
        )

    def for_sku(self, sku: str) -> ProductPolicy:
        return self._policies.get(sku, self._default)

    def __len__(self) -> int:
        return len(self._policies)

    @property
    def policies(self) -> dict[str, ProductPolicy]:
        """The catalog's own policies (without the defaults)."""
        return dict(self._policies)
