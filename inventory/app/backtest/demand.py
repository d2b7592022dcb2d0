"""What a backtest replays: each key's shoppers' orders, its catalog policy and the
period, from a generated profile or from the sales recorded in ``events``.

- **Generated** (:func:`generated_demand`): the event generator's catalog (Zipf
  popularity: fast and slow movers; its thresholds, targets and lead times) with each
  key's orders a Poisson process of ``orders_per_day`` x the key's popularity share,
  shaped by :data:`DEFAULT_SHAPE` (daily and weekly seasonality, promotions).
- **Recorded** (:func:`recorded_demand`): the accepted sales of ``events`` (each event id
  once) per key since ``since_ms``, with the catalog's policies (``products``). What
  was sold is what shoppers could buy then: demand lost to past stock-outs is not in it.

Every key opens with its catalog target on hand, the same under both policies.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from importlib.resources import files

from clickhouse_connect.driver.client import Client

from generators.catalog import Catalog
from generators.demand import DAY_MS, DemandShape, arrivals
from generators.events import GeneratorConfig
from generators.promotions import promotion_entries
from inventory.clickhouse.catalog import PolicyBook, lead_time_ms, load_policies
from inventory.clickhouse.promotions import PromotionEntry
from inventory.clickhouse.queries import query
from inventory.core.records import ProductPolicy
from inventory.core.settings import Settings

RECORDED_SQL = files("inventory.clickhouse").joinpath("sql/queries/recorded_demand.sql")
DEFAULT_SHAPE = DemandShape(
    daily_amplitude=0.5,
    weekly_amplitude=0.3,
    promotion_share=0.25,
    promotion_factor=4.0,
    promotion_days=3.0,
)


@dataclass
class KeyDemand:
    """One key's orders (``(ms, units)`` in time order) and catalog policy."""

    warehouse_id: str
    sku: str
    policy: ProductPolicy
    orders: list[tuple[int, int]] = field(default_factory=list)
    unit_price: float | None = None

    @property
    def units(self) -> int:
        return sum(units for _, units in self.orders)


@dataclass(frozen=True)
class Demand:
    """Every key's demand over ``[start_ms, end_ms)`` and where it came from."""

    keys: list[KeyDemand]
    start_ms: int
    end_ms: int
    source: str
    promotions: list[PromotionEntry] = field(default_factory=list)  # planned, as known


@dataclass(frozen=True)
class Profile:
    """A generated demand profile (the defaults: the documented 28-day profile)."""

    seed: int = 42
    skus: int = 100
    warehouses: int = 3
    days: int = 28
    orders_per_day: float = 600.0  # over every key
    start_ms: int = GeneratorConfig.start_ms
    shape: DemandShape = DEFAULT_SHAPE
    demand_share: float = 0.0  # of SKUs on the demand policy (the catalog's entries())


def generated_demand(profile: Profile) -> Demand:
    """The orders of ``profile`` (module doc); the same profile gives the same orders."""
    catalog = Catalog.build(profile.skus, profile.warehouses, random.Random(profile.seed))
    shape = replace(profile.shape, seed=profile.seed, start_ms=profile.start_ms)
    cumulative = catalog.weights
    total = cumulative[-1]
    policies = {e.sku: e.replenishment_policy for e in catalog.entries(profile.demand_share)}
    end_ms = profile.start_ms + profile.days * DAY_MS
    keys = []
    for index in range(catalog.size):
        product, warehouse = catalog.key(index)
        share = (cumulative[index] - (cumulative[index - 1] if index else 0.0)) / total
        policy = ProductPolicy(
            product.low_stock_threshold,
            product.target_stock,
            lead_time_ms(product.lead_time_hours),
            replenishment=policies[product.sku],
        )
        rng = random.Random(f"demand:{profile.seed}:{index}")
        orders = list(
            arrivals(
                profile.orders_per_day * share,
                index // profile.warehouses,
                shape=shape,
                start_ms=profile.start_ms,
                end_ms=end_ms,
                rng=rng,
            )
        )
        keys.append(KeyDemand(warehouse, product.sku, policy, orders, product.unit_price))
    source = f"generated profile (seed {profile.seed}, {profile.orders_per_day:g} orders/day)"
    promotions = promotion_entries(shape, catalog.products, profile.start_ms, end_ms)
    return Demand(keys, profile.start_ms, end_ms, source, promotions)


def recorded_demand(
    client: Client, database: str, settings: Settings, since_ms: int, until_ms: int
) -> Demand:
    """The sales of ``events`` in ``[since_ms, until_ms)`` per key (module doc)."""
    book = PolicyBook(settings, load_policies(client, database, settings.default_lead_time_hours))
    rows = client.query(
        RECORDED_SQL.read_text(),
        parameters={"db": database, "since": since_ms, "until": until_ms},
    ).result_rows
    keys: dict[tuple[str, str], KeyDemand] = {}
    for warehouse_id, sku, ms, units in rows:
        key = keys.get((warehouse_id, sku))
        if key is None:
            key = keys[warehouse_id, sku] = KeyDemand(warehouse_id, sku, book.for_sku(sku))
        key.orders.append((int(ms), int(units)))
    source = f"recorded sales of {database}.events"
    promotions = [
        PromotionEntry("", str(sku), int(a), int(b), float(u), str(wh))
        for sku, wh, a, b, u in client.query(
            query("forecast_promotions"), parameters={"since_ms": since_ms, "until_ms": until_ms}
        ).result_rows
    ]
    return Demand(list(keys.values()), since_ms, until_ms, source, promotions)
