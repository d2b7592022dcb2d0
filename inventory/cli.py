"""``inventory`` command line: demo, generate, run, backfill, schema, sql, broker,
dashboards, serve, reset.

Exit codes: 0 ok, 1 runtime failure, 2 bad configuration or usage.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table

from generators.commands import add_parser as add_generator_parser
from generators.commands import cmd_generate
from inventory.backfill import BackfillConflict
from inventory.cli_args import parse_start
from inventory.dashboards.commands import add_parser as add_dashboards_parser
from inventory.dashboards.commands import cmd_dashboards
from inventory.errors import InventoryError, describe
from inventory.native import native_stderr_to_log
from inventory.settings import Settings, SettingsError, load_settings
from inventory.stopping import STOP, signal_name, stop_on_signals

logger = logging.getLogger("inventory")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="inventory", description=__doc__)
    parser.add_argument("--log-level", default="WARNING", help="DEBUG, INFO, WARNING, ERROR")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="local broker + embedded ClickHouse, end to end")
    demo.add_argument("--events", type=int, default=5000)
    demo.add_argument("--seed", type=int, default=None, help="default: from the clock")
    demo.add_argument("--workers", type=int, default=1)
    demo.add_argument(
        "--serve",
        action="store_true",
        help="then keep going: live events, availability API and storefront (Ctrl-C stops)",
    )

    add_generator_parser(sub)

    run = sub.add_parser("run", help="run the dataflow")
    run.add_argument("--exit-at-end", action="store_true", help="stop when the topic is drained")
    run.add_argument("--workers", type=int, default=1)
    run.add_argument(
        "--no-recovery",
        action="store_true",
        help="no snapshots: re-read the topic from the start (a full replay)",
    )
    run.add_argument(
        "--serve",
        action="store_true",
        help="also serve the availability API and storefront in this process "
        "(INVENTORY_API_HOST/PORT; needed with embedded ClickHouse)",
    )

    backfill = sub.add_parser(
        "backfill", help="process a file of historical events (JSON lines or .parquet)"
    )
    backfill.add_argument("file", type=Path, nargs="?", help="JSON lines or .parquet")
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
        help="RFC 3339; messages with a Kafka timestamp >= this",
    )
    backfill.add_argument(
        "--to",
        dest="end",
        type=parse_start,
        default=None,
        help="RFC 3339; messages with a Kafka timestamp < this",
    )
    backfill.add_argument("--workers", type=int, default=1)
    backfill.add_argument(
        "--force",
        action="store_true",
        help="also when some keys have stock from events the input lacks: fold the input "
        "into their stock (stop the dataflow first)",
    )

    schema = sub.add_parser("schema", help="ClickHouse schema")
    schema.add_argument("action", choices=["apply"])

    sub.add_parser(
        "serve",
        help="availability API and storefront over the configured ClickHouse "
        "(a server, or a chdb:// path no other process uses)",
    )
    sql = sub.add_parser("sql", help="run SQL on the configured ClickHouse")
    sql.add_argument("query", help="SQL text, or @path/to/file.sql")
    sql.add_argument("--format", choices=["table", "tsv"], default="table")

    reset = sub.add_parser(
        "reset",
        help="delete the local data: embedded ClickHouse database, recovery state, local "
        "broker topics (asks first)",
    )
    reset.add_argument("--yes", action="store_true", help="do not ask")

    broker = sub.add_parser("broker", help="the local embedded broker")
    broker.add_argument("action", choices=["start", "stop", "status"])

    add_dashboards_parser(sub)
    return parser


class RowCounter(Counter[str]):
    """Rows written per table; ``report`` prints the ``rows written:`` line on stderr."""

    def add(self, table: str, rows: int) -> None:
        self[table] += rows

    def report(self) -> None:
        summary = ", ".join(f"{table}={rows}" for table, rows in sorted(self.items()))
        print(f"rows written: {summary or 'none'}", file=sys.stderr)


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    from inventory.broker import brokers_for
    from inventory.clickhouse import connect, database_name
    from inventory.kafka import ensure_topics
    from inventory.runner import run_inventory
    from inventory.schema import apply_migrations

    brokers = brokers_for(settings)
    ensure_topics(settings, brokers)
    client = connect(settings)
    apply_migrations(client, database_name(settings))
    client.close()
    written = RowCounter()

    with contextlib.ExitStack() as stack:
        if args.serve:
            from inventory.availability.server import AvailabilityService

            service = stack.enter_context(AvailabilityService(settings))
            print(f"availability API and storefront: {service.server.url}/", file=sys.stderr)
        try:
            run_inventory(
                settings,
                brokers,
                exit_at_end=args.exit_at_end,
                workers=args.workers,
                recovery=not args.no_recovery,
                on_write=written.add,
            )
        finally:
            written.report()
    return 0


def cmd_backfill(settings: Settings, args: argparse.Namespace) -> int:
    from dataflows.file_sources import progress_total
    from generators.publish import progress_bar
    from inventory.broker import brokers_for
    from inventory.clickhouse import connect, database_name
    from inventory.runner import run_backfill, run_topic_backfill
    from inventory.schema import apply_migrations

    if args.topic_range == (args.file is not None):
        print("error: give a FILE or --topic-range, not both", file=sys.stderr)
        return 2
    if args.file is not None and not args.file.is_file():
        raise FileNotFoundError(f"backfill input not found: {args.file}")
    client = connect(settings)
    apply_migrations(client, database_name(settings))
    client.close()
    written = RowCounter()

    with progress_bar(enabled=sys.stderr.isatty()) as bar:
        if args.topic_range:
            task = bar.add_task(f"backfill {settings.events_topic} (messages)", total=None)
            run_topic_backfill(
                settings,
                brokers_for(settings),
                args.start,
                args.end,
                workers=args.workers,
                force=args.force,
                on_progress=lambda n: bar.advance(task, n),
                on_write=written.add,
            )
        else:
            task = bar.add_task(f"backfill {args.file.name}", total=progress_total(args.file))
            run_backfill(
                settings,
                args.file,
                workers=args.workers,
                force=args.force,
                on_write=written.add,
                on_progress=lambda n: bar.advance(task, n),
            )
    written.report()
    return 0


def cmd_schema(settings: Settings, args: argparse.Namespace) -> int:
    from inventory.clickhouse import connect, database_name
    from inventory.schema import apply_migrations

    client = connect(settings)
    applied = apply_migrations(client, database_name(settings))
    client.close()
    names = ", ".join(f"{m.version:04d}_{m.name}" for m in applied) or "nothing (up to date)"
    print(f"schema apply: applied {names}")
    return 0


def cmd_sql(settings: Settings, args: argparse.Namespace) -> int:
    from inventory.clickhouse import connect, database_name

    query = args.query
    if query.startswith("@"):
        query = Path(query[1:]).read_text("utf-8")
    client = connect(settings, database=database_name(settings))
    result = client.query(query)
    if args.format == "tsv":
        print("\t".join(result.column_names))
        for row in result.result_rows:
            print("\t".join(str(v) for v in row))
    else:
        table = Table(*result.column_names)
        for row in result.result_rows:
            table.add_row(*(str(v) for v in row))
        Console().print(table)
    return 0


def cmd_reset(settings: Settings, args: argparse.Namespace) -> int:
    from inventory.reset import apply_reset, plan_reset

    plan = plan_reset(settings)
    print("inventory reset will:" if not plan.empty else "inventory reset: nothing to delete")
    for line in plan.lines(settings):
        print(f"  {line}")
    if plan.empty:
        return 0
    if not args.yes:
        if not sys.stdin.isatty():
            print("error: reset asks first: run it in a terminal, or pass --yes", file=sys.stderr)
            return 2
        if input("Delete? [y/N] ").strip().lower() not in ("y", "yes"):
            print("nothing deleted")
            return 1
    apply_reset(settings, plan)
    print("reset done: the next command starts from empty local data")
    return 0


def cmd_broker(settings: Settings, args: argparse.Namespace) -> int:
    from inventory.broker import ensure_local_broker, running_local_broker, stop_local_broker

    if args.action == "start":
        print(f"local broker at {ensure_local_broker(settings)}")
    elif args.action == "stop":
        print("stopped" if stop_local_broker(settings) else "no local broker running")
    else:
        address = running_local_broker(settings)
        print(f"local broker at {address}" if address else "no local broker running")
    return 0


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    from inventory.availability.server import serve_forever

    serve_forever(
        settings,
        on_ready=lambda url: print(f"availability API and storefront: {url}/", file=sys.stderr),
    )
    return 0


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    from inventory.demo import run_demo

    return run_demo(
        settings, events=args.events, seed=args.seed, workers=args.workers, serve=args.serve
    )


COMMANDS = {
    "demo": cmd_demo,
    "backfill": cmd_backfill,
    "generate": cmd_generate,
    "run": cmd_run,
    "schema": cmd_schema,
    "sql": cmd_sql,
    "broker": cmd_broker,
    "reset": cmd_reset,
    "dashboards": cmd_dashboards,
    "serve": cmd_serve,
}


# Commands that stop cleanly on SIGTERM/SIGINT (inventory.stopping), and those that run a
# dataflow, whose native stderr (Rust panics, librdkafka) goes to the log.
GRACEFUL = frozenset({"run", "serve", "backfill", "demo", "generate"})
DATAFLOW = frozenset({"run", "backfill", "demo"})
STOPPED = {
    "run": "the dataflow stopped at a batch boundary; `inventory run` resumes from the last "
    "snapshot",
    "demo": "the dataflow stopped at a batch boundary; `inventory run` resumes from the last "
    "snapshot",
    "backfill": "the backfill is partial; run it again to finish (a re-run is a replay)",
    "generate": "the messages produced so far were flushed",
    "serve": "the availability API shut down",
}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    with contextlib.ExitStack() as stack:
        if args.command in GRACEFUL:
            stack.enter_context(stop_on_signals(STOP))
        if args.command in DATAFLOW:
            stack.enter_context(native_stderr_to_log())
        try:
            code = COMMANDS[args.command](settings, args)
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            return 130
        except BackfillConflict as exc:
            print(f"error: backfill refused: {exc}", file=sys.stderr)
            return exc.exit_code
        except InventoryError as exc:  # the project's own errors carry their exit code
            logger.debug("command failed", exc_info=True)
            print(f"error: {exc}", file=sys.stderr)
            return exc.exit_code
        except Exception as exc:
            logger.debug("command failed", exc_info=True)
            print(f"error: {describe(exc)}", file=sys.stderr)
            return 1
    if STOP.requested:
        print(f"stopped on {signal_name(STOP.signal)}: {STOPPED[args.command]}", file=sys.stderr)
        return STOP.exit_code
    return code


if __name__ == "__main__":
    sys.exit(main())
