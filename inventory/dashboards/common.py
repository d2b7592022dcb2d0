"""Pieces the three dashboards share: the board wrapper, template variables, styling.

Every dashboard has a hidden constant variable ``database`` (default ``inventory``, the
contract's database), so all SQL reads ``${database}.<view>`` and the same JSON serves
another database by changing one value.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.builders import prometheus
from grafana_foundation_sdk.builders.common import StackingConfig
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as model
from grafana_foundation_sdk.models.common import TimeZoneUtc

from inventory.dashboards.datasource import PROMETHEUS_UID
from inventory.dashboards.query import DATASOURCE, QueryLog

PROMETHEUS = common.DataSourceRef(type_val="prometheus", uid=PROMETHEUS_UID)

DATABASE = "inventory"
TAGS = ["inventory", "generated"]


class Board:
    """A dashboard under construction: numbers its panels and logs their queries."""

    def __init__(self, uid: str, title: str, description: str) -> None:
        self.log = QueryLog()
        self.promql_log: list[str] = []
        self._next_id = 1
        self.builder = (
            dash.Dashboard(title)
            .uid(uid)
            .description(description)
            .tags(TAGS)
            .timezone(TimeZoneUtc)
            .editable()
            .tooltip(model.DashboardCursorSync.CROSSHAIR)
            .with_variable(database_variable())
        )

    def row(self, title: str) -> None:
        self.builder.with_row(dash.Row(title).id(self._take_id()))

    def add(
        self,
        panel: cogbuilder.Builder[model.Panel],
        datasource: common.DataSourceRef = DATASOURCE,
    ) -> None:
        built = panel.build()
        built.id_val = self._take_id()
        built.datasource = datasource
        self.builder.with_panel(_Built(built))

    def promql(self, expr: str, legend: str, ref_id: str = "A") -> prometheus.Dataquery:
        """A Prometheus target; the expression is recorded in :attr:`promql_log`."""
        self.promql_log.append(expr)
        return (
            prometheus.Dataquery()
            .ref_id(ref_id)
            .datasource(PROMETHEUS)
            .expr(expr)
            .legend_format(legend)
            .range()
        )

    def _take_id(self) -> int:
        taken = self._next_id
        self._next_id += 1
        return taken


class _Built(cogbuilder.Builder[model.Panel]):
    def __init__(self, panel: model.Panel) -> None:
        self._panel = panel

    def build(self) -> model.Panel:
        return self._panel


def database_variable() -> dash.ConstantVariable:
    return (
        dash.ConstantVariable("database")
        .label("Database")
        .description("ClickHouse database holding the inventory tables")
        .value(DATABASE)
    )


FEW_LEFT = 5  # INVENTORY_AVAILABILITY_FEW_LEFT's default; publish sets the configured one


def few_left_variable() -> dash.ConstantVariable:
    """The "Only N left" limit of the shared availability rule (docs/semantics.md)."""
    return (
        dash.ConstantVariable("few_left")
        .label("Few left")
        .description("INVENTORY_AVAILABILITY_FEW_LEFT: up to this many units 'Only N left'")
        .value(str(FEW_LEFT))
    )


def warehouse_variable(log: QueryLog) -> dash.QueryVariable:
    """Multi-select of warehouses, All by default."""
    sql = log.variable(
        "variable warehouse",
        "SELECT DISTINCT warehouse_id FROM ${database}.stock_levels ORDER BY warehouse_id",
        "warehouse_id",
    )
    return (
        dash.QueryVariable("warehouse")
        .label("Warehouse")
        .datasource(DATASOURCE)
        .query(sql)
        .definition(sql)
        .multi(True)
        .include_all(True)
        .current(model.VariableOption(selected=True, text=["All"], value=["$__all"]))
        .refresh(model.VariableRefresh.ON_DASHBOARD_LOAD)
        .sort(model.VariableSort.ALPHABETICAL_ASC)
    )


def sku_variable(log: QueryLog) -> dash.QueryVariable:
    """One SKU, chosen among those stocked in the picked warehouses."""
    sql = log.variable(
        "variable sku",
        "SELECT DISTINCT sku FROM ${database}.stock_levels WHERE {warehouses} ORDER BY sku",
        "sku",
    )
    return (
        dash.QueryVariable("sku")
        .label("SKU")
        .datasource(DATASOURCE)
        .query(sql)
        .definition(sql)
        .refresh(model.VariableRefresh.ON_DASHBOARD_LOAD)
        .sort(model.VariableSort.ALPHABETICAL_ASC)
    )


def thresholds(*steps: tuple[float | None, str]) -> dash.ThresholdsConfig:
    """Absolute thresholds; the first step's value is None (the base color)."""
    return (
        dash.ThresholdsConfig()
        .mode(model.ThresholdsMode.ABSOLUTE)
        .steps([model.Threshold(value=value, color=color) for value, color in steps])
    )


def mapping_override(colors: dict[str, tuple[str, str]]) -> model.DynamicConfigValue:
    """Field override: each text value shown as ``display`` in ``color``."""
    options = {
        value: model.ValueMappingResult(text=display, color=color, index=index)
        for index, (value, (display, color)) in enumerate(colors.items())
    }
    return model.DynamicConfigValue(id_val="mappings", value=[model.ValueMap(options=options)])


def threshold_override(*steps: tuple[float | None, str]) -> model.DynamicConfigValue:
    """Field override: color by absolute thresholds."""
    return model.DynamicConfigValue(id_val="thresholds", value=thresholds(*steps).build())


def colored_cells() -> list[model.DynamicConfigValue]:
    """Field override: the cell background takes the mapped color."""
    return [
        model.DynamicConfigValue(
            id_val="custom.cellOptions", value={"type": "color-background", "mode": "basic"}
        )
    ]


def config(key: str, value: object) -> model.DynamicConfigValue:
    """One field-config property for an override (``unit``, ``decimals``, ``custom.*``)."""
    return model.DynamicConfigValue(id_val=key, value=value)


def fixed_color(color: str) -> dash.FieldColor:
    return dash.FieldColor().mode(model.FieldColorModeId.FIXED).fixed_color(color)


def stacked() -> StackingConfig:
    return StackingConfig().mode(common.StackingMode.NORMAL)
