"""Strategies and evaluate(): hand-computed NPV/payback, a per-path loop reference, risk
measures, the value of flexibility, the fast path against the generic path."""

from __future__ import annotations

import itertools
import math
import struct
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hashpivot import _reference as ref
from hashpivot.builtin_plugins.ai_colocation import AiColocation
from hashpivot.builtin_plugins.asic_hosting import AsicHosting
from hashpivot.builtin_plugins.gpu_cloud import GpuCloud
from hashpivot.builtin_plugins.power_sale import PowerSale
from hashpivot.builtin_plugins.self_mining import SelfMining
from hashpivot.exceptions import InvalidValueError
from hashpivot.revenue import LinearRevenueModel, SiteContext, prepare_scenario
from hashpivot.strategy import Stage, Staged, Static, SwitchRule, evaluate
from hashpivot.testing import synthetic_scenario

SITE = SiteContext(capacity_mw=100.0)
MODELS = [SelfMining(), AsicHosting(), AiColocation(lead_time_days=60), GpuCloud(), PowerSale()]


class Flat(LinearRevenueModel):
    """$1,000 revenue and $400 opex per MW-day; capex $10,000 per added MW; lead 0."""

    name = "flat"

    def unit_flows(self, site: SiteContext, scenario: pl.DataFrame) -> pl.DataFrame:
        return pl.DataFrame({"revenue_usd": [1000.0], "opex_usd": [400.0]})

    def capex_per_mw(self, site: SiteContext) -> float:
        return 10_000.0


def strategies() -> list[Any]:
    return [
        Static("mine", {"self_mining": 100}),
        Static(
            "mix", {"self_mining": 50, "ai_colocation": 30, "gpu_cloud": 10, "asic_hosting": 10}
        ),
        Staged(
            "staged",
            {"self_mining": 100},
            [
                Stage(40, 30, "self_mining", "ai_colocation"),
                Stage(90, 20, "self_mining", "gpu_cloud"),
            ],
            lead_time_days=5,
            switch_cost_usd_per_mw=50_000.0,
        ),
        SwitchRule(
            "rule",
            {"self_mining": 80, "power_sale": 20},
            "self_mining",
            "ai_colocation",
            40,
            below=31.0,
            window_days=7,
            lead_time_days=3,
            switch_cost_usd_per_mw=100_000.0,
        ),
        SwitchRule(
            "rule_up",
            {"asic_hosting": 50},
            "asic_hosting",
            "gpu_cloud",
            25,
            above=2.0,
            signal="gpu_rent_usd_hr",
            window_days=10,
        ),
    ]


def test_npv_and_payback_hand_computed() -> None:
    # 1 path × 4 days; 2 MW of Flat: net per day = 2 · (1000 − 400) = 1,200; capex 20,000 on
    # day 0. NPV at 10 %: −20,000 + Σ_d 1,200 · 1.1^(−d/365.25).
    sc = synthetic_scenario(1, 4)
    ev = evaluate(SITE, sc, [Static("flat", {"flat": 2})], models=[Flat()], discount_rate=0.10)
    npv = -20_000 + sum(1200 * 1.1 ** (-d / 365.25) for d in range(4))
    row = ev.per_path.row(0, named=True)
    assert row["npv_usd"] == pytest.approx(npv, rel=1e-12)
    assert row["revenue_usd"] == pytest.approx(8000.0)
    assert row["opex_usd"] == pytest.approx(3200.0)
    assert row["capex_usd"] == pytest.approx(20_000.0)
    # 4 days are all in the first period: cumulative −15,200 < 0 → never pays back
    assert row["payback_years"] is None
    assert row["irr"] is None  # one period, no sign change across periods


def test_payback_and_irr_against_reference() -> None:
    # 3 MW of Flat with capex $150,000/MW: −450,000 on day 0, then +1,800 a day. Cumulative
    # turns ≥ 0 on day 249 (450,000 / 1,800 = 250 days), inside period 8 (days 244–273);
    # period 7 still ends negative → payback at the end of period 8 = 9/12 year.
    class Capex(Flat):
        def capex_per_mw(self, site: SiteContext) -> float:
            return 150_000.0

    sc = prepare_scenario(synthetic_scenario(2, 400))
    ev = evaluate(SITE, sc, [Static("flat", {"flat": 3})], models=[Capex()])
    net = [3 * 600.0] * 400
    net[0] -= 450_000.0
    periods = ref.period_sums(net)
    assert ev.per_path["payback_years"].to_list() == [ref.payback_years(periods)] * 2
    assert ev.per_path["payback_years"][0] == pytest.approx(9 / 12)
    irr = ref.irr_periods(periods)
    assert irr is not None
    assert irr > 0
    assert ev.per_path["irr"].to_list() == pytest.approx([irr] * 2, rel=1e-9)
    # and at that rate the period flows' NPV is ~0
    assert abs(sum(c * (1 + irr) ** (-k / 12) for k, c in enumerate(periods))) < 1e-3


def test_against_per_path_loop_reference() -> None:
    sc = prepare_scenario(synthetic_scenario(5, 150, seed=11))
    models = {m.name: m for m in MODELS}
    strats = strategies()
    ev = evaluate(SITE, sc, strats, models=MODELS, discount_rate=0.08)
    expected = pl.DataFrame(ref.evaluate_path_loop(SITE, sc, strats, models, 0.08))
    got = ev.per_path.select("strategy", "path", "npv_usd", "irr", "payback_years")
    assert got["strategy"].to_list() == expected["strategy"].to_list()
    assert got["path"].to_list() == expected["path"].to_list()
    for c in ("npv_usd", "irr"):
        for a, b in zip(got[c].to_list(), expected[c].to_list(), strict=False):
            if b is None:
                assert a is None
            else:
                assert a == pytest.approx(b, rel=1e-9, abs=1e-3)
    assert got["payback_years"].to_list() == expected["payback_years"].to_list()


def test_fast_path_equals_generic_path() -> None:
    sc = prepare_scenario(synthetic_scenario(6, 200, seed=5))
    fast = evaluate(SITE, sc, strategies(), models=MODELS)
    slow = evaluate(SITE, sc, strategies(), models=MODELS, fast=False)
    for c in ("npv_usd", "revenue_usd", "opex_usd", "capex_usd"):
        assert fast.per_path[c].to_list() == pytest.approx(slow.per_path[c].to_list(), rel=1e-9)
    assert fast.per_path["payback_years"].to_list() == slow.per_path["payback_years"].to_list()


def test_rule_trigger_matches_reference() -> None:
    sc = prepare_scenario(synthetic_scenario(8, 120, seed=2))
    rule = SwitchRule("r", {"self_mining": 10}, "self_mining", "ai_colocation", 5, below=30.0)
    got = rule.trigger_day(sc).to_list()
    hp = sc.frame["hashprice_usd_ph_day"].to_list()
    want = [ref.rolling_trigger(hp[p * 120 : (p + 1) * 120], 30, 30.0, None) for p in range(8)]
    assert got == want
    assert any(w is not None for w in want)
    assert any(w is None for w in want)


@given(
    values=st.lists(st.floats(0.0, 100.0), min_size=2, max_size=40),
    n_paths=st.integers(1, 4),
    window=st.integers(1, 10),
    threshold=st.floats(10.0, 90.0),
    above=st.booleans(),
)
def test_rule_trigger_property(
    values: list[float], n_paths: int, window: int, threshold: float, above: bool
) -> None:
    n_days = len(values)
    sc = synthetic_scenario(n_paths, n_days)
    # each path gets a rotated copy of the values
    sig = [values[(d + p) % n_days] for p in range(n_paths) for d in range(n_days)]
    prep = prepare_scenario(sc.with_columns(pl.Series("hashprice_usd_ph_day", sig)))
    kw = {"above": threshold} if above else {"below": threshold}
    rule = SwitchRule("r", {"a": 1}, "a", "b", 1, window_days=window, **kw)
    want = [
        ref.rolling_trigger(
            sig[p * n_days : (p + 1) * n_days],
            window,
            None if above else threshold,
            threshold if above else None,
        )
        for p in range(n_paths)
    ]
    got = rule.trigger_day(prep).to_list()
    # float rounding of the cumulative-sum window can differ from a direct sum only at exact
    # ties; hypothesis floats make ties unlikely but allow them: compare away from ties
    for g, w, p in zip(got, want, range(n_paths), strict=False):
        if g != w:
            d = min(x for x in (g, w) if x is not None)
            seg = sig[p * n_days + d - window + 1 : p * n_days + d + 1]
            assert math.isclose(sum(seg) / window, threshold, rel_tol=1e-9)


def test_risk_measures_from_per_path() -> None:
    sc = synthetic_scenario(40, 120, seed=4)
    ev = evaluate(SITE, sc, strategies()[:2], models=MODELS, cvar_level=0.1)
    for name in ("mine", "mix"):
        npv = sorted(ev.per_path.filter(pl.col("strategy") == name)["npv_usd"].to_list())
        row = ev.summary.filter(pl.col("strategy") == name).row(0, named=True)
        assert row["mean_npv_usd"] == pytest.approx(sum(npv) / 40)
        assert row["p_loss"] == sum(v < 0 for v in npv) / 40
        assert row["cvar_usd"] == pytest.approx(sum(npv[:4]) / 4)  # worst 10 % of 40
        assert row["npv_q50_usd"] == pytest.approx((npv[19] + npv[20]) / 2)
        assert row["flexible"] is False


def test_value_of_flexibility() -> None:
    sc = synthetic_scenario(20, 150, seed=9)
    ev = evaluate(SITE, sc, strategies(), models=MODELS)
    s = {r["strategy"]: r for r in ev.summary.to_dicts()}
    fixed = max(("mine", "mix", "staged"), key=lambda k: s[k]["mean_npv_usd"])
    flex = max(("rule", "rule_up"), key=lambda k: s[k]["mean_npv_usd"])
    f = ev.flexibility.row(0, named=True)
    assert (f["best_fixed"], f["best_flexible"]) == (fixed, flex)
    assert f["value_of_flexibility_usd"] == pytest.approx(
        s[flex]["mean_npv_usd"] - s[fixed]["mean_npv_usd"]
    )
    # by_model adds up to the strategy's NPV
    bm = ev.by_model.group_by("strategy").agg(pl.col("mean_npv_usd").sum())
    for r in bm.to_dicts():
        assert r["mean_npv_usd"] == pytest.approx(s[r["strategy"]]["mean_npv_usd"], rel=1e-9)


def test_switch_cost_and_lead_time_of_rule() -> None:
    # A rule that fires on day window−1 = 0 (window 1, threshold above any hashprice):
    # 10 MW leave "flat" on day 0 and join "flat2" on day 3; switch cost 1,000/MW on day 0.
    class Flat2(Flat):
        name = "flat2"

    sc = synthetic_scenario(1, 10)
    rule = SwitchRule(
        "r",
        {"flat": 10},
        "flat",
        "flat2",
        10,
        below=1e9,
        window_days=1,
        lead_time_days=3,
        switch_cost_usd_per_mw=1_000.0,
    )
    ev = evaluate(SITE, sc, [rule], models=[Flat(), Flat2()], discount_rate=0.0)
    # flat: its 10 MW leave on day 0, before anything is bought (capex is charged on what a
    # model holds after each day's steps, `added_mw`), no flows; flat2: 7 days × 10 MW · 600
    # = 42,000, capex 100,000 on day 3; switching 10,000. The generic path agrees.
    assert ev.per_path["npv_usd"][0] == pytest.approx(42_000 - 100_000 - 10_000)
    slow = evaluate(SITE, sc, [rule], models=[Flat(), Flat2()], discount_rate=0.0, fast=False)
    assert slow.per_path["npv_usd"][0] == pytest.approx(42_000 - 100_000 - 10_000)


def test_validation_errors() -> None:
    sc = synthetic_scenario(1, 10)
    with pytest.raises(InvalidValueError, match="allocates 120 MW"):
        evaluate(SITE, sc, [Static("big", {"flat": 120})], models=[Flat()])
    with pytest.raises(InvalidValueError, match="unknown revenue model"):
        evaluate(SITE, sc, [Static("x", {"nope": 1})], models=[Flat()])
    with pytest.raises(InvalidValueError, match="holds 0 MW"):
        evaluate(SITE, sc, [Staged("s", {}, [Stage(1, 5, "flat", None)])], models=[Flat()])
    with pytest.raises(InvalidValueError, match="exactly one of"):
        evaluate(SITE, sc, [SwitchRule("r", {"flat": 5}, "flat", "other", 1)], models=[Flat()])
    with pytest.raises(InvalidValueError, match="unique"):
        evaluate(SITE, sc, [Static("a", {}), Static("a", {})], models=[Flat()])


def test_irr_is_null_when_not_unique() -> None:
    """Flows −, +, − (two sign changes) can have two IRRs; none is reported. −, + has one."""
    from hashpivot import _reference as ref
    from hashpivot.strategy import _irr

    two_changes = [-100.0, 230.0, -132.0]  # NPV roots at r = 10 % and 20 % per period
    one_change = [-100.0, 60.0, 60.0]
    periods = [pl.Series([a, b]) for a, b in zip(two_changes, one_change, strict=True)]
    got = _irr(periods).to_list()
    assert got[0] is None
    assert ref.irr_periods(two_changes) is None
    expected = ref.irr_periods(one_change)
    assert expected is not None
    assert got[1] == pytest.approx(expected, rel=1e-9)


def test_irr_is_null_for_a_stream_that_starts_positive() -> None:
    from hashpivot import _reference as ref
    from hashpivot.strategy import _irr

    borrowing = [100.0, -60.0, -60.0]  # one sign change, but a loan, not an investment
    assert _irr([pl.Series([c]) for c in borrowing]).to_list() == [None]
    assert ref.irr_periods(borrowing) is None


@st.composite
def _flow_cases(draw: Any) -> dict[str, Any]:
    n_paths, n_days = draw(st.integers(1, 4)), draw(st.integers(1, 12))
    n = n_paths * n_days
    money = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
    inner = draw(st.sets(st.integers(1, max(1, n_days - 1)), max_size=n_days))
    bounds = sorted({0, n_days} | {b for b in inner if b < n_days})
    return {
        "n_paths": n_paths,
        "n_days": n_days,
        "rev": draw(st.lists(money, min_size=n, max_size=n)),
        "opex": draw(st.lists(money, min_size=n, max_size=n)),
        "capex": draw(st.none() | st.lists(money, min_size=n, max_size=n)),
        "disc": draw(st.lists(st.floats(0.0, 1.0), min_size=n_days, max_size=n_days)),
        "bounds": bounds,
        "days": draw(st.lists(st.integers(0, n_days), min_size=n_paths, max_size=3 * n_paths)),
        "cuts": draw(st.lists(st.integers(0, n), max_size=3)),
    }


@settings(max_examples=80, deadline=None)
@given(_flow_cases())
def test_flow_sums_equal_each_paths_running_sum_bit_for_bit(case: dict[str, Any]) -> None:
    """``_core.FlowSums`` (a table at the period boundaries, continued to the asked day)
    against the day-by-day running sum of ``_reference.running_sums``, through the binding:
    columns split into chunks at random rows, the table transposed boundary-major, queries
    stacked path by path."""
    from hashpivot import _core

    n_paths, n_days = case["n_paths"], case["n_days"]

    def chunked(values: list[float]) -> pl.Series:
        cuts = sorted({0, len(values), *case["cuts"]})
        parts = [pl.Series(values[a:b], dtype=pl.Float64) for a, b in itertools.pairwise(cuts)]
        return pl.concat(parts, rechunk=False)

    capex = case["capex"]
    flows = _core.FlowSums(
        chunked(case["rev"]),
        chunked(case["opex"]),
        chunked(capex) if capex is not None else None,
        pl.Series(case["disc"], dtype=pl.Float64),
        n_paths,
        n_days,
        case["bounds"],
    )
    k = 4 if capex is not None else 3
    days = case["days"][: len(case["days"]) // n_paths * n_paths]

    def want(p: int, d: int) -> list[bytes]:
        got = ref.running_sums(case["rev"], case["opex"], capex, case["disc"], n_days, p, d)
        return [struct.pack("<d", x) for x in got[:k]]

    def bits(cols: list[Any], i: int) -> list[bytes]:
        return [struct.pack("<d", pl.Series(c)[i]) for c in cols]

    at = flows.at(pl.Series(days, dtype=pl.Int64))
    for i, d in enumerate(days):
        assert bits(at, i) == want(i % n_paths, d), (i, d)
    table = flows.table()
    for j, b in enumerate(case["bounds"]):
        for p in range(n_paths):
            assert bits(table, j * n_paths + p) == want(p, b), (j, p)
    with pytest.raises(InvalidValueError):
        flows.at(pl.Series([n_days + 1] * n_paths, dtype=pl.Int64))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.lists(
            st.one_of(
                st.just(0.0),
                st.floats(-1e7, 1e7, allow_nan=False, allow_infinity=False),
            ),
            min_size=1,
            max_size=8,
        ),
        min_size=1,
        max_size=30,
    ),
    st.integers(0, 50),
)
def test_irr_kernel_equals_the_polars_reference_bit_for_bit(
    rows: list[list[float]], iterations: int
) -> None:
    """``_core.irr_bisect`` (rows in parallel) against the vectorised polars version it
    replaced: the same nulls and the same bits. Rows are padded with zeros to one length;
    most random rows are not investments (null), so an investment-shaped row is added."""
    from hashpivot import _core

    rows = [*rows, [-100.0, 5.0, 30.0, 80.0]]
    k = max(len(r) for r in rows)
    rows = [r + [0.0] * (k - len(r)) for r in rows]
    periods = [pl.Series([r[j] for r in rows], dtype=pl.Float64) for j in range(k)]
    want = ref.irr_bisect_series(periods, iterations)
    got = pl.Series("irr", _core.irr_bisect(periods, iterations))
    assert got.is_null().to_list() == want.is_null().to_list()
    assert [x is None or struct.pack("<d", x) for x in got.to_list()] == [
        x is None or struct.pack("<d", x) for x in want.to_list()
    ]
    assert got.null_count() < len(rows)  # the investment row has an IRR


def test_day0_removals_from_a_model_with_capex_agree_on_both_paths() -> None:
    """MW removed on day 0 were never bought: the fast path charged the start allocation's
    capex in full, the generic path (``added_mw``) what is held after day 0's steps."""
    sc = prepare_scenario(synthetic_scenario(4, 100, seed=3))
    strats = [
        Staged(
            "day0_out",
            {"ai_colocation": 50, "self_mining": 10},
            [Stage(0, 10, "ai_colocation", "self_mining")],
        ),
        SwitchRule(
            "rule_day0", {"gpu_cloud": 40}, "gpu_cloud", "self_mining", 20,
            above=0.0, signal="price_usd", window_days=1,
        ),
    ]  # fmt: skip
    fast = evaluate(SITE, sc, strats, models=MODELS)
    slow = evaluate(SITE, sc, strats, models=MODELS, fast=False)
    for c in ("npv_usd", "capex_usd", "revenue_usd"):
        assert fast.per_path[c].to_list() == pytest.approx(slow.per_path[c].to_list(), rel=1e-12)
    staged = fast.per_path.filter(pl.col("strategy") == "day0_out")["capex_usd"]
    assert staged.to_list() == pytest.approx([40 * 2_000_000.0] * 4)  # 40 MW bought, not 50
