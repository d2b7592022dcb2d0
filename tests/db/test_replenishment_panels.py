"""The live board's replenishment row on what the flow wrote (real chDB; the source is
Bytewax's TestingSource): projected stock-outs with whether the next delivery comes
first, days of cover, and purchase orders late by the catalog's supplier.

The events are from 2023, so every projected date and every expected delivery is long
past by the clock: the checks do not depend on when the test runs.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
from bytewax.connectors.kafka import KafkaSourceMessage
from bytewax.testing import TestingSink, TestingSource, run_main

from dataflows.assembly import load_policy_book
from dataflows.flow import build_flow
from inventory.clickhouse.catalog import CatalogEntry, write_catalog
from inventory.clickhouse.client import connect
from inventory.clickhouse.migrations import apply_migrations
from inventory.core.times import format_ms
from inventory.dashboards import render
from inventory.dashboards.verify import context_for, run_query
from sinks.clickhouse import ClickHouseSink

DAY, HOUR = 86_400_000, 3_600_000
T0 = 1_700_006_400_000  # 2023-11-15 00:00 UTC
CATALOG = [
    # 10 a day from 100: 10 left after 9 days (position 10 <= 15), ordered with 10 days
    # of lead time: the stock runs out first.
    CatalogEntry("LATE", "Late", 1.0, 15, 60, lead_time_hours=240, supplier="Acme"),
    # The same demand, one hour of lead time: the delivery would come first.
    CatalogEntry("SOON", "Soon", 1.0, 15, 60, lead_time_hours=1, supplier="Bolt"),
    # The same demand, threshold 5: nothing on order at 10 left.
    CatalogEntry("BARE", "Bare", 1.0, 5, 60, lead_time_hours=1, supplier="Bolt"),
    # A slow seller with plenty: 1000 days of cover, not projected within 7 days.
    CatalogEntry("PLENTY", "Plenty", 1.0, 5, 60, supplier="Bolt"),
]


def stream() -> list[KafkaSourceMessage]:
    events: list[dict[str, Any]] = []
    sellers = [("LATE", 100, 10), ("SOON", 100, 10), ("BARE", 100, 10), ("PLENTY", 9_000, 1)]
    for sku, start, per_day in sellers:
        events.append({"event_type": "count", "sku": sku, "quantity": start, "at": T0})
        for day in range(9):
            at = T0 + day * DAY + HOUR
            events.append({"event_type": "sale", "sku": sku, "quantity": per_day, "at": at})
    events.sort(key=lambda e: e["at"])
    messages = []
    for n, e in enumerate(events):
        body = {
            "event_id": f"e{n}",
            "event_type": e["event_type"],
            "sku": e["sku"],
            "warehouse_id": "W",
            "quantity": e["quantity"],
            "occurred_at": format_ms(e["at"]),
        }
        messages.append(
            KafkaSourceMessage(
                key=f"W:{e['sku']}".encode(),
                value=orjson.dumps(body),
                topic="events",
                partition=0,
                offset=n,
                timestamp=(1, e["at"]),
            )
        )
    return messages


def ms(value: datetime) -> int:
    return round(value.replace(tzinfo=UTC).timestamp() * 1000)


def test_replenishment_row_reads_what_the_flow_wrote(make_settings) -> None:  # type: ignore[no-untyped-def]
    cfg = make_settings(clickhouse_database=f"repl_{uuid.uuid4().hex[:12]}", lateness_seconds=3600)
    client = connect(cfg)
    apply_migrations(client, cfg.clickhouse_database)
    write_catalog(client, cfg.clickhouse_database, CATALOG)
    flow = build_flow(
        cfg,
        "unused:9092",
        policies=load_policy_book(cfg),
        source=TestingSource(stream(), batch_size=5),
        rows_sink=ClickHouseSink(cfg),
        dlq_sink=TestingSink([]),
        alerts_sink=TestingSink([]),
        stock_sink=TestingSink([]),
        decisions_sink=TestingSink([]),
    )
    run_main(flow)
    try:
        ctx = context_for(client, cfg.clickhouse_database)
        specs = {spec.where: spec for spec in render.all_queries(cfg.clickhouse_database)}

        def rows(where: str) -> list[dict[str, Any]]:
            outcome = run_query(client, specs[where], ctx)
            assert outcome.ok, outcome.error
            return [dict(zip(outcome.columns, row, strict=True)) for row in outcome.rows]

        projected = {row["sku"]: row for row in rows("Projected stock-outs")}
        assert list(projected) == ["BARE", "LATE", "SOON"]  # soonest first, then by SKU
        assert {sku: row["covered"] for sku, row in projected.items()} == {
            "LATE": "no",
            "SOON": "yes",
            "BARE": "nothing on order",
        }
        late = projected["LATE"]
        # 8 closed days of 10 units (day 9 is open): 10 a day, 10 left: a day of cover.
        assert (late["on_hand"], late["on_order"], late["demand_per_day"]) == (10, 50, 10.0)
        assert late["days_of_cover"] == 1.0
        last_sale = T0 + 8 * DAY + HOUR  # 10 left: a day of cover, the order 10 days out
        assert ms(late["projected_stockout_at"]) == last_sale + DAY
        assert ms(late["next_expected_at"]) == last_sale + 10 * DAY
        assert ms(projected["SOON"]["next_expected_at"]) == last_sale + HOUR
        assert (late["reorder_point"], late["low_stock_threshold"], late["reorder_basis"]) == (
            15,
            15,
            "static",
        )

        [summary] = rows("Replenishment")
        assert summary == {
            "under_7_days_of_cover": 3,
            "stockouts_within_7_days": 3,
            "late_purchase_orders": 2,  # LATE's and SOON's, long past by the clock
            "demand_driven": 0,
            "forecast_driven": 0,
        }
        by_supplier = {row["supplier"]: row for row in rows("Late by supplier")}
        assert {s: (r["late_orders"], r["late_units"]) for s, r in by_supplier.items()} == {
            "Acme": (1, 50),
            "Bolt": (1, 50),
        }
    finally:
        client.command(f"DROP DATABASE {cfg.clickhouse_database}")
        client.close()
