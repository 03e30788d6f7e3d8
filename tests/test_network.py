"""hashpivot.network analytics: formulas, estimators and real-data checks."""

from __future__ import annotations

import datetime as dt
import math
import random
from pathlib import Path

import polars as pl
import pytest

from hashpivot import chain, network
from hashpivot.exceptions import DtypeError, InvalidValueError, SchemaError

D_840000 = 86_388_558_925_171.02


def test_hashrate_from_difficulty_block_840000() -> None:
    h = network.hashrate_from_difficulty(D_840000)
    assert isinstance(h, float)
    assert h == pytest.approx(6.183934e20, rel=1e-6)
    s = network.hashrate_from_difficulty(pl.Series([1.0, D_840000]))
    assert isinstance(s, pl.Series)
    assert s.name == "hashrate_hs"
    assert s[0] == 2**32 / 600


def _poisson_frame(n: int, rate_hs: float, difficulty: float, seed: int) -> pl.DataFrame:
    rng = random.Random(seed)
    mean_s = difficulty * network.WORK_PER_DIFFICULTY / rate_hs
    t = 1_700_000_000.0
    times = []
    for _ in range(n):
        t += rng.expovariate(1.0 / mean_s)
        times.append(int(t * 1e6))
    return pl.DataFrame(
        {
            "height": range(n),
            "time": pl.Series(times).cast(pl.Datetime("us", "UTC")),
            "difficulty": [difficulty] * n,
        }
    )


def test_work_estimator_is_unbiased_with_correction() -> None:
    rate = 5e20
    df = _poisson_frame(60_000, rate, 1e14, seed=1)
    n = 10
    # Non-overlapping windows: independent estimates.
    est = network.hashrate_from_work(df, blocks=n)["hashrate_hs"].gather_every(n, offset=n)
    raw = network.hashrate_from_work(df, blocks=n, correction=False)["hashrate_hs"].gather_every(
        n, offset=n
    )
    mean_c = est.mean()
    mean_r = raw.mean()
    assert isinstance(mean_c, float)
    assert isinstance(mean_r, float)
    assert mean_c / rate == pytest.approx(1.0, abs=0.02)
    assert mean_r / rate == pytest.approx(n / (n - 1), abs=0.02)  # the bias it removes


def test_work_estimator_matches_loop() -> None:
    df = _poisson_frame(50, 1e20, 1e13, seed=2)
    out = network.hashrate_from_work(df, blocks=5)
    t = [x.timestamp() for x in df["time"]]
    for i in range(5, 50):
        w = 5 * 1e13 * network.WORK_PER_DIFFICULTY
        assert out["hashrate_hs"][i] == pytest.approx(w / (t[i] - t[i - 5]) * 4 / 5, rel=1e-9)
    assert out["hashrate_hs"][:5].null_count() == 5


def test_time_window_estimator() -> None:
    df = _poisson_frame(20_000, 3e20, 1e14, seed=3)
    out = network.hashrate_from_work(df, window="1d")
    v = out["hashrate_hs"].drop_nulls()
    mean = v.mean()
    assert isinstance(mean, float)
    assert mean / 3e20 == pytest.approx(1.0, abs=0.03)
    with pytest.raises(InvalidValueError, match="exactly one"):
        network.hashrate_from_work(df)
    with pytest.raises(InvalidValueError, match="not a duration"):
        network.hashrate_from_work(df, window="soon")


@pytest.fixture(scope="module")
def run_822528(shared_data: Path) -> pl.DataFrame:
    return chain.read_headers(
        shared_data / "headers" / "mainnet_headers_822528_830592.bin", start_height=822_528
    )


def test_next_retarget_estimate_late_epoch_predicts_real_change(run_822528: pl.DataFrame) -> None:
    for boundary in (824_544, 826_560, 828_576, 830_592):
        upto = run_822528.filter(pl.col("height") <= boundary - 2)
        est = network.next_retarget_estimate(upto).row(0, named=True)
        assert est["next_retarget_height"] == boundary
        assert est["blocks_in_epoch"] == 2014  # intervals since the epoch's first block
        assert est["remaining_blocks"] == 2
        new_d = run_822528.filter(pl.col("height") == boundary)["difficulty"][0]
        old_d = upto["difficulty"][-1]
        actual = (new_d / old_d - 1) * 100
        assert est["expected_change_pct"] == pytest.approx(actual, abs=1.0)


def test_next_retarget_estimate_at_the_epochs_last_block_is_exact(
    run_822528: pl.DataFrame,
) -> None:
    """With the tip on the epoch's last block the next bits are fixed: the estimate is the
    real next block's difficulty, exactly."""
    for boundary in (824_544, 826_560, 828_576, 830_592):
        upto = run_822528.filter(pl.col("height") <= boundary - 1)
        est = network.next_retarget_estimate(upto).row(0, named=True)
        assert est["remaining_blocks"] == 1
        assert est["next_retarget_height"] == boundary
        new_d = run_822528.filter(pl.col("height") == boundary)["difficulty"][0]
        assert est["expected_difficulty"] == new_d
        assert est["expected_change_pct"] == pytest.approx(
            (new_d / upto["difficulty"][-1] - 1) * 100, rel=1e-12
        )


def test_next_retarget_estimate_regular_blocks_show_no_change() -> None:
    """600 s blocks: 0 % on both sides of the early window (an off-by-one in the interval
    count shows up as a jump there)."""
    n = 2016 + 700
    frame = pl.DataFrame(
        {
            "height": range(n),
            "time_unix": [1_600_000_000 + 600 * h for h in range(n)],
            "difficulty": [1.0] * n,
        }
    )
    for tip in (2016 + 503, 2016 + 504, 2016 + 505, 2016 + 600, 2016 + 5):
        est = network.next_retarget_estimate(frame.filter(pl.col("height") <= tip))
        assert est["mean_block_time_s"][0] == pytest.approx(600.0, rel=1e-12), tip
        assert est["expected_change_pct"][0] == pytest.approx(0.0, abs=1e-9), tip


def test_next_retarget_estimate_early_window_and_clamp(run_822528: pl.DataFrame) -> None:
    upto = run_822528.filter(pl.col("height") <= 824_600)  # 56 blocks after epoch 409's first
    est = network.next_retarget_estimate(upto).row(0, named=True)
    assert est["blocks_in_epoch"] == 56
    t = dict(zip(upto["height"], upto["time_unix"], strict=True))
    assert est["mean_block_time_s"] == pytest.approx((t[824_600] - t[824_600 - 504]) / 504)
    # A wall clock far in the future: blocks look very slow → clamped at −75 %.
    late = network.next_retarget_estimate(
        run_822528.filter(pl.col("height") <= 825_600),
        now=dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc),
    )
    assert late["expected_change_pct"][0] == -75.0
    with pytest.raises(InvalidValueError, match="block 821999 is needed"):
        network.next_retarget_estimate(run_822528.head(10), early_window=538)
    with pytest.raises(InvalidValueError, match="before the tip"):
        network.next_retarget_estimate(upto, now=dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc))


def test_halving_countdown(run_822528: pl.DataFrame) -> None:
    out = network.halving_countdown(run_822528).row(0, named=True)
    assert out["next_halving_height"] == 840_000
    assert out["blocks_remaining"] == 840_000 - 830_592
    assert out["subsidy_sat"] == 625_000_000
    assert out["next_subsidy_sat"] == 312_500_000
    assert 500 < out["mean_block_time_s"] < 700
    # The estimate lands within a few days of the real halving (2024-04-20 00:09 UTC).
    real = dt.datetime(2024, 4, 20, 0, 9, 27, tzinfo=dt.timezone.utc)
    assert abs((out["estimated_time"] - real).total_seconds()) < 10 * 86400


def test_daily_issuance_genesis_days(shared_data: Path) -> None:
    df = chain.read_headers(shared_data / "headers" / "mainnet_headers_000000_010236.bin")
    fees = df.with_columns(pl.lit(1000, pl.Int64).alias("fees_sat"))
    day = network.daily_issuance(fees, fees="fees_sat")
    first = day.row(0, named=True)
    assert first["date"] == dt.date(2009, 1, 3)
    assert first["blocks"] == 1
    assert first["issuance_btc"] == 50.0
    assert day["blocks"].sum() == df.height
    assert day["issuance_btc"].sum() == 50.0 * df.height
    row = day.row(5, named=True)
    assert row["fee_share"] == pytest.approx(
        row["fees_btc"] / (row["fees_btc"] + row["issuance_btc"])
    )


def test_hashprice_formula() -> None:
    df = pl.DataFrame({"difficulty": [D_840000], "fees_btc": [0.25], "price_usd": [64_000.0]})
    out = network.hashprice(df, fees_btc="fees_btc", price_usd="price_usd").row(0, named=True)
    b = 20_116_567.6 * (3.125 + 0.25) / D_840000
    assert out["hashprice_btc_th_day"] == pytest.approx(b, rel=1e-8)
    assert out["hashprice_btc_ph_day"] == pytest.approx(b * 1000, rel=1e-8)
    assert out["hashprice_usd_ph_day"] == pytest.approx(b * 1000 * 64_000, rel=1e-8)
    assert out["hashvalue_sat_th_day"] == pytest.approx(b * 1e8, rel=1e-8)
    with pytest.raises(SchemaError, match="lacks columns"):
        network.hashprice(df, price_usd="usd")


def test_puell_and_ribbons() -> None:
    days = 400
    issuance = [900.0] * days
    issuance[-1] = 1800.0
    hashrate = [100.0] * days
    for i in range(150, 200):
        hashrate[i] = 60.0  # a capitulation dip
    daily = pl.DataFrame(
        {
            "date": pl.date_range(
                dt.date(2020, 1, 1), dt.date(2020, 1, 1) + dt.timedelta(days - 1), eager=True
            ),
            "issuance_btc": issuance,
            "price_usd": [10_000.0] * days,
            "hashrate_hs": hashrate,
        }
    )
    pm = network.puell_multiple(daily)
    assert pm["puell_multiple"][:364].null_count() == 364
    assert pm["puell_multiple"][-2] == pytest.approx(1.0)
    assert pm["puell_multiple"][-1] == pytest.approx(1800 / ((364 * 900 + 1800) / 365))
    rb = network.hash_ribbons(daily)
    signals = rb.filter(pl.col("signal").is_not_null())
    assert signals["signal"].to_list() == ["capitulation", "recovery"]
    cap_day = signals["date"][0]
    assert cap_day == dt.date(2020, 1, 1) + dt.timedelta(days=150)
    assert not math.isnan(rb["hashrate_sma60_hs"][-1])


def test_hashprice_names_a_non_numeric_column() -> None:
    frame = pl.DataFrame({"difficulty": ["1e14"], "fees": [0.02]})
    with pytest.raises(DtypeError, match="column 'difficulty' has dtype String"):
        network.hashprice(frame)
    with pytest.raises(DtypeError, match="column 'fees'"):
        network.hashprice(frame.with_columns(pl.lit(1e14).alias("difficulty"), fees=pl.lit("x")),
                          fees_btc="fees")  # fmt: skip


def test_next_retarget_estimate_with_text_bits_falls_back_to_the_estimate(
    run_822528: pl.DataFrame,
) -> None:
    upto = run_822528.filter(pl.col("height") <= 824_543)  # the epoch's last block
    exact = network.next_retarget_estimate(upto)["expected_difficulty"][0]
    text = upto.with_columns(pl.col("bits").map_elements(hex, return_dtype=pl.String))
    est = network.next_retarget_estimate(text)  # no raw ValueError from int("0x...")
    assert est["remaining_blocks"][0] == 1
    assert est["expected_difficulty"][0] == pytest.approx(exact, rel=0.01)


def test_hashprice_takes_the_subsidy_of_each_height() -> None:
    """A frame with heights uses each row's consensus subsidy (12.5 BTC at 500,000, 3.125 at
    900,000, 1.5625 after 1,050,000); a given subsidy or a frame without heights keeps the
    constant."""
    from hashpivot import network

    f = pl.DataFrame({"height": [500_000, 900_000, 1_050_000], "difficulty": [1e12] * 3})
    b = network.hashprice(f)["hashprice_btc_th_day"].to_list()
    unit = 1e12 * 86_400 / (1e12 * 2.0**32)
    assert b == pytest.approx([12.5 * unit, 3.125 * unit, 1.5625 * unit], rel=1e-15)
    const = network.hashprice(f, subsidy_btc=3.125)["hashprice_btc_th_day"].to_list()
    assert const == pytest.approx([3.125 * unit] * 3, rel=1e-15)
    no_h = network.hashprice(f.drop("height"))["hashprice_btc_th_day"].to_list()
    assert no_h == const


def test_scalar_inputs_of_the_wrong_type_give_hashpivot_errors() -> None:
    import datetime as dt

    from hashpivot import history, network
    from hashpivot.exceptions import DtypeError

    with pytest.raises(DtypeError, match="not a block height"):
        history.epoch_of_height("5")  # type: ignore[arg-type]
    with pytest.raises(DtypeError, match="not a number"):
        network.hashrate_from_difficulty("abc")  # type: ignore[arg-type]
    with pytest.raises(DtypeError, match="expected numbers"):
        network.hashrate_from_difficulty(pl.Series(["1"]))
    f = pl.DataFrame(
        {"height": [100], "difficulty": [1.0], "time": [dt.datetime(2020, 1, 1, tzinfo=dt.UTC)]}
    )
    with pytest.raises(DtypeError, match="not a datetime"):
        network.next_retarget_estimate(f, now="2026-01-01")  # type: ignore[arg-type]


def test_daily_issuance_reads_partial_first_and_last_days_at_their_rate() -> None:
    """A frame starting at 18:00 holds a quarter of its first day: the hashrate is the work
    over those 6 hours, not over 86,400 s (which read 4× low and could fake a capitulation)."""
    import datetime as dt

    from hashpivot import network

    n = 144 * 3
    t0 = int(dt.datetime(2024, 1, 1, 18, tzinfo=dt.UTC).timestamp())
    f = pl.DataFrame(
        {
            "height": list(range(800_000, 800_000 + n)),
            "difficulty": [7e13] * n,
            "time_unix": [t0 + 600 * i for i in range(n)],
        }
    )
    out = network.daily_issuance(f)
    assert out["blocks"].to_list() == [36, 144, 144, 108]
    assert out["complete"].to_list() == [False, True, True, False]
    full = out["hashrate_hs"][1]
    assert out["hashrate_hs"][0] == pytest.approx(full, rel=1e-12)  # 36 blocks in 6 h
    assert out["hashrate_hs"][3] == pytest.approx(full * 108 / 107, rel=1e-12)  # to 17:50


def test_window_blocks_and_mix_year_inputs_are_checked() -> None:
    import datetime as dt

    from hashpivot import hardware, network
    from hashpivot.exceptions import DtypeError, InvalidValueError

    f = pl.DataFrame({"height": [1, 2, 3], "difficulty": [1.0] * 3, "time_unix": [0, 600, 1200]})
    for window in ("0d", dt.timedelta(hours=-1), 7):
        with pytest.raises(InvalidValueError, match="window"):
            network.hashrate_from_work(f, window=window)  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError, match="blocks: '144'"):
        network.hashrate_from_work(f, blocks="144")  # type: ignore[arg-type]
    with pytest.raises(DtypeError, match="not a year"):
        hardware.network_mix("2026")  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError, match="cooling"):
        hardware.network_mix(2026, cooling="water")
