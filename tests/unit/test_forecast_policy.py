"""Property: a ``forecast`` SKU's reorder points, the requests they drive, the tracking
signal's fallback and every closed day's unconstrained demand equal the independent
model (docs/semantics.md, "The forecast policy", "Unconstrained demand"), whatever the
batch size, with 1 or 2 workers, and across restarts from the key's snapshot (what
recovery stores). Bytewax's testing source and sink: no database."""

from __future__ import annotations

from typing import Any

from bytewax.connectors.kafka import KafkaSourceMessage
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from dataflows.flow import order_rules
from dataflows.per_key.book import KeyBook
from dataflows.per_key.state_codec import decode_state
from dataflows.sources.forecast_topic import ForecastBook
from inventory.clickhouse.catalog import PolicyBook
from inventory.core.forecast_versions import ForecastVersion
from inventory.core.records import DemandDay, Event, ProductPolicy, PurchaseOrder, StockLevel
from inventory.core.settings import Settings
from tests.support.model import Msg, Policy, expected_tables
from tests.support.testing_flow import flow_rows
from tests.unit.test_demand_property import HOUR_MS, T0, weeks

DAY_MS = 86_400_000
POLICIES = {
    "S1": ProductPolicy(5, 30, 48 * HOUR_MS, replenishment="forecast", service_level=0.9),
    "S2": ProductPolicy(
        4, 20, 24 * HOUR_MS, replenishment="forecast", order_cost=40.0, holding_cost=2.0
    ),
}
MODEL_POLICIES = {
    "S1": Policy(5, 30, replenishment="forecast", service_level=0.9),
    "S2": Policy(4, 20, replenishment="forecast", order_cost=40.0, holding_cost=2.0),
}
LEAD_MS = {"S1": 48 * HOUR_MS, "S2": 24 * HOUR_MS}
DEMAND = {"horizon_days": 5, "min_days": 3, "min_receipts": 1, "service_level": 0.95,
          "review_days": 2.0, "tracking_limit": 0.6}  # fmt: skip
KEYS = [("W1", "S1"), ("W2", "S1"), ("W1", "S2")]


def settings_for_test() -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        lateness_seconds=3600,
        demand_horizon_days=5,
        demand_min_days=3,
        lead_time_min_receipts=1,
        default_review_period_days=2,
        forecast_tracking_limit=0.6,
    )


@st.composite
def versions(draw: st.DrawFn) -> list[ForecastVersion]:
    """Per key, up to three versions made on drawn days (some the same day: the greater
    version wins), each forecasting the next 3 or 40 days, in effect from the day after next
    (or from a drawn hour, not at midnight: the day's start decides)."""
    out = []
    for wh, sku in KEYS:
        for n in range(draw(st.integers(min_value=0, max_value=3))):
            through = draw(st.integers(min_value=-1, max_value=30))
            first = T0 + (through + 1) * DAY_MS
            days = draw(st.sampled_from([3, 40]))  # 3: too short for lead + review
            level = draw(st.sampled_from([0.5, 3.0, 8.0, 20.0]))
            demand = tuple(level * (1 + 0.3 * ((k + n) % 3)) for k in range(days))
            shift = draw(st.sampled_from([DAY_MS, DAY_MS + 5 * HOUR_MS]))
            number = 20260000 + 10 * (through + 1) + n
            variance = tuple(d * 1.5 for d in demand)
            out.append(ForecastVersion(wh, sku, number, first + shift, first, demand, variance))
    return out


def _run(
    stream: list[tuple[bytes, bytes]], book: ForecastBook, batch_size: int, workers: int
) -> list[object]:
    return flow_rows(
        settings_for_test(),
        stream,
        timestamp_ms=T0 + 10**10,
        batch_size=batch_size,
        policies=PolicyBook(settings_for_test(), POLICIES),
        forecasts=book,
        workers=workers,
    )


def _model(stream: list[tuple[bytes, bytes]], drawn: list[ForecastVersion]) -> Any:
    by_key: dict[tuple[str, str], tuple[ForecastVersion, ...]] = {}
    for v in drawn:
        by_key[(v.warehouse_id, v.sku)] = (*by_key.get((v.warehouse_id, v.sku), ()), v)
    return expected_tables(
        [Msg(k, v, 0, n, T0 + 10**10) for n, (k, v) in enumerate(stream)],
        3_600_000,
        settings_for_test().max_future_seconds * 1000,
        60_000,
        MODEL_POLICIES,
        (10, 50),
        LEAD_MS,
        demand=DEMAND,
        forecasts=by_key,
    )


def _figures(rows: list[object]) -> tuple[dict[Any, Any], dict[Any, Any], dict[Any, Any]]:
    last: dict[tuple[str, str], StockLevel] = {}
    orders: dict[str, PurchaseOrder] = {}
    days = {}
    for row in rows:
        if isinstance(row, StockLevel):
            last[(row.warehouse_id, row.sku)] = row
        elif isinstance(row, PurchaseOrder):
            orders[row.po_id] = row
        elif isinstance(row, DemandDay):
            days[(row.warehouse_id, row.sku, row.day_ms)] = (
                row.sold, row.refused, row.out_of_stock_ms, row.lost, row.demand
            )  # fmt: skip
    levels = {
        key: (s.reorder_point, s.order_up_to, s.reorder_basis, s.demand_per_day,
              s.lead_time_days, s.next_expected_ms, s.forecast_version)
        for key, s in last.items()
    }  # fmt: skip
    return levels, {p: (o.status, o.quantity, o.received_quantity) for p, o in orders.items()}, days


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(weeks(), versions(), st.integers(min_value=1, max_value=7))
def test_forecast_levels_requests_and_days_equal_the_model(
    stream: list[tuple[bytes, bytes]], drawn: list[ForecastVersion], batch_size: int
) -> None:
    rows = _run(stream, ForecastBook(drawn), batch_size, 1)
    levels, orders, days = _figures(rows)
    expected = _model(stream, drawn)
    want = {
        key: (*figures, expected.forecast_versions[key]) for key, figures in expected.levels.items()
    }
    assert levels == want
    assert orders == {p: (o[2], o[3], o[7]) for p, o in expected.orders.items()}
    assert days == expected.demand_days
    for level in levels.values():
        event(f"basis {level[2]}")
    bases: dict[tuple[str, str], list[str]] = {}
    for row in rows:
        if isinstance(row, StockLevel):
            bases.setdefault((row.warehouse_id, row.sku), []).append(row.reorder_basis)
    for seen in bases.values():
        if "forecast" in seen:
            event("a key reordered on a forecast")
            if "demand" in seen[seen.index("forecast") :]:
                event("a key fell back to demand after a forecast")


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(weeks(), versions())
def test_two_workers_write_what_one_writes(
    stream: list[tuple[bytes, bytes]], drawn: list[ForecastVersion]
) -> None:
    one = _figures(_run(stream, ForecastBook(drawn), 3, 1))
    assert _figures(_run(stream, ForecastBook(drawn), 3, 2)) == one


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(weeks(), versions(), st.lists(st.integers(min_value=1, max_value=40), max_size=4))
def test_a_key_restarted_from_its_snapshot_decides_as_if_it_never_stopped(
    stream: list[tuple[bytes, bytes]], drawn: list[ForecastVersion], cuts: list[int]
) -> None:
    """Each key's book encoded and decoded (what recovery stores) at drawn points decides
    and writes exactly what an uninterrupted book does."""
    from dataflows.decode import decode_batch

    book = ForecastBook(drawn)
    msgs = [
        KafkaSourceMessage(key=k, value=v, topic="events", partition=0, offset=n,
                           timestamp=(1, T0 + 10**10))
        for n, (k, v) in enumerate(stream)
    ]  # fmt: skip
    events = [e for e in decode_batch(msgs, 10**12) if isinstance(e, Event)]
    rules = order_rules(settings_for_test())

    def new_book(state: Any = None) -> KeyBook:
        return KeyBook(
            lateness_ms=3_600_000,
            window_ms=60_000,
            policy_for=POLICIES.__getitem__,
            state=state,
            rules=rules,
            forecasts_for=book.for_key,
        )

    straight: dict[str, KeyBook] = {}
    restarted: dict[str, KeyBook] = {}
    for n, e in enumerate(events, start=1):
        key = e.stock_key
        a = straight.setdefault(key, new_book())
        b = restarted.setdefault(key, new_book())
        assert a.apply_batch([e]) == b.apply_batch([e])
        if n in cuts:
            restarted = {k: new_book(decode_state(kb.encode())) for k, kb in restarted.items()}
