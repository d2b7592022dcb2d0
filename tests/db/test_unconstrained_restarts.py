"""Property: weeks of events (stock-outs, refused hold requests, forecast versions) cut at
arbitrary points, each cut a ``--no-recovery`` run of a new lineage that rebuilds every
key from the tables (seeds: its open days, its unconstrained demand and tracking signal
from ``events`` and ``hold_decisions``) or a restart from the snapshot: ``demand_daily``,
the reorder points in effect (``demand`` and ``forecast`` SKUs) and the purchase orders
equal the independent model of the uninterrupted stream. Real chDB."""

from __future__ import annotations

from typing import Any

import orjson
from bytewax.recovery import RecoveryConfig, init_db_dir
from bytewax.testing import TestingSource
from clickhouse_connect.driver.client import Client
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from dataflows.sources.forecast_topic import ForecastBook
from inventory.clickhouse.catalog import PolicyBook
from inventory.core.forecast_versions import ForecastVersion
from inventory.core.records import ProductPolicy
from inventory.core.settings import Settings
from inventory.core.times import format_ms
from tests.support.model import Policy, expected_tables
from tests.support.tables import orders_table, truncate_tables
from tests.support.testing_flow import kafka_messages, run_flow
from tests.unit.test_demand_property import HOUR_MS, T0, weeks
from tests.unit.test_forecast_policy import versions

KEYS = [("W1", "S1"), ("W2", "S1"), ("W1", "S2")]
PARTITION_OF = {f"{w}:{s}".encode(): n % 2 for n, (w, s) in enumerate(KEYS)}
POLICIES = {
    "S1": ProductPolicy(5, 30, 48 * HOUR_MS, replenishment="forecast", service_level=0.9),
    "S2": ProductPolicy(4, 20, 24 * HOUR_MS, replenishment="demand"),
}
MODEL_POLICIES = {
    "S1": Policy(5, 30, replenishment="forecast", service_level=0.9),
    "S2": Policy(4, 20, replenishment="demand"),
}
DEMAND = {"horizon_days": 5, "min_days": 3, "min_receipts": 1, "service_level": 0.95,
          "review_days": 2.0, "tracking_limit": 0.6}  # fmt: skip


@st.composite
def with_refusals(draw: st.DrawFn) -> list[tuple[bytes, bytes]]:
    """``weeks()`` with shoppers' hold requests for more than the key holds (refused
    ``insufficient``: observed lost demand) among its events."""
    stream = draw(weeks())
    out = []
    for n, (key, value) in enumerate(stream):
        out.append((key, value))
        if draw(st.integers(min_value=0, max_value=4)) == 0:
            body = orjson.loads(value)
            at = body["occurred_at"]
            expires = format_ms(int(_ms(at)) + 900_000)
            out.append((key, orjson.dumps({
                "event_id": f"h{n}", "event_type": "hold_request", "sku": body["sku"],
                "warehouse_id": body["warehouse_id"], "quantity": 500, "occurred_at": at,
                "reservation_id": f"r{n}", "expires_at": expires,
            })))  # fmt: skip
    return out


def _ms(text: str) -> int:
    from datetime import datetime

    from inventory.core.times import to_ms

    return to_ms(datetime.fromisoformat(text.replace("Z", "+00:00")))


def demand_days(ch: Client) -> dict[tuple[str, str, int], tuple[int, int, int, float, float]]:
    rows = ch.query(
        "SELECT warehouse_id, sku, toUnixTimestamp(day) * 1000, sold, refused, "
        "out_of_stock_ms, lost, demand FROM demand_daily FINAL"
    ).result_rows
    return {(r[0], r[1], r[2]): tuple(r[3:]) for r in rows}  # type: ignore[misc]


def levels(ch: Client) -> dict[tuple[str, str], tuple[Any, ...]]:
    rows = ch.query(
        "SELECT warehouse_id, sku, reorder_point, order_up_to, reorder_basis, demand_per_day, "
        "lead_time_days, forecast_version FROM stock_levels FINAL"
    ).result_rows
    return {(r[0], r[1]): tuple(r[2:]) for r in rows}


@settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    with_refusals(),
    versions(),
    st.lists(st.floats(min_value=0.05, max_value=0.95), min_size=1, max_size=2),
    st.sampled_from(["seeds", "snapshot"]),
)
def test_rebuilt_keys_close_their_days_and_reorder_as_the_uninterrupted_stream(
    migrated: tuple[Settings, Client],
    tmp_path_factory: Any,
    stream: list[tuple[bytes, bytes]],
    drawn: list[ForecastVersion],
    shares: list[float],
    restart: str,
) -> None:
    base, ch = migrated
    cfg = base.model_copy(
        update={
            "lateness_seconds": 3600,
            "demand_horizon_days": 5,
            "demand_min_days": 3,
            "lead_time_min_receipts": 1,
            "default_review_period_days": 2,
            "forecast_tracking_limit": 0.6,
            "reorder_grace_hours": 24,  # the model's defaults (the fixture's are minutes)
            "reorder_expiry_hours": 168,
        }
    )
    truncate_tables(ch, cfg.clickhouse_database)
    policies, book = PolicyBook(cfg, POLICIES), ForecastBook(drawn)
    kafka_msgs, model_msgs = kafka_messages(stream, PARTITION_OF, T0 + 10**10)
    cuts = sorted({round(share * len(kafka_msgs)) for share in shares} - {0, len(kafka_msgs)})
    if restart == "snapshot":
        store = tmp_path_factory.mktemp("store")
        init_db_dir(store, 1)  # type: ignore[no-untyped-call]
        items: list[Any] = list(kafka_msgs)
        for cut in reversed(cuts):
            items.insert(cut, TestingSource.EOF())
        source = TestingSource(items, batch_size=3)
        for _ in range(len(cuts) + 1):
            run_flow(cfg, policies, source, lineage="flow:u", recovery=RecoveryConfig(str(store)),
                     forecasts=book)  # fmt: skip
    else:
        for n, end in enumerate([*cuts, len(kafka_msgs)]):
            source = TestingSource(kafka_msgs[:end], batch_size=3)
            run_flow(cfg, policies, source, lineage=f"run:{n}", seeded=True, forecasts=book)

    by_key: dict[tuple[str, str], tuple[ForecastVersion, ...]] = {}
    for v in drawn:
        by_key[(v.warehouse_id, v.sku)] = (*by_key.get((v.warehouse_id, v.sku), ()), v)
    expected = expected_tables(
        model_msgs,
        3_600_000,
        cfg.max_future_seconds * 1000,
        60_000,
        MODEL_POLICIES,
        (10, 50),
        {"S1": 48 * HOUR_MS, "S2": 24 * HOUR_MS},
        demand=DEMAND,
        forecasts=by_key,
    )
    assert demand_days(ch) == expected.demand_days
    assert levels(ch) == {
        key: (*figures[:5], expected.forecast_versions[key])
        for key, figures in expected.levels.items()
    }
    assert orders_table(ch) == expected.orders
    event(f"restart {restart}")
    if any(d[1] for d in expected.demand_days.values()):
        event("refused units counted")
    if any(f[2] == "forecast" for f in expected.levels.values()):
        event("a key ends on its forecast")
