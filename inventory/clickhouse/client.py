"""The one ClickHouse client factory: ``chdb://`` (embedded) and ``http(s)://`` URLs."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import clickhouse_connect
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import OperationalError

from inventory.core.errors import InventoryError
from inventory.core.settings import Settings, SettingsError, redact_url

logger = logging.getLogger(__name__)


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
            with _native_stderr_logged():  # chDB prints its refusal on fd 2 itself
                return clickhouse_connect.get_client(
                    dsn=f"chdb://{path}", chdb_options=settings.chdb_options(), **kwargs
                )
        except Exception as exc:
            if _held_by_another_process(path):
                raise EmbeddedClickHouseInUse(
                    f"the embedded ClickHouse at {path} is held by another process (an "
                    "`inventory run`, `serve` or `demo`: a chdb:// data path opens in one "
                    "process at a time); stop that process first, or use a ClickHouse "
                    "server (INVENTORY_CLICKHOUSE_URL=http://...) for several processes"
                ) from exc
            raise
    parts = urlsplit(url)
    secure = parts.scheme == "https"
    try:
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
    except OperationalError as exc:  # no answer: the network, never the query
        raise ClickHouseUnreachable(
            f"ClickHouse at {redact_url(url)} (INVENTORY_CLICKHOUSE_URL) did not answer: "
            f"{_reason(str(exc))}"
        ) from exc


class ClickHouseUnreachable(InventoryError, OperationalError):  # noqa: N818 (a state)
    """The ClickHouse server did not answer (transient: a sink may retry)."""


_REASONS = (
    re.compile(r"\[Errno -?\d+\] ([^'\"()]+)"),  # Connection refused, ...
    re.compile(r"Failed to resolve '([^']+)'"),
)


def _reason(text: str) -> str:
    """Why a connection failed, from urllib3's nested message."""
    for pattern, say in zip(_REASONS, ("{}", "cannot resolve host {}"), strict=True):
        found = pattern.search(text)
        if found:
            return say.format(found.group(1).strip())
    return "no connection"


@contextlib.contextmanager
def _native_stderr_logged() -> Iterator[None]:
    """What native code writes on fd 2 in the block goes to the debug log instead."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            text = captured.read().decode("utf-8", "replace").strip()
            if text:
                logger.debug("chDB: %s", text)


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


@contextlib.contextmanager
def embedded_engine_held(settings: Settings, *, hold: bool = True) -> Iterator[None]:
    """Keep the embedded engine (chDB) running through the block: one client stays open,
    so the clients the block opens and closes (catalog, seeds, the sink) neither boot
    nor shut down the engine (about 30-40 ms each with the schema loaded). Nothing for
    a ClickHouse server, or with ``hold`` false (a process that must not open chDB)."""
    if not (hold and settings.is_embedded_clickhouse):
        yield
        return
    anchor = connect(settings)
    try:
        yield
    finally:
        anchor.close()
