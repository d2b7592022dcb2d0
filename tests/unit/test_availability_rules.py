"""Display rules of the availability API, the snapshot grouping, and the generator
features the live storefront demo relies on."""

from __future__ import annotations

import pytest

from generators.events import EventGenerator, GeneratorConfig
from generators.publish import pacing_step
from inventory.availability.documents import Availability, availability_of
from inventory.availability.rules import (
    available,
    display_message,
    expected_back_ms,
    restock_message,
    showcase,
    status_for,
)
from inventory.availability.store import AvailabilityStore, StockRow
from tests.support.fakes import FakeReader
from tests.support.paths import ROOT


@pytest.mark.parametrize(
    ("total", "few_left", "status", "message"),
    [
        (-3, 5, "out_of_stock", "Out of stock"),
        (0, 5, "out_of_stock", "Out of stock"),
        (1, 5, "low", "Only 1 left in stock"),
        (2, 5, "low", "Only 2 left in stock"),
        (5, 5, "low", "Only 5 left in stock"),
        (6, 5, "in_stock", "In stock"),
        (1, 0, "in_stock", "In stock"),  # few_left 0: never "Only N left"
    ],
)
def test_display_rules(total: int, few_left: int, status: str, message: str) -> None:
    assert status_for(total, few_left) == status
    assert display_message(total, few_left) == message


DEC_8 = 1_796_731_200_000  # Tue 2026-12-08 12:00 UTC
DAY = 86_400_000


@pytest.mark.parametrize(
    ("status", "incoming", "expected", "now", "line", "back"),
    [
        ("out_of_stock", 48, DEC_8, DEC_8 - DAY, "Back in stock by Tue 8 Dec", DEC_8),
        ("low", 48, DEC_8, DEC_8 - DAY, "More arriving Tue 8 Dec", DEC_8),
        ("out_of_stock", 48, DEC_8, DEC_8 + 1, "Back in stock soon", DEC_8),  # late
        ("low", 48, DEC_8, DEC_8 + 1, "More arriving soon", DEC_8),
        ("in_stock", 48, DEC_8, DEC_8 - DAY, None, None),  # nothing to promise
        ("out_of_stock", 0, -1, DEC_8, None, None),  # nothing on order
    ],
)
def test_restock_rules(
    status: str, incoming: int, expected: int, now: int, line: str | None, back: int | None
) -> None:
    assert restock_message(status, incoming, expected, now) == line  # type: ignore[arg-type]
    assert expected_back_ms(status, incoming, expected) == back  # type: ignore[arg-type]


def test_incoming_sums_the_warehouses_asked_for_and_the_earliest_date_wins() -> None:
    reader = FakeReader(
        [
            StockRow("S", "W1", 0, 1_000, 1, 1, 0, 20, DEC_8 + DAY),
            StockRow("S", "W2", 1, 1_000, 1, 1, 0, 30, DEC_8),
            StockRow("S", "W3", 40, 1_000, 1, 1, 0, 0, -1),
        ]
    )
    snapshot = AvailabilityStore(reader, 1.0, clock=lambda: 10.0).refresh()
    everywhere = availability_of(snapshot, "S", None, 5, DEC_8 - DAY)
    assert (everywhere["incoming"], everywhere["restock_message"]) == (50, None)  # in stock
    assert everywhere["expected_back_at"] is None
    assert [w["on_order"] for w in everywhere["warehouses"]] == [20, 30, 0]
    assert everywhere["warehouses"][2]["next_expected_at"] is None
    low = availability_of(snapshot, "S", "W2", 5, DEC_8 - DAY)
    assert (low["status"], low["incoming"], low["restock_message"]) == (
        "low",
        30,
        "More arriving Tue 8 Dec",
    )
    assert low["expected_back_at"] == "2026-12-08T12:00:00.000Z"
    out = availability_of(snapshot, "S", "W1", 5, DEC_8 - DAY)
    assert out["restock_message"] == "Back in stock by Wed 9 Dec"
    assert Availability.model_validate(out).warehouses[0].on_order == 20


def test_available_never_negative() -> None:
    assert [available(x) for x in (-2, 0, 3)] == [0, 0, 3]


def test_oversold_warehouse_does_not_hide_another_ones_stock() -> None:
    reader = FakeReader(
        [StockRow("S", "W2", -4, 1_000, 1, 1), StockRow("S", "W1", 3, 2_000, 1, 1)],
        {"S": "Shirt"},
    )
    reader.rows.append(StockRow("T", "W1", 9, 500, 1, 1))
    snapshot = AvailabilityStore(reader, 1.0, clock=lambda: 10.0).refresh()
    assert [w.warehouse_id for w in snapshot.stock["S"]] == ["W1", "W2"]
    both = availability_of(snapshot, "S", None, 5, 10_500)
    assert (both["available"], both["message"], both["name"]) == (
        3,
        "Only 3 left in stock",
        "Shirt",
    )
    assert (both["updated_at"], both["as_of"]) == (
        "1970-01-01T00:00:02.000Z",
        "1970-01-01T00:00:10.000Z",
    )
    assert both["age_seconds"] == 0.5
    assert Availability.model_validate(both).warehouses[1].on_hand == -4  # the documented shape
    w2 = availability_of(snapshot, "S", "W2", 5, 10_500)
    assert (w2["available"], w2["status"]) == (0, "out_of_stock")
    nowhere = availability_of(snapshot, "S", "W9", 5, 10_500)
    assert (nowhere["available"], nowhere["warehouses"], nowhere["updated_at"]) == (0, [], None)
    assert snapshot.skus() == ["S", "T"]


def test_generator_calls_continue_one_stream() -> None:
    config = GeneratorConfig(seed=4, skus=5, warehouses=2, rate=10.0)
    whole = list(EventGenerator(config).messages(300))
    generator = EventGenerator(config)
    parts = [*generator.messages(120), *generator.messages(180)]
    assert parts == whole


def test_slow_rates_are_paced_in_small_steps() -> None:
    assert pacing_step(None) == 1000
    assert pacing_step(20.0) == 1
    assert pacing_step(5000.0) == 100
    assert pacing_step(1_000_000.0) == 1000


def test_the_contract_example_has_the_shape_the_api_answers_with() -> None:
    import json
    import re

    contracts = (ROOT / "docs" / "contracts.md").read_text()
    section = contracts[contracts.index("## Availability API") :]
    example = json.loads(re.search(r"```json\n(.*?)```", section, re.S).group(1))  # type: ignore[union-attr]
    Availability.model_validate(example)
    reader = FakeReader([StockRow("S", "W1", 2, 1_000, 1, 1)])
    answer = availability_of(AvailabilityStore(reader, 1.0).refresh(), "S", None, 5, 0)
    assert set(answer) == set(example)
    assert set(answer["warehouses"][0]) == set(example["warehouses"][0])
    assert example["message"] == display_message(example["available"], 5)


def test_showcase_shows_every_status_in_a_third_each() -> None:
    totals = {f"IN-{i:02d}": 50 for i in range(30)} | {"LOW-1": 3, "LOW-2": 1, "OUT-1": 0}
    picked = showcase(totals, 24, few_left=5)
    assert picked[:3] == ["LOW-2", "LOW-1", "OUT-1"]  # scarce (fewest first), out of stock
    assert picked[3:] == [f"IN-{i:02d}" for i in range(21)]  # short groups leave room
    many = {f"LOW-{i:02d}": 2 for i in range(20)} | {f"OUT-{i:02d}": 0 for i in range(20)}
    many |= {f"IN-{i:02d}": 9 for i in range(20)}
    picked = showcase(many, 24, few_left=5)
    assert [sku[:3] for sku in picked] == ["LOW"] * 8 + ["OUT"] * 8 + ["IN-"] * 8
    assert showcase({"A": 1}, 24, 5) == ["A"] and showcase({}, 24, 5) == []


def test_showcase_leads_with_the_scarcest_and_the_incoming() -> None:
    """Issue 36: a newcomer sees "Only N left" and "Back in stock by ..." first."""
    totals = {f"IN-{i:02d}": 50 for i in range(30)}
    totals |= {"LOW-A": 4, "LOW-B": 1, "OUT-A": 0, "OUT-B": -3, "OUT-C": 0}
    expected = {"OUT-C": 2_000, "OUT-B": 1_000, "IN-05": 500}  # deliveries on the way
    picked = showcase(totals, 9, few_left=5, expected=expected)
    assert picked[:5] == ["LOW-B", "LOW-A", "OUT-B", "OUT-C", "OUT-A"]
    assert picked[5:] == ["IN-05", "IN-00", "IN-01", "IN-02"]  # incoming first here too
