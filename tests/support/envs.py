"""The environment of a command a test runs: none of the developer's INVENTORY_* settings,
and a local broker on a free port (not the fixed default a developer's demo may hold)."""

from __future__ import annotations

import os


def base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INVENTORY_")}
    env["INVENTORY_LOCAL_BROKER_PORT"] = "0"
    return env
