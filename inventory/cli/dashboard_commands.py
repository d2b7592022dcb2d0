"""``inventory dashboards generate|verify|publish``: Grafana as code."""

from __future__ import annotations

import sys

import click
from rich.console import Console
from rich.table import Table

from inventory.cli.declare import command
from inventory.core.settings import Settings


@command(
    "dashboards",
    "Grafana dashboards and alert rules",
    details="ACTION generate: the files under grafana/; verify: run every query against "
    "ClickHouse; publish: to a running Grafana.",
)
@click.argument("action", type=click.Choice(["generate", "verify", "publish"]))
@click.option("--check", is_flag=True, help="generate: fail if the files are out of date")
@click.option("--days", type=float, default=7.0, help="verify: time range of the queries, in days")
def dashboards(settings: Settings, *, action: str, check: bool, days: float) -> int:
    if action == "generate":
        return _generate(check=check)
    if action == "verify":
        return _verify(settings, days)
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

    report = publish(settings)  # a SettingsError exits 2, naming the variable
    print(
        f"published to Grafana {report.grafana_version}: datasource {report.datasource}, "
        f"dashboards {', '.join(report.dashboards)}, {report.alert_rules} alert rules, "
        f"contact point {report.contact_point}"
    )
    return 0


COMMANDS = (dashboards,)
