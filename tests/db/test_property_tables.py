"""Property: for random event streams (duplicates, disorder, late and malformed events,
reservations and their expiry, decided hold requests, checkouts and releases, oversells,
purchase orders and their receipts, any batch size) the
ClickHouse tables equal the independent model. Real chDB; the
source is Bytewax's TestingSource so hundreds of streams run in seconds."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import orjson
from bytewax.testing import TestingSource
from clickhouse_connect.driver.client import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inventory.clickhouse.catalog import PolicyBook
from inventory.core.records import ProductPolicy
from inventory.core.settings import Settings
from inventory.core.times import format_ms
from tests.support.model import Policy, expected_tables, model_alert_id
from tests.support.tables import (
    alerts_table,
    decisions_table,
    on_order_table,
    orders_table,
    oversold_tables,
    reserved_table,
    sales_table,
    stock_table,
    truncate_tables,
)
from tests.support.testing_flow import kafka_messages, run_flow

T0 = 1_795_000_000_000
KEYS = [("W1", "S1"), ("W2", "S1"), ("W1", "S2")]
# S2's oversell policy (S1 denies): (policy, limit, release_ms)
OVERSELL = st.sampled_from(
    [
        ("deny", 0, -1),
        ("backorder", 0, -1),
        ("backorder", 3, -1),
        ("preorder", 5, T0 + 300_000),
        ("preorder", 0, T0 + 300_000),
    ]
)
# few distinct times: shared windows, equal timestamps, and > 600 s spreads (late events)
TIMES_S = st.sampled_from([0, 10, 30, 59, 60, 61, 120, 300, 650, 700, 900])


@st.composite
def streams(draw: st.DrawFn) -> list[tuple[bytes, bytes]]:
    out: list[tuple[bytes, bytes]] = []
    for i in range(draw(st.integers(min_value=1, max_value=50))):
        roll = draw(st.integers(min_value=0, max_value=19))
        if roll == 0 and out:
            out.append(draw(st.sampled_from(out)))  # redelivery
            continue
        wh, sku = draw(st.sampled_from(KEYS))
        key = f"{wh}:{sku}".encode()
        if roll == 1:
            out.append((key, b'{"event_id": "broken"'))
            continue
        kind = draw(
            st.sampled_from(
                [
                    "sale",
                    "sale",
                    "sale",
                    "return",
                    "restock",
                    "adjustment",
                    "count",
                    "reserve",
                    "reserve",
                    "release",
                    "restock",
                    "restock",
                    "cancel",
                    "hold_request",
                    "hold_request",
                    "hold_checkout",
                    "hold_release",
                ]
            )
        )
        qty = draw(st.integers(min_value=1, max_value=12))
        if kind == "adjustment" and draw(st.booleans()):
            qty = -qty
        if kind in ("count", "release", "cancel", "hold_checkout", "hold_release"):
            qty -= 1
        at_ms = T0 + draw(TIMES_S) * 1000 + draw(st.sampled_from([0, 999]))
        body: dict[str, Any] = {
            "event_id": f"e{i}",
            "event_type": kind,
            "sku": sku,
            "warehouse_id": wh,
            "quantity": qty,
            "occurred_at": format_ms(at_ms),
        }
        if kind in ("reserve", "release") or (kind == "sale" and draw(st.booleans())):
            body["reservation_id"] = draw(st.sampled_from(["r1", "r2", "r3"]))
        if kind.startswith("hold_"):  # decided: carts c1-c3, sometimes a fact's r1
            body["reservation_id"] = draw(st.sampled_from(["c1", "c2", "c3", "r1"]))
        if kind in ("reserve", "hold_request"):
            body["expires_at"] = format_ms(at_ms + draw(st.sampled_from([1, 30, 200, 2000])) * 1000)
        # name a purchase order an alert may have opened: a receipt (partial, in full or
        # over), a cancellation (some or all); a restock without one: the oldest open PO
        if kind == "cancel" or (kind == "restock" and i and draw(st.booleans())):
            cause = draw(st.integers(min_value=0, max_value=max(i - 1, 0)))
            crossing = draw(st.sampled_from(["low_stock", "out_of_stock", "reorder"]))
            body["po_id"] = "po-" + model_alert_id(wh, sku, crossing, f"e{cause}")[:24]
        price = draw(st.sampled_from([None, 1.5, 2.25, 19.99]))
        if price is not None:
            body["unit_price"] = price
        order = draw(st.sampled_from([None, "o1", "o2"]))
        if order is not None:
            body["order_id"] = order
        out.append((key, orjson.dumps(body)))
    return out


@settings(
    max_examples=30,  # the restarts property test draws 20 more of the same streams
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    streams(),
    st.integers(min_value=1, max_value=8),
    st.sampled_from([(1, 0, 0), (4, 0, 0), (1, 20, 0), (3, 0, 10)]),  # case pack, min, max
    st.booleans(),  # a backfill: requests are history
    st.booleans(),  # receipts need their po_id
    OVERSELL,  # S2's oversell policy
)
def test_tables_equal_model(
    migrated: tuple[Settings, Client],
    stream: list[tuple[bytes, bytes]],
    batch_size: int,
    order_rules: tuple[int, int, int],
    backfill: bool,
    need_po_id: bool,
    oversell: tuple[str, int, int],
) -> None:
    base, ch = migrated
    cfg = base.model_copy(update={"receipts_need_po_id": need_po_id})
    pack, least, most = order_rules
    policy = ProductPolicy(4, 15, 120_000, pack, least, most)
    truncate_tables(ch, cfg.clickhouse_database)
    partition_of = {f"{w}:{s}".encode(): n % 2 for n, (w, s) in enumerate(KEYS)}
    kafka_msgs, model_msgs = kafka_messages(stream, partition_of, T0 + 1_000_000)

    source = TestingSource(kafka_msgs, batch_size=batch_size)
    s2 = ProductPolicy(4, 15, 120_000)
    s2 = replace(s2, oversell=oversell[0], oversell_limit=oversell[1], release_ms=oversell[2])
    policies = PolicyBook(cfg, {"S1": policy, "S2": s2})
    run_flow(cfg, policies, source, lineage="backfill:property" if backfill else "")

    expected = expected_tables(
        model_msgs,
        600_000,
        cfg.max_future_seconds * 1000,
        60_000,
        {
            "S1": Policy(4, 15, pack, least, most),
            "S2": Policy(
                4, 15, oversell=oversell[0], oversell_limit=oversell[1], release_ms=oversell[2]
            ),
        },
        (4, 15),
        default_lead_ms=120_000,
        grace_ms=60_000,
        expiry_ms=240_000,
        receipts_need_po_id=need_po_id,
        historical=backfill,
    )
    assert stock_table(ch) == expected.stock
    assert sales_table(ch) == expected.windows
    assert alerts_table(ch) == {
        key: sorted(alerts, key=lambda a: (expected.accepted[a[4]].occurred_at, a[4], a[0]))
        for key, alerts in expected.alerts.items()
    }
    assert reserved_table(ch) == expected.reserved
    assert orders_table(ch) == expected.orders
    assert on_order_table(ch) == expected.on_order
    named = ch.query("SELECT alert_id, po_id FROM alerts FINAL WHERE po_id != ''")
    assert dict(named.result_rows) == expected.alert_orders
    points = ch.query("SELECT alert_id, reorder_point FROM alerts FINAL WHERE reorder_quantity > 0")
    assert set(points.result_rows) == expected.reorder_points
    dead = ch.query("SELECT partition, offset FROM dead_letters FINAL").result_rows
    assert set(dead) == set(expected.dead)
    ids = ch.query("SELECT event_id FROM events FINAL").result_rows
    assert sorted(r[0] for r in ids) == sorted(expected.accepted)
    assert decisions_table(ch) == expected.decisions
    assert oversold_tables(ch) == (expected.oversold, sorted(expected.sales_oversold))
