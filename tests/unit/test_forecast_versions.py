"""Forecast versions on the wire and in the flow's book; the worked examples of
docs/semantics.md ("Unconstrained demand", "The forecast policy")."""

from __future__ import annotations

import orjson
import pytest

from dataflows.per_key.book import KeyBook
from dataflows.per_key.forecast_policy import over
from dataflows.sources.forecast_topic import VERSIONS_KEPT, ForecastBook
from inventory.core.forecast_versions import (
    ForecastFormatError,
    ForecastVersion,
    decode_forecast,
    encode_forecast,
    in_effect,
)
from inventory.core.records import DemandDay, Event, ProductPolicy, Source, StockLevel

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
D0 = 20_431 * DAY_MS  # 2025-12-09, a UTC midnight


def version(
    number: int, effective_ms: int, demand: tuple[float, ...] = (5.0,) * 28
) -> ForecastVersion:
    return ForecastVersion("WH-01", "SKU-1", number, effective_ms, D0, demand, tuple(demand))


def test_a_version_round_trips_the_documented_json() -> None:
    v = ForecastVersion("WH-01", "SKU-1", 20251208, D0 + DAY_MS, D0, (1.5, 2.0), (2.0, 3.5))
    key, value = encode_forecast(v)
    assert key == b"WH-01:SKU-1:20251208"
    assert orjson.loads(value) == {
        "warehouse_id": "WH-01", "sku": "SKU-1", "version": 20251208,
        "effective_at": "2025-12-10T00:00:00.000Z", "first_day": "2025-12-09",
        "demand": [1.5, 2.0], "variance": [2.0, 3.5],
    }  # fmt: skip
    assert decode_forecast(value) == v


@pytest.mark.parametrize(
    "change",
    [
        {"demand": [1.0, 2.0, 3.0]},  # lengths differ
        {"demand": [], "variance": []},
        {"variance": [-1.0, 2.0]},
        {"first_day": "09/12/2025"},
        {"effective_at": None},
        {"version": "v1"},
    ],
)
def test_a_message_without_the_documented_shape_is_refused(change: dict[str, object]) -> None:
    body = orjson.loads(encode_forecast(version(1, D0))[1])
    with pytest.raises(ForecastFormatError):
        decode_forecast(orjson.dumps({**body, **change}))
    with pytest.raises(ForecastFormatError):
        decode_forecast(b"{")


def test_the_version_in_effect_is_the_latest_effective_then_the_greater() -> None:
    a, b, c = version(1, D0), version(2, D0 + DAY_MS), version(3, D0 + DAY_MS)
    assert in_effect((a, b, c), D0 - 1) is None
    assert in_effect((a, b, c), D0 + DAY_MS - 1) is a
    assert in_effect((c, b, a), D0 + DAY_MS) is c  # a tie: the greater version


def test_the_book_replaces_a_version_and_keeps_the_latest_effective_ones() -> None:
    book = ForecastBook([version(1, D0), version(1, D0, (7.0,) * 28)])
    assert [v.demand[0] for v in book.for_key("WH-01", "SKU-1")] == [7.0]  # published again
    before = book.for_key("WH-01", "SKU-1")
    for n in range(2, 12):
        book.add(version(n, D0 + n * DAY_MS))
    kept = book.for_key("WH-01", "SKU-1")
    assert kept is not before and len(kept) == VERSIONS_KEPT
    assert [v.version for v in kept] == list(range(12 - VERSIONS_KEPT, 12))
    assert book.for_key("WH-02", "SKU-1") == ()


def test_forecast_over_a_span_takes_each_day_s_share_in_day_order() -> None:
    v = version(1, D0, (10.0, 20.0, 30.0) + (0.0,) * 25)
    assert over(v, D0, 1.5) == (10.0 + 20.0 * 0.5, 10.0 + 20.0 * 0.5)
    assert over(v, D0 + 12 * HOUR_MS, 2.0) == (5.0 + 20.0 + 15.0, 5.0 + 20.0 + 15.0)
    assert over(v, D0 - 1, 1.0) is None  # before its first day
    assert over(v, D0 + 27 * DAY_MS, 1.5) is None  # past its last


SOURCE = Source("t", 0, 0, 0)


def ev(n: int, kind: str, qty: int, ms: int) -> Event:
    delta = {"sale": -qty, "restock": qty}.get(kind, 0)
    return Event(f"e{n}", kind, "SKU-1", "WH-01", qty, delta, ms, None, None, SOURCE, None, b"")


def test_the_documented_lost_sales_example() -> None:
    """40 units sold by 18:00, then out of stock to the day's end (flat profile): lost
    40 x 6 h / 18 h = 13.33, demand 53.33."""
    book = KeyBook(lateness_ms=600_000, window_ms=60_000, policy_for=lambda _: ProductPolicy(5, 50))
    book.apply_batch([ev(0, "count", 40, D0 - HOUR_MS)])
    book.apply_batch([ev(n, "sale", 1, D0 + n * 27 * 60_000) for n in range(1, 41)])  # by 18:00
    out = book.apply_batch([ev(99, "restock", 10, D0 + DAY_MS + HOUR_MS)])
    [day] = [x for x in out if isinstance(x, DemandDay)]
    assert (day.sold, day.refused, day.out_of_stock_ms) == (40, 0, 6 * HOUR_MS)
    assert day.lost == 40 * 21_600_000 / 64_800_000 and round(day.demand, 2) == 53.33


def test_a_version_published_while_the_flow_runs_applies_from_the_key_s_next_batch() -> None:
    book = ForecastBook()
    policy = ProductPolicy(5, 50, 2 * DAY_MS, replenishment="forecast")
    key = KeyBook(
        lateness_ms=600_000, window_ms=60_000, policy_for=lambda _: policy,
        forecasts_for=book.for_key,
    )  # fmt: skip
    first = key.apply_batch([ev(0, "count", 100, D0 + HOUR_MS)])
    assert [s.reorder_basis for s in first if isinstance(s, StockLevel)] == ["cold_start"]
    book.add(version(20251208, D0))  # 5 a day, variance 5 a day, lead 2 days, review 7
    [level] = [s for s in key.apply_batch([ev(1, "sale", 1, D0 + 2 * HOUR_MS)])
               if isinstance(s, StockLevel)]  # fmt: skip
    # 10 + 1.645 x sqrt(10) = 15.2 -> 16; + 35 over the review period
    assert (level.reorder_basis, level.forecast_version) == ("forecast", 20251208)
    assert (level.reorder_point, level.order_up_to, level.demand_per_day) == (16, 51, 5.0)
