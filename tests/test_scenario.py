"""Scenario engine: API, schema, determinism, deterministic (zero-volatility) consensus
cases, streaming, calibration, and a differential test of the block clock against the
pure-Python reference in ``hashpivot._reference``."""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hashpivot import _reference as ref
from hashpivot import consensus, scenario
from hashpivot.exceptions import DtypeError, HashpivotError, InvalidValueError, OutputError
from hashpivot.scenario import (
    GBM,
    Bootstrap,
    ChainStart,
    Fees,
    Fleet,
    GivenPath,
    GivenPaths,
    GpuRent,
    Power,
    Scenario,
    Shock,
)

T0 = 19_676 * 86_400  # a UTC midnight (2023-11-14)
BITS = 0x17034219  # block 840,000's bits
EQ_SPACING = 600.0 * 2016 / 2015  # 600.2978 s: the equilibrium spacing (CONSENSUS.md §4.3)


def ehs_for_spacing(spacing: float, bits: int = BITS) -> float:
    return ref.u256_getdouble(ref.bits_proof(bits)) / spacing / 1e18


def boundary_start(height: int = 2016 * 417 - 1, bits: int = BITS) -> ChainStart:
    return ChainStart(height=height, bits=bits, time=T0)


def fixed(hashrate: list[float], **kw: object) -> Scenario:
    return Scenario(
        start=boundary_start(),
        hashrate_ehs=hashrate,
        arrivals="deterministic",
        price=GBM(mu=0.0, sigma=0.0),
        **kw,  # type: ignore[arg-type]
    )


# ----------------------------------------------------------------------------- schema/API


def test_schema_and_shape() -> None:
    df = scenario.simulate(Scenario(), paths=3, years=0.1, seed=1)
    assert df.schema == pl.Schema(scenario.DAILY_SCHEMA)
    nd = round(0.1 * 365)
    assert df.height == 3 * nd
    assert df["path"].unique().sort().to_list() == [0, 1, 2]
    d = df.filter(pl.col("path") == 0)["date"]
    assert d.dt.hour().max() == 0
    assert (d.diff().drop_nulls().dt.total_seconds() == 86_400).all()
    assert df["price_usd"].min() > 0  # type: ignore[operator]
    assert df["share_under_water"].is_between(0, 1).all()
    # difficulty column equals the consensus conversion of the bits column
    assert df["difficulty"].equals(
        consensus.bits_to_difficulty(df["bits"]).alias("difficulty"), check_names=False
    )


def test_hashprice_formula() -> None:
    """hashprice = 1e12·86400·(S+F)/(D_start·2^32)·P·1000 with D_start the difficulty in force
    at the start of the day (the previous row's end-of-day difficulty)."""
    df = scenario.simulate(Scenario(), paths=1, years=0.3, seed=5)
    prev_d = df["difficulty"].shift(1)
    want = (
        1e12
        * 86400
        * (df["subsidy_btc"] + df["fees_btc_per_block"])
        / (prev_d * 2**32)
        * df["price_usd"]
        * 1000
    )
    got = df["hashprice_usd_ph_day"]
    rel = ((got - want) / want).abs().drop_nulls()
    assert rel.max() < 1e-12


def test_retarget_frame_and_summaries() -> None:
    daily, rts = scenario.simulate_with_retargets(Scenario(), paths=20, years=0.5, seed=3)
    assert rts.schema == pl.Schema(scenario.RETARGET_SCHEMA)
    assert (rts["height"] % 2016 == 0).all()
    # every retarget is the consensus rule applied to its own epoch: the new bits are
    # reproduced from (old bits, last time, first time), and the transition is permitted
    assert rts["timespan_s"].min() > 0  # type: ignore[operator]
    for r in rts.iter_rows(named=True):
        last, first = int(r["time"].timestamp()), int(r["first_time"].timestamp())
        assert r["bits"] == consensus.calculate_next_bits(r["old_bits"], last, first)
        assert consensus.permitted_difficulty_transition(r["height"], r["old_bits"], r["bits"])
    fan = scenario.quantile_fan(daily, "difficulty")
    assert fan.columns == ["date", "mean", "q05", "q25", "q50", "q75", "q95"]
    assert fan.height == daily["date"].n_unique()
    assert (fan["q05"] <= fan["q50"]).all()
    assert (fan["q50"] <= fan["q95"]).all()
    rd = scenario.retarget_dates(rts)
    assert rd["paths"].max() <= 20  # type: ignore[operator]
    assert rd.schema["time_q50"] == pl.Datetime("us", "UTC")
    assert (rd["time_q10"] <= rd["time_q90"]).all()


def test_same_seed_same_frame_and_different_seed_differs() -> None:
    sc = Scenario(price=GBM(mu=0.1, sigma=0.7, jump_per_year=3, jump_mean=-0.05, jump_sd=0.1))
    a = scenario.simulate(sc, paths=8, years=0.5, seed=11)
    b = scenario.simulate(sc, paths=8, years=0.5, seed=11)
    c = scenario.simulate(sc, paths=8, years=0.5, seed=12)
    assert a.equals(b)
    assert not a.equals(c)
    # a path's rows do not depend on how many paths are run
    small = scenario.simulate(sc, paths=3, years=0.5, seed=11)
    assert small.equals(a.filter(pl.col("path") < 3))


_CHILD = """
import hashlib, sys
from hashpivot import scenario
df, rts = scenario.simulate_with_retargets(scenario.Scenario(), paths=40, years=0.6, seed=7)
h = hashlib.sha256()
for c in df.columns:
    h.update(str(df[c].to_list()).encode())
h.update(str(rts.rows()).encode())
print(h.hexdigest())
"""


def _child_digests(script: str, var: str, values: tuple[str, str]) -> list[str]:
    """The SHA-256 that ``script`` prints, run in a fresh process once per value of ``var``."""
    out = []
    for v in values:
        env = {**os.environ, var: v}
        r = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
        )
        out.append(r.stdout.strip())
    assert len(out[0]) == 64
    return out


def test_identical_output_with_1_and_2_threads() -> None:
    a, b = _child_digests(_CHILD, "RAYON_NUM_THREADS", ("1", "2"))
    assert a == b


_POOL_CHILD = """
import hashlib
from hashpivot import scenario
sc = scenario.Scenario()
# 80 paths x 1825 days: mapped columns (> 1 MiB). The first run's mappings go to the buffer
# pool when it is dropped; the second run (another seed) reuses them when the pool is on.
first = scenario.simulate(sc, paths=80, years=5.0, seed=1)
del first
df = scenario.simulate(sc, paths=80, years=5.0, seed=2)
h = hashlib.sha256()
for c in df.columns:
    h.update(df[c].to_physical().to_numpy().tobytes())
print(h.hexdigest())
"""


def test_reused_buffers_give_the_same_frame_as_fresh_memory() -> None:
    """The output columns may come from the buffer pool with a previous frame's values: the
    frame equals the one built on fresh memory (HASHPIVOT_BUFFER_POOL=0)."""
    pooled, fresh = _child_digests(_POOL_CHILD, "HASHPIVOT_BUFFER_POOL", ("1", "0"))
    assert pooled == fresh


# ----------------------------------------------------------------- deterministic (σ = 0)


def test_constant_hashrate_gives_600_3_s_and_no_drift() -> None:
    """At the equilibrium hashrate (spacing 600·2016/2015 s) 2015 intervals take exactly
    one timespan, so the retarget keeps the bits (up to the 1-second timestamp rounding,
    far below one compact ulp), and the mean spacing is 600.3 s."""
    days = 14 * 30
    _, rts = scenario.simulate_with_retargets(
        fixed([ehs_for_spacing(EQ_SPACING)] * days), paths=1, years=days / 365, seed=0
    )
    assert rts.height >= 29
    assert (rts["difficulty_change"].abs() < 1e-6).all()
    t = rts["time"].dt.epoch("s")
    spacing = (t[-1] - t[0]) / (2016 * (rts.height - 1))
    assert spacing == pytest.approx(EQ_SPACING, abs=1e-3)
    assert round(spacing, 1) == 600.3


def test_half_hashrate_retarget_and_clamp() -> None:
    """600 s spacing for one epoch (difficulty ×2016/2015), then half the hashrate (the span
    doubles → difficulty −50 %), then a tenth from day 70 (the span, 5× a timespan, is clamped
    at ×4 → the new bits are exactly the rule's clamped result, difficulty −75 %). Tolerances:
    the epoch-1 boundary falls on a day boundary, so its last block may take one 600 s or
    1200 s interval at either rate: ≤ 1200 s in a 1.2–2.4 Ms span (≤ 1e-3)."""
    h = ehs_for_spacing(600.0)
    hr = [h] * 14 + [h / 2] * 56 + [h / 10] * 120
    _, rts = scenario.simulate_with_retargets(fixed(hr), paths=1, years=len(hr) / 365, seed=0)
    r = rts.sort("height")
    ch = r["difficulty_change"].to_list()
    assert ch[0] == pytest.approx(2016 / 2015 - 1, abs=1e-3)
    assert ch[1] == pytest.approx(-0.5, abs=1e-3)
    clamped = r.filter(pl.col("timespan_s") > 4 * 1_209_600)
    assert clamped.height == 1
    row = clamped.row(0, named=True)
    last = int(row["time"].timestamp())
    want = consensus.calculate_next_bits(row["old_bits"], last, last - 4 * 1_209_600)
    assert row["bits"] == want
    assert row["difficulty_change"] == pytest.approx(-0.75, abs=1e-4)
    # all other retargets are within the clamp
    assert (r.filter(pl.col("timespan_s") <= 4 * 1_209_600)["difficulty_change"] > -0.75).all()


def test_halvings_fall_where_they_must() -> None:
    start = ChainStart(height=839_999 - 144 * 20, bits=BITS, time=T0, epoch_first_time=T0 - 1)
    hr = [ehs_for_spacing(600.0)] * 60
    sc = Scenario(start=start, hashrate_ehs=hr, arrivals="deterministic")
    df = scenario.simulate(sc, paths=1, years=60 / 365, seed=0)
    prev = df["height"].shift(1, fill_value=start.height)
    want = consensus.block_subsidy(prev + 1)
    assert isinstance(want, pl.Series)
    assert (df["subsidy_btc"] == want.cast(pl.Float64) / 1e8).all()
    assert df["subsidy_btc"][0] == 6.25
    assert df["subsidy_btc"][-1] == 3.125
    first_new = df.filter(pl.col("subsidy_btc") == 3.125)
    assert int(first_new["height"].shift(1, fill_value=0)[0]) <= 840_000
    assert int(prev.filter(df["subsidy_btc"] == 3.125)[0]) >= 839_999


@settings(max_examples=25, deadline=None)
@given(
    height=st.integers(min_value=0, max_value=2015).map(lambda k: 2016 * 420 + k),
    bits=st.sampled_from([0x17034219, 0x1702C4E4, 0x1705AE3A, 0x1D00FFFF]),
    mults=st.lists(st.floats(min_value=0.05, max_value=6.0), min_size=1, max_size=50),
    offset=st.integers(min_value=0, max_value=86_399),
)
def test_fluid_clock_matches_reference(
    height: int, bits: int, mults: list[float], offset: int
) -> None:
    hr = [ehs_for_spacing(600.0, bits) * m for m in mults]
    start = ChainStart(height=height, bits=bits, time=T0 + offset, epoch_first_time=T0 - 7_000)
    sc = Scenario(start=start, hashrate_ehs=hr, arrivals="deterministic")
    daily, rts = scenario.simulate_with_retargets(sc, paths=1, years=len(hr) / 365, seed=0)
    heights, bits_out, rt = ref.fluid_chain(height, bits, T0 + offset, T0 - 7_000, hr)
    assert daily["height"].to_list() == heights
    assert daily["bits"].to_list() == bits_out
    got = [
        (r["height"], int(r["time"].timestamp()), r["old_bits"], r["bits"])
        for r in rts.iter_rows(named=True)
    ]
    assert got == rt


def test_fluid_clock_retargets_when_a_day_ends_exactly_at_the_epoch_boundary() -> None:
    """λ·rest of the first day lands on the epoch's 1,025 remaining blocks exactly in floating
    point (although (need − acc)/λ > rest): the epoch's last block ends that day, with its
    retarget. The engine had added the blocks without it; the reference agrees with the fix."""
    height = 2016 * 417 - 1 + 991
    hr = [5851.042144671464] * 3
    t = T0 + 86_400 - 65_000
    start = ChainStart(height=height, bits=0x17034219, time=t, epoch_first_time=T0 - 600_000)
    sc = Scenario(start=start, hashrate_ehs=hr, arrivals="deterministic")
    daily, rts = scenario.simulate_with_retargets(sc, paths=1, years=3 / 365, seed=0)
    heights, bits_out, rt = ref.fluid_chain(height, 0x17034219, t, T0 - 600_000, hr)
    assert daily["height"].to_list() == heights
    assert daily["bits"].to_list() == bits_out
    assert heights[0] == 2016 * 418 - 1
    assert rt[0][:2] == (2016 * 418, T0 + 86_400)
    assert rts["height"].to_list() == [r[0] for r in rt]


def test_shock_removes_hashrate_for_its_days() -> None:
    h = ehs_for_spacing(600.0)
    sc = Scenario(
        start=boundary_start(),
        hashrate_ehs=[h] * 20,
        shocks=(Shock(start_day=5, days=3, fraction=0.4),),
        arrivals="deterministic",
    )
    df = scenario.simulate(sc, paths=1, years=20 / 365, seed=0)
    hr = df["hashrate_ehs"].to_list()
    assert hr[4] == pytest.approx(h)
    assert hr[8] == pytest.approx(h)
    assert hr[5:8] == pytest.approx([0.6 * h] * 3)
    blocks = df["height"].diff().to_list()
    assert blocks[6] == pytest.approx(0.6 * 144, abs=1)


# ----------------------------------------------------------------------------- network


def test_fleet_switches_off_under_water_and_back_on() -> None:
    """A given price path that collapses then recovers: the under-water share rises, the
    online hashrate falls, and comes back with hysteresis."""
    n = 120
    price = [80_000.0] * 30 + [15_000.0] * 40 + [80_000.0] * (n - 70)
    sc = Scenario(
        price=GivenPath(price),
        fees=Fees(vol_per_day=0.0),
        power=Power(season_amp=0.0, vol_usd_kwh_per_day=0.0, spike_prob_per_day=0.0),
        fleet=Fleet(deploy_cap_per_day=0.0, retire_per_year=0.0),
    )
    df = scenario.simulate(sc, paths=1, years=n / 365, seed=0)
    hr = df["hashrate_ehs"]
    uw = df["share_under_water"]
    assert uw[10] < uw[40]
    assert hr[40] < 0.6 * hr[10]
    assert hr[100] > 0.9 * hr[10]


def test_arrivals_follow_lead_time_and_cap() -> None:
    n = 200
    sc = Scenario(
        price=GivenPath([500_000.0] * n),  # very profitable: orders at the cap every day
        fees=Fees(vol_per_day=0.0),
        power=Power(season_amp=0.0, vol_usd_kwh_per_day=0.0, spike_prob_per_day=0.0),
        fleet=Fleet(deploy_cap_per_day=0.002, lead_time_days=60, retire_per_year=0.0),
    )
    df = scenario.simulate(sc, paths=1, years=n / 365, seed=0)
    hr = df["hashrate_ehs"]
    assert hr[59] == pytest.approx(hr[1], rel=1e-12)  # nothing delivered before the lead time
    assert hr[60] > hr[59]
    # deliveries compound at ≤ 0.2 %/day after the lead time
    growth = (hr[199] / hr[60]) ** (1 / 139) - 1
    assert 0 < growth <= 0.002 + 1e-12


def test_mix_by_absolute_hashrate() -> None:
    mix = pl.DataFrame({"efficiency_jth": [20.0], "hashrate_ths": [3e8]})
    sc = Scenario(price=GivenPath([1e6] * 5), fleet=Fleet(mix=mix, deploy_cap_per_day=0))
    df = scenario.simulate(sc, paths=1, years=5 / 365, seed=0)
    assert df["hashrate_ehs"][0] == pytest.approx(300.0)


# ----------------------------------------------------------------------------- streaming


def test_parquet_chunks_equal_in_memory(tmp_path: Path) -> None:
    sc = Scenario()
    files = scenario.simulate_to_parquet(sc, tmp_path, paths=7, years=0.2, seed=9, chunk_paths=3)
    assert len(files) == 6
    assert all(f.exists() for f in files)
    assert not list(tmp_path.rglob(".tmp-*"))
    daily = pl.read_parquet(tmp_path / "daily", hive_partitioning=True).drop("chunk")
    rts = pl.read_parquet(tmp_path / "retargets", hive_partitioning=True).drop("chunk")
    want_d, want_r = scenario.simulate_with_retargets(sc, paths=7, years=0.2, seed=9)
    assert daily.sort("path", "date").equals(want_d)
    assert rts.sort("path", "height").equals(want_r.sort("path", "height"))


def test_parquet_run_replaces_an_earlier_run_as_a_whole(tmp_path: Path) -> None:
    """A second run into the same folder never mixes with the first (10 paths, then 4): the
    folder holds exactly the new run's chunks."""
    out = tmp_path / "run"
    sc = Scenario()
    scenario.simulate_to_parquet(sc, out, paths=10, years=0.05, seed=1, chunk_paths=2)
    files = scenario.simulate_to_parquet(sc, out, paths=4, years=0.05, seed=2, chunk_paths=2)
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.parquet")) == sorted(
        f.relative_to(out).as_posix() for f in files
    )
    disk = pl.scan_parquet(out / "daily").sort("path", "date").collect().drop("chunk")
    assert disk.equals(scenario.simulate(sc, paths=4, years=0.05, seed=2))
    assert [p.name for p in tmp_path.iterdir()] == ["run"]  # no staging folders left


def test_parquet_run_refuses_a_folder_with_other_files(tmp_path: Path) -> None:
    out = tmp_path / "run"
    sc = Scenario()
    scenario.simulate_to_parquet(sc, out, paths=2, years=0.05, seed=1, chunk_paths=1)
    before = sorted(p.as_posix() for p in out.rglob("*"))
    notes = out / "daily" / "chunk=00000" / "notes.txt"
    notes.write_text("mine")
    with pytest.raises(OutputError, match=r"daily/chunk=00000/notes\.txt"):
        scenario.simulate_to_parquet(sc, out, paths=3, years=0.05, seed=2)
    assert notes.read_text() == "mine"
    assert sorted(p.as_posix() for p in out.rglob("*")) == sorted([*before, notes.as_posix()])
    (tmp_path / "file").write_text("x")
    for bad in (tmp_path / "file", tmp_path / "file" / "sub"):
        with pytest.raises(OutputError, match="not a folder"):
            scenario.simulate_to_parquet(sc, bad, paths=1, years=0.05)


def test_interrupted_parquet_run_leaves_the_earlier_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "run"
    sc = Scenario()
    scenario.simulate_to_parquet(sc, out, paths=2, years=0.05, seed=1, chunk_paths=1)
    first = pl.scan_parquet(out / "daily").collect()
    real = scenario._run
    calls = []

    def failing(*a: object, **k: object) -> object:
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(scenario, "_run", failing)
    with pytest.raises(KeyboardInterrupt):
        scenario.simulate_to_parquet(sc, out, paths=3, years=0.05, seed=2, chunk_paths=1)
    assert pl.scan_parquet(out / "daily").collect().equals(first)
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


# ----------------------------------------------------------------------------- calibration


def test_fit_gbm_recovers_parameters_from_a_gbm_path() -> None:
    """One GBM path of n = 3650 days: the fitted daily sd has standard error
    σ_d/√(2n) (normal sample sd), so σ̂ is within 4·σ/√(2n) of σ; the drift is poorly
    identified (se of μ̂ = σ/√T = 0.19 for σ = 0.6, T = 10 y), so it is checked at 4 se."""
    sigma, mu, n = 0.6, 0.2, 3650
    df = scenario.simulate(Scenario(price=GBM(mu=mu, sigma=sigma)), paths=1, years=n / 365, seed=21)
    fit = scenario.fit_gbm(df, date_col="date", price_col="price_usd")
    assert abs(fit.sigma - sigma) < 4 * sigma / math.sqrt(2 * (n - 1))
    assert abs(fit.mu - mu) < 4 * sigma / math.sqrt((n - 1) / 365)


@pytest.mark.parametrize(
    ("frame", "err", "fragment"),
    [
        # weekly rows would be read as daily returns (σ 2.6× too high)
        (
            pl.DataFrame({"date": pl.date_range(date(2024, 1, 1), date(2024, 3, 1), "1w",
                                                eager=True), "price_usd": 60_000.0}),
            InvalidValueError, "not one day later",
        ),
        # a repeated day
        (
            pl.DataFrame({"date": [date(2024, 1, 1), date(2024, 1, 1), date(2024, 1, 2)],
                          "price_usd": [1.0, 1.0, 2.0]}),
            InvalidValueError, "row 1 after sorting",
        ),
        (
            pl.DataFrame({"date": [date(2024, 1, 1), date(2024, 1, 2), date(2024, 1, 3)],
                          "price_usd": [1.0, float("nan"), 2.0]}),
            InvalidValueError, "row 1 after sorting, date 2024-01-02",
        ),
        (
            pl.DataFrame({"date": [date(2024, 1, 1), None, date(2024, 1, 3)],
                          "price_usd": [1.0, 1.5, 2.0]}),
            InvalidValueError, "null 'date'",
        ),
        (
            pl.DataFrame({"date": [date(2024, 1, 1), date(2024, 1, 2)], "price_usd": ["1", "2"]}),
            DtypeError, "expected numbers",
        ),
        (
            pl.DataFrame({"date": ["2024-01-01", "2024-01-02"], "price_usd": [1.0, 2.0]}),
            DtypeError, "expected Date or Datetime",
        ),
    ],
)  # fmt: skip
def test_log_returns_refuse_what_is_not_a_daily_price_series(
    frame: pl.DataFrame, err: type[Exception], fragment: str
) -> None:
    for fn in (scenario.log_returns, scenario.fit_gbm):
        with pytest.raises(err, match=re.escape(fragment)):
            fn(frame)


def test_bootstrap_of_prices_instead_of_returns_is_refused() -> None:
    """Prices passed where log returns are expected (an easy slip) would give inf prices."""
    sc = Scenario(price=Bootstrap([60_000.0, 61_000.0, 59_000.0] * 20, block_days=5))
    with pytest.raises(InvalidValueError, match=r"row 0\): 60000.0 is not a daily log return"):
        scenario.simulate(sc, paths=2, years=0.05)


def test_fit_gbm_and_bootstrap_on_real_prices(shared_data: Path) -> None:
    raw = pl.read_csv(shared_data / "market" / "daily_bitcoin_prices_bitstamp_close_multi_ccy.csv")
    prices = raw.select(pl.col("Date").str.to_date().alias("date"), pl.col("BTC_USD"))
    prices = prices.filter(pl.col("date") >= datetime(2020, 1, 1).date()).rename(
        {"BTC_USD": "price_usd"}
    )
    fit = scenario.fit_gbm(prices)
    assert 0.3 < fit.sigma < 1.2  # BTC's realised vol since 2020 is ~0.5–0.8 a year
    r = scenario.log_returns(prices)
    sc = Scenario(price=Bootstrap(r, block_days=20), start_price_usd=50_000.0)
    df = scenario.simulate(sc, paths=50, years=1.0, seed=2)
    lr = df.select(pl.col("price_usd").log().diff().over("path")).drop_nulls().to_series()
    # every simulated return is one of the historical returns
    assert lr.round(9).is_in(r.round(9)).all()


def test_from_epoch_latest_and_2020() -> None:
    latest = ChainStart.from_epoch()
    assert (latest.height + 1) % 2016 == 0
    e303 = ChainStart.from_epoch(303)
    assert e303.height == 610_847
    assert e303.bits == 0x171465F2
    assert datetime.fromtimestamp(e303.time, tz=timezone.utc).year in (2019, 2020)
    df = scenario.simulate(Scenario(start=e303), paths=1, years=0.05, seed=0)
    assert df["date"][0].year in (2019, 2020)


# ----------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("sc", "kw", "match"),
    [
        (Scenario(), {"paths": 0}, "paths"),
        (Scenario(), {"years": -1}, "years"),
        (Scenario(hashrate_ehs=[1.0]), {"years": 1}, "hashrate_ehs"),
        (Scenario(price=GivenPath([1.0, -2.0])), {"years": 2 / 365}, "row 1"),
        (
            Scenario(
                correlation=((1, 0.9, 0.9, 0), (0.9, 1, -0.9, 0), (0.9, -0.9, 1, 0), (0, 0, 0, 1))
            ),
            {},
            "positive definite",
        ),
        (Scenario(fleet=Fleet(tranche_weight=(0.5, 0.5, 0.5, 0.5))), {}, "sum"),
        (Scenario(start=ChainStart(height=5, bits=0x1D00FFFF, time=T0)), {}, "epoch_first_time"),
        (Scenario(fleet=Fleet(mix=pl.DataFrame({"efficiency_jth": [20.0]}))), {}, "hashrate"),
        (
            Scenario(fleet=Fleet(tranche_mult=(1.0, 2.0), tranche_weight=(1.0,))),
            {},
            "one weight per tranche",
        ),
        (Scenario(shocks=(Shock(start_day=-1, days=3, fraction=0.5),)), {}, r"shocks\[0\]"),
        (Scenario(shocks=(Shock(start_day=1, days=3, fraction=1.5),)), {}, "fraction"),
        (Scenario(shocks=Shock(1, 3, 0.5)), {}, "not a sequence of Shock"),  # type: ignore[arg-type]
        (
            Scenario(start=ChainStart(height=5, bits=BITS, time=datetime(2026, 1, 1))),  # type: ignore[arg-type]
            {},
            "Unix seconds",
        ),
        (Scenario(start_price_usd=0), {}, "start_price_usd: 0 must be a finite price > 0"),
        (Scenario(price=GBM(mu=1e308)), {}, "GBM.mu"),
    ],
)
def test_errors_name_the_input(sc: Scenario, kw: dict[str, float], match: str) -> None:
    with pytest.raises(HashpivotError, match=match):
        scenario.simulate(sc, **{"paths": 1, "years": 0.1, **kw})  # type: ignore[arg-type]


def test_wrong_types_are_dtype_errors() -> None:
    with pytest.raises(DtypeError):
        scenario.simulate("not a scenario", paths=1, years=0.1)  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError):
        scenario.quantile_fan(pl.DataFrame({"date": [1]}), "nope")


@pytest.mark.parametrize("state", ["equilibrium", "installed"])
def test_start_state(state: str) -> None:
    """Equilibrium: the implied hashrate is what is online on day 0 (under-water cohorts are
    installed but off); installed: the under-water share switches off on day 0."""
    start = ChainStart.from_epoch()
    implied_ehs = float(consensus.bits_to_difficulty(start.bits)) * 2.0**32 / 600.0 / 1e18
    sc = Scenario(
        start=start,
        start_price_usd=66_680.0,
        price=GivenPath([66_680.0] * 3),
        fees=Fees(given=[0.03] * 3),
        power=Power(base_usd_kwh=0.045, season_amp=0.0, given=[0.045] * 3),
        fleet=Fleet(deploy_cap_per_day=0.0, retire_per_year=0.0, start_state=state),  # type: ignore[arg-type]
    )
    df = scenario.simulate(sc, paths=1, years=3 / 365, seed=0)
    uw = df["share_under_water"][0]
    assert 0.05 < uw < 0.95  # some cohorts are under water at these prices
    online = df["hashrate_ehs"][0]
    if state == "equilibrium":
        assert online == pytest.approx(implied_ehs, rel=1e-9)
    else:
        assert online == pytest.approx(implied_ehs * (1 - uw), rel=1e-9)


@pytest.mark.parametrize("k", [1.0, 0.3, 0.05])
def test_response_per_day_closes_k_of_the_gap(k: float) -> None:
    """One cohort, profitable on day 0, deep under water after: online = H·(1−k)^d."""
    n = 8
    mix = pl.DataFrame({"efficiency_jth": [30.0], "hashrate_share": [1.0]})
    sc = Scenario(
        price=GivenPath([1e6] + [100.0] * (n - 1)),
        fees=Fees(given=[0.0] * n),
        power=Power(given=[0.05] * n),
        fleet=Fleet(
            mix=mix,
            tranche_mult=(1.0,),
            tranche_weight=(1.0,),
            deploy_cap_per_day=0.0,
            retire_per_year=0.0,
            response_per_day=k,
            start_state="installed",
        ),
    )
    hr = scenario.simulate(sc, paths=1, years=n / 365, seed=0)["hashrate_ehs"]
    for d in range(n):
        assert hr[d] == pytest.approx(hr[0] * (1 - k) ** d, rel=1e-12, abs=1e-12)


def test_response_per_day_is_validated() -> None:
    with pytest.raises(InvalidValueError, match="response_per_day"):
        scenario.simulate(Scenario(fleet=Fleet(response_per_day=0.0)), paths=1, years=0.01)


# ----------------------------------------------------------------------- given paths


def _per_path(n_paths: int, n_days: int, base: float, step: float) -> pl.DataFrame:
    """A frame of n_paths distinct paths: value = base + step·(path + day/100), with ``day``."""
    return pl.DataFrame(
        {
            "path": [p for p in range(n_paths) for _ in range(n_days)],
            "day": [d for _ in range(n_paths) for d in range(n_days)],
            "v": [base + step * (p + d / 100) for p in range(n_paths) for d in range(n_days)],
        }
    )


def test_given_paths_each_path_reads_its_own_row() -> None:
    """Feeding a run's own columns back as GivenPaths (path, Datetime date) reproduces them
    path by path, for all four drivers, whatever the seed of the second run."""
    base = scenario.simulate(Scenario(), paths=5, years=0.25, seed=3)
    cols = ["price_usd", "fees_btc_per_block", "power_price_usd_kwh", "gpu_rent_usd_hr"]
    g = {c: GivenPaths(base.select("path", "date", c)) for c in cols}
    sc = Scenario(
        price=g["price_usd"],
        fees=Fees(given=g["fees_btc_per_block"]),
        power=Power(given=g["power_price_usd_kwh"]),
        gpu=GpuRent(given=g["gpu_rent_usd_hr"]),
    )
    out = scenario.simulate(sc, paths=5, years=0.25, seed=11)
    for c in cols:
        assert out[c].equals(base[c]), c
    # distinct paths really are distinct (the check above is not trivially true)
    assert base.filter(pl.col("path") == 1)["price_usd"][1] != base["price_usd"][1]


def test_given_paths_by_day_or_date_in_any_order_with_extra_days() -> None:
    n_days = round(0.1 * 365)
    fr = _per_path(3, n_days + 20, 60_000.0, 1_000.0)
    shuffled = fr.sample(fraction=1.0, shuffle=True, seed=7)
    a = scenario.simulate(Scenario(price=GivenPaths(shuffled, column="v")), paths=3, years=0.1)
    want = fr.filter(pl.col("day") < n_days)["v"]
    assert a["price_usd"].equals(want, check_names=False)
    # the same by pl.Date, starting at the run's first day
    d0 = a["date"][0].date()
    by_date = fr.with_columns(
        date=pl.lit(d0) + pl.duration(days=pl.col("day")),
    ).drop("day")
    b = scenario.simulate(Scenario(price=GivenPaths(by_date)), paths=3, years=0.1)
    assert b["price_usd"].equals(a["price_usd"])
    # a run of fewer paths reads the first rows; chunked output equals the in-memory run
    c = scenario.simulate(Scenario(price=GivenPaths(by_date)), paths=2, years=0.1)
    assert c["price_usd"].equals(a["price_usd"].head(2 * n_days))


def test_given_paths_stream_in_chunks(tmp_path: Path) -> None:
    sc = Scenario(power=Power(given=GivenPaths(_per_path(5, 40, 0.03, 0.002))))
    mem = scenario.simulate(sc, paths=5, years=0.1, seed=4)
    scenario.simulate_to_parquet(sc, tmp_path, paths=5, years=0.1, seed=4, chunk_paths=2)
    disk = pl.scan_parquet(tmp_path / "daily").sort("path", "date").collect()
    assert disk.select(mem.columns).equals(mem)


def test_given_paths_start_the_fleet_at_the_mean_day0_values() -> None:
    """The equilibrium start uses the mean day-0 value over the given paths (one fleet start
    for every path). Day-0 power 0.02, 0.035, 0.05 (mean 0.035): path 1 must start exactly as
    a run whose shared series starts at 0.035 — not as if the fleet had been sized at path 0's
    0.02, which puts a different share under water."""
    fr = _per_path(3, 40, 0.02, 0.015)
    a = scenario.simulate(Scenario(power=Power(given=GivenPaths(fr))), paths=3, years=0.1)
    b = scenario.simulate(Scenario(power=Power(given=[0.035] * 40)), paths=1, years=0.1)
    day0 = a.filter(pl.col("date") == a["date"][0]).sort("path")
    assert day0["power_price_usd_kwh"][1] == pytest.approx(0.035, rel=1e-12)
    assert day0["hashrate_ehs"][1] == pytest.approx(b["hashrate_ehs"][0], rel=1e-12)
    # Cheaper power keeps more online on day 0, so the online share differs between 0.02 and
    # 0.035 and a fleet sized at path 0's value would have started path 1 elsewhere.
    assert day0["hashrate_ehs"][0] > day0["hashrate_ehs"][1] * (1 + 1e-6)


@pytest.mark.parametrize(
    ("frame", "match"),
    [
        (_per_path(3, 36, 1.0, 1.0).filter(pl.col("path") != 1), "no path 1"),
        (
            _per_path(2, 36, 1.0, 1.0).with_columns(
                path=pl.when(pl.col("path") == 1).then(10**12).otherwise(pl.col("path"))
            ),
            "no path 1 .*up to 1000000000000",
        ),
        (
            _per_path(3, 36, 1.0, 1.0).filter(~((pl.col("path") == 2) & (pl.col("day") == 5))),
            "path 2 covers 35 of the run's 36 days",
        ),
        (pl.concat([_per_path(3, 36, 1.0, 1.0), _per_path(1, 1, 1.0, 1.0)]), "row 108.*twice"),
        (
            _per_path(3, 36, 1.0, 1.0).with_columns(
                v=pl.when(pl.col("day") == 4).then(None).otherwise(pl.col("v"))
            ),
            "row 4.*null",
        ),
        (
            _per_path(3, 36, 1.0, 1.0).with_columns(
                v=pl.when(pl.int_range(pl.len()) == 50).then(-1.0).otherwise(pl.col("v"))
            ),
            "row 50.*positive",
        ),
        (_per_path(3, 36, 1.0, 1.0).with_columns(path=pl.col("path") - 1), "negative"),
    ],
)
def test_given_paths_errors_name_the_row_or_path(frame: pl.DataFrame, match: str) -> None:
    with pytest.raises(InvalidValueError, match=match):
        scenario.simulate(Scenario(price=GivenPaths(frame)), paths=2, years=0.1)


def test_one_given_path_is_not_shared() -> None:
    """A frame of one path is that path alone: a run of more paths is refused, not given
    copies of it."""
    fr = _per_path(1, 36, 100.0, 1.0)
    one = scenario.simulate(Scenario(price=GivenPaths(fr)), paths=1, years=0.1)
    assert one["price_usd"][0] == 100.0
    with pytest.raises(InvalidValueError, match="gives 1 paths but the run asks for paths 0…1"):
        scenario.simulate(Scenario(price=GivenPaths(fr)), paths=2, years=0.1)


def test_given_paths_bad_shapes() -> None:
    fr = _per_path(2, 36, 1.0, 1.0)
    with pytest.raises(InvalidValueError, match="gives 2 paths but the run asks for paths 0…2"):
        scenario.simulate(Scenario(price=GivenPaths(fr)), paths=3, years=0.1)
    with pytest.raises(DtypeError, match="needs 'path'"):
        scenario.simulate(Scenario(price=GivenPaths(fr.drop("day"))), paths=1, years=0.1)
    with pytest.raises(DtypeError, match="column"):
        scenario.simulate(
            Scenario(price=GivenPaths(fr.with_columns(w=pl.col("v")))), paths=1, years=0.1
        )
    with pytest.raises(DtypeError, match="not a polars DataFrame"):
        scenario.simulate(Scenario(price=GivenPaths({"path": [0]})), paths=1, years=0.1)  # type: ignore[arg-type]
    noon = fr.with_columns(
        date=pl.datetime(2026, 1, 1, 12, time_zone="UTC") + pl.duration(days=pl.col("day"))
    ).drop("day")
    with pytest.raises(InvalidValueError, match="midnight"):
        scenario.simulate(Scenario(price=GivenPaths(noon)), paths=1, years=0.1)


# ------------------------------------------------------------------ hourly power price


def test_hourly_power_is_the_daily_mean() -> None:
    n_days = round(0.1 * 365)
    hours = [
        0.02 + 0.001 * (h % 24) + 0.01 * (h // 24 % 3) - (0.05 if h % 24 == 3 else 0.0)
        for h in range(24 * (n_days + 2))
    ]  # one negative hour a day (allowed)
    a = scenario.simulate(Scenario(power=Power(given_hourly=hours)), paths=2, years=0.1)
    want = [sum(hours[24 * d : 24 * d + 24]) / 24 for d in range(n_days)]
    got = a.filter(pl.col("path") == 1)["power_price_usd_kwh"].to_list()
    assert got == pytest.approx(want, rel=1e-12)
    # the same as a frame with UTC times, in another time zone and shuffled
    t0 = a["date"][0]
    frame = pl.DataFrame(
        {"time": [t0 + timedelta(hours=h) for h in range(len(hours))], "usd_kwh": hours}
    ).with_columns(pl.col("time").dt.convert_time_zone("America/Chicago"))
    b = scenario.simulate(
        Scenario(power=Power(given_hourly=frame.sample(fraction=1.0, shuffle=True, seed=2))),
        paths=2,
        years=0.1,
    )
    assert b["power_price_usd_kwh"].equals(a["power_price_usd_kwh"])


def test_hourly_power_errors() -> None:
    n = 24 * 36
    with pytest.raises(InvalidValueError, match=r"day 35 of the run .* has 23 of 24"):
        scenario.simulate(Scenario(power=Power(given_hourly=[0.03] * (n - 1))), paths=1, years=0.1)
    with pytest.raises(InvalidValueError, match=r"row 7\): is null"):
        scenario.simulate(
            Scenario(power=Power(given_hourly=[0.03] * 7 + [None] + [0.03] * n)),  # type: ignore[arg-type]
            paths=1,
            years=0.1,
        )
    with pytest.raises(InvalidValueError, match="negative mean"):
        scenario.simulate(Scenario(power=Power(given_hourly=[-0.01] * n)), paths=1, years=0.1)
    with pytest.raises(InvalidValueError, match="both given and given_hourly"):
        scenario.simulate(
            Scenario(power=Power(given=[0.03] * 36, given_hourly=[0.03] * n)), paths=1, years=0.1
        )
    t0 = datetime(2026, 1, 1, 0, 30, tzinfo=timezone.utc)
    half = pl.DataFrame({"time": [t0 + timedelta(hours=h) for h in range(n)], "p": [0.03] * n})
    with pytest.raises(InvalidValueError, match="not on the hour"):
        scenario.simulate(Scenario(power=Power(given_hourly=half)), paths=1, years=0.1)
    with pytest.raises(DtypeError, match="needs 'time'"):
        scenario.simulate(
            Scenario(power=Power(given_hourly=half.rename({"time": "t"}))), paths=1, years=0.1
        )


def test_quantile_columns_are_named_exactly_and_checked() -> None:
    """2.5 % is q02_5 (not q02), 99.5 % q99_5 (not q100), 0.1 % and 0.4 % stay apart; two
    levels giving one name (equal to 6 decimals of a percent), levels
    outside [0, 1] and non-numeric columns are refused on both the kernel and the group-by
    path; retarget_dates follows the same rule."""
    assert [scenario.quantile_tag(q) for q in (0.05, 0.025, 0.995, 1.0, 0.001)] == [
        "q05", "q02_5", "q99_5", "q100", "q00_1",
    ]  # fmt: skip
    daily, rts = scenario.simulate_with_retargets(Scenario(), paths=5, years=0.1, seed=1)
    fan = scenario.quantile_fan(daily, "price_usd", (0.025, 0.975))
    assert fan.columns == ["date", "mean", "q02_5", "q97_5"]
    shuffled = daily.sample(fraction=1.0, shuffle=True, seed=3)  # the group-by path
    slow = scenario.quantile_fan(shuffled, "price_usd", (0.025, 0.975))
    assert slow.columns == fan.columns
    for frame in (daily, shuffled):
        with pytest.raises(InvalidValueError, match="both give column 'q05'"):
            scenario.quantile_fan(frame, "price_usd", (0.05, 0.0500000001))
        with pytest.raises(InvalidValueError, match="not a number in"):
            scenario.quantile_fan(frame, "price_usd", (1.5,))
    with pytest.raises(DtypeError, match="quantiles need numbers"):
        scenario.quantile_fan(daily.with_columns(pl.col("bits").cast(pl.String)), "bits")
    with pytest.raises(InvalidValueError, match="non-empty list"):
        scenario.quantile_fans(daily, [])
    dates = scenario.retarget_dates(rts, (0.025, 0.5))
    assert "time_q02_5" in dates.columns
    with pytest.raises(InvalidValueError, match="not a number in"):
        scenario.retarget_dates(rts, (1.5,))


@pytest.mark.parametrize(
    ("make", "err", "fragment"),
    [
        (lambda: Scenario(fleet=Fleet(tranche_weight=(0, 0, 0, 0))), InvalidValueError,
         "sums to 0"),
        (lambda: Scenario(fleet=Fleet(tranche_mult=(), tranche_weight=())), InvalidValueError,
         "sums to 0"),
        (lambda: Scenario(fleet=Fleet(tranche_weight=(1, -1, 0.5, 0.5))), InvalidValueError,
         "tranche_weight[1] = -1"),
        (lambda: Scenario(fleet=Fleet(lead_time_days=2.7)), DtypeError,  # type: ignore[arg-type]
         "lead_time_days: 2.7"),
        (lambda: Scenario(price=Bootstrap([0.01] * 40, block_days=2.5)), DtypeError,  # type: ignore[arg-type]
         "block_days: 2.5"),
        (lambda: Scenario(power=Power(given_hourly=GivenPaths(pl.DataFrame(
            {"path": [0], "day": [0], "v": [0.05]})))), DtypeError, "Power(given=GivenPaths"),
        (lambda: Scenario(correlation=[[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, "x"], [0, 0, 0, 1]]),  # type: ignore[list-item]
         DtypeError, "correlation[2][3]"),
        (lambda: Scenario(start=ChainStart.from_epoch("473")), DtypeError, "not an epoch number"),  # type: ignore[arg-type]
        (lambda: Scenario(start=ChainStart.from_epoch(0)), InvalidValueError, "epoch 0 has none"),
    ],
)  # fmt: skip
def test_scenario_inputs_give_hashpivot_errors(
    make: Any, err: type[Exception], fragment: str
) -> None:
    with pytest.raises(err, match=re.escape(fragment)):
        scenario.simulate(make(), paths=1, years=0.02)


def test_bool_counts_are_refused() -> None:
    for kw in ({"paths": True}, {"seed": True}):
        with pytest.raises(InvalidValueError):
            scenario.simulate(Scenario(), years=0.02, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("make", "err", "fragment"),
    [
        (lambda: Scenario(fleet=Fleet(mix=pl.DataFrame(
            {"efficiency_jth": [15.0, 20.0], "hashrate_share": [1.5, -0.5]}))),
         InvalidValueError, "mix hashrate_share (row 1): -0.5"),
        (lambda: Scenario(initial_hashrate_ehs=float("nan")), InvalidValueError,
         "initial_hashrate_ehs: nan"),
        (lambda: Scenario(price=GBM(sigma="0.6")), DtypeError, "GBM.sigma: '0.6' is not a number"),  # type: ignore[arg-type]
    ],
)  # fmt: skip
def test_errors_name_the_input_the_user_gave(
    make: Any, err: type[Exception], fragment: str
) -> None:
    with pytest.raises(err, match=re.escape(fragment)):
        scenario.simulate(make(), paths=1, years=0.02)
