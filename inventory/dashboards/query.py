"""ClickHouse queries for dashboards and alert rules, and the record each one leaves.

grafana-foundation-sdk has no builder for the ClickHouse plugin
(``grafana-clickhouse-datasource``), so this module adds one in the SDK's own shape: a
``Dataquery`` model that serializes to the plugin's raw-SQL target, and a builder for it.

Every query built here is recorded as a :class:`QuerySpec` (SQL, expected columns), so the
tests run each panel's SQL against ClickHouse with the Grafana macros expanded.
"""

from __future__ import annotations

import textwrap
import typing
from dataclasses import dataclass

from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import variants as cogvariants
from grafana_foundation_sdk.models.common import DataSourceRef

PLUGIN_ID = "grafana-clickhouse-datasource"
# The plugin's newest release (tag v4.20.0 and package.json of grafana/clickhouse-datasource;
# its CHANGELOG lists nothing newer but "Unreleased").
PLUGIN_VERSION = "4.20.0"
DATASOURCE_UID = "inventory-clickhouse"
DATASOURCE = DataSourceRef(type_val=PLUGIN_ID, uid=DATASOURCE_UID)

Format = typing.Literal["table", "timeseries"]
# The plugin's wire values: its QueryType enum (src/types/queryBuilder.ts: Table = 'table',
# TimeSeries = 'timeseries'), and sqlds' FormatOptionTimeSeries = 0, FormatOptionTable = 1
# for the backend's frame conversion.
_QUERY_TYPES: dict[str, str] = {"timeseries": "timeseries", "table": "table"}
_FORMAT_CODES: dict[str, int] = {"timeseries": 0, "table": 1}

# Shorthand expanded when a query is logged: ``{warehouses}`` = the warehouses picked in the
# ``warehouse`` variable (All: no filter).
SNIPPETS = {
    "{warehouses}": "$__conditionalAll(warehouse_id IN (${warehouse:singlequote}), $warehouse)",
}


@dataclass(frozen=True)
class QuerySpec:
    """One SQL query of a dashboard, a variable or an alert rule, as the tests check it.

    ``columns`` are the result's column names in order, as the panel uses them;
    ``may_be_empty`` marks queries that legitimately return nothing on healthy data
    (e.g. reconciliation mismatches).
    """

    where: str
    sql: str
    columns: tuple[str, ...]
    format: Format = "table"
    may_be_empty: bool = False


class ClickHouseQuery(cogvariants.Dataquery):
    """The raw-SQL target of the ClickHouse plugin (v4)."""

    def __init__(self, ref_id: str = "A", raw_sql: str = "", fmt: Format = "table") -> None:
        self.ref_id = ref_id
        self.raw_sql = raw_sql
        self.format = fmt

    def to_json(self) -> dict[str, object]:
        return {
            "refId": self.ref_id,
            "datasource": DATASOURCE,
            "editorType": "sql",
            "queryType": _QUERY_TYPES[self.format],
            "format": _FORMAT_CODES[self.format],
            "pluginVersion": PLUGIN_VERSION,
            "rawSql": self.raw_sql,
        }


class ClickHouseQueryBuilder(cogbuilder.Builder[ClickHouseQuery]):
    """Builder for :class:`ClickHouseQuery`, usable wherever the SDK takes a data query."""

    def __init__(self, spec: QuerySpec, ref_id: str = "A") -> None:
        self._internal = ClickHouseQuery(ref_id, spec.sql, spec.format)

    def build(self) -> ClickHouseQuery:
        return self._internal


class QueryLog:
    """Collects the :class:`QuerySpec` of everything one document builds."""

    def __init__(self) -> None:
        self.specs: list[QuerySpec] = []

    def target(
        self,
        where: str,
        sql: str,
        columns: typing.Sequence[str],
        fmt: Format = "table",
        *,
        may_be_empty: bool = False,
        ref_id: str = "A",
    ) -> ClickHouseQueryBuilder:
        spec = QuerySpec(where, dedent(sql), tuple(columns), fmt, may_be_empty)
        self.specs.append(spec)
        return ClickHouseQueryBuilder(spec, ref_id)

    def variable(self, where: str, sql: str, column: str) -> str:
        """Record a template variable's query (one column of values) and return its SQL."""
        spec = QuerySpec(where, dedent(sql), (column,), "table")
        self.specs.append(spec)
        return spec.sql


def dedent(sql: str) -> str:
    """SQL as stored in the JSON: common indentation and blank edges removed, snippets in."""
    text = textwrap.dedent(sql).strip()
    for token, snippet in SNIPPETS.items():
        text = text.replace(token, snippet)
    return text
