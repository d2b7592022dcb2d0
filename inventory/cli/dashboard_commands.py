"""``inventory dashboards generate|verify|publish``: the dashboards' command line."""

from __future__ import annotations

import argparse
import sys

from rich.console import Console
from rich.table import Table

from inventory.core.settings import Settings, SettingsError


def add_parser(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    formatter: type[argparse.HelpFormatter],
) -> None:
    summary = "Grafana dashboards and alert rules"
    parser = sub.add_parser(
        "dashboards", help=summary, description=summary, formatter_class=formatter
    )
    parser.add_argument(
        "action",
        choices=["generate", "verify", "publish"],
        help="generate the files under grafana/; verify every query against ClickHouse; "
        "publish to a running Grafana",
    )
    parser.add_argument(
        "--check", action="store_true", help="generate: fail if the files are out of date"
    )
    parser.add_argument(
        "--days", type=float, default=7.0, help="verify: time range of the queries, in days"
    )


def cmd_dashboards(settings: Settings, args: argparse.Namespace) -> int:
    if args.action == "generate":
        return _generate(check=args.check)
    if args.action == "verify":
        return _verify(settings, args.days)
    return _publish(settings)


def _generate(*, check: bool) -> int:
    from inventory.dashboards import render

    if check:
        stale = render.stale()
        for path in stale:
            print(f"out of date: {path}", file=sys.stderr)
        if stale:
            print("run `inventory dashboards generate`", file=sys.stderr)
        return 1 if stale else 0
    written = render.write()
    print("\n".join(f"wrote {path}" for path in written) or "up to date")
    return 0


def _verify(settings: Settings, days: float) -> int:
    from inventory.clickhouse.client import connect, database_name
    from inventory.dashboards.verify import context_for, verify_all

    client = connect(settings)
    try:
        database = database_name(settings)
        outcomes = verify_all(client, database, context_for(client, database, days))
    finally:
        client.close()
    table = Table("query", "rows", "result")
    for outcome in outcomes:
        if outcome.error:
            result = f"[red]{outcome.error}[/red]"
        elif not outcome.ok:
            result = f"[red]columns {outcome.columns}, panel reads {outcome.spec.columns}[/red]"
        else:
            result = "ok"
        table.add_row(outcome.spec.where, str(len(outcome.rows)), result)
    Console().print(table)
    failed = sum(not o.ok for o in outcomes)
    print(f"{len(outcomes) - failed} of {len(outcomes)} queries ok")
    return 1 if failed else 0


def _publish(settings: Settings) -> int:
    from inventory.dashboards.publish import publish

    try:
        report = publish(settings)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(
        f"published to Grafana {report.grafana_version}: datasource {report.datasource}, "
        f"dashboards {', '.join(report.dashboards)}, {report.alert_rules} alert rules, "
        f"contact point {report.contact_point}"
    )
    return 0
