"""Grafana-managed alert rules on the inventory data, built with grafana-foundation-sdk.

Each rule is ClickHouse SQL (query ``A``) reduced to one number per series (``B``, last
value) and compared with a threshold (``C``, the condition). A SQL result with a string
column gives one alert instance per value (e.g. per warehouse).

Rules (folder "Inventory", group "inventory", evaluated every minute):

- ``inventory-low-stock``: items at or below their low-stock threshold, per warehouse,
  > 0 for 5 minutes (warning);
- ``inventory-pipeline-stalled``: no event ingested for more than 5 minutes, or none in a
  day (critical; no data counts as alerting);
- ``inventory-dead-letters``: messages dead-lettered in the last 5 minutes (warning);
- ``inventory-reorders-overdue``: purchase orders overdue (flagged by the stream, or more
  than 24 h past expected by the clock), per warehouse (warning).
"""

from __future__ import annotations

import typing
from dataclasses import dataclass

from grafana_foundation_sdk.builders import alerting, expr
from grafana_foundation_sdk.models.alerting import RelativeTimeRange
from grafana_foundation_sdk.models.common import DataSourceRef

from inventory.dashboards.common import DATABASE
from inventory.dashboards.query import DATASOURCE_UID, QueryLog

FOLDER_UID = "inventory"
FOLDER_TITLE = "Inventory"
GROUP = "inventory"
INTERVAL = "1m"
_EXPR = DataSourceRef(type_val="__expr__", uid="__expr__")
# Keys of the HTTP API's rule that the file provisioning format does not have.
_API_ONLY = ("folderUID", "ruleGroup", "orgID")


@dataclass(frozen=True)
class RuleSpec:
    uid: str
    title: str
    sql: str
    columns: tuple[str, ...]
    above: float
    pending: str
    severity: str
    summary: str
    no_data: typing.Literal["OK", "Alerting", "NoData", "KeepLast"] = "OK"


def rule_specs() -> list[RuleSpec]:
    """The rules; ``{database}`` in their SQL is filled in by :func:`build_rules`."""
    return [
        RuleSpec(
            uid="inventory-low-stock",
            title="Items low or out of stock",
            sql="""
                SELECT warehouse_id, countIf(status != 'ok') AS low_or_out
                FROM {database}.current_stock
                GROUP BY warehouse_id
                ORDER BY warehouse_id
                """,
            columns=("warehouse_id", "low_or_out"),
            above=0,
            pending="5m",
            severity="warning",
            summary="{{ $values.B }} items low or out of stock in {{ $labels.warehouse_id }}",
        ),
        RuleSpec(
            uid="inventory-pipeline-stalled",
            title="Inventory pipeline stalled",
            sql="""
                SELECT dateDiff('second', max(ingested_at), now64(3)) AS seconds_since_last_event
                FROM {database}.events
                WHERE ingested_at > now() - INTERVAL 1 DAY
                """,
            columns=("seconds_since_last_event",),
            above=300,
            pending="2m",
            severity="critical",
            summary="No inventory event ingested for {{ $values.B }} s",
            no_data="Alerting",
        ),
        RuleSpec(
            uid="inventory-dead-letters",
            title="Inventory events dead-lettered",
            sql="""
                SELECT count() AS dead_letters
                FROM {database}.dead_letters
                WHERE received_at > now() - INTERVAL 5 MINUTE
                """,
            columns=("dead_letters",),
            above=0,
            pending="0s",
            severity="warning",
            summary="{{ $values.B }} messages dead-lettered in 5 minutes: see Pipeline health",
        ),
        RuleSpec(
            uid="inventory-reorders-overdue",
            title="Purchase orders overdue",
            sql="""
                SELECT warehouse_id, count() AS overdue_orders
                FROM {database}.overdue_purchase_orders
                GROUP BY warehouse_id
                ORDER BY warehouse_id
                """,
            columns=("warehouse_id", "overdue_orders"),
            above=0,
            pending="0s",
            severity="warning",
            summary="{{ $values.B }} purchase orders overdue in {{ $labels.warehouse_id }}: "
            "see Live stock, Open purchase orders",
        ),
        RuleSpec(
            uid="inventory-oversold",
            title="Items oversold",
            sql="""
                SELECT warehouse_id,
                       countIf(kind = 'oversell' AND raised_at > now() - INTERVAL 15 MINUTE)
                           AS oversells
                FROM {database}.alerts
                GROUP BY warehouse_id
                ORDER BY warehouse_id
                """,
            columns=("warehouse_id", "oversells"),
            above=0,
            pending="0s",
            severity="warning",
            summary="{{ $values.B }} sales beyond what was available in "
            "{{ $labels.warehouse_id }} in 15 minutes (sales from systems that do not ask "
            "first): see Live stock, Holds and oversells",
        ),
    ]


def build_rules(database: str = DATABASE) -> tuple[list[dict[str, object]], QueryLog]:
    """The rules as the HTTP API takes them, and the log of their SQL.

    ``database`` is a validated identifier (settings) or the contract's ``inventory``.
    """
    log = QueryLog()
    rules = []
    for spec in rule_specs():
        sql = spec.sql.replace("{database}", database)
        target = log.target(f"alert rule {spec.uid}", sql, spec.columns)
        rule = (
            alerting.Rule(spec.title)
            .uid(spec.uid)
            .folder_uid(FOLDER_UID)
            .rule_group(GROUP)
            .org_id(1)
            .condition("C")
            .for_val(spec.pending)
            .no_data_state(spec.no_data)
            .exec_err_state("Error")
            .labels({"severity": spec.severity, "team": "inventory"})
            .annotations({"summary": spec.summary})
            .with_query(
                alerting.Query("A")
                .datasource_uid(DATASOURCE_UID)
                .relative_time_range(RelativeTimeRange(from_val=600, to=0))
                .model(target)
            )
            .with_query(
                alerting.Query("B")
                .datasource_uid("__expr__")
                .model(
                    expr.TypeReduce().ref_id("B").datasource(_EXPR).expression("A").reducer("last")
                )
            )
            .with_query(
                alerting.Query("C")
                .datasource_uid("__expr__")
                .model(
                    expr.TypeThreshold()
                    .ref_id("C")
                    .datasource(_EXPR)
                    .expression("B")
                    .conditions([_above(spec.above)])
                )
            )
        )
        rules.append(_plain(rule.build().to_json()))
    return rules, log


def provisioning_document(rules: list[dict[str, object]]) -> dict[str, object]:
    """The alerting provisioning file (``grafana/provisioning/alerting``) for these rules."""
    file_rules = [{k: v for k, v in rule.items() if k not in _API_ONLY} for rule in rules]
    return {
        "apiVersion": 1,
        "groups": [
            {
                "orgId": 1,
                "name": GROUP,
                "folder": FOLDER_TITLE,
                "interval": INTERVAL,
                "rules": file_rules,
            }
        ],
    }


def rule_group(rules: list[dict[str, object]]) -> dict[str, object]:
    """The body of ``PUT /api/v1/provisioning/folder/{folder}/rule-groups/{group}``."""
    return {"title": GROUP, "folderUid": FOLDER_UID, "interval": 60, "rules": rules}


def _above(value: float) -> expr.ExprTypeThresholdConditions:
    return expr.ExprTypeThresholdConditions().evaluator(
        expr.ExprTypeThresholdConditionsEvaluator().params([value]).type("gt")
    )


def _plain(value: object) -> dict[str, object]:
    """SDK objects -> plain JSON types (dicts, lists, strings, numbers)."""
    import json

    from grafana_foundation_sdk.cog.encoder import JSONEncoder

    loaded: dict[str, object] = json.loads(json.dumps(value, cls=JSONEncoder))
    return loaded
