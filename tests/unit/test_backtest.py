"""``inventory backtest``: one key replayed by hand, both policies on a generated profile,
the command's figures and plot."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from dataflows.per_key.orders import OrderRules
from generators.supplier import SupplierBehaviour
from inventory.app.backtest.compare import compare_policies, plotted
from inventory.app.backtest.demand import Profile, generated_demand
from inventory.app.backtest.simulate import Replay, replay_key
from inventory.cli.main import main
from inventory.core.records import ProductPolicy
from inventory.core.settings import Settings

HOUR = 3_600_000
T0 = 1_795_000_000_000 - 1_795_000_000_000 % 86_400_000  # a UTC midnight


def test_one_key_by_hand() -> None:
    """10 on hand, reorder at 4 up to 10, 12 h lead time; a shopper an hour for 23 h.

    06 h: 4 left, order 6 (due 18 h). 10 h: out; the shoppers of 11-17 h go away.
    18 h: 6 arrive, one sold. 19 h: 4 left, order 6 (due 31 h, after the end). 23 h: out.
    """
    policy = ProductPolicy(4, 10, 12 * HOUR)
    replay = Replay(T0, T0 + 24 * HOUR, T0, OrderRules(), 0, SupplierBehaviour(), timeline=True)
    orders = [(T0 + h * HOUR, 1) for h in range(1, 24)]
    result = replay_key("W", "S", orders, policy=policy, initial=10, replay=replay)
    assert (result.demanded, result.served, result.orders) == (23, 16, 2)
    assert result.stockout_ms == (8 + 1) * HOUR  # 10-18 h and 23-24 h
    assert result.unit_ms == (55 + 15) * HOUR  # 10+9+...+1 unit-hours, then 5+4+3+2+1
    assert result.timeline[:2] == [(T0, 10), (T0 + HOUR, 9)]
    assert (T0 + 18 * HOUR, 6) in result.timeline and result.timeline[-1] == (T0 + 23 * HOUR, 0)


def test_the_warm_up_is_replayed_but_not_counted() -> None:
    policy = ProductPolicy(4, 10, 12 * HOUR)
    replay = Replay(T0, T0 + 24 * HOUR, T0 + 12 * HOUR, OrderRules(), 0, SupplierBehaviour())
    orders = [(T0 + h * HOUR, 1) for h in range(1, 24)]
    result = replay_key("W", "S", orders, policy=policy, initial=10, replay=replay)
    assert (result.demanded, result.served, result.orders) == (12, 6, 1)  # 12-23 h
    assert result.stockout_ms == (6 + 1) * HOUR  # 12-18 h and 23-24 h


def test_an_unreliable_supplier_delivers_late_and_short() -> None:
    policy = ProductPolicy(4, 10, 12 * HOUR)
    late_short = SupplierBehaviour(late_share=1.0, late_hours=4.0, short_share=1.0, short_fill=0.5)
    orders = [(T0 + h * HOUR, 1) for h in range(1, 24)]
    reliable = replay_key(
        "W", "S", orders, policy=policy, initial=10,
        replay=Replay(T0, T0 + 24 * HOUR, T0, OrderRules(), 0, SupplierBehaviour()),
    )  # fmt: skip
    unreliable = replay_key(
        "W", "S", orders, policy=policy, initial=10,
        replay=Replay(T0, T0 + 24 * HOUR, T0, OrderRules(), 0, late_short),
    )  # fmt: skip
    assert unreliable.served < reliable.served
    assert unreliable.stockout_ms > reliable.stockout_ms


@pytest.fixture(scope="module")
def small() -> tuple[Settings, object]:
    settings = Settings(_env_file=None)
    demand = generated_demand(Profile(skus=12, warehouses=2, orders_per_day=150.0))
    return settings, demand


def test_both_policies_replay_the_same_demand(small: tuple[Settings, object]) -> None:
    settings, demand = small
    comparison = compare_policies(demand, settings, plot_keys=3)  # type: ignore[arg-type]
    static, smart = comparison.figures["static"], comparison.figures["demand"]
    assert static.demanded == smart.demanded > 0
    assert comparison.measured_days == 21 and comparison.keys == 24
    for figures in (static, smart):
        assert 0 < figures.served <= figures.demanded
        assert figures.orders > 0 and figures.average_on_hand > 0
    assert list(comparison.timelines) == plotted(demand.keys, 3)  # type: ignore[attr-defined]
    again = compare_policies(demand, settings)  # type: ignore[arg-type]
    assert again.figures == comparison.figures  # a function of the demand


def test_a_static_only_catalog_gives_the_same_figures_under_both(
    small: tuple[Settings, object],
) -> None:
    """With the demand policy's minimum history longer than the period, it stays on the
    catalog values: the two replays must then agree exactly."""
    settings, demand = small
    never = settings.model_copy(update={"demand_min_days": 60})
    comparison = compare_policies(demand, never, warmup_days=7)  # type: ignore[arg-type]
    static, smart = comparison.figures["static"], comparison.figures["demand"]
    assert replace(smart, policy="static") == static


def test_the_command_prints_the_figures_and_draws_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    plot = tmp_path / "backtest.html"
    args = ["backtest", "--skus", "10", "--warehouses", "2", "--orders-per-day", "120"]
    assert main([*args, "--plot", str(plot), "--plot-keys", "2"]) == 0
    out = capsys.readouterr()
    for line in ("stock-out minutes", "fill rate", "average on hand", "days of cover"):
        assert line in out.out
    assert "20 keys" in out.out and "7-day warm-up" in out.out
    lines = [line for line in out.out.splitlines()[2:] if line.strip()]
    assert lines[0].split()[:3] == ["static", "demand", "forecast"]
    ratios = [r for line in lines[1:6] for r in line.split()[-2:]]  # demand/, forecast/static
    assert len(ratios) == 10 and all(re.fullmatch(r"\d+\.\d\d|-", r) for r in ratios), ratios
    assert re.fullmatch(r"forecast WAPE \(days\)\s+-\s+-\s+(\d\.\d{3}|-)", lines[6]), lines[6]
    page = plot.read_text()
    assert page.count("<polyline") == 6 and "stock-out minutes" in page  # 2 keys x 3
    assert main([*args, "--plot", str(tmp_path / "x.png")]) == 2
    assert "neither .html nor .svg" in capsys.readouterr().err
    assert main([*args, "--warmup-days", "28"]) == 2
    assert "leaves nothing" in capsys.readouterr().err


def test_the_documented_result_is_what_the_default_profile_gives(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """docs/analysts.md quotes the default backtest: the figures must be the command's."""
    import re

    from tests.support.paths import ROOT

    docs = (ROOT / "docs" / "analysts.md").read_text()
    names = r"stock-out minutes|fill rate|average on hand \(units\)|purchase orders"
    quoted = {
        name: re.findall(r"[\d][\d,.]*", figures)
        for name, figures in re.findall(rf"^\| ({names}) \|(.*)\|$", docs, flags=re.M)
    }
    assert len(quoted) == 4 and all(len(v) == 3 for v in quoted.values()), quoted
    assert main(["backtest"]) == 0
    out = capsys.readouterr().out
    for name, (static, demand, forecast) in quoted.items():
        row = rf"{re.escape(name)}\s+{static}%?\s+{demand}%?\s+{forecast}%?\s"
        assert re.search(row, out), (name, out)
