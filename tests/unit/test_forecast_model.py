"""The demand model of ``inventory forecast`` (docs/semantics.md, "Demand forecasts") on
synthetic daily counts with a known weekday profile, level and promotion uplift; the
history rules (promotion shares, days left out); accuracy by the documented formulas."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from inventory.app.forecast.history import Promotion, day_ms, histories, promotion_shares
from inventory.app.forecast.job import _accuracy
from inventory.app.forecast.model import KeyHistory, fit, forecast

PROFILE = np.array([0.8, 0.85, 0.9, 1.0, 1.05, 1.35, 1.05])  # Monday .. Sunday
PROFILE = PROFILE / PROFILE.mean()


def synthetic(level: float, days: int, uplift: float, seed: int) -> KeyHistory:
    """Poisson days of mean level x weekday x uplift on promoted days (a third of
    some), starting on a Wednesday."""
    rng = np.random.default_rng(seed)
    promotion = np.zeros(days)
    for start in range(20, days - 5, 28):
        promotion[start : start + 3] = 1.0
        promotion[start + 3] = 1 / 3
    weekday = (np.arange(days) + 2) % 7
    mean = level * PROFILE[weekday] * uplift**promotion
    return KeyHistory(rng.poisson(mean).astype(float), np.zeros(days, bool), promotion, 2)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_fit_recovers_the_weekday_profile_level_and_uplift(seed: int) -> None:
    """200 units a day for 16 weeks: within 8 % (weekday factors, level, uplift; the
    worst of 30 seeds was 4.8 %), as docs/semantics.md states."""
    model = fit(synthetic(200.0, 112, 3.0, seed), planned_uplift=None)
    assert model.model == "poisson_glm" and model.uplift_source == "fitted"
    assert np.allclose(model.weekday, PROFILE, rtol=0.08), model.weekday
    assert abs(model.level / 200.0 - 1) < 0.08 and abs(model.trend) < 0.002
    assert abs(model.uplift / 3.0 - 1) < 0.08
    assert 1.0 <= model.dispersion < 1.5  # Poisson counts
    # the forecast is the fitted mean, day by day after the last day of history
    first = (2 + 112) % 7
    days = forecast(model, first, [1.0] * 7)
    for k, (mean, variance, lower, upper) in enumerate(days):
        weekday = model.weekday[(first + k) % 7]
        expected = model.level * (1 + model.trend) ** (k + 1) * weekday * model.uplift
        assert mean == pytest.approx(expected)
        assert variance == pytest.approx(model.dispersion * mean)
        assert lower < mean < upper


def test_short_or_empty_history_is_the_mean_model_with_the_planned_uplift() -> None:
    short = KeyHistory(np.array([3.0, 5.0, 4.0]), np.zeros(3, bool), np.zeros(3), 0)
    model = fit(short, planned_uplift=2.5)
    assert (model.model, model.level, model.uplift, model.uplift_source) == (
        "mean", 4.0, 2.5, "planned",
    )  # fmt: skip
    assert forecast(model, 0, [0.0, 1.0])[1][0] == pytest.approx(10.0)
    idle = KeyHistory(np.zeros(30), np.zeros(30, bool), np.zeros(30), 0)
    assert fit(idle, None).model == "mean" and fit(idle, None).uplift_source == "none"


def test_slow_movers_get_a_flat_weekday_profile() -> None:
    slow = synthetic(0.6, 112, 1.0, 4)
    model = fit(slow, planned_uplift=None)
    assert model.model == "poisson_glm" and model.weekday == (1.0,) * 7


def test_promotion_shares_cover_partial_days_of_the_key_only() -> None:
    first = date(2026, 3, 2)
    start = day_ms(first) + 18 * 3_600_000  # 18:00 on day 0 .. 06:00 on day 2
    promotions = [
        Promotion("S", "", start, start + 36 * 3_600_000, 4.0),
        Promotion("S", "W2", day_ms(first), day_ms(first) + 86_400_000, 2.0),  # elsewhere
        Promotion("T", "", day_ms(first), day_ms(first) + 86_400_000, 2.0),  # another SKU
    ]
    shares = promotion_shares(promotions, ("W1", "S"), first, 4)
    assert shares.tolist() == [0.25, 1.0, 0.25, 0.0]


def test_histories_fill_days_without_sales_and_leave_out_days_out_of_stock() -> None:
    through = date(2026, 3, 6)
    sales = [("W1", "S", date(2026, 3, 2), 4), ("W1", "S", date(2026, 3, 5), 2)]
    stockouts = [("W1", "S", date(2026, 3, 3), 61), ("W1", "S", date(2026, 3, 4), 60)]
    [(key, history)] = histories(sales, stockouts, [], through=through, censor_minutes=60).items()
    assert key == ("W1", "S") and history.first_weekday == 0
    assert history.units.tolist() == [4, 0, 0, 2, 0]
    assert history.censored.tolist() == [False, True, False, False, False]


def test_accuracy_is_wape_and_mase_as_documented() -> None:
    """utilsforecast's figures equal the formulas of docs/semantics.md."""
    training = pd.DataFrame(
        {"unique_id": ["W1:S"] * 9, "ds": range(9), "y": [5, 3, 4, 6, 2, 0, 1, 7, 5]}
    )
    holdout = pd.DataFrame(
        {"unique_id": ["W1:S"] * 3, "ds": [9, 10, 11], "y": [4, 0, 6], "forecast": [3.5, 1, 6]}
    )
    [(key, (wape, mase))] = _accuracy(holdout, training).items()
    assert key == ("W1", "S")
    errors = [0.5, 1.0, 0.0]
    assert wape == pytest.approx(sum(errors) / (4 + 0 + 6))
    scale = (abs(7 - 5) + abs(5 - 3)) / 2  # |y_t - y_(t-7)| over the training days t >= 7
    assert mase == pytest.approx((sum(errors) / 3) / scale)
