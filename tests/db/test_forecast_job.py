"""``inventory forecast`` on the batch layer's own history (docs/semantics.md, "Demand
forecasts"): 16 weeks of generated sales with a known weekly profile (weekends 1.3 x,
weekdays 0.88 x) and promotions (3 x for 3 days each 28-day cycle, in the promotions
table), through the flow into ``sales_daily`` on real chDB; the job recovers the profile
and the uplift within the documented tolerance, forecasts 28 days with intervals and
accuracy, and a second run over the same history rewrites the same rows."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson
from bytewax.testing import TestingSource
from clickhouse_connect.driver.client import Client

from generators.catalog import Product
from generators.demand import DAY_MS, DemandShape, arrivals
from generators.promotions import promotion_entries
from inventory.app.forecast.job import ForecastOptions, run_forecast
from inventory.clickhouse.catalog import PolicyBook
from inventory.clickhouse.promotions import write_promotions
from inventory.core.settings import Settings
from inventory.core.times import format_ms, to_ms
from tests.support.paths import ROOT
from tests.support.tables import truncate_tables
from tests.support.testing_flow import kafka_messages, run_flow

START = date(2026, 6, 1)  # a Monday
DAYS = 112
SHAPE = DemandShape(
    weekly_amplitude=0.3,
    promotion_share=1.0,
    promotion_factor=3.0,
    promotion_days=3.0,
    seed=5,
    start_ms=to_ms(datetime(2026, 6, 1, tzinfo=UTC)),
)
PRODUCTS = [Product("FC-A", 5.0, 10, 50), Product("FC-B", 7.5, 10, 50)]
ORDERS_PER_DAY = 100.0


def history() -> list[tuple[bytes, bytes]]:
    start_ms = SHAPE.start_ms
    out = []
    rng = random.Random(11)
    for index, product in enumerate(PRODUCTS):

        def event(
            event_id: str, kind: str, quantity: int, at_ms: int, sku: str = product.sku
        ) -> tuple[bytes, bytes]:
            body: dict[str, Any] = {
                "event_id": event_id,
                "event_type": kind,
                "sku": sku,
                "warehouse_id": "W1",
                "quantity": quantity,
                "occurred_at": format_ms(at_ms),
            }
            return f"W1:{sku}".encode(), orjson.dumps(body)

        out.append(event(f"{product.sku}-count", "count", 10_000_000, start_ms - 1))
        orders = arrivals(
            ORDERS_PER_DAY,
            index,
            shape=SHAPE,
            start_ms=start_ms,
            end_ms=start_ms + DAYS * DAY_MS,
            rng=rng,
        )
        out += [event(f"{product.sku}-{n}", "sale", u, ms) for n, (ms, u) in enumerate(orders)]
    return out


def test_the_job_recovers_the_weekly_profile_and_the_uplift(
    migrated: tuple[Settings, Client],
) -> None:
    cfg, ch = migrated
    truncate_tables(ch, cfg.clickhouse_database)
    stream = history()
    partitions = {f"W1:{p.sku}".encode(): n for n, p in enumerate(PRODUCTS)}
    messages, _ = kafka_messages(stream, partitions, SHAPE.start_ms + (DAYS + 1) * DAY_MS)
    run_flow(cfg, PolicyBook(cfg, {}), TestingSource(messages, batch_size=5000))
    end_ms = SHAPE.start_ms + (DAYS + 28) * DAY_MS
    write_promotions(
        ch, cfg.clickhouse_database, promotion_entries(SHAPE, PRODUCTS, SHAPE.start_ms, end_ms)
    )
    through = START + timedelta(days=DAYS - 1)
    summary = run_forecast(cfg, ForecastOptions(through), lambda: 1_800_000_000.0)
    assert (summary.version, summary.keys, summary.by_model) == (
        int(through.strftime("%Y%m%d")), 2, {"poisson_glm": 2},
    )  # fmt: skip
    runs = ch.query(
        "SELECT sku, weekday_factors, uplift, uplift_source, wape, mase, history_days "
        "FROM forecast_runs FINAL ORDER BY sku"
    ).result_rows
    weekly = [0.88] * 5 + [1.3] * 2
    for sku, factors, uplift, source, wape, mase, days in runs:
        assert all(abs(f / w - 1) < 0.1 for f, w in zip(factors, weekly, strict=True)), factors
        assert source == "fitted" and abs(uplift / 3.0 - 1) < 0.1, (sku, uplift)
        assert wape is not None and wape < 0.3 and mase is not None and mase < 1.5, (wape, mase)
        assert days == DAYS
    forecasts = ch.query(
        "SELECT sku, day, demand, lower, upper, promotion FROM demand_forecasts FINAL "
        "ORDER BY sku, day"
    ).result_rows
    assert len(forecasts) == 2 * 28
    assert {r[1] for r in forecasts} == {through + timedelta(days=k) for k in range(1, 29)}
    assert all(0 <= lower <= demand <= upper for _, _, demand, lower, upper, _ in forecasts)
    weekday_means = {
        weekend: sum(r[2] for r in forecasts if (r[1].weekday() >= 5) == weekend and not r[5])
        for weekend in (True, False)
    }
    assert weekday_means[True] > 0 and weekday_means[False] > 0
    promoted = [r for r in forecasts if r[5] == 1.0]
    assert promoted  # the next cycle's planned promotions are forecast with their uplift
    again = run_forecast(cfg, ForecastOptions(through), lambda: 1_800_000_001.0)
    assert again.rows == summary.rows
    count = ch.query("SELECT count() FROM demand_forecasts FINAL").result_rows
    assert count == [(2 * 28,)]
    # the two examples of docs/analysts.md, "Demand forecasts", run as written
    doc = (ROOT / "docs/analysts.md").read_text().split("## Demand forecasts")[1]
    worst, against = [block.split("```")[0] for block in doc.split("```sql\n")[1:3]]
    database = f"{cfg.clickhouse_database}."
    ranked = ch.query(worst.replace("inventory.", database)).result_rows
    assert sorted(r[1] for r in ranked) == ["FC-A", "FC-B"]
    assert all(r[2] == "poisson_glm" and r[3] is not None for r in ranked)
    daily = ch.query(against.replace("inventory.", database)).result_rows
    assert len(daily) == 28 and all(lo <= f <= hi for _, f, _, lo, hi in daily)
