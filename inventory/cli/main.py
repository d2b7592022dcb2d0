"""``inventory`` command line: demo, generate, run, backfill, schema, sql, broker,
dashboards, serve, reset (the arguments: :mod:`inventory.cli.parser`).

Exit codes: 0 ok, 1 runtime failure, 2 bad configuration or usage (or a refused
backfill), 130 after SIGINT, 141 when the reader of the output went away.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from inventory.app.backfill import BackfillConflict
from inventory.cli.dashboard_commands import cmd_dashboards
from inventory.cli.generator_commands import cmd_generate, cmd_supplier
from inventory.cli.parser import build_parser
from inventory.core.errors import InventoryError, describe
from inventory.core.settings import Settings, SettingsError, load_settings
from inventory.runtime.native_stderr import native_stderr_to_log
from inventory.runtime.stopping import STOP, signal_name, stop_on_signals

logger = logging.getLogger("inventory")


class RowCounter(Counter[str]):
    """Rows written per table; ``report`` prints the ``rows written:`` line on stderr."""

    def add(self, table: str, rows: int) -> None:
        self[table] += rows

    def report(self) -> None:
        summary = ", ".join(f"{table}={rows}" for table, rows in sorted(self.items()))
        print(f"rows written: {summary or 'none'}", file=sys.stderr)


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    from inventory.app.progress import ProgressReporter
    from inventory.app.run import run_inventory
    from inventory.clickhouse.client import connect, database_name
    from inventory.clickhouse.migrations import apply_migrations
    from inventory.kafka.local_broker import brokers_for
    from inventory.kafka.topics import ensure_topics

    brokers = brokers_for(settings)
    ensure_topics(settings, brokers)
    client = connect(settings)
    apply_migrations(client, database_name(settings))
    client.close()
    written = RowCounter()

    with contextlib.ExitStack() as stack:
        stack.enter_context(
            ProgressReporter(written, lambda line: print(line, file=sys.stderr, flush=True))
        )
        if args.serve:
            from inventory.availability.server import AvailabilityService

            service = stack.enter_context(AvailabilityService(settings))
            print(f"availability API and storefront: {service.server.url}/", file=sys.stderr)
        try:
            if args.processes > 1:
                from inventory.app.cluster import run_local_cluster

                run_local_cluster(
                    settings,
                    brokers,
                    processes=args.processes,
                    workers=args.workers,
                    exit_at_end=args.exit_at_end,
                    recovery=not args.no_recovery,
                    on_write=written.add,
                )
            else:
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
    from dataflows.sources.files import progress_total
    from generators.publish import progress_bar
    from inventory.app.backfill import run_backfill, run_topic_backfill
    from inventory.clickhouse.client import connect, database_name
    from inventory.clickhouse.migrations import apply_migrations
    from inventory.kafka.local_broker import brokers_for

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
    from inventory.clickhouse.client import connect, database_name
    from inventory.clickhouse.migrations import apply_migrations

    client = connect(settings)
    applied = apply_migrations(client, database_name(settings))
    client.close()
    names = ", ".join(f"{m.version:04d}_{m.name}" for m in applied) or "nothing (up to date)"
    print(f"schema apply: applied {names}")
    return 0


def cmd_sql(settings: Settings, args: argparse.Namespace) -> int:
    from inventory.cli.sql_output import split_statements, write_result
    from inventory.clickhouse.client import connect, database_name

    query = args.query
    if query.startswith("@"):
        query = Path(query[1:]).read_text("utf-8")
    statements = split_statements(query)
    if not statements:
        print("error: no SQL statement given", file=sys.stderr)
        return 2
    client = connect(settings, database=database_name(settings))
    try:
        for n, statement in enumerate(statements):
            result = client.query(statement)
            if n and args.format != "json":
                print()
            write_result(result.column_names, result.result_rows, args.format, sys.stdout)
    finally:
        client.close()
    return 0


def cmd_reset(settings: Settings, args: argparse.Namespace) -> int:
    from inventory.app.reset import apply_reset, plan_reset

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
    from inventory.kafka.local_broker import (
        ensure_local_broker,
        running_local_broker,
        stop_local_broker,
    )

    if args.action == "start":
        print(f"local broker at {ensure_local_broker(settings)}")
    elif args.action == "stop":
        print("stopped" if stop_local_broker(settings) else "no local broker running")
    else:
        address = running_local_broker(settings)
        print(f"local broker at {address}" if address else "no local broker running")
        return 0 if address else 1
    return 0


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    from inventory.availability.server import serve_forever

    serve_forever(
        settings,
        on_ready=lambda url: print(f"availability API and storefront: {url}/", file=sys.stderr),
    )
    return 0


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    from inventory.app.demo import run_demo

    return run_demo(
        settings, events=args.events, seed=args.seed, workers=args.workers, serve=args.serve
    )


COMMANDS = {
    "demo": cmd_demo,
    "backfill": cmd_backfill,
    "generate": cmd_generate,
    "supplier": cmd_supplier,
    "run": cmd_run,
    "schema": cmd_schema,
    "sql": cmd_sql,
    "broker": cmd_broker,
    "reset": cmd_reset,
    "dashboards": cmd_dashboards,
    "serve": cmd_serve,
}


# Commands that stop cleanly on SIGTERM/SIGINT (inventory.runtime.stopping), and those that run a
# dataflow, whose native stderr (Rust panics, librdkafka) goes to the log.
GRACEFUL = frozenset({"run", "serve", "backfill", "demo", "generate", "supplier"})
DATAFLOW = frozenset({"run", "backfill", "demo"})
STOPPED = {
    "run": "the dataflow stopped at a batch boundary; `inventory run` resumes from the last "
    "snapshot",
    "demo": "the dataflow stopped at a batch boundary; `inventory run` resumes from the last "
    "snapshot",
    "backfill": "the backfill is partial; run it again to finish (a re-run is a replay)",
    "generate": "the messages produced so far were flushed",
    "supplier": "deliveries so far were flushed; pending orders are read again next time",
    "serve": "the availability API shut down",
}


NOISY_LOGGERS = ("urllib3", "clickhouse_connect")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.log_level != "DEBUG":  # libraries' retry chatter: the error line says it all
        for noisy in NOISY_LOGGERS:
            logging.getLogger(noisy).setLevel(logging.ERROR)
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
        except BrokenPipeError:  # `inventory generate --stdout | head`: the reader is done
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 141
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
