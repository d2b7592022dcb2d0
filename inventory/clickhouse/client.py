"""The one ClickHouse client factory: ``chdb://`` (embedded) and ``http(s)://`` URLs."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import clickhouse_connect
from clickhouse_connect.driver.client import Client

from inventory.core.errors import InventoryError
from inventory.core.settings import Settings, SettingsError


def connect(settings: Settings, **kwargs: Any) -> Client:
    """Open a client for the configured URL. The database may not exist yet."""
    url = settings.clickhouse_url.get_secret_value()
    if settings.is_embedded_clickhouse:
        try:
            import chdb  # noqa: F401 (the `local` extra)
        except ImportError:
            raise SettingsError(
                "INVENTORY_CLICKHOUSE_URL is a chdb:// URL (embedded ClickHouse), but chDB "
                "is not installed: pip install 'inventory-stream[local]', or set it to a "
                "ClickHouse server (http(s)://user@host:8123/db)"
            ) from None
        path = settings.chdb_path()
        path.mkdir(parents=True, exist_ok=True)
        try:
            return clickhouse_connect.get_client(dsn=f"chdb://{path}", **kwargs)
        except Exception as exc:
            if _held_by_another_process(path):
                raise EmbeddedClickHouseInUse(
                    f"the embedded ClickHouse at {path} is open in another process (a chdb:// "
                    "path allows one process): stop it (`inventory run`, `serve`, `demo "
                    "--serve`; or use `run --serve` to serve the API from the flow's "
                    "process), or use a ClickHouse server (INVENTORY_CLICKHOUSE_URL=http://...)"
                ) from exc
            raise
    parts = urlsplit(url)
    secure = parts.scheme == "https"
    return clickhouse_connect.get_client(
        host=parts.hostname,
        port=parts.port or (8443 if secure else 8123),
        username=unquote(parts.username or "default"),
        password=(
            settings.clickhouse_password.get_secret_value()
            if settings.clickhouse_password is not None
            else unquote(parts.password or "")
        ),
        secure=secure,
        **kwargs,
    )


class EmbeddedClickHouseInUse(InventoryError):  # noqa: N818 (a state, not a failure)
    """Another process holds the chdb:// data path."""


def _held_by_another_process(path: Path) -> bool:
    """True when the embedded server's lock file (``status``) is locked."""
    import fcntl

    status = path / "status"
    if not status.exists():
        return False
    with status.open("rb") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
    return False


def database_name(settings: Settings) -> str:
    """The database holding every table: the URL's path if it names one, else the setting."""
    if not settings.is_embedded_clickhouse:
        path = urlsplit(settings.clickhouse_url.get_secret_value()).path.strip("/")
        if path:
            return path
    return settings.clickhouse_database
