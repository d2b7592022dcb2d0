"""``inventory``: the command line. Each command is declared once, in the module of its
kind (:mod:`.flow_commands`, :mod:`.data_commands`, :mod:`.ops_commands`,
:mod:`.dashboard_commands`, :mod:`.plan_commands`), with :func:`~inventory.cli.declare.command`.

Exit codes: 0 ok, 1 runtime failure, 2 bad configuration or usage (or a refused
backfill), 130 after SIGINT, 141 when the reader of the output went away.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version

import click

from inventory.cli import (
    dashboard_commands,
    data_commands,
    flow_commands,
    ops_commands,
    plan_commands,
)
from inventory.cli.declare import CONTEXT
from inventory.cli.param_types import LOG_LEVELS, LogLevel

DESCRIPTION = """Real-time inventory tracking: Kafka -> Bytewax -> ClickHouse.

Settings come from INVENTORY_* environment variables (or a .env file): `inventory
settings` shows them, README.md documents them. Exit codes: 0 ok, 1 runtime failure,
2 bad configuration or usage (or a refused backfill), 130 after Ctrl-C, 141 when the
reader of the output went away."""

# libraries' retry chatter: the error line says it all (--log-level debug shows it)
NOISY_LOGGERS = ("urllib3", "clickhouse_connect")


def package_version() -> str:
    try:
        return version("inventory-stream")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


@click.group(
    "inventory",
    help=DESCRIPTION,
    context_settings=CONTEXT,
    invoke_without_command=False,
)
@click.version_option(package_version(), prog_name="inventory", message="%(prog)s %(version)s")
@click.option(
    "--log-level",
    type=LogLevel(),
    default="WARNING",
    metavar="LEVEL",
    help=f"log level: {', '.join(LOG_LEVELS)} (DEBUG also logs full traces)",
)
def inventory(log_level: str) -> None:
    logging.basicConfig(
        level=log_level,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if log_level != "DEBUG":  # on the handler: libraries may set their loggers' levels
        for handler in logging.getLogger().handlers:
            handler.addFilter(quiet_libraries)


def quiet_libraries(record: logging.LogRecord) -> bool:
    """Only errors of the libraries in ``NOISY_LOGGERS`` pass."""
    noisy = record.name.split(".", 1)[0] in NOISY_LOGGERS
    return not noisy or record.levelno >= logging.ERROR


for _module in (flow_commands, data_commands, ops_commands, dashboard_commands, plan_commands):
    for _command in _module.COMMANDS:
        inventory.add_command(_command)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line on ``argv`` (default: ``sys.argv[1:]``); return the exit code."""
    try:
        code = inventory.main(
            args=list(argv) if argv is not None else None,
            prog_name="inventory",
            standalone_mode=False,
        )
    except click.UsageError as exc:
        if exc.ctx is not None:
            print(exc.ctx.get_usage(), file=sys.stderr)
        print(f"error: {usage_message(exc)}", file=sys.stderr)
        return 2
    except click.Abort:
        print("interrupted", file=sys.stderr)
        return 130
    return code if isinstance(code, int) else 0


def usage_message(exc: click.UsageError) -> str:
    """``--skus: must be at least 1``: the option, then what is wrong with its value."""
    if isinstance(exc, click.BadParameter) and exc.param is not None:
        names = getattr(exc.param, "opts", None) or [exc.param.name or "value"]
        name = names[-1] if names[-1].startswith("--") else names[0]
        if isinstance(exc.param, click.Argument):
            name = (exc.param.name or "value").upper()
        return f"{name}: {exc.message}"
    return exc.format_message()


if __name__ == "__main__":
    sys.exit(main())
