"""Bad inputs found by fuzzing the public API: each raises a ``hashpivot.exceptions`` error
naming the input (before, each was a raw Python/polars error, a Rust panic, or a silently
wrong number)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from hashpivot import chain as CH
from hashpivot import consensus as C
from hashpivot import fleet as F
from hashpivot import hardware as H
from hashpivot import revenue as R
from hashpivot import scenario as S
from hashpivot.exceptions import DtypeError, HashpivotError, InvalidValueError, OutputError
from hashpivot.testing import synthetic_scenario

ST = S.ChainStart.from_epoch()


def _sim(sc: S.Scenario) -> Any:
    return S.simulate(sc, paths=2, years=0.05)


def _scenario_cases() -> list[tuple[str, Callable[[], Any], type[Exception], str]]:
    return [
        (  # was a Rust panic (microsecond dates overflowed)
            "start time 2**53",
            lambda: _sim(S.Scenario(start=dataclasses.replace(ST, time=2**53))),
            InvalidValueError,
            "start time: 9007199254740992 is not a Unix time",
        ),
        (  # was a +300 % retarget from a negative epoch time span
            "epoch starts after the tip",
            lambda: _sim(
                S.Scenario(
                    start=S.ChainStart(
                        ST.height + 1000,
                        ST.bits,
                        ST.time + 600_000,
                        epoch_first_time=ST.time + 3_000_000,
                    )
                )
            ),
            InvalidValueError,
            "start epoch_first_time",
        ),
        (  # was prices of exactly 0 (an infinite drift compensation)
            "jump_mean 1e3",
            lambda: _sim(S.Scenario(price=S.GBM(jump_per_year=10, jump_mean=1e3))),
            InvalidValueError,
            "price jump_mean: 1000 is more than 2",
        ),
        (
            "jump compensation",
            lambda: _sim(S.Scenario(price=S.GBM(jump_per_year=100, jump_mean=1.0))),
            InvalidValueError,
            "price jumps: 171.8",
        ),
        (  # were inf fees, GPU rent and hashprice
            "fees vol",
            lambda: _sim(S.Scenario(fees=S.Fees(vol_per_day=1e3))),
            InvalidValueError,
            "fees vol_per_day: 1000 is more than 1",
        ),
        (
            "gpu vol",
            lambda: _sim(S.Scenario(gpu=S.GpuRent(vol_per_day=1e3))),
            InvalidValueError,
            "gpu vol_per_day: 1000 is more than 1",
        ),
        (
            "fees 1e308",
            lambda: _sim(S.Scenario(fees=S.Fees(start_btc=1e308))),
            InvalidValueError,
            "fees start_btc: 1e308 is more than",
        ),
        (  # was ValueError: math domain error
            "season_peak_doy inf",
            lambda: _sim(S.Scenario(power=S.Power(season_peak_doy=float("inf")))),
            InvalidValueError,
            "Power.season_peak_doy: inf must be a finite number",
        ),
        (
            "pue str",
            lambda: _sim(S.Scenario(fleet=S.Fleet(pue="1.1"))),  # type: ignore[arg-type]
            DtypeError,
            "Fleet.pue: '1.1' is not a number (str)",
        ),
        (
            "jump_per_year None",
            lambda: _sim(S.Scenario(price=S.GBM(jump_per_year=None))),  # type: ignore[arg-type]
            DtypeError,
            "GBM.jump_per_year: None",
        ),
        (
            "fees None",
            lambda: _sim(S.Scenario(fees=None)),  # type: ignore[arg-type]
            DtypeError,
            "Scenario.fees: NoneType is not a Fees",
        ),
        (
            "GivenPath of an int",
            lambda: _sim(S.Scenario(price=S.GivenPath(5))),  # type: ignore[arg-type]
            DtypeError,
            "int is not a list or polars Series",
        ),
    ]


@pytest.mark.parametrize("case", _scenario_cases(), ids=lambda c: c[0])
def test_bad_scenarios(case: tuple[str, Callable[[], Any], type[Exception], str]) -> None:
    _, call, kind, message = case
    with pytest.raises(kind, match=message.replace("(", r"\(").replace(")", r"\)")):
        call()


def _trend() -> pl.DataFrame:
    return F.difficulty_trend(
        start=dt.date(2026, 1, 1),
        days=60,
        difficulty=1.2e14,
        height=950_000,
        annual_growth=0.3,
        price_usd=67_000.0,
    )


def test_payback_refuses_paths_out_of_date_order() -> None:
    p = _trend()
    ok = F.payback("Antminer S21 XP", p, power_price_usd_kwh=0.03)
    assert ok["payback_date"][0] == dt.date(2026, 1, 1)
    for bad in (p.reverse(), pl.concat([p.head(2), p.slice(1)])):
        with pytest.raises(InvalidValueError, match="one row per day in date order"):
            F.payback("Antminer S21 XP", bad, power_price_usd_kwh=0.03)


def test_shutdown_price_without_any_reward_is_infinite() -> None:
    got = F.shutdown_price(
        "Antminer S9", difficulty=1e14, power_price_usd_kwh=0.05, height=13_440_000
    )
    assert got == float("inf")


def test_fleet_frames_are_checked() -> None:
    mix = H.network_mix(2026).with_columns(hashrate_ths=0.0)
    with pytest.raises(InvalidValueError, match="mix: hashrate_ths sums to 0"):
        F.cost_curve(
            mix, difficulty=1e14, price_usd=67_000, power_price_usd_kwh=0.05, height=900_000
        )
    with pytest.raises(DtypeError, match="is not a polars DataFrame"):
        F.share_under_water(None, 5.0)  # type: ignore[arg-type]
    neg = pl.DataFrame({"shutdown_price_usd": [1.0], "hashrate_ths": [-1.0]})
    with pytest.raises(InvalidValueError, match=r"row 0\): hashrate_ths -1.0"):
        F.share_under_water(neg, 5.0)
    empty = pl.DataFrame(schema={"shutdown_price_usd": pl.Float64, "hashrate_ths": pl.Float64})
    with pytest.raises(InvalidValueError, match="curve: hashrate_ths sums to 0"):
        F.share_under_water(empty, 5.0)


def test_consensus_chain_frames_refuse_float_columns() -> None:
    frame = pl.DataFrame({"height": [0], "time_unix": [1], "bits": [1.9]})
    with pytest.raises(DtypeError, match="column 'bits' is Float64"):
        C.next_bits(frame)
    good = frame.with_columns(bits=pl.lit(0x1D00FFFF, pl.Int64))
    with pytest.raises(DtypeError, match="new_time: float is not an int"):
        C.next_bits(good, new_time=1.5)  # type: ignore[arg-type]


def test_chain_inputs_and_outputs(tmp_path: Path) -> None:
    df = pl.DataFrame({"a": [1]})
    with pytest.raises(OutputError, match="does not exist; create it first"):
        CH.write_parquet(df, tmp_path / "nodir" / "x.parquet")
    with pytest.raises(OutputError, match="is a folder"):
        CH.write_parquet(df, tmp_path)
    assert CH.write_parquet(df, tmp_path / "x.parquet").exists()
    with pytest.raises(DtypeError, match=r"start_height: 1.5 \(float\) is not an int"):
        CH.read_headers(bytes(80), start_height=1.5)  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError, match="past the largest height"):
        CH.read_headers(bytes(80), start_height=2**63)


def test_revenue_helpers() -> None:
    frame = R.prepare_scenario(synthetic_scenario(2, 30, seed=1)).frame
    with pytest.raises(InvalidValueError, match="lead_time_days -1"):
        R.service_tranches(frame, pl.Series([1.0] * frame.height), lead_time_days=-1)
    assert R.with_service_age(frame, 2**63)["age_days"].max() == 0  # past the horizon
    with pytest.raises(HashpivotError, match="no 'path' column"):
        R.with_service_age(pl.DataFrame({"a": [1]}), 0)


DEFAULT = __import__("hashpivot.config", fromlist=["x"]).default_site_path().read_text("utf-8")


def _load(text: str) -> Any:
    from hashpivot.config import loads_site

    return loads_site(text, file="site.toml")


def test_site_file_percentages_only_where_a_key_has_no_unit() -> None:
    from hashpivot.exceptions import ConfigError

    line = next(x for x in DEFAULT.splitlines() if x.startswith("power_price_usd_kwh"))
    bad = DEFAULT.replace(line, 'power_price_usd_kwh = "4.5 %"')
    # was read as $0.045/kWh
    want = r"site.toml:15: site.power_price_usd_kwh: .4.5 %. is not an energy price"
    with pytest.raises(ConfigError, match=want):
        _load(bad)


def test_an_empty_site_name_is_refused() -> None:
    from hashpivot.exceptions import ConfigError

    line = next(x for x in DEFAULT.splitlines() if x.startswith("name"))
    with pytest.raises(ConfigError, match=r"site.toml:\d+: site.name: is empty"):
        _load(DEFAULT.replace(line, 'name = "  "', 1))


def test_a_move_from_a_model_to_itself_is_refused() -> None:
    from hashpivot.exceptions import ConfigError
    from hashpivot.strategy import Stage, Staged, SwitchRule

    bad = DEFAULT.replace('to = "ai_colocation" }]', 'to = "self_mining" }]', 1)
    assert bad != DEFAULT
    with pytest.raises(ConfigError, match="the model the MW come from"):
        _load(bad)
    with pytest.raises(InvalidValueError, match="to itself"):
        Staged("s", {"self_mining": 100}, [Stage(0, 10, "self_mining", "self_mining")])
    with pytest.raises(InvalidValueError, match="to itself"):
        SwitchRule("r", {"self_mining": 100}, "self_mining", "self_mining", 10, below=1.0)


def test_model_amounts_far_beyond_any_real_value_are_refused() -> None:
    from hashpivot.builtin_plugins.asic_hosting import AsicHosting

    with pytest.raises(InvalidValueError, match="more than 1e"):
        AsicHosting(hosting_rate_usd_kwh=1e308)


def test_fleet_files_refuse_misspelt_columns_and_folders(tmp_path: Path) -> None:
    from hashpivot.exceptions import DataFormatError, SchemaError

    f = tmp_path / "fleet.csv"
    f.write_text("model,count,power_W\nAntminer S21,1000,100\n")  # was read with catalog power
    with pytest.raises(SchemaError, match=r"unknown column 'power_W' \(did you mean 'power_w'\?\)"):
        H.Fleet.from_file(f)
    with pytest.raises(DataFormatError, match="is a folder"):
        H.Fleet.from_file(tmp_path)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["compare", "--paths", "1e9"], "'1e9' is not a whole number"),
        (["compare", "--years", "inf"], "'inf' is not a finite number"),
        (["compare", "--seed", "-1"], "argument --seed: '-1' must be a whole number"),
        (["retarget", "--start-height", "5"], "--start-height: only meaningful with --headers"),
        (["fleet", "--pue", "0.5"], "argument --pue: '0.5' must be in [1, 3]"),
        (["fleet", "--uptime", "1.5"], "argument --uptime: '1.5' must be in [0, 1]"),
    ],
)
def test_cli_arguments(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    from hashpivot.cli import main

    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_summaries_and_helpers_check_their_inputs(tmp_path: Path) -> None:
    from hashpivot.exceptions import SchemaError
    from hashpivot.strategy import Static

    d = S.simulate(S.Scenario(), paths=3, years=0.05)
    # string path labels take the group-by route instead of failing
    fan = S.quantile_fan(d.with_columns(pl.col("path").cast(pl.String)))
    want = S.quantile_fan(d)
    assert fan.drop("mean").equals(want.drop("mean"))  # the mean: summed in another order
    assert fan["mean"].to_list() == pytest.approx(want["mean"].to_list(), rel=1e-15)
    for q in (float("nan"), -0.5, float("inf")):
        with pytest.raises(InvalidValueError, match="is not a quantile in"):
            S.quantile_tag(q)
    with pytest.raises(SchemaError, match="no 'epoch' column"):
        S.retarget_dates(d)
    with pytest.raises(OutputError, match="cannot use it as the run's folder"):
        S.simulate_to_parquet(S.Scenario(), tmp_path / ("a" * 300), paths=2, years=0.05)
    with pytest.raises(DtypeError, match=r"model: 5 \(int\)"):
        H.catalog_model(5)  # type: ignore[arg-type]
    with pytest.raises(DtypeError, match="purchase_date"):
        H.Fleet.from_catalog({"Antminer S9": 1}, purchase_date="2024-01-01")  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError, match=r"finite number >= 0, got \d{20}… \(332 digits\)"):
        Static("a", {"self_mining": 2**1100})
    with pytest.raises(InvalidValueError, match="blocks_per_day"):
        F.difficulty_trend(start=dt.date(2026, 1, 1), days=5, difficulty=1e14, height=950_000,
                           annual_growth=0.1, price_usd=6e4, blocks_per_day=1e-300)  # fmt: skip
    neg = d.with_columns(price_usd=pl.when(pl.col("path") == 1).then(-1.0).otherwise("price_usd"))
    with pytest.raises(InvalidValueError, match=r"'price_usd' is -1.0 at row \d+ \(path 1"):
        R.prepare_scenario(neg)


def test_csv_cells_and_binary_files_are_named(tmp_path: Path) -> None:
    from hashpivot.config import load_site
    from hashpivot.exceptions import ConfigError, DataFormatError

    fleet = tmp_path / "fleet.csv"
    fleet.write_text("model,count\nAntminer S21,10\nAntminer S9,abc\n")
    with pytest.raises(DtypeError, match=r"fleet.csv:3\): count 'abc' is not a number"):
        H.Fleet.from_file(fleet)
    binary = tmp_path / "bin.csv"
    binary.write_bytes(b"model,count\n\x00\xff\xfe\x1b garbage")
    with pytest.raises(DataFormatError, match="binary file, not CSV text"):
        H.Fleet.from_file(binary)
    series = tmp_path / "p.csv"
    series.write_text("price_usd_kwh\n0.04\n0.05\nn/a\n0.04\n")
    site = tmp_path / "site.toml"
    site.write_text(
        DEFAULT.replace('# power_series = "ercot_hourly.csv"', 'power_series = "p.csv"')
    )
    with pytest.raises(ConfigError, match=r"p.csv:4: price_usd_kwh is 'n/a', not a number"):
        load_site(site)
    series.write_bytes(b"price_usd_kwh\n\x00\x01\x02")
    with pytest.raises(ConfigError, match="binary file, not CSV text"):
        load_site(site)
    series.write_text("price_usd_kwh\n")
    with pytest.raises(ConfigError, match="has no rows under its header"):
        load_site(site)
