"""The purchase-order views analysts and dashboards read, on what the flow wrote
(real chDB; the source is Bytewax's TestingSource)."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from bytewax.connectors.kafka import KafkaSourceMessage
from bytewax.testing import TestingSink, TestingSource, run_main

from dataflows.flow import build_flow
from inventory.clickhouse.client import connect
from inventory.clickhouse.migrations import apply_migrations
from inventory.core.times import format_ms
from sinks.clickhouse import ClickHouseSink
from tests.support.model import model_alert_id

HOUR = 3_600_000
T0 = 1_795_000_000_000


def event(n: int, kind: str, sku: str, qty: int, at_ms: int, **extra: Any) -> KafkaSourceMessage:
    body = {
        "event_id": f"e{n}",
        "event_type": kind,
        "sku": sku,
        "warehouse_id": "W",
        "quantity": qty,
        "occurred_at": format_ms(at_ms),
        **extra,
    }
    return KafkaSourceMessage(
        key=f"W:{sku}".encode(),
        value=orjson.dumps(body),
        topic="events",
        partition=0,
        offset=n,
        timestamp=(1, T0 + 1000 * HOUR),
    )


def test_open_overdue_and_lead_time_views(make_settings) -> None:  # type: ignore[no-untyped-def]
    cfg = make_settings(
        clickhouse_database=f"po_{uuid.uuid4().hex[:12]}",
        low_stock_threshold=5,
        default_target_stock=20,
        default_lead_time_hours=10,
        reorder_grace_hours=2,
        lateness_seconds=7 * 24 * 3600,
    )
    po_a = "po-" + model_alert_id("W", "A", "low_stock", "e1")[:24]
    stream = [
        event(0, "count", "A", 8, T0),
        event(1, "sale", "A", 4, T0 + 1),  # 4: low, PO for 16 expected at +10 h
        event(2, "restock", "A", 16, T0 + 12 * HOUR, po_id=po_a),  # received after 12 h
        event(3, "count", "B", 8, T0),
        event(4, "sale", "B", 4, T0 + 1),  # PO for B: never received
        event(5, "sale", "B", 1, T0 + 13 * HOUR),  # past 10 h + 2 h grace: overdue
        event(6, "count", "C", 8, T0),
        event(7, "sale", "C", 8, T0 + 1),  # out: PO for C, open, not yet due
    ]
    client = connect(cfg)
    apply_migrations(client, cfg.clickhouse_database)
    flow = build_flow(
        cfg,
        "unused:9092",
        source=TestingSource(stream, batch_size=3),
        rows_sink=ClickHouseSink(cfg),
        dlq_sink=TestingSink([]),
        alerts_sink=TestingSink([]),
        stock_sink=TestingSink([]),
        decisions_sink=TestingSink([]),
    )
    run_main(flow)
    ch = connect(cfg, database=cfg.clickhouse_database)
    try:
        log = ch.query(
            "SELECT sku, status, quantity, received_quantity, lead_time_hours "
            "FROM purchase_order_log ORDER BY sku"
        ).result_rows
        assert log == [
            ("A", "received", 16, 16, 12.0 - 1 / HOUR),
            ("B", "overdue", 16, 0, None),
            ("C", "open", 20, 0, None),
        ]
        open_skus = ch.query("SELECT sku FROM open_purchase_orders ORDER BY sku").result_rows
        assert open_skus == [("B",), ("C",)]
        # B by the stream's flag; C too by the clock (expected in 2026-11, long past now)
        overdue = ch.query("SELECT sku FROM overdue_purchase_orders ORDER BY sku").result_rows
        assert overdue == [("B",), ("C",)]
        lead = ch.query(
            "SELECT sku, received_orders, round(avg_lead_time_hours, 3), on_time_share, "
            "received_units FROM supplier_lead_times"
        ).result_rows
        assert lead == [("A", 1, 12.0, 0.0, 16)]
        kinds = ch.query(
            "SELECT sku, kind, reorder_quantity, po_id != '' FROM alert_log ORDER BY sku, raised_at"
        ).result_rows
        assert kinds == [
            ("A", "low_stock", 16, True),
            ("A", "back_in_stock", 0, False),
            ("B", "low_stock", 16, True),
            ("B", "reorder_overdue", 0, True),
            ("C", "out_of_stock", 20, True),
        ]
    finally:
        ch.close()
        client.command(f"DROP DATABASE {cfg.clickhouse_database}")
        client.close()
