"""One settings object for every command, read from ``INVENTORY_*`` variables and ``.env``.

:class:`Settings` is one flat object (``settings.kafka_brokers``) assembled from groups,
one module each: :mod:`.kafka`, :mod:`.clickhouse`, :mod:`.flow`, :mod:`.api`,
:mod:`.grafana`, :mod:`.local`. A field's description is its documentation: the README's
table is generated from them (:mod:`.table`). Invalid values raise
:class:`SettingsError` at start, naming the variable; secrets are :class:`SecretStr`.
"""

from __future__ import annotations

import difflib
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from inventory.core.settings.api import ApiSettings
from inventory.core.settings.base import ENV_PREFIX, SettingsError, redact_url
from inventory.core.settings.clickhouse import ClickHouseSettings
from inventory.core.settings.flow import FlowSettings
from inventory.core.settings.grafana import GrafanaSettings
from inventory.core.settings.kafka import KafkaSettings
from inventory.core.settings.local import LocalSettings

__all__ = ["ENV_PREFIX", "GROUPS", "Settings", "SettingsError", "load_settings", "redact_url"]

logger = logging.getLogger(__name__)

# (title, group): the documentation's order
GROUPS: tuple[tuple[str, type[BaseModel]], ...] = (
    ("Kafka", KafkaSettings),
    ("ClickHouse", ClickHouseSettings),
    ("Dataflow", FlowSettings),
    ("Availability API", ApiSettings),
    ("Grafana", GrafanaSettings),
    ("Local", LocalSettings),
)


class Settings(
    KafkaSettings,
    ClickHouseSettings,
    FlowSettings,
    ApiSettings,
    GrafanaSettings,
    LocalSettings,
    BaseSettings,
):
    """Runtime configuration: every group's fields (README "Configuration")."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=".env", extra="ignore", frozen=True
    )

    @property
    def recovery_path(self) -> Path:
        return self.recovery_dir if self.recovery_dir is not None else self.data_dir / "recovery"

    def safe_summary(self) -> dict[str, Any]:
        """Settings for display, with secrets masked."""
        shown = self.model_dump(mode="json")
        shown["clickhouse_url"] = redact_url(self.clickhouse_url.get_secret_value())
        shown["grafana_url"] = redact_url(self.grafana_url.get_secret_value())
        if self.grafana_datasource_url is not None:
            shown["grafana_datasource_url"] = redact_url(
                self.grafana_datasource_url.get_secret_value()
            )
        return shown


def load_settings(**overrides: Any) -> Settings:
    """Build settings from the environment (and overrides); raise :class:`SettingsError`.

    A variable with the prefix that is no setting (a typo) is ignored with a warning
    naming the closest setting."""
    warn_unknown_variables(os.environ)
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = [str(part) for part in err["loc"]]
            name = (ENV_PREFIX + loc[0].upper()) if loc else "settings"
            problems.append(f"{name}: {err['msg']}")
        raise SettingsError("invalid configuration: " + "; ".join(problems)) from None


def warn_unknown_variables(environ: Mapping[str, str]) -> list[str]:
    """Log a warning for each ``INVENTORY_*`` variable that is not a setting; return them."""
    known = sorted(ENV_PREFIX + name.upper() for name in Settings.model_fields)
    unknown = sorted(name for name in environ if name.startswith(ENV_PREFIX) and name not in known)
    for name in unknown:
        closest = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        hint = f"; did you mean {closest[0]}?" if closest else ""
        logger.warning("%s is not a setting and is ignored%s", name, hint)
    return unknown
