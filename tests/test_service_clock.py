"""The service clock of the AI lease and GPU cloud: a model's lease tenor, escalator, default
survival and GPU rent decay count from the day MW move into it, not from the scenario's first
day, and every addition is its own tranche on its own clock (removals take the oldest MW
first). Checked against a day-by-day reference (``_reference``) and through ``evaluate``'s
fast and generic paths."""

from __future__ import annotations

import dataclasses
from dataclasses import asdict
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hashpivot import _reference as ref
from hashpivot.builtin_plugins.ai_colocation import AiColocation
from hashpivot.builtin_plugins.gpu_cloud import GpuCloud
from hashpivot.builtin_plugins.self_mining import SelfMining
from hashpivot.revenue import (
    AGE_COLUMN,
    SiteContext,
    prepare_scenario,
    service_start,
    service_tranches,
    with_service_age,
)
from hashpivot.strategy import Stage, Staged, SwitchRule, evaluate
from hashpivot.testing import synthetic_scenario

SITE = SiteContext(capacity_mw=100.0)
N_DAYS = 240
SC = prepare_scenario(synthetic_scenario(3, N_DAYS, seed=4))


def _ai(lead: int) -> AiColocation:
    # a short tenor and a steep escalator/default so every term of the factor shows
    return AiColocation(lead_time_days=lead, tenor_years=0.25, escalator=0.5, default_prob_year=0.3)


def _gpu(lead: int) -> GpuCloud:
    return GpuCloud(lead_time_days=lead, rent_decay_per_year=0.6)


def _reference_revenue(model: Any, kind: str, mw: list[float], path: int) -> list[float]:
    rent = SC.frame.filter(pl.col("path") == path)["gpu_rent_usd_hr"].to_list()
    return ref.service_clock_revenue(
        mw, rent, kind=kind, lead=model.lead_time_days, params=asdict(model)
    )


# MW over a path as (day, change) steps: adds, removals, a removal of everything and re-adds
steps_st = st.lists(
    st.tuples(st.integers(0, N_DAYS - 1), st.sampled_from([-20.0, -5.0, 5.0, 10.0, 30.0])),
    max_size=5,
)


def _series(start_mw: float, steps: list[tuple[int, float]]) -> list[float]:
    """The MW series of ``start_mw`` plus ``steps``; a removal takes at most what is held."""
    mw = [start_mw] * N_DAYS
    for day, dx in sorted(steps):
        dx = max(dx, -mw[day])
        for t in range(day, N_DAYS):
            mw[t] += dx
    return mw


@settings(max_examples=40, deadline=None)
@given(
    starts=st.lists(st.sampled_from([0.0, 0.0, 15.0]), min_size=3, max_size=3),
    steps=st.lists(steps_st, min_size=3, max_size=3),
    lead=st.sampled_from([0, 1, 17, 60]),
    kind=st.sampled_from(["ai", "gpu"]),
)
def test_cash_flows_follow_each_paths_clock(
    starts: list[float], steps: list[list[tuple[int, float]]], lead: int, kind: str
) -> None:
    model = _ai(lead) if kind == "ai" else _gpu(lead)
    per_path = [_series(s, st_) for s, st_ in zip(starts, steps, strict=True)]
    mw = pl.Series("mw", [v for p in per_path for v in p])
    got = model.cash_flows(SITE, SC.frame, mw)["revenue_usd"].to_list()
    for p, mw_p in enumerate(per_path):
        want = _reference_revenue(model, kind, mw_p, p)
        assert got[p * N_DAYS : (p + 1) * N_DAYS] == pytest.approx(want, rel=1e-12, abs=1e-9)


def _mean_revenue(ev: Any, model: str) -> float:
    row = ev.by_model.filter(pl.col("model") == model)
    return float(row["mean_revenue_usd"][0])


@pytest.mark.parametrize("fast", [True, False])
def test_a_late_conversion_signs_its_own_lease(fast: bool) -> None:
    # Tenor 0.25 y (91 days), lead 10: counted from day 0 the lease would end on day 101,
    # before the conversion on day 120 earns anything. On its own clock it earns on days
    # 130 … 221, with the escalator stepping and survival counted from day 120.
    model = _ai(10)
    strat = Staged("late", {"self_mining": 100}, [Stage(120, 40, "self_mining", "ai_colocation")])
    ev = evaluate(SITE, SC, [strat], models=[SelfMining(), model], fast=fast)
    mw = [0.0] * 120 + [40.0] * (N_DAYS - 120)
    want = sum(_reference_revenue(model, "ai", mw, 0))  # the same on every path
    assert want > 0
    assert _mean_revenue(ev, "ai_colocation") == pytest.approx(want, rel=1e-9)


@pytest.mark.parametrize("fast", [True, False])
def test_gpus_bought_late_start_at_the_full_rent_index(fast: bool) -> None:
    model = _gpu(0)
    late = Staged("late", {"self_mining": 100}, [Stage(100, 30, "self_mining", "gpu_cloud")])
    ev = evaluate(SITE, SC, [late], models=[SelfMining(), model], fast=fast)
    want = 0.0
    for p in range(SC.n_paths):
        want += sum(_reference_revenue(model, "gpu", [0.0] * 100 + [30.0] * (N_DAYS - 100), p))
    assert _mean_revenue(ev, "gpu_cloud") == pytest.approx(want / SC.n_paths, rel=1e-9)


def test_switch_rules_start_each_paths_clock_on_its_own_trigger_day() -> None:
    model = _ai(5)
    rule = SwitchRule(
        "rule",
        {"self_mining": 100},
        "self_mining",
        "ai_colocation",
        40,
        above=0.0,
        signal="price_usd",
        window_days=1,
    )
    shifted = dataclasses.replace(rule, name="rule_late", lead_time_days=80)
    models = [SelfMining(), model]
    fast = evaluate(SITE, SC, [rule, shifted], models=models)
    slow = evaluate(SITE, SC, [rule, shifted], models=models, fast=False)
    for c in ("npv_usd", "revenue_usd"):
        assert fast.per_path[c].to_list() == pytest.approx(slow.per_path[c].to_list(), rel=1e-9)
    # day 0 trigger: the AI MW arrive on day 0 and day 80; the lease revenue is the reference's
    for name, first in (("rule", 0), ("rule_late", 80)):
        mw = [0.0] * first + [40.0] * (N_DAYS - first)
        want = sum(_reference_revenue(model, "ai", mw, 0))
        got = fast.by_model.filter(
            (pl.col("strategy") == name) & (pl.col("model") == "ai_colocation")
        )["mean_revenue_usd"][0]
        assert got == pytest.approx(want, rel=1e-9)


@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.parametrize("kind", ["ai", "gpu"])
def test_each_stage_is_its_own_tranche(fast: bool, kind: str) -> None:
    # 20 MW from day 0, 15 more on day 60 and 25 more on day 150: three leases or vintages,
    # each with its own tenor, escalator, survival or rent decay (one clock from day 0 would
    # end the later leases' tenor with the first one's, on day 101, and decay the later GPUs
    # as if bought on day 0)
    name = "ai_colocation" if kind == "ai" else "gpu_cloud"
    model = _ai(10) if kind == "ai" else _gpu(10)
    strat = Staged(
        "three",
        {"self_mining": 80, name: 20},
        [Stage(60, 15, "self_mining", name), Stage(150, 25, "self_mining", name)],
    )
    ev = evaluate(SITE, SC, [strat], models=[SelfMining(), model], fast=fast)
    mw = [20.0] * 60 + [35.0] * 90 + [60.0] * (N_DAYS - 150)
    want = [sum(_reference_revenue(model, kind, mw, p)) for p in range(SC.n_paths)]
    assert _mean_revenue(ev, name) == pytest.approx(sum(want) / SC.n_paths, rel=1e-9)
    one_clock = sum(
        v * (1.0 if t < 60 else 20.0 / 35.0 if t < 150 else 20.0 / 60.0)
        for t, v in enumerate(_reference_revenue(model, kind, [20.0] * N_DAYS, 0))
    )
    assert abs(sum(want[:1]) - one_clock) > 0.01 * one_clock  # the tranches matter here


@pytest.mark.parametrize("start_mw", [0, 4])
def test_sixteen_tranches_stay_on_the_fast_path(start_mw: int) -> None:
    # 16 tranches (MW from the start count as one): the fast path values them, and equals
    # cash_flows and the reference
    model = _gpu(3)
    n = 16 - (start_mw > 0)
    stages = [Stage(10 * i + 5, 2, "self_mining", "gpu_cloud") for i in range(n)]
    strat = Staged("sixteen", {"self_mining": 100 - start_mw, "gpu_cloud": start_mw}, stages)
    fast = evaluate(SITE, SC, [strat], models=[SelfMining(), model])
    slow = evaluate(SITE, SC, [strat], models=[SelfMining(), model], fast=False)
    assert fast.per_path["npv_usd"].to_list() == pytest.approx(
        slow.per_path["npv_usd"].to_list(), rel=1e-12
    )
    mw = [start_mw + 2.0 * min(max((t - 5) // 10 + 1, 0), n) for t in range(N_DAYS)]
    assert len(ref.service_tranches(mw)) == 16
    want = sum(sum(_reference_revenue(model, "gpu", mw, p)) for p in range(SC.n_paths))
    assert _mean_revenue(fast, "gpu_cloud") == pytest.approx(want / SC.n_paths, rel=1e-9)


def test_a_fall_cancels_mw_still_in_their_lead_time_first() -> None:
    # lead 10: 10 MW from day 0, 5 more on day 20, 5 fewer on day 25. The fall cancels the
    # 5 MW not yet earning (an order not delivered), so 10 MW earn on days 25-29, as
    # min(mw(t), mw(t - lead)) says; taking the oldest MW would leave 5.
    model = _gpu(10)
    mw_p = [10.0] * 20 + [15.0] * 5 + [10.0] * (N_DAYS - 25)
    flows = model.cash_flows(SITE, SC.frame, pl.Series(mw_p * SC.n_paths))
    level = model.cash_flows(SITE, SC.frame, pl.Series([10.0] * SC.frame.height))
    got, want = flows["revenue_usd"].to_list(), level["revenue_usd"].to_list()
    assert got == pytest.approx(want, rel=1e-12)  # the 5 MW never earned; the 10 MW did
    assert _reference_revenue(model, "gpu", mw_p, 0) == pytest.approx(got[:N_DAYS], rel=1e-12)


@settings(max_examples=80, deadline=None)
@given(
    rises=st.lists(st.tuples(st.integers(0, 80), st.sampled_from([1.0, 2.5, 10.0])), max_size=6),
    falls=st.lists(st.tuples(st.integers(0, 80), st.sampled_from([1.0, 4.0, 30.0])), max_size=6),
    lead=st.sampled_from([0, 1, 7, 30]),
)
def test_without_a_rise_after_a_fall_the_earning_mw_follow_the_level_rule(
    rises: list[tuple[int, float]], falls: list[tuple[int, float]], lead: int
) -> None:
    # every rise before every fall (days 0-80, then 81-161): the tranches' earning MW add up
    # to min(mw(t), mw(t - lead)), the rule of models without a clock
    n = 200
    mw = [0.0] * n
    for day, dx in rises:
        for t in range(day, n):
            mw[t] += dx
    for day, dx in sorted(falls):
        take = min(dx, mw[81 + day])
        for t in range(81 + day, n):
            mw[t] -= take
    earning = [0.0] * n
    for _, held in ref.service_tranches(mw, lead):
        for t in range(n):
            earning[t] += min(held[t], held[t - lead]) if t >= lead else (held[t] * (lead == 0))
    level = [min(mw[t], mw[t - lead]) if t >= lead else mw[t] * (lead == 0) for t in range(n)]
    assert earning == pytest.approx(level, abs=1e-9)


def test_unit_columns_may_not_shadow_the_hosts() -> None:
    from hashpivot.exceptions import SchemaError

    class Shadow(GpuCloud):
        def unit_flows(self, site: SiteContext, scenario: pl.DataFrame) -> pl.LazyFrame:
            return super().unit_flows(site, scenario).with_columns(path=pl.lit(1.0))

    with pytest.raises(SchemaError, match="column named 'path', which is the host's"):
        Shadow().cash_flows(SITE, SC.frame, pl.Series([1.0] * SC.frame.height))


def test_more_stages_than_tranches_join_the_newest() -> None:
    # 18 additions of 2 MW: the 16th tranche takes the last three (the fast path hands such
    # steps to cash_flows, so this checks cash_flows against the reference, which caps the
    # same way)
    model = _gpu(3)
    stages = [Stage(10 * i, 2, "self_mining", "gpu_cloud") for i in range(18)]
    strat = Staged("many", {"self_mining": 100}, stages)
    fast = evaluate(SITE, SC, [strat], models=[SelfMining(), model])
    slow = evaluate(SITE, SC, [strat], models=[SelfMining(), model], fast=False)
    assert fast.per_path["npv_usd"].to_list() == pytest.approx(
        slow.per_path["npv_usd"].to_list(), rel=1e-12
    )
    mw = [2.0 * min(t // 10 + 1, 18) for t in range(N_DAYS)]
    assert len(ref.service_tranches(mw)) == 16
    want = sum(sum(_reference_revenue(model, "gpu", mw, p)) for p in range(SC.n_paths))
    assert _mean_revenue(fast, "gpu_cloud") == pytest.approx(want / SC.n_paths, rel=1e-9)


@settings(max_examples=60, deadline=None)
@given(
    series=st.lists(
        st.lists(st.sampled_from([0.0, 0.0, 1e-12, 0.1, 2.0, 2.0 + 1e-12, 5.0, 7.5]), min_size=1),
        min_size=3,
        max_size=3,
    ),
    lead=st.sampled_from([0, 1, 30]),
)
def test_the_split_matches_the_reference(series: list[list[float]], lead: int) -> None:
    # piecewise-constant paths of random levels (rises, falls, residues, more than 16 rises)
    paths = [
        [levels[min(t * len(levels) // N_DAYS, len(levels) - 1)] for t in range(N_DAYS)]
        for levels in series
    ]
    got = service_tranches(SC.frame, pl.Series([v for p in paths for v in p]), lead)
    for p, mw in enumerate(paths):
        want = ref.service_tranches(mw, lead)
        mine = [(int(s[p]), h.slice(p * N_DAYS, N_DAYS).to_list()) for s, h in got]
        mine = [(s, h) for s, h in mine if s < N_DAYS]
        assert [s for s, _ in mine] == [s for s, _ in want]
        for (_, h), (_, w) in zip(mine, want, strict=True):
            assert h == pytest.approx(w, rel=1e-12, abs=1e-12)


def test_tranches_split_first_in_first_out() -> None:
    frame = SC.frame
    p0 = [0.0] * 5 + [10.0] * 5 + [16.0] * 5 + [4.0] * 5 + [0.0] * 5 + [7.0] * (N_DAYS - 25)
    mw = pl.Series(p0 + [3.0] * N_DAYS + [0.0] * N_DAYS)
    got = service_tranches(frame, mw)
    assert [s.to_list() for s, _ in got] == [
        [5, 0, N_DAYS],
        [10, N_DAYS, N_DAYS],
        [25] + [N_DAYS] * 2,
    ]
    held = [h.slice(0, N_DAYS).to_list() for _, h in got]
    assert held[0][:25] == [0.0] * 5 + [10.0] * 10 + [0.0] * 10  # the oldest goes first
    assert held[1][:25] == [0.0] * 10 + [6.0] * 5 + [4.0] * 5 + [0.0] * 5
    assert held[2][25:] == [7.0] * (N_DAYS - 25)  # all gone, then back: a new tranche
    assert got[0][1].slice(N_DAYS, N_DAYS).to_list() == [3.0] * N_DAYS
    total = pl.Series([0.0] * mw.len())
    for _, h in got:
        total = total + h
    assert total.to_list() == mw.to_list()
    assert service_tranches(frame, pl.Series([0.0] * frame.height)) == []
    from hashpivot.exceptions import InvalidValueError

    for bad, what in ((None, "None"), (float("nan"), "nan"), (-1.0, "-1.0"), (float("inf"), "inf")):
        values = [1.0] * frame.height
        values[N_DAYS + 3] = bad  # type: ignore[call-overload]
        with pytest.raises(
            InvalidValueError, match=f"mw is {what} at row {N_DAYS + 3} \\(path 1, day 3\\)"
        ):
            service_tranches(frame, pl.Series(values, dtype=pl.Float64))
    from hashpivot.exceptions import DtypeError

    with pytest.raises(DtypeError, match="mw is String"):
        service_tranches(frame, pl.Series(["1"] * frame.height))


def test_the_age_column_and_the_day_zero_fallback() -> None:
    frame = SC.frame
    mw = pl.Series([0.0] * 7 + [1.0] * (N_DAYS - 7) + [2.0] * N_DAYS + [0.0] * N_DAYS)
    start = service_start(frame, mw)
    assert start.to_list() == [7, 0, N_DAYS]
    aged = with_service_age(frame, start)[AGE_COLUMN]
    assert aged.slice(0, 9).to_list() == [0] * 8 + [1]
    assert aged.slice(N_DAYS, 3).to_list() == [0, 1, 2]
    assert aged.slice(2 * N_DAYS, N_DAYS).max() == 0
    # unit_flows on a frame without the column counts from day 0 (a direct call)
    direct = _gpu(0).unit_flows(SITE, frame).collect()["revenue_usd"]
    clocked = _gpu(0).unit_flows(SITE, with_service_age(frame, 0)).collect()["revenue_usd"]
    assert direct.to_list() == clocked.to_list()


def test_service_age_errors_name_the_input() -> None:
    from hashpivot.exceptions import InvalidValueError, SchemaError

    with pytest.raises(InvalidValueError, match="2 start days for a scenario of 3 paths"):
        with_service_age(SC.frame, pl.Series([0, 1]))
    with pytest.raises(SchemaError, match="not whole paths"):
        with_service_age(SC.frame.head(N_DAYS + 5), 0)
    # null = never: age 0 throughout, as a start past the horizon
    aged = with_service_age(SC.frame, pl.Series([None, 3, 10_000], dtype=pl.Int64))[AGE_COLUMN]
    assert aged.slice(0, N_DAYS).max() == 0
    assert aged.slice(2 * N_DAYS, N_DAYS).max() == 0
    assert aged.slice(N_DAYS, 5).to_list() == [0, 0, 0, 0, 1]


def test_service_age_refuses_bad_starts() -> None:
    from hashpivot.exceptions import DtypeError, InvalidValueError

    with pytest.raises(InvalidValueError, match="start day -1 is negative"):
        with_service_age(SC.frame, -1)
    with pytest.raises(DtypeError, match="got float"):
        with_service_age(SC.frame, 3.0)  # type: ignore[arg-type]
    with pytest.raises(DtypeError, match="got bool"):
        with_service_age(SC.frame, True)
    with pytest.raises(DtypeError, match="of Float64"):
        with_service_age(SC.frame, pl.Series([0.0, 1.0, 2.0]))
    import numpy as np

    a = with_service_age(SC.frame, np.int64(3))[AGE_COLUMN]
    assert a.equals(with_service_age(SC.frame, 3)[AGE_COLUMN])


def test_days_far_past_any_horizon_are_refused() -> None:
    from hashpivot.exceptions import InvalidValueError

    with pytest.raises(InvalidValueError, match="more than 10,000,000"):
        Staged("far", {"self_mining": 100}, [Stage(2**63, 10, "self_mining", "ai_colocation")])
