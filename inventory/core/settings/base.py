"""What every settings group shares: the variable prefix, the error naming a variable,
name patterns, and how a default is shown in the documentation."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from inventory.core.errors import ConfigurationError

ENV_PREFIX = "INVENTORY_"
TOPIC_RE = re.compile(r"^[A-Za-z0-9._-]{1,249}$")
DB_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


class SettingsError(ConfigurationError, ValueError):
    """Raised when a setting is invalid; the message names the ``INVENTORY_*`` variable."""


def shown(default: str) -> dict[str, Any]:
    """``json_schema_extra`` for a field whose default the documentation shows as
    ``default`` (a derived or special value) instead of the field's own."""
    return {"shown_default": default}


def redact_url(url: str) -> str:
    """Return ``url`` with any password replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()
