"""The reorder point, safety stock and EOQ formulas against stockpyl (a well-kept
inventory-theory library) on the same inputs, and the lead-time-demand variance with an
uncertain lead time against a simulation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from stockpyl.demand_source import DemandSource
from stockpyl.eoq import economic_order_quantity

from dataflows.per_key.demand import DAY_MS, DemandRules, DemandState, Ewma, levels
from inventory.core.records import ProductPolicy

RULES = DemandRules(min_days=1, min_receipts=3)


def state(mean: float, sd: float, lead: tuple[float, float, int] = (0.0, 0.0, 0)) -> DemandState:
    return DemandState(demand=Ewma(mean, sd * sd, 30), lead=Ewma(*lead))


@pytest.mark.parametrize(
    ("mean", "sd", "lead_days", "service"),
    [(4.0, 2.0, 3.0, 0.95), (0.7, 1.1, 10.0, 0.99), (25.0, 9.0, 1.5, 0.9), (2.0, 0.0, 5, 0.95)],
)
def test_the_reorder_point_is_stockpyls_lead_time_demand_quantile(
    mean: float, sd: float, lead_days: float, service: float
) -> None:
    policy = ProductPolicy(
        10, 50, round(lead_days * DAY_MS), replenishment="demand", service_level=service
    )
    got = levels(state(mean, sd), policy, RULES)
    source = DemandSource(type="N", mean=mean, standard_deviation=sd)
    if sd > 0:
        quantile = source.lead_time_demand_distribution(lead_days).ppf(service)
    else:
        quantile = mean * lead_days
    assert got.reorder_point == math.ceil(quantile - 1e-9)
    assert got.basis == "demand" and got.lead_time_days == lead_days


@pytest.mark.parametrize(
    ("mean", "order_cost", "holding_cost"), [(4.0, 50.0, 2.5), (120.0, 8.0, 0.3), (0.2, 100, 9)]
)
def test_the_order_up_to_level_adds_stockpyls_eoq(
    mean: float, order_cost: float, holding_cost: float
) -> None:
    policy = ProductPolicy(
        10,
        50,
        3 * DAY_MS,
        replenishment="demand",
        order_cost=order_cost,
        holding_cost=holding_cost,
    )
    got = levels(state(mean, 1.0), policy, RULES)
    eoq, _ = economic_order_quantity(order_cost, holding_cost, mean * 365)
    assert got.order_up_to - got.reorder_point == max(math.ceil(eoq - 1e-9), 1)


def test_an_uncertain_lead_time_adds_the_demand_it_may_cover() -> None:
    """Var(lead-time demand) = L * var_d + d^2 * var_L (law of total variance): the safety
    stock's spread, checked against 400,000 simulated lead times."""
    mean, sd, lead_mean, lead_sd = 6.0, 3.0, 5.0, 1.5
    policy = ProductPolicy(10, 50, 5 * DAY_MS, replenishment="demand", service_level=0.95)
    got = levels(state(mean, sd, (lead_mean, lead_sd**2, 3)), policy, RULES)
    rng = np.random.default_rng(7)
    lead = rng.normal(lead_mean, lead_sd, 400_000)
    demand = rng.normal(mean * lead, sd * np.sqrt(np.clip(lead, 0, None)))
    z = 1.6448536269514722  # the 95 % quantile of the standard normal
    simulated = mean * lead_mean + z * float(np.std(demand))
    assert got.reorder_point == pytest.approx(math.ceil(simulated), abs=1)
    formula = math.sqrt(lead_mean * sd**2 + mean**2 * lead_sd**2)
    assert float(np.std(demand)) == pytest.approx(formula, rel=0.01)


@pytest.mark.parametrize("span", [28, 10])
def test_the_daily_figures_are_the_weighted_mean_and_variance_of_the_days_seen(
    span: int,
) -> None:
    """Weights (1 - alpha)^age, normalised over the days seen (pandas' ewm adjust=True):
    a few days give about their plain average, not one pulled towards the first day."""
    alpha = 2 / (span + 1)
    days = np.random.default_rng(span).poisson(3.0, 60).astype(float)
    days[0] = 0.0  # a first day without sales must not drag the next weeks' mean down
    ewma = Ewma()
    for n, x in enumerate(days, 1):
        ewma.add(x, alpha)
        weights = (1 - alpha) ** np.arange(n - 1, -1, -1)
        mean = float(np.average(days[:n], weights=weights))
        variance = float(np.average((days[:n] - mean) ** 2, weights=weights))
        assert ewma.mean == pytest.approx(mean, abs=1e-9)
        assert ewma.variance == pytest.approx(variance, abs=1e-9)
        if n == 7:
            assert ewma.mean > 0.8 * days[1:7].mean() * 6 / 7
