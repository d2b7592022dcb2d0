"""Property: for random streams over weeks of event time, the reorder points and
order-up-to levels computed from live demand and learned lead times, the requests they
drive and the stock rows' figures equal the independent model (docs/semantics.md,
"Reorder points from live demand"). Bytewax's testing source and sink: no database."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from inventory.clickhouse.catalog import PolicyBook
from inventory.core.records import Alert, DemandDay, ProductPolicy, PurchaseOrder, StockLevel
from inventory.core.settings import Settings
from inventory.core.times import format_ms
from tests.support.model import Msg, Policy, expected_tables, model_alert_id
from tests.support.testing_flow import flow_rows

T0 = 1_795_000_000_000 - 1_795_000_000_000 % 86_400_000  # a UTC midnight
HOUR_MS = 3_600_000
KEYS = [("W1", "S1"), ("W2", "S1"), ("W1", "S2")]
POLICIES = {
    "S1": ProductPolicy(5, 30, 48 * HOUR_MS, replenishment="demand", service_level=0.9),
    "S2": ProductPolicy(
        4, 20, 24 * HOUR_MS, replenishment="demand", order_cost=40.0, holding_cost=2.0
    ),
}
MODEL_POLICIES = {
    "S1": Policy(5, 30, replenishment="demand", service_level=0.9),
    "S2": Policy(4, 20, replenishment="demand", order_cost=40.0, holding_cost=2.0),
}
LEAD_MS = {"S1": 48 * HOUR_MS, "S2": 24 * HOUR_MS}
DEMAND = {"horizon_days": 5, "min_days": 3, "min_receipts": 1, "service_level": 0.95,
          "review_days": 2.0}  # fmt: skip


@st.composite
def weeks(draw: st.DrawFn) -> list[tuple[bytes, bytes]]:
    """Events hour by hour (a jitter of up to 30 minutes back: late ones too) over up
    to 30 days: counts, sales, restocks with and without a purchase order's id."""
    out: list[tuple[bytes, bytes]] = []
    hour = 0
    for i in range(draw(st.integers(min_value=1, max_value=120))):
        hour += draw(st.sampled_from([1, 2, 5, 11, 30]))
        wh, sku = draw(st.sampled_from(KEYS))
        kind = draw(st.sampled_from(["sale"] * 6 + ["restock", "restock", "count"]))
        qty = draw(st.integers(min_value=1, max_value=9))
        at_ms = T0 + hour * HOUR_MS - draw(st.sampled_from([0, 0, 10, 30])) * 60_000
        body: dict[str, Any] = {
            "event_id": f"e{i}",
            "event_type": kind,
            "sku": sku,
            "warehouse_id": wh,
            "quantity": qty * (4 if kind == "restock" else 1),
            "occurred_at": format_ms(at_ms),
        }
        if kind == "restock" and i and draw(st.booleans()):
            cause = draw(st.integers(min_value=0, max_value=i - 1))
            crossing = draw(st.sampled_from(["low_stock", "out_of_stock", "reorder"]))
            body["po_id"] = "po-" + model_alert_id(wh, sku, crossing, f"e{cause}")[:24]
        out.append((f"{wh}:{sku}".encode(), orjson.dumps(body)))
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(weeks(), st.integers(min_value=1, max_value=7))
def test_levels_requests_and_rows_equal_the_model(
    stream: list[tuple[bytes, bytes]], batch_size: int
) -> None:
    cfg = Settings(  # type: ignore[call-arg]
        _env_file=None,
        lateness_seconds=3600,
        demand_horizon_days=5,
        demand_min_days=3,
        lead_time_min_receipts=1,
        default_review_period_days=2,
    )
    rows = flow_rows(
        cfg,
        stream,
        timestamp_ms=T0 + 10**10,
        batch_size=batch_size,
        policies=PolicyBook(cfg, POLICIES),
    )

    expected = expected_tables(
        [Msg(k, v, 0, n, T0 + 10**10) for n, (k, v) in enumerate(stream)],
        3_600_000,
        cfg.max_future_seconds * 1000,
        60_000,
        MODEL_POLICIES,
        (10, 50),
        LEAD_MS,
        demand=DEMAND,
    )
    last: dict[tuple[str, str], StockLevel] = {}
    for row in rows:
        if isinstance(row, StockLevel):
            last[(row.warehouse_id, row.sku)] = row
    got = {
        key: (
            s.reorder_point,
            s.order_up_to,
            s.reorder_basis,
            s.demand_per_day,
            s.lead_time_days,
            s.next_expected_ms,
        )
        for key, s in last.items()
    }
    assert got == expected.levels
    for level in got.values():
        event(f"basis {level[2]}")  # --hypothesis-show-statistics: how often each is met
    orders: dict[str, PurchaseOrder] = {}
    for row in rows:
        if isinstance(row, PurchaseOrder):
            orders[row.po_id] = row
    assert {p: (o.status, o.quantity, o.received_quantity) for p, o in orders.items()} == {
        p: (o[2], o[3], o[7]) for p, o in expected.orders.items()
    }
    alerts = sorted(
        (a.warehouse_id, a.sku, a.kind, a.on_hand, a.threshold, a.reorder_quantity, a.event_id)
        for a in rows
        if isinstance(a, Alert)
    )
    assert alerts == sorted(
        (key[0], key[1], *alert) for key, items in expected.alerts.items() for alert in items
    )
    # every closed day's unconstrained demand (docs/semantics.md, "Unconstrained demand")
    days = {
        (d.warehouse_id, d.sku, d.day_ms): (d.sold, d.refused, d.out_of_stock_ms, d.lost, d.demand)
        for d in rows
        if isinstance(d, DemandDay)
    }
    assert days == expected.demand_days
    for *_, lost, _ in days.values():
        event("a day out of stock, demand estimated" if lost else "a day in stock")


@st.composite
def dense_days(draw: st.DrawFn) -> list[tuple[bytes, bytes]]:
    """Minutes apart over up to three days on one key, some up to 25 minutes older than
    the previous (within the 30-minute horizon: the timeline folds many times a day and
    movements arrive out of order), counts among them."""
    out: list[tuple[bytes, bytes]] = []
    minute = 0
    for i in range(draw(st.integers(min_value=1, max_value=150))):
        minute += draw(st.sampled_from([1, 7, 20, 45, 180]))
        back = draw(st.sampled_from([0, 0, 0, 5, 25]))
        kind = draw(st.sampled_from(["sale"] * 5 + ["restock", "count"]))
        qty = draw(st.integers(min_value=1, max_value=6)) * (3 if kind == "restock" else 1)
        at = format_ms(T0 + (minute - back) * 60_000)
        body = {"event_id": f"d{i}", "event_type": kind, "sku": "S1", "warehouse_id": "W1",
                "quantity": qty, "occurred_at": at}  # fmt: skip
        out.append((b"W1:S1", orjson.dumps(body)))
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dense_days(), st.integers(min_value=1, max_value=9))
def test_dense_out_of_order_days_close_as_the_model_closes_them(
    stream: list[tuple[bytes, bytes]], batch_size: int
) -> None:
    cfg = Settings(_env_file=None, lateness_seconds=1800)  # type: ignore[call-arg]
    rows = flow_rows(cfg, stream, timestamp_ms=T0 + 10**10, batch_size=batch_size)
    expected = expected_tables(
        [Msg(k, v, 0, n, T0 + 10**10) for n, (k, v) in enumerate(stream)],
        1_800_000,
        cfg.max_future_seconds * 1000,
    )
    days = {
        (d.warehouse_id, d.sku, d.day_ms): (d.sold, d.refused, d.out_of_stock_ms, d.lost, d.demand)
        for d in rows
        if isinstance(d, DemandDay)
    }
    assert days == expected.demand_days
    if any(v[2] for v in days.values()):
        event("out of stock on a closed day")
