"""Monte Carlo scenarios: paths of BTC price, fees, power price, GPU rent, the fleet's
hashrate response, block arrivals and consensus-exact difficulty.

A :class:`Scenario` is a typed, frozen spec; :func:`simulate` runs it in the Rust engine
(parallel, seeded per path) and returns a daily polars frame. :func:`simulate_with_retargets`
also returns every retarget; :func:`quantile_fan` and :func:`retarget_dates` summarise;
:func:`simulate_to_parquet` streams large runs to partitioned Parquet in chunks.
:func:`fit_gbm` calibrates the price model from a price frame, and
:meth:`ChainStart.from_epoch` starts the chain from a bundled difficulty epoch.

Every column, unit and modelling choice is documented in ``docs/scenario.md``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import polars as pl

from hashpivot import _core
from hashpivot._folders import chunk_layout_extra, replace_folder
from hashpivot.consensus import NetworkLike, bits_to_difficulty, network_params
from hashpivot.exceptions import DtypeError, InvalidValueError, OutputError, SchemaError

__all__ = [
    "DAILY_SCHEMA",
    "DEFAULT_MIX",
    "GBM",
    "RETARGET_SCHEMA",
    "Bootstrap",
    "ChainStart",
    "Fees",
    "Fleet",
    "GivenPath",
    "GivenPaths",
    "GpuRent",
    "Power",
    "Scenario",
    "Shock",
    "default_mix",
    "fit_gbm",
    "log_returns",
    "quantile_fan",
    "quantile_fans",
    "quantile_tag",
    "retarget_dates",
    "simulate",
    "simulate_to_parquet",
    "simulate_with_retargets",
]

_UTC = pl.Datetime("us", "UTC")

#: Column → dtype of the daily frame returned by :func:`simulate`.
DAILY_SCHEMA: dict[str, pl.DataType] = {
    "path": pl.UInt32(),
    "date": _UTC,
    "height": pl.Int64(),
    "bits": pl.UInt32(),
    "difficulty": pl.Float64(),
    "hashrate_ehs": pl.Float64(),
    "price_usd": pl.Float64(),
    "fees_btc_per_block": pl.Float64(),
    "subsidy_btc": pl.Float64(),
    "hashprice_usd_ph_day": pl.Float64(),
    "power_price_usd_kwh": pl.Float64(),
    "gpu_rent_usd_hr": pl.Float64(),
    "share_under_water": pl.Float64(),
}

#: Column → dtype of the retarget frame returned by :func:`simulate_with_retargets`.
RETARGET_SCHEMA: dict[str, pl.DataType] = {
    "path": pl.UInt32(),
    "epoch": pl.Int64(),
    "height": pl.Int64(),
    "time": pl.Datetime("us", "UTC"),
    "first_time": pl.Datetime("us", "UTC"),
    "timespan_s": pl.Int64(),
    "old_bits": pl.UInt32(),
    "bits": pl.UInt32(),
    "difficulty": pl.Float64(),
    "difficulty_change": pl.Float64(),
}

# --------------------------------------------------------------------------- hardware mix

#: *Illustrative* default installed mix by nameplate efficiency class (J/TH): roughly the
#: 2025–26 generations (S21 XP/Pro ≈ 15, S21/M60S ≈ 17, S19 XP/A1466 ≈ 21, S19k Pro/M50S ≈
#: 25, S19j Pro/M30S++ ≈ 30, S19/S17-class ≈ 38). The shares are a rough guess, not data;
#: pass your own mix (for example from the hardware catalog) for real work.
DEFAULT_MIX_ROWS: tuple[tuple[float, float], ...] = (
    (15.0, 0.15),
    (17.0, 0.25),
    (21.0, 0.25),
    (25.0, 0.15),
    (30.0, 0.12),
    (38.0, 0.08),
)


def default_mix() -> pl.DataFrame:
    """The illustrative default mix: ``efficiency_jth, hashrate_share`` (shares sum to 1)."""
    return pl.DataFrame(
        {
            "efficiency_jth": [r[0] for r in DEFAULT_MIX_ROWS],
            "hashrate_share": [r[1] for r in DEFAULT_MIX_ROWS],
        },
        schema={"efficiency_jth": pl.Float64, "hashrate_share": pl.Float64},
    )


DEFAULT_MIX = default_mix()

# --------------------------------------------------------------------------- drivers


@dataclass(frozen=True)
class GBM:
    """Geometric Brownian motion of the BTC price: yearly drift ``mu`` (so that
    ``E[P_t] = P_0·e^{mu·t}``) and volatility ``sigma``, daily steps (dt = 1/365), plus
    optional Merton jumps (``jump_per_year`` intensity, log-jump ~ Normal(``jump_mean``,
    ``jump_sd``); the drift is compensated for them)."""

    mu: float = 0.0
    sigma: float = 0.6
    jump_per_year: float = 0.0
    jump_mean: float = 0.0
    jump_sd: float = 0.0


@dataclass(frozen=True)
class Bootstrap:
    """Block bootstrap of historical daily log returns (``log_returns``), replayed in blocks
    of ``block_days`` consecutive days starting at uniformly drawn positions."""

    log_returns: Sequence[float] | pl.Series
    block_days: int = 30


@dataclass(frozen=True)
class GivenPath:
    """A given daily series (one value per simulated day, same on every path)."""

    values: Sequence[float] | pl.Series


@dataclass(frozen=True)
class GivenPaths:
    """Given paths of a driver, one per simulated path (for example another model's Monte
    Carlo paths, or a column of an earlier :func:`simulate` run): a polars frame with

    * ``path`` — integers ``0 … n−1``; path ``p`` of the run reads path ``p`` (a run, or a
      chunk of :func:`simulate_to_parquet`, may ask for at most ``n`` paths);
    * ``date`` (``pl.Date``, or a ``Datetime`` at midnight UTC) or ``day`` (0 = the run's
      first day) — every path must cover every simulated day; days outside the run are
      ignored;
    * the values, in ``column`` (default: the frame's only other column).

    Accepted as ``Scenario(price=...)`` and as ``given=`` of :class:`Fees`, :class:`Power` and
    :class:`GpuRent`.
    """

    frame: pl.DataFrame
    column: str | None = None


PriceModel = GBM | Bootstrap | GivenPath | GivenPaths


@dataclass(frozen=True)
class Fees:
    """Mean fees per block (BTC): log-Ornstein–Uhlenbeck, closing ``reversion_per_day`` of the
    log gap to ``mean_btc`` each day with daily log shocks of sd ``vol_per_day``; or a given
    daily series (the same on every path) or :class:`GivenPaths`. *Illustrative* defaults."""

    start_btc: float = 0.03
    mean_btc: float = 0.03
    reversion_per_day: float = 0.05
    vol_per_day: float = 0.15
    given: Sequence[float] | pl.Series | GivenPaths | None = None


@dataclass(frozen=True)
class Power:
    """Site power price (USD/kWh): ``base · (1 + season_amp · cos(2π(doy − peak)/365.25))``
    plus an OU deviation (USD/kWh), times ``spike_mult`` on spike days; or a given daily
    series (the same on every path) or :class:`GivenPaths`; or ``given_hourly``, an hourly
    series whose daily mean is the day's price (values from 00:00 UTC of the run's first day,
    24 a day; or a frame with a ``time`` Datetime column and one value column, every hour of
    every simulated day present). *Illustrative* defaults (a Texas-like summer peak)."""

    base_usd_kwh: float = 0.05
    season_amp: float = 0.15
    season_peak_doy: float = 200.0
    reversion_per_day: float = 0.1
    vol_usd_kwh_per_day: float = 0.003
    spike_prob_per_day: float = 0.01
    spike_mult: float = 3.0
    given: Sequence[float] | pl.Series | GivenPaths | None = None
    given_hourly: Sequence[float] | pl.Series | pl.DataFrame | None = None


@dataclass(frozen=True)
class GpuRent:
    """GPU rent index (USD per GPU-hour of the tracked generation): ×(1 − generation_step)
    every ``generation_days`` as a new generation ships, continuous decay, log-OU noise; or a
    given daily series (the same on every path) or :class:`GivenPaths`. *Illustrative*
    defaults (H100-like $2.5/h)."""

    start_usd_hr: float = 2.5
    generation_days: float = 547.0
    generation_step: float = 0.3
    decay_per_year: float = 0.1
    reversion_per_day: float = 0.05
    vol_per_day: float = 0.02
    given: Sequence[float] | pl.Series | GivenPaths | None = None


#: Default share of the gap to its switching decision a cohort closes per day (see
#: :class:`Fleet`), calibrated so that simulated retargets from the latest bundled epoch have
#: about the spread of the real ones (``docs/scenario.md``).
RESPONSE_PER_DAY = 0.05


@dataclass(frozen=True)
class Fleet:
    """The installed fleet and its response (see ``docs/scenario.md``).

    ``mix``: a polars frame with ``efficiency_jth`` and either ``hashrate_share`` (scaled to the
    initial hashrate) or ``hashrate_ths`` (absolute), optionally ``retire_per_year``; None uses
    :data:`DEFAULT_MIX`. Each class is split into power-price tranches (``tranche_mult`` × the
    site price, holding ``tranche_weight`` of the class). *Illustrative* defaults.

    ``response_per_day`` (0 < k ≤ 1): each day a cohort's online fraction closes ``k`` of the
    gap to its switch-on/off decision (1: the whole cohort switches that day; the default
    spreads the response over about ``1/k`` days, operators' delays and contracts, which damps
    the cobweb between hashrate and difficulty).

    ``start_state`` says what the difficulty-implied hashrate of a share mix is on day 0:
    ``"equilibrium"`` (default) — the hashrate *online*: cohorts under water at the start
    prices are installed but already off, so the installed total is scaled up until the
    online part equals the implied hashrate and there is no artificial drop on day 0;
    ``"installed"`` — everything installed, and the cohorts under water switch off on day 0
    (a sudden drop, then a retarget).
    """

    mix: pl.DataFrame | None = None
    tranche_mult: tuple[float, ...] = (0.6, 0.85, 1.15, 1.4)
    tranche_weight: tuple[float, ...] = (0.25, 0.25, 0.25, 0.25)
    pue: float = 1.1
    pool_fee: float = 0.02
    hysteresis: float = 0.05
    response_per_day: float = RESPONSE_PER_DAY
    retire_per_year: float = 0.1
    arrival_efficiency_jth: float = 15.0
    arrival_threshold: float = 2.0
    deploy_cap_per_day: float = 0.003
    lead_time_days: int = 90
    retire_arrivals_per_year: float = 0.05
    start_state: Literal["equilibrium", "installed"] = "equilibrium"


@dataclass(frozen=True)
class Shock:
    """An exogenous outage: ``fraction`` of online hashrate off for ``days`` from ``start_day``
    (day 0 is the first simulated day), e.g. a winter storm."""

    start_day: int
    days: int
    fraction: float


@dataclass(frozen=True)
class ChainStart:
    """Chain state at the start: the tip ``height``, the ``bits`` required of the next block,
    the tip's Unix ``time`` and, if the tip is inside an epoch, the time of that epoch's first
    block."""

    height: int
    bits: int
    time: int
    epoch_first_time: int | None = None

    @classmethod
    def from_epoch(cls, epoch: int | None = None) -> ChainStart:
        """Start at the beginning of a bundled difficulty epoch (default: the latest): the tip
        is the previous epoch's last block. Its time is the previous epoch's ``last_time``,
        else this epoch's ``first_time``; where the bundled history has no times (epochs
        437 on), it is extrapolated from the last known time at 600 s per block (documented
        approximation — pass ``time`` yourself when you know it)."""
        from hashpivot.history import difficulty_epochs

        ep = difficulty_epochs()
        if epoch is None:
            epoch = int(ep["epoch"].max())  # type: ignore[arg-type]
        if isinstance(epoch, bool) or not isinstance(epoch, int):
            raise DtypeError(f"epoch: {epoch!r} is not an epoch number (an int, e.g. 473)")
        rows = ep.filter(pl.col("epoch") == epoch)
        if rows.height == 0 or epoch < 1:
            raise InvalidValueError(
                f"epoch: {epoch} is not in the bundled history's epochs 1 … "
                f"{ep['epoch'].max()!r} (the tip is the previous epoch's last block, so "
                "epoch 0 has none)"
            )
        row = rows.row(0, named=True)
        prev = ep.filter(pl.col("epoch") == epoch - 1)
        t: int | None = None
        if prev.height and prev["last_time_unix"][0] is not None:
            t = int(prev["last_time_unix"][0])
        elif row["first_time_unix"] is not None:
            t = int(row["first_time_unix"])
        else:
            known = ep.filter(pl.col("first_time_unix").is_not_null()).tail(1).row(0, named=True)
            t = int(known["first_time_unix"]) + 600 * (
                int(row["first_height"]) - int(known["first_height"])
            )
        return cls(height=int(row["first_height"]) - 1, bits=int(row["bits"]), time=t)


_IDENTITY = (
    (1.0, 0.0, 0.0, 0.0),
    (0.0, 1.0, 0.0, 0.0),
    (0.0, 0.0, 1.0, 0.0),
    (0.0, 0.0, 0.0, 1.0),
)


@dataclass(frozen=True)
class Scenario:
    """A whole scenario. Every field has an *illustrative* default; see ``docs/scenario.md``.

    ``correlation`` is the 4×4 correlation of the daily shocks of (price, fees, power, GPU
    rent). ``hashrate_ehs`` overrides the fleet model with a given daily online hashrate.
    ``initial_hashrate_ehs`` (None: ``D·2^32/600`` of the start bits) scales a share mix.
    ``arrivals`` is ``"poisson"`` (the real law) or ``"deterministic"`` (zero-volatility checks).
    """

    price: PriceModel = field(default_factory=GBM)
    start_price_usd: float = 67_000.0
    fees: Fees = field(default_factory=Fees)
    power: Power = field(default_factory=Power)
    gpu: GpuRent = field(default_factory=GpuRent)
    fleet: Fleet = field(default_factory=Fleet)
    correlation: Sequence[Sequence[float]] = _IDENTITY
    shocks: Sequence[Shock] = ()
    start: ChainStart | None = None
    network: NetworkLike = "mainnet"
    arrivals: Literal["poisson", "deterministic"] = "poisson"
    hashrate_ehs: Sequence[float] | pl.Series | None = None
    initial_hashrate_ehs: float | None = None


# --------------------------------------------------------------------------- plumbing


def _float_series(name: str, v: Sequence[float] | pl.Series) -> pl.Series:
    """``v`` as a Float64 Series without nulls; errors name the first null row."""
    if not isinstance(v, pl.Series) and (not isinstance(v, Sequence) or isinstance(v, str)):
        raise DtypeError(
            f"{name}: {type(v).__name__} is not a list or polars Series of numbers (one a day)"
        )
    s = v if isinstance(v, pl.Series) else pl.Series(name, list(v))
    if not s.dtype.is_numeric():
        raise DtypeError(f"{name}: dtype {s.dtype} is not supported; expected numbers")
    if s.null_count():
        idx = int(s.is_null().arg_true()[0])
        raise InvalidValueError(f"{name} (row {idx}): is null; fill or drop missing days first")
    out: pl.Series = s.cast(pl.Float64)
    return out


def _floats(name: str, v: Sequence[float] | pl.Series | None) -> list[float] | None:
    if v is None:
        return None
    out: list[float] = _float_series(name, v).to_list()
    return out


_DAY_US = 86_400 * 1_000_000


def _given(
    name: str,
    v: Sequence[float] | pl.Series | GivenPaths | None,
    n_days: int,
    day0: int,
    positive: bool = False,
    row_label: Callable[[int], str] | None = None,
) -> tuple[pl.Series, int, bool] | None:
    """A given driver for the core: ``(Float64 values, rows, per_path)``; one shared row, or
    one row of ``n_days`` values per path for :class:`GivenPaths` (``per_path``, even with one
    path) (``day0``: the run's first day, days
    since 1970). Errors name the frame's row as given (``row_label`` formats it, e.g. as
    ``file:line``)."""
    if v is None:
        return None
    if not isinstance(v, GivenPaths):
        return _float_series(name, v), 1, False
    at = row_label or (lambda r: f"row {r}")
    df = v.frame
    if not isinstance(df, pl.DataFrame):
        raise DtypeError(
            f"{name}: GivenPaths.frame is a {type(df).__name__}, not a polars DataFrame"
        )
    key = "date" if "date" in df.columns else "day"
    if "path" not in df.columns or key not in df.columns:
        raise DtypeError(
            f"{name}: GivenPaths.frame has columns {df.columns}; it needs 'path', 'date' (or "
            "'day') and a value column"
        )
    others = [c for c in df.columns if c not in ("path", "date", "day")]
    col = v.column if v.column is not None else (others[0] if len(others) == 1 else None)
    if col is None or col not in df.columns:
        raise DtypeError(
            f"{name}: GivenPaths.column={v.column!r} does not name one value column of "
            f"{df.columns}; pass column=..."
        )
    if not df["path"].dtype.is_integer():
        raise DtypeError(
            f"{name}: GivenPaths 'path' has dtype {df['path'].dtype}; expected integers"
        )
    if not df[col].dtype.is_numeric():
        raise DtypeError(f"{name}: GivenPaths {col!r} has dtype {df[col].dtype}; expected numbers")
    kdt = df[key].dtype
    if key == "day":
        if not kdt.is_integer():
            raise DtypeError(f"{name}: GivenPaths 'day' has dtype {kdt}; expected integers")
        day = pl.col("day").cast(pl.Int64)
    elif kdt == pl.Date:
        day = pl.col("date").cast(pl.Int64) - day0
    elif isinstance(kdt, pl.Datetime):
        us = (
            pl.col("date").dt.convert_time_zone("UTC").dt.epoch("us")
            if kdt.time_zone
            else (pl.col("date").dt.epoch("us"))
        )
        day = pl.when(us % _DAY_US == 0).then(us // _DAY_US - day0).otherwise(None)
    else:
        raise DtypeError(f"{name}: GivenPaths 'date' has dtype {kdt}; expected Date or Datetime")
    t = df.select(
        pl.int_range(pl.len(), dtype=pl.Int64).alias("row"),
        pl.col("path").cast(pl.Int64),
        day.alias("d"),
        pl.col(key).is_null().alias("key_null"),
        pl.col(col).cast(pl.Float64).alias("v"),
    )
    bad = t.filter(pl.col("path").is_null() | pl.col("key_null") | pl.col("v").is_null()).head(1)
    if bad.height:
        raise InvalidValueError(
            f"{name} ({at(bad['row'][0])}): GivenPaths has a null path, {key} or value; "
            "fill or drop it first"
        )
    bad = t.filter(pl.col("d").is_null()).head(1)
    if bad.height:
        raise InvalidValueError(
            f"{name} ({at(bad['row'][0])}): GivenPaths date is not midnight UTC; give one "
            "value per day at 00:00 UTC (or a pl.Date column)"
        )
    bad = t.filter(pl.col("path") < 0).head(1)
    if bad.height:
        raise InvalidValueError(
            f"{name} ({at(bad['row'][0])}): GivenPaths path {bad['path'][0]} is negative; "
            "number paths 0 … n−1"
        )
    t = t.filter((pl.col("d") >= 0) & (pl.col("d") < n_days))
    lo = "positive" if positive else "non-negative"
    bad = t.filter(
        ~pl.col("v").is_finite() | (pl.col("v") <= 0 if positive else pl.col("v") < 0)
    ).head(1)
    if bad.height:
        raise InvalidValueError(
            f"{name} ({at(bad['row'][0])}): {bad['v'][0]} is not a finite {lo} number"
        )
    dup = t.filter(~pl.struct("path", "d").is_first_distinct()).head(1)
    if dup.height:
        raise InvalidValueError(
            f"{name} ({at(dup['row'][0])}): GivenPaths has path {dup['path'][0]} day "
            f"{dup['d'][0]} twice; keep one value per path and day"
        )
    # Paths must be numbered 0 … n−1 without gaps (checked on the ids present, so a stray huge
    # id is an error here, not a table of that many paths).
    ids = t["path"].unique().sort()
    gaps = (ids != pl.int_range(ids.len(), dtype=pl.Int64, eager=True)).arg_true()
    if gaps.len():
        i = int(gaps[0])
        raise InvalidValueError(
            f"{name}: GivenPaths has no path {i} (its paths go up to {ids[-1]}); number the "
            "paths 0 … n−1 without gaps"
        )
    rows = ids.len()
    if t.height != rows * n_days or rows == 0:
        have = t.group_by("path").agg(pl.len().alias("n"), pl.col("d").min().alias("first"))
        full = pl.DataFrame({"path": range(max(rows, 1))}, schema={"path": pl.Int64})
        short = full.join(have, on="path", how="left").filter(
            pl.col("n").is_null() | (pl.col("n") < n_days)
        )
        p = int(short["path"][0]) if short.height else 0
        first_date = (day0 * _DAY_US) // 1_000_000
        raise InvalidValueError(
            f"{name}: GivenPaths path {p} covers {int(short['n'][0] or 0) if short.height else 0} "
            f"of the run's {n_days} days (from {_utc(first_date)}); give every path 0 … "
            f"{max(rows - 1, 0)} a value for every simulated day, or shorten `years`"
        )
    out = t.sort("path", "d")["v"]
    return out, rows, True


_HOUR_US = 3_600 * 1_000_000


def _hourly_to_daily(
    name: str, v: Sequence[float] | pl.Series | pl.DataFrame, n_days: int, day0: int
) -> pl.Series:
    """The daily means of an hourly series over the run's days (``day0``: its first day, days
    since 1970); errors name the row as given, or the day that misses hours."""
    if isinstance(v, pl.DataFrame):
        others = [c for c in v.columns if c != "time"]
        if "time" not in v.columns or len(others) != 1:
            raise DtypeError(
                f"{name}: the frame has columns {v.columns}; it needs 'time' (Datetime) and "
                "one value column"
            )
        tdt, col = v["time"].dtype, others[0]
        if not isinstance(tdt, pl.Datetime):
            raise DtypeError(f"{name}: 'time' has dtype {tdt}; expected Datetime")
        if not v[col].dtype.is_numeric():
            raise DtypeError(f"{name}: {col!r} has dtype {v[col].dtype}; expected numbers")
        t = pl.col("time").dt.convert_time_zone("UTC") if tdt.time_zone else pl.col("time")
        us = t.dt.epoch("us")
        f = v.select(
            pl.int_range(pl.len(), dtype=pl.Int64).alias("row"),
            (us // _HOUR_US).alias("h"),
            (us % _HOUR_US).alias("off"),
            pl.col(col).cast(pl.Float64).alias("v"),
        )
    else:
        s = v if isinstance(v, pl.Series) else pl.Series(name, list(v))
        if not s.dtype.is_numeric():
            raise DtypeError(f"{name}: dtype {s.dtype} is not supported; expected numbers")
        f = pl.DataFrame({"v": s.cast(pl.Float64)}).select(
            pl.int_range(pl.len(), dtype=pl.Int64).alias("row"),
            (pl.int_range(pl.len(), dtype=pl.Int64) + day0 * 24).alias("h"),
            pl.lit(0, dtype=pl.Int64).alias("off"),
            "v",
        )
    bad = f.filter(pl.col("h").is_null() | pl.col("v").is_null()).head(1)
    if bad.height:
        raise InvalidValueError(f"{name} (row {bad['row'][0]}): is null; fill or drop it first")
    bad = f.filter(pl.col("off") != 0).head(1)
    if bad.height:
        raise InvalidValueError(
            f"{name} (row {bad['row'][0]}): time is not on the hour; give one value per hour"
        )
    f = f.with_columns(d=pl.col("h") // 24 - day0).filter(
        (pl.col("d") >= 0) & (pl.col("d") < n_days)
    )
    bad = f.filter(~pl.col("v").is_finite()).head(1)
    if bad.height:
        raise InvalidValueError(f"{name} (row {bad['row'][0]}): {bad['v'][0]} is not finite")
    dup = f.filter(~pl.col("h").is_first_distinct()).head(1)
    if dup.height:
        raise InvalidValueError(
            f"{name} (row {dup['row'][0]}): that hour is given twice; keep one value per hour"
        )
    # In hour order, so the means do not depend on the order of the rows given.
    days = (
        f.sort("h")
        .group_by("d", maintain_order=True)
        .agg(pl.len().alias("n"), pl.col("v").mean().alias("mean"))
    )
    full = pl.DataFrame({"d": range(n_days)}, schema={"d": pl.Int64}).join(days, on="d", how="left")
    short = full.filter(pl.col("n").is_null() | (pl.col("n") < 24)).head(1)
    if short.height:
        d = int(short["d"][0])
        raise InvalidValueError(
            f"{name}: day {d} of the run ({_utc((day0 + d) * 86_400)}) has "
            f"{int(short['n'][0] or 0)} of 24 hourly values; give every hour of every simulated "
            "day (UTC), or shorten `years`"
        )
    neg = full.filter(pl.col("mean") < 0).head(1)
    if neg.height:
        d = int(neg["d"][0])
        raise InvalidValueError(
            f"{name}: day {d} of the run ({_utc((day0 + d) * 86_400)}) has a negative mean "
            f"price ({neg['mean'][0]}); the daily model needs a non-negative daily price"
        )
    return full["mean"].alias(name)


def _utc(t: int) -> str:
    import datetime as _dt

    return _dt.datetime.fromtimestamp(t, _dt.timezone.utc).strftime("%Y-%m-%d")


def _n_days(years: float) -> int:
    ok = isinstance(years, int | float) and not isinstance(years, bool)
    if not (ok and math.isfinite(years) and 0 < years <= 100):
        raise InvalidValueError(f"years: {years!r} must be a positive number of years, ≤ 100")
    return max(1, round(years * 365))


def _mix(fleet: Fleet, initial_ths: float) -> tuple[list[float], list[float], list[float]]:
    mix = DEFAULT_MIX if fleet.mix is None else fleet.mix
    if not isinstance(mix, pl.DataFrame) or "efficiency_jth" not in mix.columns:
        raise DtypeError(
            "mix: expected a polars DataFrame with efficiency_jth and hashrate_share or "
            "hashrate_ths columns"
        )
    eff = _floats("mix efficiency_jth", mix["efficiency_jth"]) or []
    if "hashrate_ths" in mix.columns:
        ths = _floats("mix hashrate_ths", mix["hashrate_ths"]) or []
    elif "hashrate_share" in mix.columns:
        share = _floats("mix hashrate_share", mix["hashrate_share"]) or []
        for i, x in enumerate(share):
            if not (math.isfinite(x) and x >= 0):
                raise InvalidValueError(
                    f"mix hashrate_share (row {i}): {x} must be a finite share ≥ 0"
                )
        total = sum(share)
        if not total > 0:
            raise InvalidValueError(f"mix hashrate_share: sums to {total}; it must be > 0")
        if not (math.isfinite(initial_ths) and initial_ths > 0):
            raise InvalidValueError(
                f"initial_hashrate_ehs: {initial_ths / 1e6} must be a finite hashrate > 0 EH/s"
            )
        ths = [initial_ths * s / total for s in share]
    else:
        raise DtypeError("mix: needs a hashrate_share or a hashrate_ths column")
    if "retire_per_year" in mix.columns:
        ret = _floats("mix retire_per_year", mix["retire_per_year"]) or []
    else:
        ret = [fleet.retire_per_year] * len(eff)
    return eff, ths, ret


def _day0_mean(g: tuple[pl.Series, int, bool] | None, n_days: int) -> float | None:
    """Mean over the rows of a converted given series of its day-0 values (None: not given)."""
    if g is None:
        return None
    values, rows, _ = g
    return float(values.gather_every(n_days).head(rows).mean())  # type: ignore[arg-type]


def _online_share_at_start(
    sc: Scenario,
    start: ChainStart,
    eff: list[float],
    ths: list[float],
    given0: tuple[float | None, float | None, float | None],
) -> float:
    """Share of the mix's hashrate that is not under water on day 0 (the engine's rule:
    revenue per TH/s-day after pool fee ≥ ``e · 24/1000 · p · mult · pue``), at the start
    price, fees, difficulty and the day-0 power level (seasonal base, or the given series).
    ``given0``: the day-0 (price, fees, power) of given series, the mean over the paths of
    :class:`GivenPaths` (one fleet start for every path)."""
    from hashpivot.consensus import block_subsidy

    price0, fees0, power0 = given0
    subsidy = block_subsidy(start.height + 1, network=sc.network) / 1e8
    fees = sc.fees.start_btc if fees0 is None else fees0
    price = float(sc.start_price_usd) if price0 is None else price0
    diff = float(bits_to_difficulty(start.bits))
    rev = 1e12 * 86_400.0 * (subsidy + fees) / (diff * 2.0**32) * price * (1 - sc.fleet.pool_fee)
    w = sc.power
    if power0 is not None:
        power = power0
    else:
        doy = float(start.time // 86_400) % 365.25
        season = 1.0 + w.season_amp * math.cos(2 * math.pi * (doy - w.season_peak_doy) / 365.25)
        power = w.base_usd_kwh * season
    fl = sc.fleet
    total = sum(ths)
    if not total > 0:
        return 1.0
    online = 0.0
    for e, h in zip(eff, ths, strict=True):
        for mult, weight in zip(fl.tranche_mult, fl.tranche_weight, strict=True):
            if rev >= e * 24.0 / 1000.0 * power * mult * fl.pue:
                online += h * weight
    return online / (total * sum(fl.tranche_weight))


def _int(name: str, v: object, lo: int | None = None) -> int:
    """``v`` as an int (bool and non-integral numbers refused), at least ``lo``."""
    if isinstance(v, bool) or not isinstance(v, int):
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        else:
            raise DtypeError(f"{name}: {v!r} ({type(v).__name__}) is not a whole number")
    if lo is not None and v < lo:
        raise InvalidValueError(f"{name}: {v} must be ≥ {lo}")
    return int(v)


def _check_parts(sc: Scenario) -> None:
    """Each part of ``sc`` is of its class, and each of its ``float``/``int`` fields a finite
    number (the core checks the ranges; a string or None would fail in Python first)."""
    kinds: tuple[tuple[str, object, tuple[type, ...], str], ...] = (
        ("price", sc.price, (GBM, Bootstrap, GivenPath, GivenPaths), "GBM()"),
        ("fees", sc.fees, (Fees,), "Fees()"),
        ("power", sc.power, (Power,), "Power()"),
        ("gpu", sc.gpu, (GpuRent,), "GpuRent()"),
        ("fleet", sc.fleet, (Fleet,), "Fleet()"),
    )
    for name, part, classes, example in kinds:
        if not isinstance(part, classes):
            want = " or ".join(c.__name__ for c in classes)
            raise DtypeError(
                f"Scenario.{name}: {type(part).__name__} is not a {want}; pass e.g. "
                f"{name}={example}"
            )
        for f in dataclasses.fields(part):  # type: ignore[arg-type]
            if f.type not in ("float", "int"):
                continue
            v = getattr(part, f.name)
            where = f"{type(part).__name__}.{f.name}"
            if not _is_real(v):
                raise DtypeError(f"{where}: {v!r} is not a number ({type(v).__name__})")
            if not math.isfinite(v):
                raise InvalidValueError(f"{where}: {v!r} must be a finite number")
    if sc.initial_hashrate_ehs is not None and not (
        _is_real(sc.initial_hashrate_ehs)
        and math.isfinite(sc.initial_hashrate_ehs)
        and sc.initial_hashrate_ehs > 0
    ):
        raise InvalidValueError(
            f"initial_hashrate_ehs: {sc.initial_hashrate_ehs!r} must be a finite hashrate > 0 "
            "(EH/s), or None for the start bits' implied hashrate"
        )


def _check_inputs(sc: Scenario, start: ChainStart) -> None:
    """What the core cannot name well: Python types, shocks by index, list lengths."""
    _check_parts(sc)
    _int("start.height", start.height, 0)
    _int("start.bits", start.bits, 0)
    _int("start.time (Unix seconds: pass int(t.timestamp()))", start.time)
    if start.epoch_first_time is not None:
        _int("start.epoch_first_time", start.epoch_first_time)
    if not isinstance(sc.start_price_usd, int | float) or not (
        math.isfinite(sc.start_price_usd) and sc.start_price_usd > 0
    ):
        raise InvalidValueError(
            f"start_price_usd: {sc.start_price_usd!r} must be a finite price > 0 (USD)"
        )
    if isinstance(sc.price, GBM):
        # ln P moves by about mu·t ± sigma·√t: beyond these the path leaves f64 (inf prices).
        for name, v, hi in (("mu", sc.price.mu, 10.0), ("sigma", sc.price.sigma, 10.0)):
            if not _is_real(v):
                raise DtypeError(f"GBM.{name}: {v!r} is not a number (a yearly rate, e.g. 0.6)")
            if not abs(v) <= hi:
                raise InvalidValueError(
                    f"GBM.{name}: {v!r} is outside ±{hi:g} per year (annual log-drift / "
                    "volatility, e.g. 0.6 for 60 %); give a yearly rate as a fraction"
                )
    if not isinstance(sc.shocks, Sequence) or isinstance(sc.shocks, Shock):
        raise DtypeError(
            f"shocks: {type(sc.shocks).__name__} is not a sequence of Shock; pass "
            "shocks=(Shock(...),)"
        )
    for i, sh in enumerate(sc.shocks):
        if not isinstance(sh, Shock):
            raise DtypeError(f"shocks[{i}]: {type(sh).__name__} is not a Shock")
        _int(f"shocks[{i}].start_day", sh.start_day, 0)
        _int(f"shocks[{i}].days", sh.days, 1)
        if not isinstance(sh.fraction, int | float) or not 0.0 <= sh.fraction <= 1.0:
            raise InvalidValueError(
                f"shocks[{i}].fraction: {sh.fraction!r} must be a share of hashrate in [0, 1]"
            )
    fl = sc.fleet
    if len(fl.tranche_mult) != len(fl.tranche_weight):
        raise InvalidValueError(
            f"Fleet: tranche_mult has {len(fl.tranche_mult)} values and tranche_weight "
            f"{len(fl.tranche_weight)}; give one weight per tranche"
        )
    for name, vals in (("tranche_mult", fl.tranche_mult), ("tranche_weight", fl.tranche_weight)):
        for i, x in enumerate(vals):
            if not (_is_real(x) and math.isfinite(x) and x >= 0):
                raise InvalidValueError(f"Fleet: {name}[{i}] = {x!r} must be a finite number ≥ 0")
    if not sum(fl.tranche_weight) > 0:
        raise InvalidValueError(
            f"Fleet: tranche_weight {tuple(fl.tranche_weight)!r} sums to 0; give each power-price "
            "tranche a share of the hashrate, e.g. (0.25, 0.25, 0.25, 0.25)"
        )
    if _int("Fleet lead_time_days", fl.lead_time_days, 0) > 36_525:
        raise InvalidValueError(
            f"Fleet lead_time_days: {fl.lead_time_days} is more than 100 years of days"
        )
    if isinstance(sc.price, Bootstrap):
        _int("Bootstrap block_days", sc.price.block_days, 1)
    if isinstance(sc.power.given_hourly, GivenPaths):
        raise DtypeError(
            "Power(given_hourly=...): GivenPaths are daily paths; pass them as "
            "Power(given=GivenPaths(...)), or an hourly list/Series/frame as given_hourly"
        )
    for i, row in enumerate(sc.correlation):
        if isinstance(row, str) or not isinstance(row, Sequence):
            raise DtypeError(f"correlation row {i}: {row!r} is not a list of numbers")
        for j, x in enumerate(row):
            if not _is_real(x):
                raise DtypeError(f"correlation[{i}][{j}]: {x!r} is not a number")


def _is_real(x: object) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _to_core(sc: Scenario, n_days: int) -> tuple[dict[str, Any], _core.NetworkParams]:
    if not isinstance(sc, Scenario):
        raise DtypeError(f"scenario: {type(sc).__name__} is not a hashpivot.scenario.Scenario")
    params = network_params(sc.network)
    start = sc.start if sc.start is not None else ChainStart.from_epoch()
    if not isinstance(start, ChainStart):
        raise DtypeError(f"start: {type(start).__name__} is not a ChainStart")
    _check_inputs(sc, start)
    if sc.initial_hashrate_ehs is not None:
        initial_ths = float(sc.initial_hashrate_ehs) * 1e6
    else:
        initial_ths = float(bits_to_difficulty(start.bits)) * 2.0**32 / 600.0 / 1e12
    eff, ths, ret = _mix(sc.fleet, initial_ths)
    day0 = int(start.time) // 86_400
    p = sc.price
    price_given = None
    if isinstance(p, GivenPath | GivenPaths):
        price_given = _given(
            "price_usd (given)",
            p if isinstance(p, GivenPaths) else p.values,
            n_days,
            day0,
            positive=True,
        )
    f, w, g, fl = sc.fees, sc.power, sc.gpu, sc.fleet
    fees_given = _given("fees_btc_per_block (given)", f.given, n_days, day0)
    power_given = _given("power_price_usd_kwh (given)", w.given, n_days, day0)
    if w.given_hourly is not None:
        if w.given is not None:
            raise InvalidValueError("Power: both given and given_hourly are set; pass one of them")
        daily = _hourly_to_daily("power_price_usd_kwh (given_hourly)", w.given_hourly, n_days, day0)
        power_given = (daily, 1, False)
    gpu_given = _given("gpu_rent_usd_hr (given)", g.given, n_days, day0)
    if (
        sc.fleet.start_state == "equilibrium"
        and sc.hashrate_ehs is None
        and (sc.fleet.mix is None or "hashrate_ths" not in sc.fleet.mix.columns)
    ):
        given0 = (
            _day0_mean(price_given, n_days),
            _day0_mean(fees_given, n_days),
            _day0_mean(power_given, n_days),
        )
        on = _online_share_at_start(sc, start, eff, ths, given0)
        if on > 0.0:
            ths = [x / on for x in ths]
    elif sc.fleet.start_state not in ("equilibrium", "installed"):
        raise InvalidValueError(
            f"Fleet.start_state: {sc.fleet.start_state!r} is not 'equilibrium' or 'installed'"
        )
    d: dict[str, Any] = {
        "start_height": int(start.height),
        "start_bits": int(start.bits),
        "start_time": int(start.time),
        "start_epoch_first_time": (
            None if start.epoch_first_time is None else int(start.epoch_first_time)
        ),
        "n_days": n_days,
        "arrivals": sc.arrivals,
        "price_start_usd": float(sc.start_price_usd),
    }
    if isinstance(p, GBM):
        d.update(
            price_kind="gbm",
            price_mu=float(p.mu),
            price_sigma=float(p.sigma),
            price_jump_per_year=float(p.jump_per_year),
            price_jump_mean=float(p.jump_mean),
            price_jump_sd=float(p.jump_sd),
        )
    elif isinstance(p, Bootstrap):
        returns = _floats("price log_returns", p.log_returns)
        big = next((i for i, r in enumerate(returns or []) if abs(r) > 1.0), None)
        if big is not None and returns is not None:
            raise InvalidValueError(
                f"price log_returns (row {big}): {returns[big]} is not a daily log return (a "
                "day's |ln(P_t/P_t-1)| above 1 is a move of more than e-fold); pass "
                "log_returns(prices), not the prices themselves"
            )
        d.update(
            price_kind="bootstrap",
            price_log_returns=returns,
            price_block_days=int(p.block_days),
        )
    elif isinstance(p, GivenPath | GivenPaths):
        d.update(price_kind="given", price_values=price_given)
    else:
        raise DtypeError(
            f"price: {type(p).__name__} is not GBM, Bootstrap, GivenPath or GivenPaths"
        )
    d.update(
        fees_start_btc=float(f.start_btc),
        fees_mean_btc=float(f.mean_btc),
        fees_reversion_per_day=float(f.reversion_per_day),
        fees_vol_per_day=float(f.vol_per_day),
        fees_given=fees_given,
        power_base_usd_kwh=float(w.base_usd_kwh),
        power_season_amp=float(w.season_amp),
        power_season_peak_doy=float(w.season_peak_doy),
        power_reversion_per_day=float(w.reversion_per_day),
        power_vol_usd_kwh_per_day=float(w.vol_usd_kwh_per_day),
        power_spike_prob_per_day=float(w.spike_prob_per_day),
        power_spike_mult=float(w.spike_mult),
        power_given=power_given,
        gpu_start_usd_hr=float(g.start_usd_hr),
        gpu_generation_days=float(g.generation_days),
        gpu_generation_step=float(g.generation_step),
        gpu_decay_per_year=float(g.decay_per_year),
        gpu_reversion_per_day=float(g.reversion_per_day),
        gpu_vol_per_day=float(g.vol_per_day),
        gpu_given=gpu_given,
        correlation=[[float(x) for x in row] for row in sc.correlation],
        mix_efficiency_jth=eff,
        mix_hashrate_ths=ths,
        mix_retire_per_year=ret,
        tranche_mult=[float(x) for x in fl.tranche_mult],
        tranche_weight=[float(x) for x in fl.tranche_weight],
        pue=float(fl.pue),
        pool_fee=float(fl.pool_fee),
        hysteresis=float(fl.hysteresis),
        response_per_day=float(fl.response_per_day),
        arrival_efficiency_jth=float(fl.arrival_efficiency_jth),
        arrival_threshold=float(fl.arrival_threshold),
        deploy_cap_per_day=float(fl.deploy_cap_per_day),
        lead_time_days=int(fl.lead_time_days),
        retire_arrivals_per_year=float(fl.retire_arrivals_per_year),
        hashrate_given_ehs=_floats("hashrate_ehs (given)", sc.hashrate_ehs),
        shocks=[(int(x.start_day), int(x.days), float(x.fraction)) for x in sc.shocks],
    )
    return d, params


def _check_counts(paths: int, seed: int) -> None:
    if isinstance(paths, bool) or not isinstance(paths, int) or not 1 <= paths <= 2**32 - 1:
        raise InvalidValueError(f"paths: {paths!r} must be an int in [1, 2^32 − 1]")
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**64:
        raise InvalidValueError(f"seed: {seed!r} must be an int in [0, 2^64)")


def _retarget_frame(raw: pl.DataFrame) -> pl.DataFrame:
    diff = bits_to_difficulty(raw["bits"])
    old = bits_to_difficulty(raw["old_bits"])
    assert isinstance(diff, pl.Series)
    assert isinstance(old, pl.Series)
    return raw.select(
        pl.col("path"),
        (pl.col("height") // 2016).alias("epoch"),
        pl.col("height"),
        pl.col("time").cast(_UTC),
        pl.col("first_time").cast(_UTC),
        (pl.col("time").dt.epoch("s") - pl.col("first_time").dt.epoch("s")).alias("timespan_s"),
        pl.col("old_bits"),
        pl.col("bits"),
        diff.alias("difficulty"),
        (diff / old - 1.0).alias("difficulty_change"),
    )


#: Bytes of the daily frame per row (11 Float64/Int64 columns and 2 UInt32 ones).
_ROW_BYTES = 11 * 8 + 2 * 4


def _check_memory(count: int, n_days: int) -> None:
    """Refuse a run whose frame alone would not fit in this machine's memory (it would abort
    the process when the allocation fails) and name the way out."""
    need = count * n_days * _ROW_BYTES
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not on this platform: no check
        return
    if need > 0.8 * total:
        raise InvalidValueError(
            f"paths: {count:,} paths × {n_days:,} days is a {need / 2**30:,.0f} GiB frame, more "
            f"than this machine's memory ({total / 2**30:,.0f} GiB) allows; use "
            "simulate_to_parquet(..., chunk_paths=...) to stream it in chunks, or fewer paths"
        )


def _run_raw(
    sc: Scenario,
    years: float,
    seed: int,
    first: int,
    count: int,
    n_days: int | None,
    retargets: bool = True,
) -> tuple[pl.DataFrame, pl.DataFrame | None]:
    """The daily frame and the core's raw retarget table (see :func:`_retarget_frame`);
    None for the table when ``retargets`` is false (the core then skips gathering them)."""
    nd = _n_days(years) if n_days is None else n_days
    _check_memory(count, nd)
    cfg, params = _to_core(sc, nd)
    daily, rts = _core.simulate_paths(cfg, params, seed, first, count, retargets)
    return pl.DataFrame(daily), (pl.DataFrame(rts) if retargets else None)


def _run(
    sc: Scenario, years: float, seed: int, first: int, count: int, n_days: int | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    daily, rts = _run_raw(sc, years, seed, first, count, n_days)
    assert rts is not None
    return daily, _retarget_frame(rts)


# --------------------------------------------------------------------------- public API


def simulate(
    scenario: Scenario, *, paths: int = 1000, years: float = 5.0, seed: int = 0
) -> pl.DataFrame:
    """Simulate ``paths`` daily paths over ``years`` (365-day years) with ``seed``.

    Returns one row per path and day with the columns of :data:`DAILY_SCHEMA`:
    ``path, date`` (UTC midnight starting the day), end-of-day ``height, bits, difficulty``,
    the day's ``hashrate_ehs, price_usd, fees_btc_per_block``, the ``subsidy_btc`` and
    ``hashprice_usd_ph_day`` at the start of the day, ``power_price_usd_kwh,
    gpu_rent_usd_hr`` and ``share_under_water`` (share of installed hashrate whose revenue is
    below its power cost). The same seed gives identical frames whatever the thread count.
    """
    _check_counts(paths, seed)
    return _run_raw(scenario, years, seed, 0, paths, None, retargets=False)[0]


def simulate_with_retargets(
    scenario: Scenario, *, paths: int = 1000, years: float = 5.0, seed: int = 0
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Like :func:`simulate`, also returning every retarget (:data:`RETARGET_SCHEMA`):
    ``path, epoch, height`` (first block of the new epoch), ``time`` and ``first_time`` (the
    ending epoch's last and first block), ``timespan_s`` (their difference, before the ×4
    clamp), ``old_bits, bits, difficulty, difficulty_change``."""
    _check_counts(paths, seed)
    return _run(scenario, years, seed, 0, paths)


def _regular(daily: pl.DataFrame) -> tuple[int, int] | None:
    """``(n_paths, n_days)`` when ``daily`` is path-major with the same dates on every path
    (what :func:`simulate` returns), else None. Linear-time checks, no copies of the frame."""
    if not isinstance(daily, pl.DataFrame):
        raise DtypeError(f"daily: {type(daily).__name__} is not a polars DataFrame")
    n = daily.height
    if n == 0 or "path" not in daily.columns or "date" not in daily.columns:
        return None
    if not daily.schema["path"].is_integer():
        return None  # any other labels: the group-by path
    path, dates = daily["path"], daily["date"]
    if path.null_count() or dates.null_count() or not path.is_sorted():
        return None
    changes = (path.diff() != 0).arg_true()  # first row of every path but the first
    n_paths = changes.len() + 1
    if n % n_paths:
        return None
    n_days = n // n_paths
    want = pl.int_range(n_days, n, n_days, eager=True).cast(changes.dtype)
    if not changes.equals(want, check_names=False):
        return None  # paths of different lengths
    first = dates.head(n_days)
    if not first.is_sorted() or first.n_unique() != n_days:
        return None
    # every row equals the row one path earlier: all paths carry the first path's dates
    if n_paths > 1 and not (dates.slice(n_days) == dates.slice(0, n - n_days)).all():
        return None
    return n_paths, n_days


def quantile_tag(q: float) -> str:
    """The column tag of quantile ``q`` (in [0, 1]): the percentage, rounded to 6 decimals;
    whole percents keep two digits (``0.05`` → ``q05``, ``1.0`` → ``q100``), others put the
    decimals after an underscore (``0.025`` → ``q02_5``, ``0.999`` → ``q99_9``)."""
    if isinstance(q, bool) or not isinstance(q, int | float) or not 0.0 <= q <= 1.0:
        raise InvalidValueError(f"quantile_tag: {q!r} is not a quantile in [0, 1]")
    pct = (Decimal(repr(float(q))) * 100).quantize(Decimal("0.000001"))
    whole = int(pct)
    frac = format(pct - whole, "f").partition(".")[2].rstrip("0")
    return f"q{whole:02d}_{frac}" if frac else f"q{whole:02d}"


def _quantile_tags(quantiles: Any) -> list[str]:
    """Check ``quantiles`` (numbers in [0, 1], at least one, tags distinct) and tag them."""
    if isinstance(quantiles, str) or not isinstance(quantiles, Sequence) or not quantiles:
        raise InvalidValueError(
            f"quantiles: {quantiles!r}; expected a non-empty list of numbers in [0, 1], e.g. "
            "(0.05, 0.5, 0.95)"
        )
    tags: dict[str, float] = {}
    for q in quantiles:
        ok = isinstance(q, int | float) and not isinstance(q, bool) and 0.0 <= q <= 1.0  # no NaN
        if not ok:
            raise InvalidValueError(f"quantiles: {q!r} is not a number in [0, 1]")
        tag = quantile_tag(q)
        if tag in tags:
            raise InvalidValueError(
                f"quantiles: {tags[tag]!r} and {q!r} both give column {tag!r}; drop one"
            )
        tags[tag] = q
    return list(tags)


def quantile_fan(
    daily: pl.DataFrame,
    column: str = "difficulty",
    quantiles: Sequence[float] = (0.05, 0.25, 0.5, 0.75, 0.95),
) -> pl.DataFrame:
    """Per date: ``mean`` and the quantiles of ``column`` across paths, in columns named
    ``q05, q25, q50, …`` (:func:`quantile_tag`: percent, two digits, ``q02_5`` for 2.5 %;
    linear interpolation).

    A frame in :func:`simulate`'s layout (path-major, every path on the same dates, no
    nulls) goes through a parallel Rust kernel; any other frame through a polars group-by.
    The quantiles agree exactly, the mean to rounding (the two sum in different orders).
    """
    return _fan(daily, column, quantiles, _regular(daily))


def quantile_fans(
    daily: pl.DataFrame,
    columns: Sequence[str],
    quantiles: Sequence[float] = (0.05, 0.25, 0.5, 0.75, 0.95),
) -> pl.DataFrame:
    """:func:`quantile_fan` of several columns in long format: ``date, column, mean, q05, …``
    (the layout is checked once)."""
    if isinstance(columns, str) or not columns:
        raise InvalidValueError(f"columns: {columns!r}; expected a non-empty list of names")
    shape = _regular(daily)
    return pl.concat(
        [
            _fan(daily, c, quantiles, shape).select(
                "date", pl.lit(c).alias("column"), pl.exclude("date")
            )
            for c in columns
        ]
    )


def _fan(
    daily: pl.DataFrame,
    column: str,
    quantiles: Sequence[float],
    shape: tuple[int, int] | None,
) -> pl.DataFrame:
    if column not in daily.columns:
        raise InvalidValueError(f"column: {column!r} is not in the frame ({daily.columns})")
    names = _quantile_tags(quantiles)
    quantiles = [float(q) for q in quantiles]
    if "date" not in daily.columns:
        raise InvalidValueError(f"quantile_fan: the frame has no 'date' column ({daily.columns})")
    col = daily[column]
    if not col.dtype.is_numeric():
        raise DtypeError(f"column {column!r} is {col.dtype}; quantiles need numbers")
    if shape is not None and col.dtype.is_numeric() and col.null_count() == 0:
        n_paths, n_days = shape
        values = col.cast(pl.Float64)
        if not values.is_nan().any():
            flat = pl.Series(_core.day_quantiles(values, n_paths, n_days, list(quantiles)))
            w = len(quantiles) + 1
            out = {"date": daily["date"].head(n_days), "mean": flat.gather_every(w)}
            for k, name in enumerate(names):
                out[name] = flat.gather_every(w, offset=k + 1)
            return pl.DataFrame(out)
    aggs = [pl.col(column).mean().alias("mean")]
    aggs += [
        pl.col(column).quantile(q, interpolation="linear").alias(name)
        for q, name in zip(quantiles, names, strict=True)
    ]
    return daily.group_by("date").agg(aggs).sort("date")


def retarget_dates(
    retargets: pl.DataFrame, quantiles: Sequence[float] = (0.1, 0.5, 0.9)
) -> pl.DataFrame:
    """Per epoch reached: ``paths`` reaching it, quantiles of the retarget ``time``
    (``time_q10`` …) and of ``difficulty_change`` (``change_q10`` …)."""
    tags = _quantile_tags(quantiles)
    if not isinstance(retargets, pl.DataFrame):
        raise DtypeError(
            f"retargets: {type(retargets).__name__} is not a polars DataFrame; pass the second "
            "frame of simulate_with_retargets"
        )
    want = {"epoch": "integers", "height": "integers", "time": "Datetime",
            "difficulty_change": "numbers"}  # fmt: skip
    for c, kind in want.items():
        if c not in retargets.columns:
            raise SchemaError(
                f"retargets: no {c!r} column (columns: {retargets.columns}); pass the second "
                "frame of simulate_with_retargets"
            )
        t = retargets.schema[c]
        ok = isinstance(t, pl.Datetime) if kind == "Datetime" else t.is_numeric()
        if not ok:
            raise DtypeError(f"retargets: column {c!r} is {t}; expected {kind}")
    aggs: list[pl.Expr] = [pl.len().alias("paths")]
    ts = pl.col("time").dt.epoch("us")
    for q, tag in zip(quantiles, tags, strict=True):
        aggs.append(
            ts.quantile(q, interpolation="nearest").cast(pl.Datetime("us")).alias(f"time_{tag}")
        )
    for q, tag in zip(quantiles, tags, strict=True):
        aggs.append(pl.col("difficulty_change").quantile(q).alias(f"change_{tag}"))
    out = retargets.group_by("epoch", "height").agg(aggs).sort("epoch")
    return out.with_columns(pl.col("^time_q.*$").dt.replace_time_zone("UTC"))


def _check_run_folder(root: Path, shown: Path | None = None) -> None:
    """Raise :class:`OutputError` (naming ``shown``, default ``root``) unless ``root`` may be
    replaced by a new run: it is new, empty, or holds only an earlier run's chunk files; its
    parent must be a folder."""
    shown = root if shown is None else shown
    if root.exists() or root.is_symlink():
        if root.is_symlink() or not root.is_dir():
            raise OutputError(f"{shown}: exists and is not a folder; pass another out_dir")
        extra = chunk_layout_extra(root, ("daily", "retargets"))
        if extra is not None:
            raise OutputError(
                f"{shown}: holds {extra}, which an earlier simulate_to_parquet run did not "
                "write; the folder is replaced as a whole, so pass an empty or new out_dir "
                "(nothing of yours is deleted)"
            )
    blocker = next((a for a in root.parents if a.exists() and not a.is_dir()), None)
    if blocker is not None:
        raise OutputError(f"{root}: {blocker} is not a folder; pass another out_dir")


def simulate_to_parquet(
    scenario: Scenario,
    out_dir: str | os.PathLike[str],
    *,
    paths: int = 100_000,
    years: float = 5.0,
    seed: int = 0,
    chunk_paths: int = 5_000,
) -> list[Path]:
    """Run a large simulation in chunks of ``chunk_paths`` paths, writing each chunk as soon
    as it is done, to ``out_dir/daily/chunk=NNNNN/part.parquet`` and
    ``out_dir/retargets/chunk=NNNNN/part.parquet``. Rows equal those of
    :func:`simulate_with_retargets` with the same seed. Returns the files written; read them
    back with ``pl.scan_parquet(out_dir/"daily")``. Memory is bounded by one chunk (plus, for
    about 10 s, the previous chunk's memory kept for reuse by the buffer pool; see
    ``docs/scenario.md``).

    The run is written into a hidden folder next to ``out_dir`` and takes its place in one
    rename when every chunk is written, so ``out_dir`` never mixes two runs and an
    interrupted run leaves it as it was. An existing ``out_dir`` must be empty or hold only an
    earlier run's chunk files (it is replaced as a whole); anything else raises
    :class:`~hashpivot.exceptions.OutputError` naming the first such file, before any work.
    """
    _check_counts(paths, seed)
    if not isinstance(chunk_paths, int) or isinstance(chunk_paths, bool) or chunk_paths < 1:
        raise InvalidValueError(f"chunk_paths: {chunk_paths!r} must be a positive int")
    root = Path(out_dir)
    try:
        _check_run_folder(root)
    except OutputError:
        raise
    except OSError as e:  # a name too long, a loop of links, no permission to look
        raise OutputError(f"{root}: cannot use it as the run's folder: {e.strerror or e}") from e
    nd = _n_days(years)
    try:
        root.parent.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=f".{root.name}.tmp-", dir=root.parent))
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(stage, 0o777 & ~umask)  # mkdtemp makes 0700; publish with the usual mode
    except OSError as e:
        raise OutputError(f"{root}: cannot create its folder: {e.strerror or e}") from e
    names: list[str] = []
    try:
        for k, first in enumerate(range(0, paths, chunk_paths)):
            count = min(chunk_paths, paths - first)
            daily, rts = _run(scenario, years, seed, first, count, n_days=nd)
            for name, df in (("daily", daily), ("retargets", rts)):
                rel = f"{name}/chunk={k:05d}/part.parquet"
                (stage / rel).parent.mkdir(parents=True)
                df.write_parquet(stage / rel)
                names.append(rel)
            del daily, rts
        # again on the earlier run: files may have been added while this one was simulated
        replace_folder(stage, root, lambda aside: _check_run_folder(aside, root))
    except OSError as e:
        shutil.rmtree(stage, ignore_errors=True)
        if isinstance(e, OutputError):
            raise
        raise OutputError(f"{root}: cannot write the run: {e.strerror or e}") from e
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    return [root / n for n in names]


# --------------------------------------------------------------------------- calibration


def log_returns(
    prices: pl.DataFrame, *, date_col: str = "date", price_col: str = "price_usd"
) -> pl.Series:
    """Daily log returns ``ln(P_t / P_{t−1})`` of a daily price frame, sorted by ``date_col``
    first.

    The dates must be distinct, not null and one day apart (a ``Date``, or a ``Datetime`` at
    the same time every day); prices numbers, finite and > 0. Anything else raises
    :class:`~hashpivot.exceptions.InvalidValueError` naming the row (after sorting) — weekly or
    hourly rows, gaps and repeated days would otherwise be read as daily returns and give a
    wrong volatility: resample to one row a day first."""
    if not isinstance(prices, pl.DataFrame):
        raise DtypeError(f"prices: expected a polars DataFrame, got {type(prices).__name__}")
    for c in (date_col, price_col):
        if c not in prices.columns:
            raise InvalidValueError(f"prices: column {c!r} missing (have {prices.columns})")
    if not prices.schema[price_col].is_numeric():
        raise DtypeError(
            f"prices: column {price_col!r} is {prices.schema[price_col]}; expected numbers "
            f"(convert it first, e.g. pl.col({price_col!r}).cast(pl.Float64))"
        )
    dtype = prices.schema[date_col]
    if not (dtype == pl.Date or isinstance(dtype, pl.Datetime)):
        raise DtypeError(
            f"prices: column {date_col!r} is {dtype}; expected Date or Datetime (parse it "
            "first, e.g. pl.col('date').str.to_date())"
        )
    df = prices.select(date_col, price_col).sort(date_col, nulls_last=True)
    nulls = df[date_col].null_count()
    if nulls:
        raise InvalidValueError(
            f"prices: {nulls} null {date_col!r} value(s) (row {df.height - nulls} on after "
            "sorting); drop them first"
        )
    p = df[price_col].cast(pl.Float64)
    bad = (p.is_null() | ~p.is_finite() | (p <= 0)).fill_null(True)
    if bad.any():
        row = int(bad.arg_true()[0])
        raise InvalidValueError(
            f"prices (row {row} after sorting, {date_col} {df[date_col][row]}): {price_col} is "
            f"{p[row]}; drop missing, non-finite or non-positive prices first"
        )
    if df.height > 1:
        step = df[date_col].diff().slice(1)
        one_day = dt.timedelta(days=1)
        off = step != one_day
        if off.any():
            row = int(off.arg_true()[0]) + 1
            raise InvalidValueError(
                f"prices (row {row} after sorting): {date_col} {df[date_col][row]} follows "
                f"{df[date_col][row - 1]}, not one day later; the returns must be daily "
                "(repeated days, gaps, weekly or hourly rows give a wrong volatility): "
                "resample to one price a day first"
            )
    r: pl.Series = (p.log() - p.log().shift(1)).drop_nulls().alias("log_return")
    return r


def fit_gbm(prices: pl.DataFrame, *, date_col: str = "date", price_col: str = "price_usd") -> GBM:
    """Fit GBM drift and volatility from daily prices (365 trading days a year):
    ``sigma = sd(r)·√365`` and ``mu = mean(r)·365 + sigma²/2`` (so ``E[P_t] = P_0 e^{mu t}``),
    with ``r`` the daily log returns (:func:`log_returns`)."""
    r = log_returns(prices, date_col=date_col, price_col=price_col)
    if r.len() < 2:
        raise InvalidValueError("prices: at least 3 rows are needed to fit a GBM")
    sd = float(r.std(ddof=1))  # type: ignore[arg-type]
    mean = float(r.mean())  # type: ignore[arg-type]
    sigma = sd * math.sqrt(365.0)
    return GBM(mu=mean * 365.0 + 0.5 * sigma * sigma, sigma=sigma)
