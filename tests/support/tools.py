"""External tools a test needs (compose, node, xmllint): found, or skipped with the way to get
them (required under CI)."""

from __future__ import annotations

import os
import typing

import pytest


def require_tool(reason: str) -> typing.NoReturn:
    """Skip, or fail where the tools are required (CI_REQUIRE_TOOLS=1, as in .ci/run)."""
    if os.environ.get("CI_REQUIRE_TOOLS") == "1":
        pytest.fail(reason)
    pytest.skip(reason)
