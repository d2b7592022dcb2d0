"""Run every dashboard, variable and alert-rule query against ClickHouse, as Grafana would.

Used by ``inventory dashboards verify`` (after a schema change, against the real server)
and by the tests. A query passes when it runs and returns the columns its panel reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from clickhouse_connect.driver.client import Client

from inventory.dashboards.common import FEW_LEFT
from inventory.dashboards.macros import ALL, QueryContext, expand
from inventory.dashboards.query import QuerySpec
from inventory.dashboards.render import all_queries


@dataclass(frozen=True)
class Outcome:
    spec: QuerySpec
    columns: tuple[str, ...]
    types: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error and self.columns == self.spec.columns


def context_for(
    client: Client, database: str, days: float = 7.0, warehouse: str | list[str] = ALL
) -> QueryContext:
    """The last ``days`` days, every warehouse (or ``warehouse``), the busiest SKU."""
    warehouses = [
        row[0]
        for row in client.query(
            f"SELECT DISTINCT warehouse_id FROM {database}.stock_levels ORDER BY 1"  # noqa: S608
        ).result_rows
    ]
    busiest = client.query(
        f"SELECT sku FROM {database}.stock_levels GROUP BY sku "  # noqa: S608
        "ORDER BY max(version) DESC, sku LIMIT 1"
    ).result_rows
    now = datetime.now(UTC)
    return QueryContext(
        time_from=now - timedelta(days=days),
        time_to=now,
        interval_seconds=max(1.0, days * 86400 / 1000),
        variables={
            "database": database,
            "warehouse": warehouse,
            "sku": busiest[0][0] if busiest else "",
            "few_left": str(FEW_LEFT),
        },
        options={"warehouse": warehouses},
    )


def run_query(client: Client, spec: QuerySpec, ctx: QueryContext) -> Outcome:
    """Expand and run one query; errors are reported in the outcome, not raised."""
    try:
        sql = expand(spec.sql, ctx)
        described = client.query(f"DESCRIBE ({sql})").result_rows
        rows = [tuple(row) for row in client.query(sql).result_rows]
    except Exception as exc:  # a report of every failing query beats stopping at the first
        return Outcome(spec, (), (), [], f"{type(exc).__name__}: {exc}")
    return Outcome(spec, tuple(r[0] for r in described), tuple(r[1] for r in described), rows)


def verify_all(client: Client, database: str, ctx: QueryContext) -> list[Outcome]:
    return [run_query(client, spec, ctx) for spec in all_queries(database)]
