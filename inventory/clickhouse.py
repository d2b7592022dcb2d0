"""ClickHouse client factory for ``chdb://`` (embedded) and ``http(s)://`` URLs, and the
classification of errors into transient (retry) and permanent (raise)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote, urlsplit

import clickhouse_connect
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import DatabaseError, OperationalError

from inventory.settings import Settings

# Server error codes worth retrying: timeouts, overload, network and insert-status doubt.
TRANSIENT_CODES = frozenset({3, 159, 164, 202, 209, 210, 241, 242, 252, 285, 319, 425, 999, 1002})
_CODE_RE = re.compile(r"Code: (\d+)")


def connect(settings: Settings, **kwargs: Any) -> Client:
    """Open a client for the configured URL. The database may not exist yet."""
    url = settings.clickhouse_url.get_secret_value()
    if settings.is_embedded_clickhouse:
        path = settings.chdb_path()
        path.mkdir(parents=True, exist_ok=True)
        return clickhouse_connect.get_client(dsn=f"chdb://{path}", **kwargs)
    parts = urlsplit(url)
    secure = parts.scheme == "https"
    return clickhouse_connect.get_client(
        host=parts.hostname,
        port=parts.port or (8443 if secure else 8123),
        username=unquote(parts.username or "default"),
        password=unquote(parts.password or ""),
        secure=secure,
        **kwargs,
    )


def database_name(settings: Settings) -> str:
    """The database holding every table: the URL's path if it names one, else the setting."""
    if not settings.is_embedded_clickhouse:
        path = urlsplit(settings.clickhouse_url.get_secret_value()).path.strip("/")
        if path:
            return path
    return settings.clickhouse_database


def is_transient(exc: BaseException) -> bool:
    """True for errors a retry may cure (network, timeouts, overload)."""
    if isinstance(exc, OperationalError):
        return True
    if isinstance(exc, (ConnectionError, TimeoutError)):
        return True
    if isinstance(exc, DatabaseError):
        match = _CODE_RE.search(str(exc))
        return bool(match and int(match.group(1)) in TRANSIENT_CODES)
    return False
