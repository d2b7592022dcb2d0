"""The ``inventory`` command line's arguments: every option with its help and default."""

from __future__ import annotations

import argparse
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from inventory.cli.dashboard_commands import add_parser as add_dashboards_parser
from inventory.cli.generator_commands import add_parser as add_generator_parser
from inventory.cli.param_types import LOG_LEVELS, log_level, parse_start, positive

DESCRIPTION = """Real-time inventory tracking: Kafka -> Bytewax -> ClickHouse.

Settings come from INVENTORY_* environment variables (or a .env file); see README.md.
Exit codes: 0 ok, 1 runtime failure, 2 bad configuration or usage (or a refused
backfill), 130 after Ctrl-C, 141 when the reader of the output went away."""


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Defaults shown after each option's help; descriptions kept as written."""


def package_version() -> str:
    try:
        return version("inventory-stream")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="inventory", description=DESCRIPTION, formatter_class=HelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"inventory {package_version()}")
    parser.add_argument(
        "--log-level",
        type=log_level,
        default="WARNING",
        metavar="LEVEL",
        help=f"log level: {', '.join(LOG_LEVELS)} (DEBUG also logs full traces)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, summary: str) -> argparse.ArgumentParser:
        return sub.add_parser(
            name, help=summary, description=summary, formatter_class=HelpFormatter
        )

    demo = command("demo", "the whole pipeline locally, end to end, with a live view")
    demo.add_argument("--events", type=positive, default=5000, help="events to generate")
    demo.add_argument(
        "--seed", type=int, default=None, help="generator seed (default: from the clock)"
    )
    demo.add_argument("--workers", type=positive, default=1, help="dataflow worker threads")
    demo.add_argument(
        "--serve",
        action="store_true",
        help="then keep going: live events, availability API and storefront (Ctrl-C stops)",
    )

    add_generator_parser(sub, HelpFormatter)

    run = command("run", "run the dataflow (tails the topic until stopped)")
    run.add_argument("--exit-at-end", action="store_true", help="stop when the topic is drained")
    run.add_argument("--workers", type=positive, default=1, help="worker threads per process")
    run.add_argument(
        "--processes",
        type=positive,
        default=1,
        help="processes of a local Bytewax cluster on this host (see docs/scaling.md)",
    )
    run.add_argument(
        "--no-recovery",
        action="store_true",
        help="no snapshots: read the topic from the start, keys rebuilt from the tables",
    )
    run.add_argument(
        "--serve",
        action="store_true",
        help="also serve the availability API and storefront in this process "
        "(INVENTORY_API_HOST/PORT; needed with embedded ClickHouse)",
    )

    backfill = command("backfill", "process historical events (a file, or a topic range)")
    backfill.add_argument("file", type=Path, nargs="?", help="JSON lines, or .parquet")
    backfill.add_argument(
        "--topic-range",
        action="store_true",
        help="instead of a file: the events topic between --from and --to",
    )
    backfill.add_argument(
        "--from",
        dest="start",
        type=parse_start,
        default=None,
        help="RFC 3339: messages with a Kafka timestamp at or after this (default: all)",
    )
    backfill.add_argument(
        "--to",
        dest="end",
        type=parse_start,
        default=None,
        help="RFC 3339: messages with a Kafka timestamp before this (default: all)",
    )
    backfill.add_argument("--workers", type=positive, default=1, help="worker threads")
    backfill.add_argument(
        "--force",
        action="store_true",
        help="also when some keys have stock from events the input lacks: fold the input "
        "into their stock (stop the dataflow first)",
    )

    schema = command("schema", "ClickHouse schema: versioned, idempotent migrations")
    schema.add_argument("action", choices=["apply"], help="apply pending migrations")

    command(
        "serve",
        "availability API and storefront over the configured ClickHouse "
        "(a server, or a chdb:// path no other process uses)",
    )
    sql = command("sql", "run SQL on the configured ClickHouse")
    sql.add_argument("query", help="SQL text (several statements: separated by ;) or @file.sql")
    sql.add_argument(
        "--format",
        choices=["table", "tsv", "csv", "json"],
        default="table",
        help="table (for reading; long values cut), or tsv, csv, json (complete values)",
    )

    reset = command(
        "reset",
        "delete the local data: embedded ClickHouse database, recovery state, local broker "
        "topics (asks first)",
    )
    reset.add_argument("--yes", action="store_true", help="do not ask")

    broker = command("broker", "the local embedded broker")
    broker.add_argument(
        "action",
        choices=["start", "stop", "status"],
        help="status exits 1 when no local broker runs",
    )

    add_dashboards_parser(sub, HelpFormatter)
    return parser
