"""Shoppers' demand with seasonality and promotions, and the unreliable supplier: the
documented shapes, the same stream for the same flags, defaults unchanged."""

from __future__ import annotations

import random
import statistics
from collections import Counter
from datetime import UTC, datetime

import orjson
import pytest

from generators.demand import DAY_MS, HOUR_MS, DemandShape, arrivals
from generators.events import EventGenerator, GeneratorConfig
from generators.supplier import Supplier, SupplierBehaviour

MONDAY = 1_795_392_000_000  # 2026-11-23 00:00 UTC
SHAPE = DemandShape(0.5, 0.3, 0.25, 4.0, 3.0, seed=7, start_ms=MONDAY)


def test_seasonality_averages_one_and_peaks_as_documented() -> None:
    assert datetime.fromtimestamp(MONDAY / 1000, UTC).strftime("%a %H") == "Mon 00"
    week = [SHAPE.season(MONDAY + m * 60_000) for m in range(7 * 1440)]
    assert statistics.fmean(week) == pytest.approx(1.0)
    assert SHAPE.season(MONDAY + 20 * HOUR_MS) == pytest.approx(1.5 * 0.88)  # Mon 20:00
    assert SHAPE.season(MONDAY + 8 * HOUR_MS) == pytest.approx(0.5 * 0.88)
    assert SHAPE.season(MONDAY + 5 * DAY_MS + 20 * HOUR_MS) == pytest.approx(1.5 * 1.3)  # Sat


def test_promotions_are_whole_hours_of_a_share_of_skus_each_cycle() -> None:
    windows = [SHAPE.promotion_window(sku, MONDAY) for sku in range(400)]
    promoted = [w for w in windows if w]
    assert 0.18 < len(promoted) / 400 < 0.32
    for begin, end in promoted:
        assert end - begin == 3 * DAY_MS and (begin - MONDAY) % HOUR_MS == 0
        assert begin >= MONDAY and end <= MONDAY + 28 * DAY_MS
    again = DemandShape(0.5, 0.3, 0.25, 4.0, 3.0, seed=7, start_ms=MONDAY)
    assert [again.promotion_window(sku, MONDAY) for sku in range(400)] == windows
    sku = windows.index(promoted[0])
    assert SHAPE.promotion(sku, promoted[0][0]) == 4.0
    assert SHAPE.promotion(sku, promoted[0][1]) == 1.0


def test_arrivals_follow_the_rate_and_the_shape() -> None:
    flat = list(arrivals(50, 0, shape=DemandShape(), start_ms=MONDAY,
                         end_ms=MONDAY + 28 * DAY_MS, rng=random.Random(1)))  # fmt: skip
    assert len(flat) / 28 == pytest.approx(50, rel=0.05)
    shaped = list(arrivals(50, 0, shape=DemandShape(0.5), start_ms=MONDAY,
                           end_ms=MONDAY + 28 * DAY_MS, rng=random.Random(1)))  # fmt: skip
    hours = Counter((ms % DAY_MS) // HOUR_MS for ms, _ in shaped)
    assert hours[20] > 2.2 * hours[8]  # 1.5 x against 0.5 x the mean
    assert {units for _, units in shaped} == {1, 2, 3}


def test_the_event_generator_follows_the_shape_and_keeps_its_default_stream() -> None:
    base = GeneratorConfig(seed=5, skus=20, warehouses=2, rate=0.01, start_ms=MONDAY)
    plain = list(EventGenerator(base).messages(3000))
    assert plain == list(EventGenerator(GeneratorConfig(**{**vars(base), "shape": None}))
                         .messages(3000))  # fmt: skip
    shaped_cfg = GeneratorConfig(**{**vars(base), "shape": DemandShape(0.6, seed=5)})
    shaped = list(EventGenerator(shaped_cfg).messages(3000))
    assert shaped == list(EventGenerator(shaped_cfg).messages(3000))

    def by_hour(messages: list[object]) -> Counter[int]:
        hours: Counter[int] = Counter()
        for m in messages:
            body = orjson.loads(m.value)  # type: ignore[attr-defined]
            if isinstance(body, dict) and "occurred_at" in body:
                at = datetime.fromisoformat(body["occurred_at"])
                hours[at.hour] += 1
        return hours

    assert by_hour(shaped)[20] > 2 * by_hour(shaped)[8]  # faster at the evening peak
    assert by_hour(plain)[20] < 1.5 * by_hour(plain)[8]


def test_a_promoted_sku_sells_more() -> None:
    shape = DemandShape(promotion_share=0.5, promotion_factor=5.0, seed=3, start_ms=MONDAY)
    cfg = GeneratorConfig(seed=3, skus=10, warehouses=1, rate=0.02, start_ms=MONDAY, shape=shape)
    counts: Counter[tuple[str, bool]] = Counter()
    for m in EventGenerator(cfg).messages(20_000):
        body = orjson.loads(m.value)
        if isinstance(body, dict) and body.get("event_type") == "sale":
            sku = int(body["sku"][4:]) - 1
            ms = int(datetime.fromisoformat(body["occurred_at"]).timestamp() * 1000)
            counts[body["sku"], shape.promotion(sku, ms) > 1] += 1
    promoted = [s for s, on in counts if on]
    assert promoted
    # per hour, a promoted SKU sells several times what it sells otherwise
    for sku in promoted:
        index = int(sku[4:]) - 1
        span_hours = 20_000 / 0.02 / 3600
        begin, end = shape.promotion_window(index, MONDAY) or (0, 0)
        end = min(end, MONDAY + int(span_hours * HOUR_MS))
        hours_on = (end - begin) / HOUR_MS
        rate_on = counts[sku, True] / hours_on
        rate_off = counts[sku, False] / (span_hours - hours_on)
        assert rate_on > 2.5 * rate_off, sku


def test_an_unreliable_supplier_is_the_same_for_the_same_order() -> None:
    behaviour = SupplierBehaviour(0.3, 0.2, 48.0, 0.1, 0.5, seed=1)
    fates = [behaviour.delivery(f"po-{n}", 72 * HOUR_MS, 100) for n in range(2000)]
    assert fates == [behaviour.delivery(f"po-{n}", 72 * HOUR_MS, 100) for n in range(2000)]
    leads = [lead / HOUR_MS for lead, _ in fates]
    assert statistics.fmean(leads) == pytest.approx(72 + 0.2 * 24, rel=0.05)
    assert statistics.pstdev(leads) > 0.3 * 72 * 0.9
    short = [units for _, units in fates if units < 100]
    assert 0.07 < len(short) / 2000 < 0.13 and min(short) >= 50
    assert SupplierBehaviour().delivery("po-1", 5, 7) == (5, 7)  # defaults: as ordered


def test_the_supplier_simulator_delivers_what_its_behaviour_says() -> None:
    behaviour = SupplierBehaviour(short_share=1.0, short_fill=0.5, seed=2)
    now = [1_000.0]
    supplier = Supplier(clock=lambda: now[0], behaviour=behaviour)
    alert = {
        "po_id": "po-x",
        "reorder_quantity": 40,
        "warehouse_id": "W",
        "sku": "S",
        "raised_at": "2026-11-23T00:00:00Z",
        "expected_at": "2026-11-23T01:00:00Z",
    }
    assert supplier.take([alert, alert]) == 1
    now[0] += 3600
    [delivery] = supplier.due()
    assert delivery.quantity == behaviour.delivery("po-x", HOUR_MS, 40)[1] < 40
