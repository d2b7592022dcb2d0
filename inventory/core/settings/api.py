"""Availability API settings: where it listens, who may call it from a browser, the
"Only N left" rule and how fresh its answers are."""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, SecretStr, field_validator

from inventory.core.settings.base import shown


class ApiSettings(BaseModel):
    """Group of :class:`~inventory.core.settings.Settings`: the availability API."""

    api_host: str = Field(
        default="127.0.0.1",
        description="address the availability API listens on (`0.0.0.0` in a container)",
    )
    api_port: int = Field(default=8000, ge=1, le=65535, description="its port")
    api_forwarded_allow_ips: str = Field(
        default="127.0.0.1",
        description="comma-separated addresses of proxies whose `X-Forwarded-For` is "
        "trusted for the client's address (the cart's rate limit); `*` behind a proxy no "
        "one else can reach",
    )
    api_access_log: bool = Field(
        default=False,
        description="log every availability API request (uvicorn's access log, at info, on "
        "stdout); off because at hundreds of requests per second it costs more than the "
        "answers",
    )
    api_cors_origins: str = Field(
        default="",
        description="comma-separated origins (`https://shop.example`) whose pages may call "
        "the API from the browser; `*` for any",
        json_schema_extra=shown("empty"),
    )
    availability_few_left: int = Field(
        default=5,
        ge=0,
        le=1_000_000,
        description='up to this many available units a SKU shows "Only N left in stock"',
    )
    availability_source: Literal["topic", "clickhouse"] = Field(
        default="topic",
        description="where the API reads stock: `topic` follows the stock and catalog "
        "topics (no ClickHouse on the request path; any number of replicas; works beside a "
        "flow holding embedded ClickHouse), `clickhouse` polls `stock_levels` (the settings "
        "below)",
    )
    availability_refresh_seconds: float = Field(
        default=1.0,
        gt=0,
        le=3600,
        description="with the `clickhouse` source: how often the API reads stock changes "
        "(rows written since its previous read); answers are at most this much plus the "
        "pipeline's lag behind",
    )
    availability_full_read_seconds: float = Field(
        default=60.0,
        gt=0,
        le=7 * 24 * 3600,
        description="with the `clickhouse` source: how often it re-reads all of "
        "`stock_levels FINAL` and the catalog names (new catalog names show up then); about "
        "3 s of work at a million keys",
    )
    api_write_token: SecretStr | None = Field(
        default=None,
        description="bearer token the cart endpoints (`POST /v1/holds`, checkout, release) "
        "require; unset: they are off (403). A secret: never printed",
    )
    api_write_rate_per_minute: int = Field(
        default=60,
        ge=1,
        le=1_000_000,
        description="cart requests a client (by address) may make in each clock minute (a "
        "fixed window: the count starts again at :00); more get 429 with Retry-After",
    )
    api_hold_seconds: float = Field(
        default=900.0,
        gt=0,
        le=7 * 24 * 3600,
        description='how long an "Add to cart" hold lasts (its `expires_at`)',
    )
    api_decision_wait_seconds: float = Field(
        default=2.0,
        gt=0,
        le=60,
        description="how long a cart request waits for the flow's decision (on "
        "`INVENTORY_HOLD_DECISIONS_TOPIC`) before it answers 202 pending with a `Location` "
        "to ask again",
    )

    @field_validator("api_cors_origins")
    @classmethod
    def _origins(cls, value: str) -> str:
        for origin in filter(None, (o.strip() for o in value.split(","))):
            parts = urlsplit(origin)
            plain = parts.scheme in ("http", "https") and parts.hostname and not parts.path
            if origin != "*" and not plain:
                raise ValueError(f"expected * or scheme://host[:port] origins, got {origin!r}")
        return value

    @property
    def cors_origins(self) -> list[str]:
        return [o.strip() for o in self.api_cors_origins.split(",") if o.strip()]
