"""Each builtin revenue model against hand-computed cash flows on a tiny scenario.

The scenario has 2 paths × 4 days; every number below is written out as arithmetic.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from hashpivot.builtin_plugins.ai_colocation import AiColocation
from hashpivot.builtin_plugins.asic_hosting import AsicHosting
from hashpivot.builtin_plugins.gpu_cloud import GpuCloud
from hashpivot.builtin_plugins.power_sale import PowerSale
from hashpivot.builtin_plugins.self_mining import SelfMining
from hashpivot.exceptions import DtypeError, InvalidValueError, SchemaError
from hashpivot.revenue import (
    DAYS_PER_MONTH,
    SiteContext,
    prepare_scenario,
    validate_cash_flows,
)
from hashpivot.testing import synthetic_scenario

UTC = dt.timezone.utc
HP = {0: [50.0, 40.0, 20.0, 60.0], 1: [30.0, 30.0, 30.0, 30.0]}  # hashprice $/PH/day
PW = {0: [0.05, 0.05, 0.05, 0.08], 1: [0.04, 0.04, 0.04, 0.04]}  # power $/kWh
GPU = {0: [2.0, 2.0, 2.0, 2.0], 1: [3.0, 3.0, 3.0, 3.0]}  # $/GPU-hour


def tiny() -> pl.DataFrame:
    rows = []
    for p in (0, 1):
        for d in range(4):
            rows.append(
                {
                    "path": p,
                    "date": dt.datetime(2026, 3, 1 + d, tzinfo=UTC),
                    "height": 940_000 + 144 * d,
                    "bits": 0x17023C7E,
                    "difficulty": 125.86e12,
                    "hashrate_ehs": 900.0,
                    "price_usd": 68_000.0,
                    "fees_btc_per_block": 0.02,
                    "subsidy_btc": 3.125,
                    "hashprice_usd_ph_day": HP[p][d],
                    "power_price_usd_kwh": PW[p][d],
                    "gpu_rent_usd_hr": GPU[p][d],
                    "share_under_water": 0.3,
                }
            )
    return pl.DataFrame(rows).with_columns(
        pl.col("bits").cast(pl.UInt32), pl.col("date").dt.cast_time_unit("us")
    )


def run(model, mw: list[float], site: SiteContext | None = None) -> pl.DataFrame:
    sc = prepare_scenario(tiny())
    out = model.cash_flows(site or SiteContext(), sc.frame, pl.Series("mw", mw))
    return validate_cash_flows(out, sc, model.name)


def col(frame: pl.DataFrame, name: str) -> list[float]:
    return frame[name].to_list()


MW2 = [2.0] * 8
STEP = [1.0, 1.0, 3.0, 3.0, 1.0, 1.0, 3.0, 3.0]  # +2 MW on day 2 on both paths
PER_MW_DAY = 100.0 * DAYS_PER_MONTH  # opex_usd_mw_month that is exactly $100 per MW-day


def test_self_mining_hand_computed() -> None:
    # e = 20 J/TH, k = 1 → 1000 / (1 · 20) = 50 PH/s per MW; 2 MW → 100 PH/s.
    # u = 1, fee 0: gross = 100 · HP; power = 2 MW · 1000 kW · 24 h · p = 48,000 · p.
    m = SelfMining(overhead_k=1.0, uptime=1.0, pool_fee=0.0, opex_usd_mw_month=PER_MW_DAY)
    cf = run(m, MW2, SiteContext(efficiency_jth=20.0))
    gross = [100 * h for h in HP[0] + HP[1]]
    power = [48_000 * p for p in PW[0] + PW[1]]
    # path 0: day 2 2,000 < 2,400 → off; day 3 6,000 > 3,840 → on. path 1: 3,000 > 1,920.
    run_ = [g > p for g, p in zip(gross, power, strict=False)]
    assert run_ == [True, True, False, True, True, True, True, True]
    expected_rev = [g if r else 0.0 for g, r in zip(gross, run_, strict=False)]
    expected_opex = [(p if r else 0.0) + 2 * 100.0 for p, r in zip(power, run_, strict=False)]
    assert col(cf, "revenue_usd") == pytest.approx(expected_rev, rel=1e-12)
    assert col(cf, "opex_usd") == pytest.approx(expected_opex, rel=1e-12)
    assert col(cf, "capex_usd") == [0.0] * 8
    assert col(cf, "mw") == MW2
    assert set(cf["model"].to_list()) == {"self_mining"}


def test_self_mining_path1_margin() -> None:
    # path 1: gross 100 · 30 = 3,000 vs power 48,000 · 0.04 = 1,920 → runs (checked literally)
    m = SelfMining(overhead_k=1.0, uptime=1.0, pool_fee=0.0, opex_usd_mw_month=0.0)
    cf = run(m, MW2, SiteContext(efficiency_jth=20.0))
    assert col(cf, "revenue_usd")[4:] == pytest.approx([3000.0] * 4)
    assert col(cf, "opex_usd")[4:] == pytest.approx([1920.0] * 4)


def test_self_mining_fee_uptime_overhead_hedge_capex() -> None:
    # k = 1.25, e = 16 → 1000 / 20 = 50 PH/s per MW; 1 MW; u = 0.9; fee 2 %.
    # gross = 50 · 0.9 · 0.98 · HP = 44.1 · HP; power = 1000 · 24 · 0.9 · p = 21,600 · p.
    # hedge: 40 % of 50 PH/s sold at 45: pnl = 0.4 · 50 · (45 − HP) = 20 · (45 − HP).
    m = SelfMining(
        efficiency_jth=16.0,
        overhead_k=1.25,
        uptime=0.9,
        pool_fee=0.02,
        opex_usd_mw_month=0.0,
        capex_usd_per_mw=1_000.0,
        shutdown_when_unprofitable=False,
        hedge_share=0.4,
        hedge_strike_usd_ph_day=45.0,
    )
    cf = run(m, [1.0] * 8)
    hp = HP[0] + HP[1]
    pw = PW[0] + PW[1]
    hedge = [20 * (45 - h) for h in hp]
    assert col(cf, "hedge_pnl_usd") == pytest.approx(hedge)
    assert col(cf, "revenue_usd") == pytest.approx(
        [44.1 * h + x for h, x in zip(hp, hedge, strict=False)]
    )
    assert col(cf, "opex_usd") == pytest.approx([21_600 * p for p in pw])
    # capex only on each path's first day (1 MW added), $1,000/MW
    assert col(cf, "capex_usd") == [1000.0, 0, 0, 0, 1000.0, 0, 0, 0]


def test_asic_hosting_hand_computed() -> None:
    # 2 MW, k = 1.0, u = 1, occupancy 1: client kW = 2,000; revenue = 2,000 · 24 · 0.07 = 3,360
    # power = 2,000 · 24 · p = 48,000 · p; curtailed when p · k > 0.07 (day 3 of path 0: 0.08).
    m = AsicHosting(
        hosting_rate_usd_kwh=0.07,
        overhead_k=1.0,
        uptime=1.0,
        occupancy=1.0,
        opex_usd_mw_month=PER_MW_DAY,
    )
    cf = run(m, MW2)
    on = [p <= 0.07 for p in PW[0] + PW[1]]
    assert on == [True, True, True, False, True, True, True, True]
    assert col(cf, "revenue_usd") == pytest.approx([3360.0 if o else 0.0 for o in on])
    assert col(cf, "opex_usd") == pytest.approx(
        [(48_000 * p if o else 0.0) + 200.0 for p, o in zip(PW[0] + PW[1], on, strict=False)]
    )


def test_asic_hosting_overhead_occupancy_sla() -> None:
    # 1 MW, k = 1.25, occupancy 0.5, u = 0.9 < SLA 0.95 → 10 % credit; no curtailment.
    # client kW = 1000 / 1.25 · 0.5 = 400; revenue = 400 · 24 · 0.9 · 0.07 · 0.9 = 544.32
    # power = 1000 · 0.5 · 24 · 0.9 · p = 10,800 · p
    m = AsicHosting(
        hosting_rate_usd_kwh=0.07,
        overhead_k=1.25,
        uptime=0.9,
        occupancy=0.5,
        uptime_sla=0.95,
        sla_credit_share=0.1,
        curtail_pass_through=False,
        opex_usd_mw_month=0.0,
    )
    cf = run(m, [1.0] * 8)
    assert col(cf, "revenue_usd") == pytest.approx([544.32] * 8)
    assert col(cf, "opex_usd") == pytest.approx([10_800 * p for p in PW[0] + PW[1]])


def test_ai_colocation_hand_computed() -> None:
    # STEP: 1 MW on days 0–1, 3 MW on days 2–3. Lead time 2 days: active = min(mw(t), mw(t−2))
    #   = [0, 0, 1, 1] per path. IT kW per MW = 1000 / 1.25 = 800; billed max(0.85, 0.9) = 0.9;
    #   rent $100/kW-month → 800 · 0.9 · 100 / 30.4375 $/day per active MW.
    # capex: 1 MW on day 0 and 2 MW on day 2, $1.5 M/MW. Opex $100 per active MW-day.
    m = AiColocation(
        rent_usd_kw_month=100.0,
        pue=1.25,
        escalator=0.05,  # no effect within the first year
        conversion_capex_usd_per_mw=1_500_000.0,
        lead_time_days=2,
        utilisation=0.85,
        take_or_pay=0.9,
        default_prob_year=0.0,
        opex_usd_mw_month=PER_MW_DAY,
    )
    cf = run(m, STEP)
    per_mw = 800 * 0.9 * 100 / (365.25 / 12)
    active = [0, 0, 1, 1] * 2
    assert col(cf, "revenue_usd") == pytest.approx([a * per_mw for a in active])
    assert col(cf, "opex_usd") == pytest.approx([a * 100.0 for a in active])
    assert col(cf, "capex_usd") == pytest.approx([1.5e6, 0, 3.0e6, 0] * 2)


def test_ai_colocation_default_and_power() -> None:
    # default 10 %/year: day d earns (1 − 0.1)^(d / 365.25); no pass-through: we pay
    # active · 1000 · 24 · utilisation · p = 1000 · 24 · 0.9 · p per MW (utilisation 0.9).
    m = AiColocation(
        rent_usd_kw_month=100.0,
        pue=1.0,
        lead_time_days=0,
        utilisation=0.9,
        take_or_pay=0.5,
        default_prob_year=0.1,
        power_pass_through=False,
        opex_usd_mw_month=0.0,
        conversion_capex_usd_per_mw=0.0,
    )
    cf = run(m, [1.0] * 8)
    per_mw = 1000 * 0.9 * 100 / (365.25 / 12)
    exp_rev = [per_mw * 0.9 ** (d / 365.25) for d in range(4)] * 2
    assert col(cf, "revenue_usd") == pytest.approx(exp_rev, rel=1e-12)
    assert col(cf, "opex_usd") == pytest.approx([21_600 * p for p in PW[0] + PW[1]])


def test_ai_colocation_escalator_and_tenor() -> None:
    m = AiColocation(escalator=0.03, lead_time_days=10, tenor_years=1.0, default_prob_year=0.0)
    f = m.day_factor(800)
    # day 0–365: 1; day 366–375 (year 1, still inside 10 + 365.25 days): 1.03; after: 0
    assert f[0] == 1.0
    assert f[365] == 1.0
    assert f[366] == pytest.approx(1.03)
    assert f[375] == pytest.approx(1.03)
    assert f[376] == 0.0


def test_gpu_cloud_hand_computed() -> None:
    # 1 kW per GPU at PUE 1.25 → 800 GPUs per MW. Lead 1 day; STEP allocation →
    # active = min(mw(t), mw(t−1)) = [0, 1, 1, 3]. Revenue = 800 · 24 · 0.5 · rent per active
    # MW (rent 2 on path 0, 3 on path 1; no decay). Power: load 0.5 (idle 0) →
    # 1000 · 24 · 0.5 · p = 12,000 · p per active MW. Capex per added MW = 800 · 10,000 + 1 M.
    m = GpuCloud(
        kw_per_gpu=1.0,
        pue=1.25,
        capex_usd_per_gpu=10_000.0,
        conversion_capex_usd_per_mw=1_000_000.0,
        lead_time_days=1,
        utilisation=0.5,
        rent_decay_per_year=0.0,
        idle_power_share=0.0,
        depreciation_years=4.0,
        opex_usd_mw_month=0.0,
    )
    cf = run(m, STEP)
    active = [0, 1, 1, 3]
    rev = [a * 800 * 24 * 0.5 * 2.0 for a in active] + [a * 800 * 24 * 0.5 * 3.0 for a in active]
    assert col(cf, "revenue_usd") == pytest.approx(rev)
    pw = PW[0] + PW[1]
    assert col(cf, "opex_usd") == pytest.approx(
        [a * 12_000 * p for a, p in zip(active * 2, pw, strict=False)]
    )
    assert col(cf, "capex_usd") == pytest.approx([9e6, 0, 18e6, 0] * 2)
    # depreciation: 800 GPUs · $10,000 / (4 · 365.25) per active MW-day
    dep = 800 * 10_000 / (4 * 365.25)
    assert col(cf, "depreciation_usd") == pytest.approx([a * dep for a in active * 2])


def test_power_sale_hand_computed() -> None:
    # site contract 0.03 $/kWh; resell at 0.9 · market when 0.9 · q > 0.03 (always here).
    # per MW: revenue 24,000 · q · 0.9 + 30 DR credit; cost 24,000 · 0.03 = 720 + $100 fixed.
    m = PowerSale(resale_share=0.9, dr_credit_usd_mw_day=30.0, opex_usd_mw_month=PER_MW_DAY)
    cf = run(m, MW2, SiteContext(power_price_usd_kwh=0.03))
    q = PW[0] + PW[1]
    assert col(cf, "revenue_usd") == pytest.approx([2 * (24_000 * x * 0.9 + 30) for x in q])
    assert col(cf, "opex_usd") == pytest.approx([2 * (720.0 + 100.0)] * 8)


def test_power_sale_without_contract_only_dr() -> None:
    # No contract: the site pays market q, 0.9 · q < q → never resells; DR credit only.
    cf = run(PowerSale(opex_usd_mw_month=0.0), MW2)
    assert col(cf, "revenue_usd") == pytest.approx([60.0] * 8)
    assert col(cf, "opex_usd") == pytest.approx([0.0] * 8)


def test_site_contract_price_overrides_scenario() -> None:
    m = SelfMining(overhead_k=1.0, uptime=1.0, pool_fee=0.0, opex_usd_mw_month=0.0)
    cf = run(m, [1.0] * 8, SiteContext(efficiency_jth=20.0, power_price_usd_kwh=0.01))
    assert col(cf, "opex_usd") == pytest.approx([240.0] * 8)  # 24,000 kWh · 0.01


# ---- the scenario contract -----------------------------------------------------------


def test_missing_columns_are_named() -> None:
    with pytest.raises(SchemaError, match="hashprice_usd_ph_day, gpu_rent_usd_hr"):
        prepare_scenario(tiny().drop("hashprice_usd_ph_day", "gpu_rent_usd_hr"))


def test_wrong_dtype_and_nulls() -> None:
    with pytest.raises(DtypeError, match="date"):
        prepare_scenario(tiny().with_columns(pl.col("date").cast(pl.String)))
    bad = tiny().with_columns(
        pl.when(pl.int_range(pl.len()) == 5)
        .then(None)
        .otherwise(pl.col("price_usd"))
        .alias("price_usd")
    )
    with pytest.raises(SchemaError, match="row 5"):
        prepare_scenario(bad)


def test_unsorted_is_sorted_and_ragged_rejected() -> None:
    shuffled = tiny().sample(fraction=1.0, shuffle=True, seed=3)
    assert prepare_scenario(shuffled).frame.drop("day").equals(tiny())
    with pytest.raises(SchemaError, match="same dates"):
        prepare_scenario(tiny().filter(~((pl.col("path") == 1) & (pl.col("date").dt.day() == 3))))
    shifted = tiny().with_columns(
        pl.when(pl.col("path") == 1)
        .then(pl.col("date") + pl.duration(days=1))
        .otherwise(pl.col("date"))
    )
    with pytest.raises(SchemaError, match="same dates"):
        prepare_scenario(shifted)


def test_day_column_and_lazy_input() -> None:
    sc = prepare_scenario(tiny().lazy())
    assert sc.n_paths == 2
    assert sc.n_days == 4
    assert sc.frame["day"].to_list() == [0, 1, 2, 3] * 2


def test_site_validation() -> None:
    with pytest.raises(InvalidValueError, match="capacity_mw"):
        SiteContext(capacity_mw=0)


def test_synthetic_scenario_deterministic_and_in_schema() -> None:
    a = synthetic_scenario(3, 50, seed=1)
    assert a.equals(synthetic_scenario(3, 50, seed=1))
    assert not a.equals(synthetic_scenario(3, 50, seed=2))
    assert a.schema["date"] == pl.Datetime("us", "UTC")
    assert a.schema["bits"] == pl.UInt32
    prepare_scenario(a)


def test_gpu_cloud_default_power_is_the_specs_wall_figure() -> None:
    """ECONOMICS §4.4: ~1.2–1.4 kW per GPU *at the wall*: the default IT power × PUE is
    1.3 kW, so 1 MW at the wall holds ~769 GPUs (not 1,000 / (1.3 · 1.3) = 592)."""
    from hashpivot.builtin_plugins.gpu_cloud import GpuCloud

    g = GpuCloud()
    assert 1.2 <= g.kw_per_gpu * g.pue <= 1.4
    assert g.gpus_per_mw() == pytest.approx(1000.0 / 1.3)
