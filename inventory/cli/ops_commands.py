"""``inventory schema``, ``sql``, ``serve``, ``reset``, ``broker`` and ``settings``: the
operator's commands."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from inventory.cli.declare import command, fail
from inventory.cli.flow_commands import say
from inventory.core.settings import Settings


@command("schema", "ClickHouse schema: versioned, idempotent migrations")
@click.argument("action", type=click.Choice(["apply"]))
def schema(settings: Settings, *, action: str) -> int:
    from inventory.clickhouse.migrations import migrate

    applied = migrate(settings)
    names = ", ".join(f"{m.version:04d}_{m.name}" for m in applied) or "nothing (up to date)"
    print(f"schema apply: applied {names}")
    return 0


@command(
    "sql",
    "run SQL on the configured ClickHouse",
    details="QUERY is SQL text (several statements: separated by ;) or @file.sql. A "
    "statement ending in FORMAT <name> (Vertical, JSONEachRow, CSV, ...) prints ClickHouse's "
    "own output.",
)
@click.argument("query")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "tsv", "csv", "json"]),
    default="table",
    help="table (for reading; wraps to the terminal), or tsv, csv, json (for programs); "
    "a statement ending in FORMAT <name> prints ClickHouse's own output instead",
)
def sql(settings: Settings, *, query: str, fmt: str) -> int:
    from inventory.cli.sql_output import own_format, split_statements, write_result
    from inventory.clickhouse.client import EmbeddedClickHouseInUse, connect, database_name

    text = Path(query[1:]).read_text("utf-8") if query.startswith("@") else query
    statements = split_statements(text)
    if not statements:
        return fail("no SQL statement given")
    try:
        client = connect(settings, database=database_name(settings))
    except EmbeddedClickHouseInUse as exc:
        return fail(
            f"{exc}. Meanwhile, `inventory run --serve` answers availability over "
            "HTTP and /metrics counts the rows written; a stopped flow resumes from "
            "its snapshot",
            1,
        )
    try:
        for n, statement in enumerate(statements):
            if n and fmt != "json":
                print()
            if own_format(statement):
                sys.stdout.flush()
                sys.stdout.buffer.write(client.raw_query(statement))
                sys.stdout.buffer.flush()
                continue
            result = client.query(statement)
            write_result(result.column_names, result.result_rows, fmt, sys.stdout)
    finally:
        client.close()
    return 0


@command(
    "serve",
    "availability API and storefront over the configured ClickHouse (a server, or a "
    "chdb:// path no other process uses)",
    stopped="the availability API shut down",
)
def serve(settings: Settings) -> int:
    from inventory.availability.server import serve_forever

    serve_forever(settings, on_ready=lambda url: say(f"availability API and storefront: {url}/"))
    return 0


@command(
    "reset",
    "delete the local data: embedded ClickHouse database, recovery state, local broker "
    "topics (asks first)",
)
@click.option("--yes", is_flag=True, help="do not ask")
def reset(settings: Settings, *, yes: bool) -> int:
    from inventory.app.reset import apply_reset, plan_reset

    plan = plan_reset(settings)
    print("inventory reset will:" if not plan.empty else "inventory reset: nothing to delete")
    for line in plan.lines(settings):
        print(f"  {line}")
    if plan.empty:
        return 0
    if not yes:
        if not sys.stdin.isatty():
            return fail("reset asks first: run it in a terminal, or pass --yes")
        if input("Delete? [y/N] ").strip().lower() not in ("y", "yes"):
            print("nothing deleted")
            return 1
    apply_reset(settings, plan)
    print("reset done: the next command starts from empty local data")
    return 0


@command(
    "broker",
    "the local embedded broker",
    details="ACTION start, stop or status (status exits 1 when no local broker runs).",
)
@click.argument("action", type=click.Choice(["start", "stop", "status"]))
def broker(settings: Settings, *, action: str) -> int:
    from inventory.kafka.local_broker import (
        ensure_local_broker,
        running_local_broker,
        stop_local_broker,
    )

    if action == "start":
        print(f"local broker at {ensure_local_broker(settings)}")
    elif action == "stop":
        print("stopped" if stop_local_broker(settings) else "no local broker running")
    else:
        address = running_local_broker(settings)
        print(f"local broker at {address}" if address else "no local broker running")
        return 0 if address else 1
    return 0


@command(
    "settings",
    "the settings in effect (secrets masked), or their documentation as Markdown",
)
@click.option(
    "--markdown", is_flag=True, help="print the README's table of every INVENTORY_ variable"
)
@click.option(
    "--readme",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    default=None,
    help="rewrite the settings table of this README in place",
)
def settings_command(settings: Settings, *, markdown: bool, readme: Path | None) -> int:
    from inventory.core.settings import ENV_PREFIX
    from inventory.core.settings.table import settings_markdown, with_table

    if readme is not None:
        readme.write_text(with_table(readme.read_text("utf-8")), "utf-8")
        print(f"updated the settings table in {readme}")
    elif markdown:
        print(settings_markdown(), end="")
    else:
        for name, value in sorted(settings.safe_summary().items()):  # secrets: ********
            print(f"{ENV_PREFIX}{name.upper()}={'' if value is None else value}")
    return 0


COMMANDS = (schema, sql, serve, reset, broker, settings_command)
