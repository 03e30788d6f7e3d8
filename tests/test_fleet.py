"""Fleet economics: hand-checked formulas (units written out) and the market-context proof."""

from __future__ import annotations

import csv
import datetime as dt
import math
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from hashpivot import fleet, hardware
from hashpivot.exceptions import DtypeError, InvalidValueError, SchemaError
from hashpivot.hardware import Fleet
from hashpivot.history import difficulty_epochs

TWO_32 = 4_294_967_296  # hashes per unit of difficulty


def epoch_464() -> tuple[float, int]:
    row = difficulty_epochs().filter(pl.col("epoch") == 464).row(0, named=True)
    return row["difficulty"], row["first_height"]


# ----------------------------------------------------------------------------- the proof


def test_market_context_2026_02_09_retarget() -> None:
    """ECONOMICS.md §1: after the 2026-02-09 retarget (epoch 464, height 935,424, bits
    0x17023c7e) with BTC at $66,680, an S19j Pro at $0.05/kWh is under water and an S21 XP at
    $0.05/kWh is not."""
    d, height = epoch_464()
    row = difficulty_epochs().filter(pl.col("epoch") == 464).row(0, named=True)
    assert row["bits"] == 0x17023C7E
    assert height == 935_424
    assert d == pytest.approx(125.86e12, rel=1e-4)

    # Hand computation (no pool fee, PUE 1, full uptime, fees F = 0 BTC/block):
    # subsidy at height 935,424 (4th halving era): S = 3.125 BTC/block.
    # b = 1e12 H/TH · 86,400 s/day · 3.125 BTC/block / (125,864,590,119,494.27 · 2^32 H/block)
    #   = 2.7e17 / 5.40580...e23 = 4.99460e-7 BTC per TH/s per day.
    b_hand = 1e12 * 86_400 * 3.125 / (125_864_590_119_494.27 * TWO_32)
    assert b_hand == pytest.approx(4.994596e-7, rel=1e-6)
    # Revenue per TH/s per day at $66,680/BTC: 4.994596e-7 · 66,680 = $0.0333040 (= $33.30/PH/day).
    rev_th_day = b_hand * 66_680
    assert rev_th_day == pytest.approx(0.0333040, rel=1e-5)
    # Breakeven power price p* = revenue per TH per day / kWh per TH per day,
    # kWh per TH/s per day = e J/TH · 24 h / 1000 (W·h → kWh).
    # S19j Pro, e = 3050 W / 100 TH/s = 30.5 J/TH: 0.0333040 / 0.732 = $0.045497/kWh < $0.05.
    # S21 XP,  e = 3645 W / 270 TH/s = 13.5 J/TH: 0.0333040 / 0.324 = $0.102790/kWh > $0.05.
    s19_hand = rev_th_day / (30.5 * 24 / 1000)
    s21_hand = rev_th_day / (13.5 * 24 / 1000)
    assert s19_hand == pytest.approx(0.045497, abs=1e-6)
    assert s21_hand == pytest.approx(0.102790, abs=1e-6)

    kw = {"difficulty": d, "height": height, "price_usd": 66_680.0}
    s19 = fleet.breakeven_power_price("Antminer S19j Pro", **kw)
    s21 = fleet.breakeven_power_price("Antminer S21 XP", **kw)
    print(
        f"breakeven power price at epoch 464, $66,680: S19j Pro {s19:.6f} $/kWh, "
        f"S21 XP {s21:.6f} $/kWh"
    )
    assert s19 == pytest.approx(s19_hand, rel=1e-12)
    assert s21 == pytest.approx(s21_hand, rel=1e-12)

    f = Fleet.from_catalog({"Antminer S19j Pro": 1, "Antminer S21 XP": 1})
    e = fleet.economics(f, power_price_usd_kwh=0.05, **kw)
    under = dict(zip(e["model"], e["under_water"], strict=True))
    assert under == {"Antminer S19j Pro": True, "Antminer S21 XP": False}
    margin = dict(zip(e["model"], e["margin_usd_day"], strict=True))
    # S19j Pro: 100 TH/s · $0.0333040 = $3.33040/day revenue; 73.2 kWh · $0.05 = $3.66/day.
    assert margin["Antminer S19j Pro"] == pytest.approx(100 * rev_th_day - 3.66, rel=1e-12)
    assert margin["Antminer S19j Pro"] < 0
    # S21 XP: 270 · $0.0333040 = $8.99207/day; 87.48 kWh · $0.05 = $4.374/day.
    assert margin["Antminer S21 XP"] == pytest.approx(270 * rev_th_day - 87.48 * 0.05, rel=1e-12)
    # Shutdown BTC price at $0.05/kWh: P* = 24 · e · p / (1000 · b):
    # S19j Pro 24 · 30.5 · 0.05 / (1000 · 4.994596e-7) = $73,279; S21 XP = $32,435.
    sp = fleet.shutdown_price(
        "Antminer S19j Pro", difficulty=d, height=height, power_price_usd_kwh=0.05
    )
    assert sp == pytest.approx(24 * 30.5 * 0.05 / (1000 * b_hand), rel=1e-12)
    assert 73_279 < sp < 73_280
    assert sp > 66_680


# ----------------------------------------------------------------------------- formulas


def test_btc_per_th_day_and_network_hashrate_by_hand() -> None:
    # ECONOMICS.md §2: b = 20,116,567.6 · (S + F) / D; with D = 20,116,567.6 and S + F = 1:
    # 1 BTC per TH/s per day.
    assert fleet.btc_per_th_day(1e12 * 86_400 / TWO_32, subsidy_btc=1.0) == pytest.approx(1.0)
    # Fees add linearly: S = 3.125, F = 0.125 → 3.25 / 3.125 of the subsidy-only value.
    b0 = fleet.btc_per_th_day(1e14, subsidy_btc=3.125)
    b1 = fleet.btc_per_th_day(1e14, subsidy_btc=3.125, fees_btc_per_block=0.125)
    assert b1 / b0 == pytest.approx(3.25 / 3.125)
    # Height gives the subsidy: height 840,000 → 3.125 BTC; 1,050,000 → 1.5625 BTC.
    assert fleet.btc_per_th_day(1e14, height=840_000) == pytest.approx(b0)
    assert fleet.btc_per_th_day(1e14, height=1_050_000) == pytest.approx(b0 / 2)
    # H = D · 2^32 / 600 H/s: D = 600 · 1e12 / 2^32 → 1 TH/s.
    assert fleet.network_hashrate_ths(600e12 / TWO_32) == pytest.approx(1.0)
    with pytest.raises(InvalidValueError, match=r"height= .* subsidy_btc="):
        fleet.btc_per_th_day(1e14)
    with pytest.raises(InvalidValueError, match="not both"):
        fleet.btc_per_th_day(1e14, height=1, subsidy_btc=1.0)
    with pytest.raises(InvalidValueError, match="difficulty"):
        fleet.btc_per_th_day(0.0, subsidy_btc=1.0)


def hand_fleet() -> Fleet:
    return Fleet(
        pl.DataFrame(
            {
                "model": ["rig"],
                "hashrate_ths": [100.0],
                "power_w": [3000.0],
                "count": [10],
                "price_usd": [1095.0],
                "purchase_date": [dt.date(2025, 1, 1)],
                "site": ["a"],
            }
        )
    )


def test_economics_every_column_by_hand() -> None:
    # Choose D so that b = 1e-6 BTC/TH/day with S = 3.125: D = 20,116,567.6 · 3.125 / 1e-6.
    d = 1e12 * 86_400 * 3.125 / (TWO_32 * 1e-6)
    e = fleet.economics(
        hand_fleet(),
        difficulty=d,
        subsidy_btc=3.125,
        price_usd=50_000.0,
        power_price_usd_kwh=0.04,
        hosting_fee_usd_kwh=0.01,
        pool_fee=0.02,
        pue=1.1,
        uptime=0.95,
        opex_usd_month=36.5,
        depreciation_years=3.0,
        interest_rate=0.1,
        as_of=dt.date(2025, 1, 1),
    ).row(0, named=True)
    # BTC/day = 10 units · 100 TH/s · 0.95 uptime · 1e-6 BTC/TH/day · 0.98 = 9.31e-4 BTC.
    assert e["btc_day"] == pytest.approx(9.31e-4, rel=1e-12)
    assert e["revenue_usd_day"] == pytest.approx(9.31e-4 * 50_000, rel=1e-12)  # $46.55
    # Energy = 10 · 3000 W · 1.1 PUE · 0.95 · 24 h / 1000 = 752.4 kWh/day; at $0.05 → $37.62.
    assert e["energy_kwh_day"] == pytest.approx(752.4, rel=1e-12)
    assert e["power_cost_usd_day"] == pytest.approx(37.62, rel=1e-12)
    # Opex = 10 · $36.5/month · 12 / 365 = $12/day.
    assert e["opex_usd_day"] == pytest.approx(12.0, rel=1e-12)
    # Straight line: 10 · $1095 / (3 · 365 days) = $10/day; interest 10 · 1095 · 0.1 / 365 = $3.00.
    assert e["depreciation_usd_day"] == pytest.approx(10.0, rel=1e-12)
    assert e["interest_usd_day"] == pytest.approx(3.0, rel=1e-12)
    assert e["margin_usd_day"] == pytest.approx(46.55 - 37.62 - 12.0, rel=1e-12)
    assert e["all_in_margin_usd_day"] == pytest.approx(46.55 - 37.62 - 12.0 - 13.0, rel=1e-12)
    # p* = 1000 · 1e-6 · 50,000 · 0.98 / (24 · 30 J/TH · 1.1) − 0.01 = 0.0618687 − 0.01.
    assert e["breakeven_power_price_usd_kwh"] == pytest.approx(
        1000 * 1e-6 * 50_000 * 0.98 / (24 * 30 * 1.1) - 0.01, rel=1e-12
    )
    # P* = 24 · 30 · 1.1 · 0.05 / (1000 · 1e-6 · 0.98) = $40,408.16.
    assert e["shutdown_price_usd"] == pytest.approx(24 * 30 * 1.1 * 0.05 / (1e-3 * 0.98))
    assert e["cash_cost_usd_per_btc"] == pytest.approx((37.62 + 12) / 9.31e-4, rel=1e-12)
    assert e["all_in_cost_usd_per_btc"] == pytest.approx((37.62 + 12 + 13.0) / 9.31e-4)
    # Hashrate share: 10 · 100 · 0.95 TH/s of D · 2^32 / 600 / 1e12 TH/s.
    assert e["hashrate_share"] == pytest.approx(950 / (d * TWO_32 / 600 / 1e12))
    assert e["book_value_usd"] == pytest.approx(10_950.0)
    assert e["under_water"] is False
    assert e["efficiency_jth"] == 30.0
    assert e["count"] == 10


def test_economics_per_hour_sites_and_declining() -> None:
    f = hand_fleet() + Fleet.from_catalog(
        {"Antminer S21": 2}, price_usd=3650.0, site="b", purchase_date=dt.date(2024, 1, 1)
    )
    kw = {"difficulty": 1e14, "subsidy_btc": 3.125, "price_usd": 60_000.0}
    prices = {"a": 0.03, "b": 0.07}
    day = fleet.economics(f, power_price_usd_kwh=prices, **kw)
    hour = fleet.economics(f, power_price_usd_kwh=prices, period="hour", **kw)
    assert hour["btc_hour"].to_list() == pytest.approx((day["btc_day"] / 24).to_list())
    assert "margin_usd_hour" in hour.columns
    # Site b pays $0.07/kWh: 2 · 3500 W · 24 h / 1000 = 168 kWh/day → $11.76.
    assert day["power_cost_usd_day"][1] == pytest.approx(11.76)
    with pytest.raises(InvalidValueError, match=r"sites \['b'\]"):
        fleet.economics(f, power_price_usd_kwh={"a": 0.03}, **kw)
    # Declining balance at 2/3 per year from 2024-01-01 to 2025-01-01 (366 days: year 1):
    # year 0 takes 3650 · 2/3 = 2433.33; year 1 opens at 1216.67 and takes 2/3 of it = 811.11.
    dec = fleet.economics(
        f, power_price_usd_kwh=0.05, depreciation="declining", as_of=dt.date(2025, 1, 1), **kw
    )
    assert dec["depreciation_usd_day"][1] == pytest.approx(2 * 3650 / 3 * 2 / 3 / 365)
    with pytest.raises(InvalidValueError, match="depreciation"):
        fleet.economics(f, power_price_usd_kwh=0.05, depreciation="sum_of_years", **kw)  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError, match="pool_fee"):
        fleet.economics(f, power_price_usd_kwh=0.05, pool_fee=1.0, **kw)
    with pytest.raises(InvalidValueError, match="uptime"):
        fleet.economics(f, power_price_usd_kwh=0.05, uptime=1.5, **kw)
    with pytest.raises(DtypeError):
        fleet.economics(42, power_price_usd_kwh=0.05, **kw)  # type: ignore[arg-type]


def test_payback_along_a_trend_path() -> None:
    d, height = epoch_464()
    path = fleet.difficulty_trend(
        start=dt.date(2026, 2, 9),
        days=365 * 3,
        difficulty=d,
        height=height,
        annual_growth=0.3,
        price_usd=66_680.0,
    )
    assert path.schema["date"] == pl.Date
    assert path.height == 1095
    # Difficulty steps only at retargets: first step at height 937,440 (day 14).
    first_step = path.filter(pl.col("difficulty") > d)["height"][0]
    assert first_step == 937_440
    # The 5th halving (height 1,050,000) halves the subsidy on the path.
    assert set(path["subsidy_btc"]) == {3.125, 1.5625}
    f = Fleet.from_catalog(
        {"Antminer S21 XP": 1, "Antminer S19j Pro": 1},
        price_usd={"Antminer S21 XP": 1500.0, "Antminer S19j Pro": 300.0},
    )
    r = fleet.payback(f, path, power_price_usd_kwh=0.05)
    st = dict(zip(r["model"], r["status"], strict=True))
    # S19j Pro is under water from day one and only gets worse: never pays back.
    assert st["Antminer S19j Pro"] == "never"
    assert r.filter(pl.col("model") == "Antminer S19j Pro")["days_running"][0] == 0
    # S21 XP earns $4.62/day at first (> 325 days for $1,500 at that rate); revenue falls
    # 30 %/year and halves at height 1,050,000 (day 795), so it must pay back before then.
    s21 = r.filter(pl.col("model") == "Antminer S21 XP").row(0, named=True)
    assert s21["status"] == "paid_back"
    assert 325 < s21["payback_days"] < 795
    assert s21["payback_date"] == dt.date(2026, 2, 9) + dt.timedelta(days=s21["payback_days"] - 1)
    # "Today's yield forever" would say 1500 / 4.618 = 325 days; the path must be slower.
    assert s21["payback_days"] > 1500 / (270 * 4.994596e-7 * 66_680 - 87.48 * 0.05)
    # At $2,000 it is still short when the halving (day 795) puts it under water: never.
    dear = fleet.payback(
        Fleet.from_catalog({"Antminer S21 XP": 1}, price_usd=2000.0), path, power_price_usd_kwh=0.05
    ).row(0, named=True)
    assert dear["status"] == "never"
    assert dear["payback_days"] is None
    assert 1500 < dear["cum_margin_usd"] < 2000
    assert dear["last_day_margin_usd"] == 0.0
    # A short horizon: not by horizon (still earning), ROI negative.
    short = fleet.payback(
        f.filter(model="Antminer S21 XP"), path.head(30), power_price_usd_kwh=0.05
    )
    assert short["status"][0] == "not_by_horizon"
    assert short["roi"][0] < 0
    with pytest.raises(InvalidValueError, match="power_price_usd_kwh"):
        fleet.payback(f, path)
    with pytest.raises(SchemaError, match="price_usd"):
        fleet.payback(f, path.drop("price_usd"), power_price_usd_kwh=0.05)


def _hourly(n: int = 48) -> pl.DataFrame:
    start = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    return pl.DataFrame(
        {
            "time": pl.datetime_range(
                start, start + dt.timedelta(hours=n - 1), "1h", time_zone="UTC", eager=True
            ),
            # Cheap nights, an expensive evening peak, one negative-price hour.
            "power_price_usd_kwh": [
                -0.01 if h == 3 else (0.20 if h % 24 in (18, 19, 20) else 0.03) for h in range(n)
            ],
        }
    )


def test_dispatch_by_hand() -> None:
    # One S21 XP unit at b = 1e-6 BTC/TH/day (→ 1e-6/24 per hour), $50,000/BTC:
    # revenue 270 · 1e-6 / 24 · 50,000 = $0.5625/h; load 3.645 kW.
    d = 1e12 * 86_400 * 3.125 / (TWO_32 * 1e-6)
    f = Fleet.from_catalog({"Antminer S21 XP": 4})
    prices = _hourly()
    r = fleet.dispatch(f, prices, difficulty=d, subsidy_btc=3.125, price_usd=50_000.0)
    row = r.row(0, named=True)
    # Breakeven $0.5625 / 3.645 kW = $0.1543/kWh: curtail the 3 peak hours a day (6 in 48 h).
    assert row["run_hours"] == 42
    assert row["curtailed_hours"] == 6
    assert row["starts"] == 2
    assert row["btc"] == pytest.approx(4 * 42 * 270 * 1e-6 / 24)
    assert row["energy_kwh"] == pytest.approx(4 * 42 * 3.645)
    cost = 4 * 3.645 * (0.03 * 41 - 0.01)
    assert row["power_cost_usd"] == pytest.approx(cost)
    assert row["margin_usd"] == pytest.approx(4 * 42 * 0.5625 - cost)
    assert row["flexibility_value_usd"] == pytest.approx(4 * 3.645 * 6 * 0.20 - 4 * 6 * 0.5625)
    # A $0.70/kWh demand-response credit for curtailing the peak adds 6 h · 3.645 kW · 4 · 0.70
    # — and makes curtailing every hour pay: credit > revenue / kWh at any price ≥ 0.
    dr = fleet.dispatch(
        f, prices, difficulty=d, subsidy_btc=3.125, price_usd=50_000.0, dr_credit_usd_kwh=0.70
    )
    assert dr["run_hours"][0] == 0
    # Start cost larger than a peak's saving (3 h · ($0.20 · 3.645 kW − $0.5625) = $0.4995/unit):
    # ride through the peaks.
    sc = fleet.dispatch(
        f, prices, difficulty=d, subsidy_btc=3.125, price_usd=50_000.0, start_cost_usd=0.60
    )
    assert sc["run_hours"][0] == 48
    assert sc["starts"][0] == 0
    cheap = fleet.dispatch(
        f, prices, difficulty=d, subsidy_btc=3.125, price_usd=50_000.0, start_cost_usd=0.40
    )
    assert cheap["run_hours"][0] == 42
    assert cheap["start_cost_usd"][0] == pytest.approx(4 * 2 * 0.4)
    # Hourly BTC price column overrides the keyword.
    hp = fleet.dispatch(
        f, prices.with_columns(pl.lit(1e6).alias("price_usd")), difficulty=d, subsidy_btc=3.125
    )
    assert hp["run_hours"][0] == 48


def test_dispatch_errors() -> None:
    f = Fleet.from_catalog({"Antminer S21": 1})
    kw = {"difficulty": 1e14, "subsidy_btc": 3.125, "price_usd": 60_000.0}
    with pytest.raises(SchemaError, match="power_price_usd_kwh"):
        fleet.dispatch(f, pl.DataFrame({"p": [0.1]}), **kw)
    with pytest.raises(InvalidValueError, match="row 1"):
        fleet.dispatch(f, pl.DataFrame({"power_price_usd_kwh": [0.1, math.inf]}), **kw)
    with pytest.raises(InvalidValueError, match="nulls"):
        fleet.dispatch(f, pl.DataFrame({"power_price_usd_kwh": [0.1, None]}), **kw)
    with pytest.raises(InvalidValueError, match="min_run_hours"):
        fleet.dispatch(f, _hourly(), min_run_hours=-1, **kw)
    with pytest.raises(InvalidValueError, match="uptime"):
        fleet.dispatch(f, _hourly(), uptime=0.0, **kw)


def test_cost_curve_by_hand() -> None:
    # Two classes, b = 5e-7 BTC/TH/day, $0.05/kWh: P* = 24 · e · 0.05 / (1000 · 5e-7) = 2400 · e.
    d = 1e12 * 86_400 * 3.125 / (TWO_32 * 5e-7)
    mix = pl.DataFrame(
        {"model": ["new", "old"], "efficiency_jth": [15.0, 30.0], "hashrate_share": [1.0, 3.0]}
    )
    kw = {"difficulty": d, "subsidy_btc": 3.125, "price_usd": 60_000.0, "power_price_usd_kwh": 0.05}
    c = fleet.cost_curve(mix, **kw)
    assert c["model"].to_list() == ["new", "old"]
    assert c["shutdown_price_usd"].to_list() == pytest.approx([36_000.0, 72_000.0])
    net = fleet.network_hashrate_ths(d)
    assert c["hashrate_ths"].to_list() == pytest.approx([net / 4, 3 * net / 4])
    assert c["cum_hashrate_share"].to_list() == pytest.approx([0.25, 1.0])
    assert c["under_water"].to_list() == [False, True]
    assert fleet.share_under_water(c, 60_000.0) == pytest.approx(0.75)
    assert fleet.share_under_water(c, 80_000.0) == 0.0
    s = fleet.network_cost(mix, capex_usd_th=18.25, depreciation_years=1.0, **kw).row(0, named=True)
    assert s["share_under_water"] == pytest.approx(0.75)
    # (1 · 36,000 + 3 · 72,000) / 4 = $63,000 per BTC; all-in adds 18.25/365/5e-7 = $100,000.
    assert s["avg_cash_cost_usd_per_btc"] == pytest.approx(63_000.0)
    assert s["avg_all_in_cost_usd_per_btc"] == pytest.approx(163_000.0)
    assert (s["lower_efficiency_jth"], s["upper_efficiency_jth"]) == (15.0, 15.0)
    assert s["best_guess_efficiency_jth"] == 15.0
    # Power: network TH/s · 15 J/TH / 1e9 → GW.
    assert s["lower_power_gw"] == pytest.approx(net * 15 / 1e9)
    assert s["network_hashrate_ths"] == pytest.approx(net)
    # Nothing profitable at $10,000: upper and best guess are null, not made up.
    none = fleet.network_cost(mix, **{**kw, "price_usd": 10_000.0}).row(0, named=True)
    assert none["upper_efficiency_jth"] is None
    assert none["share_under_water"] == 1.0


def test_cost_curve_market_context() -> None:
    """The illustrative 2026 mix at epoch 464 and $66,680: S19-class hardware under water."""
    d, height = epoch_464()
    mix = hardware.network_mix(2026)
    c = fleet.cost_curve(
        mix, difficulty=d, height=height, price_usd=66_680.0, power_price_usd_kwh=0.05
    )
    uw = dict(zip(c["model"], c["under_water"], strict=True))
    assert uw["Antminer S19j Pro"]
    assert uw["Antminer S19"]
    assert not uw["Antminer S21 XP"]
    s = fleet.network_cost(
        mix, difficulty=d, height=height, price_usd=66_680.0, power_price_usd_kwh=0.05
    ).row(0, named=True)
    assert 0 < s["share_under_water"] < 1
    assert s["lower_cash_cost_usd_per_btc"] <= s["best_guess_cash_cost_usd_per_btc"]
    assert s["best_guess_cash_cost_usd_per_btc"] <= s["upper_cash_cost_usd_per_btc"] <= 66_680
    with pytest.raises(SchemaError, match="hashrate"):
        fleet.cost_curve(
            mix.drop("hashrate_share"),
            difficulty=d,
            height=height,
            price_usd=1.0,
            power_price_usd_kwh=0.05,
        )


def test_btc_per_th_day_against_f2pool_march_2020(shared_data: Path) -> None:
    """f2pool's device list (reference only) quotes BTC produced per 24 h in March 2020; the
    spec formula with the bundled difficulty of that time reproduces it within 3 % (f2pool
    adds fees; we use S = 12.5 BTC, F = 0)."""
    path = shared_data / "hardware" / "f2pool_mining_devices_2020-03.csv"
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["Device"].strip() == "Antminer S19 Pro"]
    quoted = float(rows[0]["Produced (24h) (BTC)"]) / float(rows[0]["Hashrate (T)"])
    epochs = difficulty_epochs().filter(
        pl.col("first_time").is_between(
            dt.datetime(2020, 2, 1, tzinfo=dt.timezone.utc),
            dt.datetime(2020, 4, 1, tzinfo=dt.timezone.utc),
        )
    )
    assert epochs.height >= 3
    errs = [
        abs(fleet.btc_per_th_day(d, height=h) / quoted - 1)
        for d, h in zip(epochs["difficulty"], epochs["first_height"], strict=True)
    ]
    assert min(errs) < 0.03, errs


def test_under_water_is_per_unit_even_for_zero_counts() -> None:
    """A class with count 0 (no revenue, no power cost) is under water exactly when its
    breakeven power price is below the price paid, like the same class with units."""
    frame = pl.DataFrame({"model": ["Antminer S19j Pro", "Antminer S19j Pro"], "count": [0, 5]})
    for price, want in ((0.05, True), (0.01, False)):
        e = fleet.economics(
            Fleet(frame), difficulty=1.2e14, price_usd=67_000.0, power_price_usd_kwh=price,
            height=900_000,
        )  # fmt: skip
        assert e["under_water"].to_list() == [want, want], price
        assert (e["breakeven_power_price_usd_kwh"] < price).to_list() == [want, want]


def test_payback_date_of_a_free_machine_is_the_first_day() -> None:
    """Nothing to pay back (capex 0) is paid back on day 0: its date is the path's first
    date, not the day before it."""
    d, height = epoch_464()
    path = fleet.difficulty_trend(
        start=dt.date(2026, 2, 11),
        days=30,
        difficulty=d,
        height=height,
        price_usd=66_680.0,
        annual_growth=0.0,
    )
    r = fleet.payback(
        Fleet.from_catalog({"Antminer S21 XP": 1}, price_usd=0.0), path, power_price_usd_kwh=0.05
    )
    assert r["payback_days"][0] == 0
    assert r["payback_date"][0] == dt.date(2026, 2, 11)


def test_from_catalog_and_trend_inputs_are_checked() -> None:
    """Fractional or bool counts were truncated silently (2.7 → 2, True → 1); a text price,
    a text start date, no height, or a negative difficulty now raise hashpivot errors."""
    for bad in (2.7, True, -1):
        with pytest.raises(InvalidValueError, match="whole number of machines"):
            Fleet.from_catalog({"Antminer S21": bad})  # type: ignore[dict-item]
    with pytest.raises(DtypeError, match="not a number"):
        Fleet.from_catalog({"Antminer S21": 2}, price_usd="abc")  # type: ignore[arg-type]
    assert Fleet.from_catalog({"Antminer S21": 2}).frame["count"].to_list() == [2]
    d, height = epoch_464()
    kw: dict[str, Any] = dict(
        start=dt.date(2026, 2, 11), days=3, difficulty=d, height=height, annual_growth=0.0,
        price_usd=60_000.0,
    )  # fmt: skip
    assert fleet.difficulty_trend(**kw).height == 3
    for key, value, err in (
        ("start", "2026-02-11", DtypeError),
        ("height", None, InvalidValueError),
        ("difficulty", -1.0, InvalidValueError),
        ("price_usd", -5.0, InvalidValueError),
    ):
        with pytest.raises(err, match=key):
            fleet.difficulty_trend(**{**kw, key: value})


def test_text_columns_give_dtype_errors_naming_the_column() -> None:
    f = Fleet.from_catalog({"Antminer S21": 2})
    d, height = epoch_464()
    hours = pl.DataFrame({"power_price_usd_kwh": ["0.05"] * 24, "price_usd": [67_000.0] * 24})
    with pytest.raises(DtypeError, match="prices: column 'power_price_usd_kwh' has dtype"):
        fleet.dispatch(f, hours, difficulty=d, height=height)
    path = fleet.difficulty_trend(
        start=dt.date(2026, 2, 11), days=5, difficulty=d, height=height, annual_growth=0.0,
        price_usd=60_000.0,
    )  # fmt: skip
    with pytest.raises(DtypeError, match="path: column 'date' has dtype"):
        fleet.payback(
            f, path.with_columns(pl.col("date").cast(pl.String)), power_price_usd_kwh=0.05
        )
    with pytest.raises(DtypeError, match="path: column 'price_usd' has dtype"):
        fleet.payback(
            f, path.with_columns(pl.col("price_usd").cast(pl.String)), power_price_usd_kwh=0.05
        )
    mix = pl.DataFrame({"efficiency_jth": [15.0, 20.0], "hashrate_share": ["0.5", "0.5"]})
    with pytest.raises(DtypeError, match="mix: column 'hashrate_share' has dtype"):
        fleet.cost_curve(
            mix, difficulty=d, height=height, price_usd=60_000.0, power_price_usd_kwh=0.05
        )
