"""Bad inputs to revenue models and strategies fail with hashpivot errors that name the input,
the position and the fix; non-finite numbers never reach a ranking; quantile columns are
named unambiguously."""

from __future__ import annotations

import math
from typing import Any

import polars as pl
import pytest

from hashpivot.builtin_plugins.ai_colocation import AiColocation
from hashpivot.builtin_plugins.self_mining import SelfMining
from hashpivot.exceptions import DtypeError, InvalidValueError, PluginError
from hashpivot.revenue import (
    LinearRevenueModel,
    SiteContext,
    prepare_scenario,
    validate_cash_flows,
)
from hashpivot.strategy import (
    Allocation,
    Stage,
    Staged,
    Static,
    Steps,
    SwitchRule,
    _flexibility,
    _summary,
    evaluate,
)
from hashpivot.testing import synthetic_scenario

SITE = SiteContext(capacity_mw=100.0)


class Flat(LinearRevenueModel):
    """$1,000 revenue and $400 opex per MW-day."""

    name = "flat"

    def unit_flows(self, site: SiteContext, scenario: pl.DataFrame) -> pl.DataFrame:
        return pl.DataFrame({"revenue_usd": [1000.0], "opex_usd": [400.0]})


class Flat2(Flat):
    name = "flat2"


class Generic:
    """A non-linear model (the generic path): $100 per MW-day, with a hook to spoil it."""

    def __init__(self, name: str, revenue: pl.Expr | None = None, mw: pl.Expr | None = None):
        self.name = name
        self.revenue = revenue
        self.mw = mw

    def cash_flows(self, site: SiteContext, scenario: pl.DataFrame, mw: pl.Series) -> pl.DataFrame:
        frame = scenario.with_columns(mw.alias("mw"))
        m = self.mw if self.mw is not None else pl.col("mw")
        rev = self.revenue if self.revenue is not None else pl.col("mw") * 100.0
        return frame.select(
            "path",
            "date",
            m.cast(pl.Float64).alias("mw"),
            rev.cast(pl.Float64).alias("revenue_usd"),
            pl.lit(0.0).alias("opex_usd"),
            pl.lit(0.0).alias("capex_usd"),
        )


def at_row(frame: pl.DataFrame, row: int, column: str, value: float) -> pl.DataFrame:
    return frame.with_columns(
        pl.when(pl.int_range(pl.len()) == row).then(value).otherwise(pl.col(column)).alias(column)
    )


# ---- 1. non-finite numbers -------------------------------------------------------------


def test_nan_revenue_is_rejected_by_the_host_and_never_ranked() -> None:
    sc = synthetic_scenario(3, 20)
    nan_day3 = pl.when(pl.col("day") == 3).then(float("nan")).otherwise(pl.col("mw") * 100.0)
    models = [Flat(), Generic("nan_model", revenue=nan_day3)]
    strategies = [Static("flat", {"flat": 10}), Static("nan", {"nan_model": 10})]
    ev = evaluate(SITE, sc, strategies, models=models)
    assert ev.summary["strategy"].to_list() == ["flat"]
    assert ev.flexibility["best_fixed"][0] == "flat"
    (msg,) = ev.failures["message"].to_list()
    assert "'nan_model'" in msg
    assert "'revenue_usd'" in msg
    assert "row 3 (path 0, day 3" in msg
    assert "finite" in msg
    with pytest.raises(PluginError, match=r"nan_model.*row 3 \(path 0, day 3"):
        evaluate(SITE, sc, strategies, models=models, strict=True)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_validate_cash_flows_rejects_non_finite(bad: float) -> None:
    sc = prepare_scenario(synthetic_scenario(2, 5))
    mw = pl.Series("mw", [1.0] * 10)
    out = Generic("m").cash_flows(SITE, sc.frame, mw)
    for col in ("mw", "revenue_usd", "opex_usd", "capex_usd"):
        spoiled = at_row(out, 7, col, bad)
        with pytest.raises(InvalidValueError, match=rf"'m'.*{col!r}.*row 7 \(path 1, day 2"):
            validate_cash_flows(spoiled, sc, "m")
    extra = out.with_columns(pl.lit(0.0).alias("hedge_usd"))
    with pytest.raises(InvalidValueError, match=r"'hedge_usd'.*row 7"):
        validate_cash_flows(at_row(extra, 7, "hedge_usd", bad), sc, "m")


def test_nan_unit_flows_of_a_linear_model_are_rejected() -> None:
    class NanUnit(LinearRevenueModel):
        name = "nan_unit"

        def unit_flows(self, site: SiteContext, scenario: pl.DataFrame) -> pl.DataFrame:
            return scenario.select(
                pl.when(pl.col("day") == 4).then(float("nan")).otherwise(1.0).alias("revenue_usd"),
                pl.lit(0.0).alias("opex_usd"),
            )

    sc = synthetic_scenario(2, 10)
    ev = evaluate(
        SITE,
        sc,
        [Static("a", {"flat": 5}), Static("b", {"nan_unit": 5})],
        models=[Flat(), NanUnit()],
    )
    assert ev.summary["strategy"].to_list() == ["a"]
    (msg,) = ev.failures["message"].to_list()
    assert "'nan_unit'" in msg
    assert "row 4 (path 0, day 4" in msg


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_scenario_cell_is_rejected(bad: float) -> None:
    sc = at_row(synthetic_scenario(3, 20), 45, "hashprice_usd_ph_day", bad)
    with pytest.raises(InvalidValueError) as e:
        evaluate(SITE, sc, [Static("a", {"flat": 5})], models=[Flat()])
    msg = str(e.value)
    assert "'hashprice_usd_ph_day'" in msg
    assert "row 45 (path 2, date 2" in msg
    assert "finite" in msg


def test_non_finite_pass_through_scenario_column_is_rejected() -> None:
    sc = at_row(synthetic_scenario(2, 10), 3, "difficulty", float("-inf"))
    with pytest.raises(InvalidValueError, match=r"'difficulty'.*row 3"):
        prepare_scenario(sc)


def test_nan_npv_never_ranks_first() -> None:
    """Defence in depth: a NaN that slips through is null in the summary and never best."""
    per_path = pl.DataFrame(
        {
            "strategy": ["a", "a", "b", "b", "c", "c"],
            "path": [0, 1, 0, 1, 0, 1],
            "npv_usd": [1.0, 2.0, float("nan"), -5.0, 10.0, 20.0],
            "irr": [None] * 6,
            "payback_years": [None] * 6,
        },
        schema_overrides={"irr": pl.Float64, "payback_years": pl.Float64},
    )
    s = _summary(per_path, {"a": False, "b": False, "c": True}, (0.5,), 0.5)
    b = s.filter(pl.col("strategy") == "b").row(0, named=True)
    assert b["mean_npv_usd"] is None
    assert b["p_loss"] is None
    assert b["npv_q50_usd"] is None
    flex = _flexibility(s)
    assert flex["best_fixed"][0] == "a"
    assert flex["best_flexible"][0] == "c"
    assert flex["value_of_flexibility_usd"][0] == pytest.approx(15.0 - 1.5)


# ---- 2. a model that changes the allocation -------------------------------------------


def test_cash_flows_with_another_mw_are_rejected() -> None:
    sc = synthetic_scenario(2, 10)
    big = Generic("big", mw=pl.lit(500.0), revenue=pl.lit(500.0) * 100.0)
    ev = evaluate(
        SITE, sc, [Static("ok", {"flat": 1}), Static("big", {"big": 0.001})], models=[Flat(), big]
    )
    assert ev.summary["strategy"].to_list() == ["ok"]
    (msg,) = ev.failures["message"].to_list()
    assert "'big'" in msg
    assert "row 0 (path 0, day 0" in msg
    assert "returned 500 MW, allocated 0.001 MW" in msg
    one_day = Generic(
        "one_day", mw=pl.when(pl.col("day") == 6).then(pl.col("mw") * 2).otherwise(pl.col("mw"))
    )
    ev = evaluate(SITE, sc, [Static("x", {"one_day": 3})], models=[one_day])
    assert "row 6 (path 0, day 6" in ev.failures["message"][0]


def test_validate_cash_flows_checks_mw_against_the_allocation() -> None:
    sc = prepare_scenario(synthetic_scenario(2, 5))
    mw = pl.Series("mw", [2.0] * 10)
    out = Generic("m").cash_flows(SITE, sc.frame, mw)
    validate_cash_flows(out, sc, "m", mw=mw)
    validate_cash_flows(out.with_columns(pl.col("mw") * (1 + 1e-13)), sc, "m", mw=mw)
    with pytest.raises(InvalidValueError, match=r"'m'.*row 8 \(path 1, day 3.*allocat"):
        validate_cash_flows(at_row(out, 8, "mw", 2.5), sc, "m", mw=mw)


# ---- 3. day counts of strategies ------------------------------------------------------


def _staged(stage: Stage, **kw: Any) -> Staged:
    return Staged("x", {"flat": 100.0}, [stage], **kw)


def _rule(**kw: Any) -> SwitchRule:
    return SwitchRule("x", {"flat": 100.0}, "flat", "flat2", 100, below=1e9, **kw)


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: _staged(Stage(100, 100, "flat", "flat2"), lead_time_days=-100), "lead_time_days"),
        (lambda: _staged(Stage(-1, 10, "flat", "flat2")), "at_day"),
        (lambda: _rule(lead_time_days=-10), "lead_time_days"),
        (lambda: _rule(window_days=0), "window_days"),
        (lambda: _staged(Stage(10.5, 100, "flat", "flat2")), "at_day"),
        (lambda: _staged(Stage(10, 100, "flat", "flat2"), lead_time_days=3.5), "lead_time_days"),
        (lambda: _rule(window_days=30.5), "window_days"),
        (lambda: _rule(lead_time_days=10.5), "lead_time_days"),
        (lambda: _rule(window_days=math.inf), "window_days"),
    ],
)
def test_bad_day_counts_are_rejected_at_construction(make: Any, field: str) -> None:
    with pytest.raises(InvalidValueError) as e:
        make()
    msg = str(e.value)
    assert "strategy 'x'" in msg
    assert field in msg
    assert "whole number" in msg


@pytest.mark.parametrize(
    "make",
    [
        lambda: Staged("x", {"flat": 1.0}, [Stage("3", 1, "flat", None)]),  # type: ignore[arg-type]
        lambda: Staged("x", {"flat": 1.0}, [], lead_time_days=None),  # type: ignore[arg-type]
        lambda: SwitchRule("x", {"flat": 1.0}, "flat", "flat2", 1, below=1, window_days="30"),  # type: ignore[arg-type]
        lambda: SwitchRule("x", {"flat": 1.0}, "flat", "flat2", 1, below=1, lead_time_days=True),
    ],
)
def test_day_counts_of_the_wrong_type(make: Any) -> None:
    with pytest.raises(DtypeError, match=r"strategy 'x'.*whole number"):
        make()


def test_negative_lead_time_no_longer_overfills_the_site() -> None:
    # was: 200 MW on a 100 MW site for 100 days
    with pytest.raises(InvalidValueError, match=r"lead_time_days"):
        Staged(
            "x",
            {"self_mining": 100.0},
            [Stage(100, 100, "self_mining", "asic_hosting")],
            lead_time_days=-100,
        )


def test_integral_float_day_counts_are_accepted_as_int() -> None:
    s = Staged("s", {"flat": 10.0}, [Stage(2.0, 10, "flat", "flat2")], lead_time_days=1.0)  # type: ignore[arg-type]
    assert type(s.stages[0].at_day) is int
    assert type(s.lead_time_days) is int
    days: dict[str, Any] = {"window_days": 2.0, "lead_time_days": 3.0}
    r = SwitchRule("r", {"flat": 10.0}, "flat", "flat2", 10, below=1e9, **days)
    assert type(r.window_days) is int
    assert type(r.lead_time_days) is int
    sc = synthetic_scenario(2, 10)
    ev = evaluate(SITE, sc, [s, r], models=[Flat(), Flat2()], discount_rate=0.0)
    npv = dict(ev.summary.select("strategy", "mean_npv_usd").iter_rows())
    # s: 10 MW · 600 on days 0–1 and 3–9 (idle on day 2) = 54,000
    assert npv["s"] == pytest.approx(54_000.0)
    # r fires on day 1 (window 2): days 0 earns, 1–3 idle, 4–9 earn = 7 days · 6,000
    assert npv["r"] == pytest.approx(42_000.0)


# ---- 4. quantiles ----------------------------------------------------------------------


def test_quantile_column_names() -> None:
    from hashpivot.strategy import quantile_column

    assert quantile_column(0.05) == "npv_q05_usd"
    assert quantile_column(0.5) == "npv_q50_usd"
    assert quantile_column(0.0) == "npv_q00_usd"
    assert quantile_column(1.0) == "npv_q100_usd"
    assert quantile_column(0.07) == "npv_q07_usd"  # 0.07 * 100 = 7.000000000000001
    assert quantile_column(0.025) == "npv_q02_5_usd"
    assert quantile_column(0.999) == "npv_q99_9_usd"
    assert quantile_column(0.051) == "npv_q05_1_usd"
    assert quantile_column(0.0001) == "npv_q00_01_usd"


def test_quantiles_are_named_unambiguously_and_checked() -> None:
    sc = synthetic_scenario(5, 10)
    strat = [Static("a", {"flat": 5})]
    ev = evaluate(SITE, sc, strat, models=[Flat()], quantiles=[0.05, 0.051, 0.025, 0.999, 1.0])
    assert [c for c in ev.summary.columns if c.startswith("npv_q")] == [
        "npv_q05_usd",
        "npv_q05_1_usd",
        "npv_q02_5_usd",
        "npv_q99_9_usd",
        "npv_q100_usd",
    ]
    for bad in (1.5, -0.1, float("nan")):
        with pytest.raises(InvalidValueError, match=rf"quantiles.*{bad}.*\[0, 1\]"):
            evaluate(SITE, sc, strat, models=[Flat()], quantiles=(bad,))
    with pytest.raises(InvalidValueError, match=r"quantiles.*0.5.*npv_q50_usd.*twice"):
        evaluate(SITE, sc, strat, models=[Flat()], quantiles=(0.5, 0.5))
    with pytest.raises(InvalidValueError, match=r"quantiles.*0.05.*0.0500000000001.*npv_q05_usd"):
        evaluate(SITE, sc, strat, models=[Flat()], quantiles=(0.05, 0.0500000000001))
    for bad_type in ("0.5", ["0.5"], 0.5, [True]):
        with pytest.raises(DtypeError, match=r"quantiles"):
            evaluate(SITE, sc, strat, models=[Flat()], quantiles=bad_type)  # type: ignore[arg-type]


# ---- 5. raw exceptions from the public API ---------------------------------------------


def test_mix_of_the_wrong_type() -> None:
    with pytest.raises(DtypeError, match=r"strategy 'a'.*'self_mining'.*'100'.*number"):
        Static("a", {"self_mining": "100"})  # type: ignore[dict-item]
    with pytest.raises(DtypeError, match=r"strategy 'a'.*mix.*mapping.*got list"):
        Static("a", [("self_mining", 10)])  # type: ignore[arg-type]
    with pytest.raises(DtypeError, match=r"strategy 'a'.*start.*mapping"):
        Staged("a", None, [])  # type: ignore[arg-type]
    with pytest.raises(DtypeError, match=r"strategy 'a'.*model name"):
        Static("a", {1: 10.0})  # type: ignore[dict-item]
    with pytest.raises(InvalidValueError, match=r"strategy 'a'.*'flat'.*>= 0"):
        SwitchRule("a", {"flat": -1.0}, "flat", "flat2", 1, below=1)
    with pytest.raises(InvalidValueError, match=r"strategy 'a'.*'flat'.*finite"):
        Static("a", {"flat": float("nan")})
    with pytest.raises(DtypeError, match=r"strategy name"):
        Static(None, {})  # type: ignore[arg-type]


def test_stages_and_rules_of_the_wrong_type() -> None:
    with pytest.raises(DtypeError, match=r"strategy 'a'.*stages.*Stage"):
        Staged("a", {}, Stage(1, 1, None, "flat"))  # type: ignore[arg-type]
    with pytest.raises(DtypeError, match=r"strategy 'a' stage 1.*Stage"):
        Staged("a", {}, [Stage(1, 1, None, "flat"), (2, 1, None, "flat")])  # type: ignore[list-item]
    with pytest.raises(InvalidValueError, match=r"strategy 'a' stage 0.*mw.*> 0"):
        Staged("a", {}, [Stage(1, 0, None, "flat")])
    with pytest.raises(DtypeError, match=r"strategy 'a' stage 0.*to_model"):
        Staged("a", {}, [Stage(1, 1, None, 5)])  # type: ignore[arg-type]
    with pytest.raises(DtypeError, match=r"strategy 'a'.*mw.*number"):
        SwitchRule("a", {"flat": 1.0}, "flat", "flat2", "1", below=1)  # type: ignore[arg-type]
    with pytest.raises(DtypeError, match=r"strategy 'a'.*below.*number"):
        SwitchRule("a", {"flat": 1.0}, "flat", "flat2", 1, below="45")  # type: ignore[arg-type]
    with pytest.raises(DtypeError, match=r"strategy 'a'.*from_model"):
        SwitchRule("a", {"flat": 1.0}, None, "flat2", 1, below=1)  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError, match=r"strategy 'a'.*switch_cost_usd_per_mw"):
        Staged("a", {}, [], switch_cost_usd_per_mw=-1.0)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"site": None}, DtypeError, "site.*NoneType.*SiteContext"),
        ({"cvar_level": "0.05"}, DtypeError, "cvar_level.*'0.05'.*number"),
        ({"cvar_level": float("nan")}, InvalidValueError, "cvar_level.*\\(0, 1\\]"),
        ({"discount_rate": None}, DtypeError, "discount_rate.*None.*number"),
        ({"discount_rate": float("inf")}, InvalidValueError, "discount_rate.*finite"),
        ({"strategies": Static("a", {"flat": 1})}, DtypeError, "strategies.*list"),
        ({"strategies": ["a"]}, DtypeError, "strategies\\[0\\].*str.*Static"),
        ({"models": [object()]}, DtypeError, "models\\[0\\].*RevenueModel"),
    ],
)
def test_evaluate_arguments_of_the_wrong_type(
    kwargs: dict[str, Any], error: type, match: str
) -> None:
    args: dict[str, Any] = {
        "site": SITE,
        "scenario_result": synthetic_scenario(2, 5),
        "strategies": [Static("a", {"flat": 1})],
        "models": [Flat()],
    }
    args.update(kwargs)
    with pytest.raises(error, match=match):
        evaluate(**args)


def test_evaluate_with_a_mix_of_strings_is_a_dtype_error() -> None:
    sc = synthetic_scenario(1, 5)
    with pytest.raises(DtypeError, match=r"'self_mining'"):
        evaluate(SITE, sc, [Static("a", {"self_mining": "100"})])  # type: ignore[dict-item]


def test_every_strategy_failing_gives_empty_tables() -> None:
    class Boom:
        name = "boom"

        def cash_flows(self, site: SiteContext, scenario: pl.DataFrame, mw: pl.Series) -> Any:
            raise RuntimeError("boom")

    ev = evaluate(SITE, synthetic_scenario(2, 5), [Static("a", {"boom": 1})], models=[Boom()])
    assert ev.per_path.height == 0
    assert ev.summary.height == 0
    assert ev.flexibility["best_fixed"][0] is None
    assert ev.failures["model"].to_list() == ["boom"]


def test_a_model_with_a_bad_lead_time_fails_as_a_plugin_failure() -> None:
    class Lead(Flat):
        name = "lead"
        lead_time_days = -3

    sc = synthetic_scenario(1, 5)
    ev = evaluate(SITE, sc, [Static("a", {"lead": 1})], models=[Lead()])
    assert ev.summary.height == 0
    assert "'lead'" in ev.failures["message"][0]
    assert "lead_time_days" in ev.failures["message"][0]


def test_staged_moves_in_thirds_empty_a_model_exactly() -> None:
    """0.1 + 0.1 + 0.1 MW out of 0.3 MW leaves −2.8e-17 in floating point: within the
    tolerance the model is emptied, not refused."""

    st = Staged(
        "thirds",
        {"self_mining": 0.3},
        [Stage(d, 0.1, "self_mining", "asic_hosting") for d in (10, 20, 30)],
    )
    site = SiteContext(capacity_mw=1.0)
    sc = prepare_scenario(synthetic_scenario(2, 60, seed=1))
    st.allocate(site, sc)  # no error


def test_numpy_day_counts_are_accepted() -> None:
    np = pytest.importorskip("numpy")
    from hashpivot.builtin_plugins.gpu_cloud import GpuCloud

    assert GpuCloud(lead_time_days=np.int64(270)).lead_days == 270


class _Custom:
    """A user strategy whose ``allocate`` returns what it is given."""

    flexible = False

    def __init__(self, alloc: Any) -> None:
        self.alloc = alloc
        self.name = "custom"

    def models(self) -> set[str]:
        return {"ai_colocation"}

    def allocate(self, site: SiteContext, scenario: Any) -> Any:
        return self.alloc


@pytest.mark.parametrize(
    ("alloc", "err", "fragment"),
    [
        (
            {"ai_colocation": 10},
            DtypeError,
            "returned dict; return a hashpivot.strategy.Allocation",
        ),
        (Allocation({"ai_colocation": 10}), DtypeError, "values must be Steps"),  # type: ignore[dict-item]
        (Allocation({"ai_colocation": Steps(-5)}), InvalidValueError, "start_mw must be a finite"),
        (Allocation({"ai_colocation": Steps(10, [(5, 30.5)])}), InvalidValueError, "step 0"),
        (Allocation({"ai_colocation": Steps(10, [(5, -3)])}), InvalidValueError, ">= 0"),
        (Allocation({"ai_colocation": Steps(10, [(5, "30")])}), DtypeError, "step 0: day"),
        (Allocation({"ai_colocation": Steps(10, [(math.nan, 3)])}), InvalidValueError, "mw must"),
        (Allocation({"ai_colocation": Steps(10, [(5,)])}), DtypeError, "expected a pair (mw, day)"),  # type: ignore[list-item]
        (
            Allocation({"ai_colocation": Steps(10, [(5, pl.Series([1.5, 2.0]))])}),
            InvalidValueError,
            "day of path 0 is 1.5",
        ),
        (
            Allocation({"ai_colocation": Steps(10, [(5, pl.Series([1, -1]))])}),
            InvalidValueError,
            "day of path 1 is -1",
        ),
        (
            Allocation({"ai_colocation": Steps(10, [(5, pl.Series([1, 2, 3]))])}),
            InvalidValueError,
            "one value per path (2)",
        ),
        (
            Allocation({"ai_colocation": Steps(10, [(5, pl.Series(["a", "b"]))])}),
            DtypeError,
            "must hold integers",
        ),
        (
            Allocation({"ai_colocation": Steps(10)}, [(1e6, 2.5)]),
            InvalidValueError,
            "switch_capex 0",
        ),
        (Allocation({"ai_colocation": Steps(10)}, None), DtypeError, "switch_capex must be"),  # type: ignore[arg-type]
        (Allocation({"nope": Steps(10)}), InvalidValueError, "model 'nope': no revenue model"),
        (Allocation({3: Steps(10)}), DtypeError, "keys must be model names"),  # type: ignore[dict-item]
        (
            Allocation({"ai_colocation": Steps(1000, [(-2000, 3)])}),
            InvalidValueError,
            "more than the site's 100 MW on day 0",
        ),
        (
            Allocation({"ai_colocation": Steps(50, [(-20, 3), (-40, 5)])}),
            InvalidValueError,
            "model 'ai_colocation' would hold less than 0 MW on day 5",
        ),
        (
            Allocation(
                {
                    "ai_colocation": Steps(60),
                    "self_mining": Steps(30, [(20, pl.Series([None, 4], dtype=pl.Int64))]),
                }
            ),
            InvalidValueError,
            "more than the site's 100 MW on day 4 of path 1",
        ),
        (
            Allocation({"ai_colocation": Steps(10, [(5, pl.Series([1e19, 2.0]))])}),
            InvalidValueError,
            "day of path 0",
        ),
    ],
)
def test_custom_allocations_are_checked(alloc: Any, err: type[Exception], fragment: str) -> None:
    """What a user strategy's ``allocate`` returns is checked, naming the strategy, the model
    and the step, before it reaches the evaluation's kernels."""
    sc = synthetic_scenario(2, 10)
    with pytest.raises(err) as ei:
        evaluate(SITE, sc, [_Custom(alloc)], models=[AiColocation(), SelfMining()])
    assert "strategy 'custom': allocate()" in str(ei.value)
    assert fragment in str(ei.value), str(ei.value)


def test_custom_allocation_days_as_floats_and_nulls_are_accepted() -> None:
    """Integral float days (30.0) count as whole days and a null day means never: the result
    equals the same allocation in Int64 days."""
    sc = synthetic_scenario(2, 10)
    ints = Allocation({"ai_colocation": Steps(10, [(5, pl.Series([3, None], dtype=pl.Int64))])})
    floats = Allocation({"ai_colocation": Steps(10, [(5.0, pl.Series([3.0, None]))])})
    a, b = (
        evaluate(SITE, sc, [_Custom(x)], models=[AiColocation()]).per_path["npv_usd"]
        for x in (ints, floats)
    )
    assert a.to_list() == b.to_list()
    c = evaluate(
        SITE,
        sc,
        [_Custom(Allocation({"ai_colocation": Steps(10, [(5, 3.0)])}))],
        models=[AiColocation()],
    ).per_path["npv_usd"]
    assert c[0] == a[0]  # path 0 steps on day 3 in both


def test_all_null_day_series_means_never() -> None:
    sc = synthetic_scenario(2, 10)
    never = Allocation({"ai_colocation": Steps(10, [(5, pl.Series([None, None]))])})
    plain = Allocation({"ai_colocation": Steps(10)})
    a, b = (
        evaluate(SITE, sc, [_Custom(x)], models=[AiColocation()]).per_path["npv_usd"].to_list()
        for x in (never, plain)
    )
    assert a == b


@pytest.mark.parametrize("fast", [True, False])
def test_custom_strategies_keeping_their_allocations_get_their_own_results(fast: bool) -> None:
    """Several custom strategies whose Steps have no cache key: each strategy is valued on
    its own allocation (the generic path caches by the Steps object's identity, so the checked
    allocations are kept alive for the whole evaluation: a freed object's id can be reused)."""
    sc = synthetic_scenario(3, 12)
    strategies = []
    for i in range(6):
        c = _Custom(Allocation({"ai_colocation": Steps(10.0 * (i + 1))}))
        c.name = f"s{i}"
        strategies.append(c)
    ev = evaluate(SITE, sc, strategies, models=[AiColocation()], fast=fast)
    one = evaluate(SITE, sc, [strategies[0]], models=[AiColocation()], fast=fast)
    base = one.per_path["npv_usd"].to_list()
    for i in range(6):
        got = ev.per_path.filter(pl.col("strategy") == f"s{i}")["npv_usd"].to_list()
        assert got == pytest.approx([v * (i + 1) for v in base], rel=1e-9), i


def test_fast_path_calls_a_linear_models_own_cash_flows() -> None:
    """A LinearRevenueModel subclass that overrides cash_flows adds flows unit_flows does
    not know: the default fast evaluation must give the same numbers as fast=False."""
    import dataclasses

    @dataclasses.dataclass(frozen=True)
    class FeeMining(SelfMining):
        name: str = "fee_mining"

        def cash_flows(self, site: SiteContext, scenario: Any, mw: pl.Series) -> Any:
            out = super().cash_flows(site, scenario, mw)
            return out.with_columns(opex_usd=pl.col("opex_usd") + pl.col("mw") * 1000.0)

    sc = synthetic_scenario(3, 60)
    strat = [Static("m", {"fee_mining": 100})]
    fast, slow = (
        evaluate(SITE, sc, strat, models=[FeeMining()], fast=f).per_path["npv_usd"].to_list()
        for f in (True, False)
    )
    assert fast == pytest.approx(slow, rel=1e-9)
    plain = evaluate(SITE, sc, [Static("m", {"self_mining": 100})], models=[SelfMining()])
    assert fast[0] < plain.per_path["npv_usd"][0]  # the extra opex is counted


def test_site_context_refuses_non_finite_and_text() -> None:
    for kw in (
        {"power_price_usd_kwh": float("nan")},
        {"capacity_mw": float("inf")},
        {"efficiency_jth": float("inf")},
    ):
        with pytest.raises(InvalidValueError, match="finite"):
            SiteContext(**kw)  # type: ignore[arg-type]
    for kw in ({"capacity_mw": "100"}, {"capacity_mw": None}, {"efficiency_jth": True}):
        with pytest.raises(DtypeError, match="must be a number"):
            SiteContext(**kw)  # type: ignore[arg-type]


def test_cvar_averages_exactly_the_tail_share() -> None:
    """100 paths at 7 %: the worst 7 (100 × 0.07 is 7.000000000000001 in floats)."""
    per_path = pl.DataFrame(
        {
            "strategy": ["s"] * 100,
            "path": list(range(100)),
            "npv_usd": [float(i) for i in range(100)],
            "irr": [None] * 100,
            "payback_years": [None] * 100,
            "revenue_usd": [0.0] * 100,
            "opex_usd": [0.0] * 100,
            "capex_usd": [0.0] * 100,
        },
        schema_overrides={"irr": pl.Float64, "payback_years": pl.Float64},
    )
    out = _summary(per_path, {"s": False}, [0.5], 0.07)
    cvar = next(c for c in out.columns if "cvar" in c)
    assert out[cvar][0] == pytest.approx(sum(range(7)) / 7)


def test_models_passed_to_evaluate_need_unique_names_and_matching_keys() -> None:
    sc = synthetic_scenario(2, 10)
    strat = [Static("m", {"self_mining": 10})]
    with pytest.raises(InvalidValueError, match="two models are named 'self_mining'"):
        evaluate(SITE, sc, strat, models=[SelfMining(), SelfMining(uptime=0.1)])
    with pytest.raises(InvalidValueError, match="key each model by it"):
        evaluate(SITE, sc, strat, models={"mine2": SelfMining()})
    ok = evaluate(SITE, sc, strat, models={"self_mining": SelfMining()})
    assert ok.per_path.height == 2


def test_median_payback_is_the_median_paths() -> None:
    """Paths that never pay back count as beyond the horizon: the median of [1, 2, 3, never]
    is 2.5 y (not 2 y from the three that do), and null when most never pay back."""

    def frame(payback: list[float | None]) -> pl.DataFrame:
        n = len(payback)
        return pl.DataFrame(
            {
                "strategy": ["s"] * n, "path": list(range(n)), "npv_usd": [1.0] * n,
                "irr": [0.1] + [None] * (n - 1), "payback_years": payback,
                "revenue_usd": [0.0] * n, "opex_usd": [0.0] * n, "capex_usd": [0.0] * n,
            },
            schema_overrides={"irr": pl.Float64, "payback_years": pl.Float64},
        )  # fmt: skip

    out = _summary(frame([1.0, 2.0, 3.0, None]), {"s": False}, [0.5], 0.05)
    assert out["median_payback_years"][0] == pytest.approx(2.5)
    assert out["share_paid_back"][0] == pytest.approx(0.75)
    assert out["share_irr_defined"][0] == pytest.approx(0.25)
    out = _summary(frame([1.0, 2.0, None, None, None]), {"s": False}, [0.5], 0.05)
    assert out["median_payback_years"][0] is None


def test_payback_is_zero_when_there_is_nothing_to_pay_back() -> None:
    """Flows never below 0 (no capex) pay back at once: 0 y, not the end of the first month;
    the polars version and the reference agree."""
    from hashpivot import _reference as ref
    from hashpivot.strategy import _payback_years

    periods = [[5.0, 1.0, 2.0], [-3.0, 1.0, 4.0], [-9.0, 1.0, 2.0]]  # rows: flows by period
    cols = [pl.Series([p[k] for p in periods]) for k in range(3)]
    got = _payback_years(cols).to_list()
    assert got == [ref.payback_years(p) for p in periods]
    assert got == [0.0, 3 / 12, None]
