"""Local settings: what lives on this machine (the data directory, the embedded broker)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field


class LocalSettings(BaseModel):
    """Group of :class:`~inventory.core.settings.Settings`: this machine's local state."""

    data_dir: Path = Field(
        default=Path("./data"),
        description="local state: broker address and log, recovery snapshots",
    )
    local_broker_port: int = Field(
        default=39092,
        ge=0,
        le=65535,
        description="port of the local embedded broker on 127.0.0.1, so outside tools (Kafka "
        "clients, Redpanda Console) find it at a known address; `0`: any free port",
    )
