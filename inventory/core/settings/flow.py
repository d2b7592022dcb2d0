"""Dataflow settings: event-time rules (lateness, the future limit, windows), the stock
policy defaults, recovery and the cluster, batches and epochs, the process's metrics."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from inventory.core.settings.base import shown


class FlowSettings(BaseModel):
    """Group of :class:`~inventory.core.settings.Settings`: the dataflow."""

    lateness_seconds: int = Field(
        default=600,
        ge=0,
        le=7 * 24 * 3600,
        description="lateness horizon per (warehouse, sku): events older than this behind "
        "the newest event of their key are dead-lettered as late; also the dedup horizon "
        "(see [docs/semantics.md](docs/semantics.md))",
    )
    max_future_seconds: int = Field(
        default=300,
        ge=0,
        le=7 * 24 * 3600,
        description="how far `occurred_at` may be after the Kafka message timestamp",
    )
    low_stock_threshold: int = Field(
        default=10,
        ge=0,
        le=1_000_000_000,
        description="low-stock threshold and reorder point (of the inventory position) for "
        "SKUs missing from the `products` catalog",
    )
    default_target_stock: int = Field(
        default=50,
        ge=1,
        le=1_000_000_000,
        description="order-up-to level of the inventory position a reorder request tops up "
        "to, for SKUs missing from the catalog",
    )
    default_lead_time_hours: float = Field(
        default=72,
        gt=0,
        le=8760,
        description="supplier lead time (purchase order to delivery) for SKUs without "
        "`products.lead_time_hours`",
    )
    reorder_grace_hours: float = Field(
        default=24,
        ge=0,
        le=8760,
        description="a purchase order not received this long after `expected_at` raises "
        "`reorder_overdue`",
    )
    reorder_expiry_hours: float = Field(
        default=168,
        gt=0,
        le=87600,
        description="a purchase order not fully received this long after `expected_at` is "
        "closed as `expired` (alert `reorder_expired`): what it still brought is no longer "
        "on order, so a new request follows",
    )
    receipts_need_po_id: bool = Field(
        default=False,
        description="a `restock` receives a purchase order only when it carries its `po_id` "
        "(for shops whose receipts always do); otherwise one without `po_id` is received "
        "against the key's oldest open purchase order",
    )
    default_service_level: float = Field(
        default=0.95,
        gt=0,
        lt=1,
        description="cycle service level of `demand` SKUs without their own "
        "(`products.service_level`): the chance a replenishment cycle has no stock-out",
    )
    default_review_period_days: float = Field(
        default=7,
        gt=0,
        le=365,
        description="review period of `demand` SKUs without their own: the order-up-to "
        "level is the reorder point plus this many days of demand",
    )
    demand_horizon_days: int = Field(
        default=28,
        ge=1,
        le=3650,
        description="span of the exponentially weighted daily demand (alpha = 2 / (span + 1))",
    )
    demand_min_days: int = Field(
        default=7,
        ge=1,
        le=3650,
        description="closed days of demand a `demand` SKU needs before its computed reorder "
        "point applies (before: the catalog's threshold and target)",
    )
    demand_intraday_weights: str = Field(
        default="1",
        description="the intraday demand profile the lost-sales estimate weighs a day's "
        "out-of-stock time by: 24 non-negative integers, one per UTC hour from 00:00, "
        "comma-separated (one number: the same for every hour)",
    )
    forecast_tracking_limit: float = Field(
        default=0.5,
        gt=0,
        le=1,
        description="a `forecast` SKU falls back to the `demand` policy's levels while the "
        "absolute tracking signal (smoothed forecast error / smoothed absolute error, "
        "alpha 0.2, after `INVENTORY_DEMAND_MIN_DAYS` tracked days) exceeds this",
    )
    lead_time_min_receipts: int = Field(
        default=3,
        ge=1,
        le=1000,
        description="purchase orders received in full before the learned lead time applies "
        "(before: the catalog's lead time)",
    )
    window_seconds: int = Field(
        default=60,
        ge=1,
        le=24 * 3600,
        description="length of the event-time sales-rate windows",
    )
    recovery_dir: Path | None = Field(
        default=None,
        description="Bytewax snapshots (`inventory run --no-recovery` runs without)",
        json_schema_extra=shown("<data_dir>/recovery"),
    )
    recovery_partitions: int = Field(
        default=1,
        ge=1,
        le=1024,
        description="recovery partitions created on first use (at least the cluster's "
        "workers); fixed afterwards, so set it to the most workers the flow will ever run",
    )
    cluster_peer_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        le=3600,
        description="in a multi-process cluster: a process that hears no UDP heartbeat from "
        "another for this long exits 1 (a cut network otherwise leaves Bytewax waiting "
        "forever)",
    )
    source_batch_size: int = Field(
        default=20_000,
        ge=1,
        le=1_000_000,
        description="max messages per read of a partition: a backlog is read in batches this "
        "large (larger: fewer and larger ClickHouse inserts and fewer stock rows, but more "
        "events in memory at once; with millions of keys 10000 keeps the peak lower: "
        "bench/README.md); a caught-up source returns what has arrived",
    )
    epoch_seconds: float = Field(
        default=2.0,
        gt=0,
        le=3600,
        description="Bytewax epoch = snapshot interval; after a crash, sinks see at most "
        "this much again",
    )
    progress_seconds: float = Field(
        default=10.0,
        ge=0,
        le=3600,
        description="how often `run`, `backfill` and `supplier` print a progress line on "
        "stderr (0: never)",
    )
    metrics_port: int = Field(
        default=0,
        ge=0,
        le=65535,
        description="port of the dataflow process's Prometheus `/metrics` (compose: 9108); "
        "the availability API always serves `/metrics` on its own port",
        json_schema_extra=shown("0 (off)"),
    )
    metrics_host: str = Field(
        default="127.0.0.1",
        description="address the dataflow's `/metrics` listens on (`0.0.0.0` in a container)",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="WARNING",
        description="log level of the container's dataflow entry (`bytewax.run`): `DEBUG` "
        "also logs the full traces, Rust panics included; the `inventory` command takes "
        "`--log-level` instead",
    )

    @field_validator("demand_intraday_weights")
    @classmethod
    def _weights(cls, value: str) -> str:
        parts = [p.strip() for p in value.split(",")]
        if len(parts) not in (1, 24) or not all(p.isdigit() for p in parts):
            raise ValueError("expected 24 (or 1) comma-separated non-negative integers")
        if not any(int(p) for p in parts):
            raise ValueError("at least one hour needs a weight above 0")
        return value

    @property
    def intraday_weights(self) -> tuple[int, ...]:
        """The 24 hourly weights of ``demand_intraday_weights``."""
        parts = [int(p) for p in self.demand_intraday_weights.split(",")]
        return tuple(parts * 24 if len(parts) == 1 else parts)
