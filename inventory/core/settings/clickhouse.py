"""ClickHouse settings: where the tables live (embedded chDB or a server), the password,
the database, and the retries of transient errors."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from pydantic import BaseModel, Field, SecretStr, field_validator

from inventory.core.settings.base import DB_RE, SettingsError


class ClickHouseSettings(BaseModel):
    """Group of :class:`~inventory.core.settings.Settings`: the ClickHouse client."""

    clickhouse_url: SecretStr = Field(
        default=SecretStr("chdb://./data/clickhouse"),
        description="`chdb:///path` (embedded; needs the `local` extra, which `make` "
        "installs; `?name=value&...` sets ClickHouse server settings of the engine) or "
        "`http(s)://user[:pass]@host:8123/db` (server; a password is a secret "
        "and never printed)",
    )
    clickhouse_password: SecretStr | None = Field(
        default=None,
        description="password of the ClickHouse server user; wins over one in the URL, and "
        "any character works here (in the URL, percent-encode `# / @ : % ?`). A secret: "
        "never printed",
    )
    clickhouse_database: str = Field(
        default="inventory",
        description="database of all tables (a database in the URL path takes precedence)",
    )
    clickhouse_retries: int = Field(
        default=5,
        ge=0,
        le=100,
        description="retries of a transient ClickHouse error before the flow fails",
    )
    clickhouse_backoff_seconds: float = Field(
        default=0.5,
        ge=0,
        le=60,
        description="first retry delay (doubles, capped at 30 s)",
    )

    @field_validator("clickhouse_database")
    @classmethod
    def _database_name(cls, value: str) -> str:
        if not DB_RE.match(value):
            raise ValueError("must be an identifier ([A-Za-z_][A-Za-z0-9_]*)")
        return value

    @field_validator("clickhouse_url")
    @classmethod
    def _clickhouse_url(cls, value: SecretStr) -> SecretStr:
        raw = value.get_secret_value()
        if raw.startswith("chdb://"):
            if not raw[len("chdb://") :]:
                raise ValueError("chdb:// needs a directory, e.g. chdb:///var/lib/inventory")
            return value
        hidden = (
            "(value hidden: it may hold a password; percent-encode any # / @ : % ? in the "
            "password, or give it in INVENTORY_CLICKHOUSE_PASSWORD)"
        )
        parts = urlsplit(raw)
        try:
            parts.port  # noqa: B018 (raises for a port that is not a number)
        except ValueError:
            raise ValueError(f"not a valid http(s) URL {hidden}") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"expected chdb:///path or http(s)://user:pass@host:8123/db {hidden}")
        if parts.fragment or parts.query:
            raise ValueError(f"the URL has a '#' or '?' part {hidden}")
        return value

    @property
    def is_embedded_clickhouse(self) -> bool:
        return self.clickhouse_url.get_secret_value().startswith("chdb://")

    def chdb_path(self) -> Path:
        """Absolute directory of the embedded ClickHouse data (``chdb://`` URLs only)."""
        raw = self.clickhouse_url.get_secret_value()
        if not raw.startswith("chdb://"):
            raise SettingsError("INVENTORY_CLICKHOUSE_URL is not a chdb:// URL")
        return Path(raw[len("chdb://") :].partition("?")[0]).expanduser().resolve()

    def chdb_options(self) -> dict[str, str]:
        """ClickHouse server settings for the embedded engine, from the URL's query:
        ``chdb:///path?background_pool_size=4&mark_cache_size=67108864`` (chDB passes
        them as its start-up options; the engine's own defaults otherwise)."""
        raw = self.clickhouse_url.get_secret_value()
        return dict(parse_qsl(raw.partition("?")[2], keep_blank_values=True))
