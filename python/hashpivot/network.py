"""Network analytics miners watch every day, on per-block (chain) or per-day frames.

Formulas follow ``spec/ECONOMICS.md`` §2 (units in every column name):

* :func:`hashrate_from_difficulty` — ``H = D · 2^32 / spacing`` [H/s];
* :func:`hashrate_from_work` — observed hashrate from work over a window of N blocks with the
  ``(N−1)/N`` correction, or over a fixed time window (no correction needed);
* :func:`next_retarget_estimate` — progress in the epoch, expected change (clamped to
  −75 % … +300 %), estimated date, with mempool.space's early-epoch window;
* :func:`halving_countdown`, :func:`daily_issuance` (issuance per day, fee share);
* :func:`hashprice` — BTC and USD per TH/day and per PH/day;
* :func:`puell_multiple`, :func:`hash_ribbons`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl

from hashpivot.consensus import (
    NetworkLike,
    bits_to_difficulty,
    block_subsidy,
    calculate_next_bits,
    network_params,
)
from hashpivot.exceptions import DtypeError, InvalidValueError, SchemaError

__all__ = [
    "WORK_PER_DIFFICULTY",
    "daily_issuance",
    "halving_countdown",
    "hash_ribbons",
    "hashprice",
    "hashrate_from_difficulty",
    "hashrate_from_work",
    "next_retarget_estimate",
    "puell_multiple",
]

#: Expected hashes per unit of difficulty: 2^256 / (T1 + 1) ≈ 2^48 / 65535 (≈ 2^32 · 1.0000153).
WORK_PER_DIFFICULTY = 2.0**48 / 65535.0
_SAT = 100_000_000
_UTC = pl.Datetime("us", "UTC")


def _need(frame: pl.DataFrame, *cols: str, fn: str) -> None:
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise SchemaError(
            f"{fn}: frame lacks columns {missing} (has {frame.columns}); pass a chain frame "
            "from hashpivot.chain.read_headers or add them"
        )


def _time_expr(frame: pl.DataFrame) -> pl.Expr:
    if "time" in frame.columns and frame.schema["time"].is_temporal():
        return pl.col("time").cast(_UTC)
    if "time_unix" in frame.columns:
        return pl.from_epoch("time_unix", time_unit="s").cast(_UTC)
    raise SchemaError("frame: needs a `time` (Datetime) or `time_unix` (Unix seconds) column")


def hashrate_from_difficulty(
    difficulty: float | pl.Series | pl.Expr, *, spacing_s: int = 600
) -> float | pl.Series | pl.Expr:
    """Hashrate implied by difficulty, ``D · 2^32 / spacing_s`` in H/s (the usual
    approximation; it is 0.0015 % below ``work / spacing``). A Series is named
    ``hashrate_hs``."""
    if isinstance(spacing_s, bool) or not isinstance(spacing_s, int | float) or spacing_s <= 0:
        raise InvalidValueError(f"spacing_s: {spacing_s!r} must be a number of seconds > 0")
    if isinstance(difficulty, pl.Series) and not difficulty.dtype.is_numeric():
        raise DtypeError(
            f"difficulty: a {difficulty.dtype} Series; expected numbers (cast it to Float64)"
        )
    if not isinstance(difficulty, pl.Series | pl.Expr) and (
        isinstance(difficulty, bool) or not isinstance(difficulty, int | float)
    ):
        raise DtypeError(f"difficulty: {difficulty!r} is not a number")
    k = 2.0**32 / spacing_s
    if isinstance(difficulty, pl.Series):
        series: pl.Series = (difficulty.cast(pl.Float64) * k).alias("hashrate_hs")
        return series
    if isinstance(difficulty, pl.Expr):
        expr: pl.Expr = (difficulty.cast(pl.Float64) * k).alias("hashrate_hs")
        return expr
    return float(difficulty) * k


def hashrate_from_work(
    frame: pl.DataFrame,
    *,
    blocks: int | None = None,
    window: str | dt.timedelta | None = None,
    correction: bool = True,
) -> pl.DataFrame:
    """Observed hashrate at every block, from the work of the blocks in a trailing window.

    Work per block is ``difficulty · 2^48 / 65535`` (the expected hashes of its target).

    * ``blocks=N``: the last N blocks' work over ``time[i] − time[i−N]`` (the N intervals
      in which they were found), times ``(N−1)/N`` when ``correction`` is true. N
      exponential inter-arrival times sum to T with ``E[1/T] = λ/(N−1)``, so ``N/T``
      over-reads by ``N/(N−1)``; ``(N−1)/T`` is unbiased. Core's ``getnetworkhashps``
      has no correction (and uses the min/max time of the window).
    * ``window="7d"`` (or a timedelta): the work of the blocks whose time lies in
      ``(t − window, t]`` divided by the window length. The block count in a fixed time is
      Poisson, and ``count/window`` is already unbiased: no correction.

    Adds ``hashrate_hs`` (Float64, null until the window is full or where time ran
    backwards) and ``window_work`` (expected hashes in the window).
    """
    if (blocks is None) == (window is None):
        raise InvalidValueError("hashrate_from_work: pass exactly one of blocks=N or window=")
    _need(frame, "difficulty", fn="hashrate_from_work")
    t = _time_expr(frame)
    work = pl.col("difficulty").cast(pl.Float64) * WORK_PER_DIFFICULTY
    if blocks is not None:
        if isinstance(blocks, bool) or not isinstance(blocks, int) or blocks < 2:
            raise InvalidValueError(f"blocks: {blocks!r} must be an int ≥ 2 for a rate")
        span_s = (t.dt.epoch("us") - t.dt.epoch("us").shift(blocks)).cast(pl.Float64) / 1e6
        w = work.rolling_sum(blocks)
        k = (blocks - 1) / blocks if correction else 1.0
        rate = pl.when(span_s > 0).then(w / span_s * k).otherwise(None)
        return frame.with_columns(w.alias("window_work"), rate.alias("hashrate_hs"))
    assert window is not None
    length = _parse_window(window)
    idx = "__row"
    tmp = frame.with_row_index(idx).with_columns(t.alias("__t"), work.alias("__w"))
    tmp = tmp.sort("__t", maintain_order=True)
    tmp = tmp.with_columns(
        pl.col("__w").rolling_sum_by("__t", window_size=length).alias("window_work")
    ).with_columns((pl.col("window_work") / length.total_seconds()).alias("hashrate_hs"))
    first = tmp["__t"].min()
    if first is not None:
        tmp = tmp.with_columns(
            pl.when(pl.col("__t") - pl.lit(first) >= pl.lit(length))
            .then(pl.col("hashrate_hs"))
            .otherwise(None)
            .alias("hashrate_hs")
        )
    return tmp.sort(idx).drop(idx, "__t", "__w")


def _parse_window(window: str | dt.timedelta) -> dt.timedelta:
    """A positive window length from ``'7d'``-style text or a timedelta."""
    length: dt.timedelta | None = None
    if isinstance(window, dt.timedelta):
        length = window
    elif isinstance(window, str):
        units = {"d": 86400, "h": 3600, "m": 60, "s": 1, "w": 604800}
        w = window.strip()
        for u, secs in units.items():
            if w.endswith(u) and w[: -len(u)].isdigit():
                length = dt.timedelta(seconds=int(w[: -len(u)]) * secs)
                break
    if length is not None and length <= dt.timedelta(0):
        raise InvalidValueError(f"window: {window!r} must be a positive duration")
    if length is not None:
        return length
    raise InvalidValueError(
        f"window: {window!r} is not a duration like '7d', '24h', '90m', '1w' or a timedelta"
    )


def next_retarget_estimate(
    frame: pl.DataFrame,
    *,
    now: dt.datetime | None = None,
    network: NetworkLike = "mainnet",
    early_window: int = 504,
) -> pl.DataFrame:
    """The next difficulty adjustment as miners see it (mempool.space's estimator).

    From the chain frame's tip at height ``h``: ``blocks_in_epoch = h mod interval`` (blocks
    mined after the epoch's first block, i.e. block intervals elapsed, as mempool.space
    counts), ``progress_pct``, ``remaining_blocks = interval − blocks_in_epoch`` (to the
    retarget block, included), the mean block time so far and the implied change
    ``(spacing / mean − 1) · 100``, clamped to the consensus limits −75 % … +300 %. Early in
    an epoch (fewer than ``early_window`` blocks in) the mean is taken over the last
    ``early_window`` intervals instead, crossing the boundary, as mempool.space does (over the
    whole frame from height 0 when the chain is shorter). ``now`` defaults to the tip's time
    (deterministic); pass the wall clock for a live view (mempool.space measures to now); it
    may not be before the tip.

    When the tip is the epoch's last block (``remaining_blocks`` = 1) the next bits are
    already fixed by the consensus rule: if the frame has integer ``bits`` and ``time_unix``
    columns (as ``chain.read_headers`` gives) and the epoch's first block,
    ``expected_difficulty`` is that exact result (``calculate_next_bits``) and
    ``expected_change_pct`` its change (on networks without min-difficulty blocks and with
    retargeting; elsewhere the estimate).

    Returns one row: ``height, epoch, blocks_in_epoch, progress_pct, remaining_blocks,
    next_retarget_height, mean_block_time_s, expected_change_pct, difficulty,
    expected_difficulty, estimated_retarget_time`` (UTC).
    """
    p = network_params(network)
    interval, spacing = p.interval, p.pow_target_spacing
    _need(frame, "height", "difficulty", fn="next_retarget_estimate")
    if frame.height == 0:
        raise InvalidValueError("next_retarget_estimate: the frame is empty")
    f = frame.sort("height").with_columns(_time_expr(frame).alias("__t"))
    tip = f.row(-1, named=True)
    height = int(tip["height"])
    tip_time: dt.datetime = tip["__t"]
    if now is not None and not isinstance(now, dt.datetime):
        raise DtypeError(
            f"now: {now!r} is not a datetime; pass e.g. datetime.datetime.now(datetime.UTC)"
        )
    now_t = now if now is not None else tip_time
    if now_t.tzinfo is None:
        now_t = now_t.replace(tzinfo=dt.timezone.utc)
    if now_t < tip_time:
        raise InvalidValueError(
            f"now: {now_t.isoformat()} is before the tip's time ({tip_time.isoformat()}, "
            f"height {height}); pass the current time, or leave it out to measure to the tip"
        )
    blocks_in = height % interval  # intervals since the epoch's first block
    epoch_start = height - blocks_in
    remaining = interval - blocks_in

    def row_at(h: int) -> dict[str, Any]:
        r = f.filter(pl.col("height") == h)
        if r.height == 0:
            raise InvalidValueError(
                f"next_retarget_estimate: block {h} is needed and not in the frame (it starts "
                f"at height {int(f['height'][0])}); pass the headers from height {h} to the tip"
            )
        return r.row(0, named=True)

    if blocks_in >= early_window:
        first, n_int = epoch_start, blocks_in
    else:
        first = max(0, height - early_window)
        n_int = height - first
    start_t: dt.datetime = row_at(first)["__t"] if n_int > 0 else now_t
    mean = (now_t - start_t).total_seconds() / n_int if n_int > 0 else float(spacing)
    if mean <= 0:
        mean = float(spacing)
    change = (spacing / mean - 1.0) * 100.0
    change = max(-75.0, min(300.0, change))
    d = float(tip["difficulty"])
    expected = d * (1.0 + change / 100.0)
    first_row = None
    exact_rule = not (p.allow_min_difficulty_blocks or p.no_retargeting)
    has_fields = all(c in f.columns and f.schema[c].is_integer() for c in ("bits", "time_unix"))
    if remaining == 1 and exact_rule and has_fields:
        hit = f.filter(pl.col("height") == epoch_start)
        first_row = hit.row(0, named=True) if hit.height else None
        if first_row is not None and None in (
            tip["bits"],
            tip["time_unix"],
            first_row["bits"],
            first_row["time_unix"],
        ):
            first_row = None
    if first_row is not None:
        nb = calculate_next_bits(
            int(tip["bits"]),
            int(tip["time_unix"]),
            int(first_row["time_unix"]),
            first_bits=int(first_row["bits"]),
            network=network,
        )
        expected = float(bits_to_difficulty(nb))
        change = (expected / d - 1.0) * 100.0
    return pl.DataFrame(
        {
            "height": [height],
            "epoch": [height // interval],
            "blocks_in_epoch": [blocks_in],
            "progress_pct": [blocks_in / interval * 100.0],
            "remaining_blocks": [remaining],
            "next_retarget_height": [epoch_start + interval],
            "mean_block_time_s": [mean],
            "expected_change_pct": [change],
            "difficulty": [d],
            "expected_difficulty": [expected],
            "estimated_retarget_time": [now_t + dt.timedelta(seconds=remaining * mean)],
        },
        schema_overrides={"estimated_retarget_time": _UTC},
    )


def halving_countdown(
    frame: pl.DataFrame,
    *,
    network: NetworkLike = "mainnet",
    mean_window: int = 2016,
) -> pl.DataFrame:
    """Blocks to the next halving and its estimated date, from the frame's tip.

    The date assumes the mean block time of the last ``mean_window`` blocks in the frame
    (the target spacing when the frame has fewer than two blocks). Returns one row:
    ``height, next_halving_height, blocks_remaining, mean_block_time_s, estimated_time``
    (UTC), ``subsidy_sat`` (now) and ``next_subsidy_sat``.
    """
    p = network_params(network)
    _need(frame, "height", fn="halving_countdown")
    if frame.height == 0:
        raise InvalidValueError("halving_countdown: the frame is empty")
    f = frame.sort("height").with_columns(_time_expr(frame).alias("__t"))
    height = int(f["height"][-1])
    tip_t: dt.datetime = f["__t"][-1]
    tail = f.tail(mean_window + 1)
    if tail.height >= 2:
        mean = (tail["__t"][-1] - tail["__t"][0]).total_seconds() / (tail.height - 1)
    else:
        mean = float(p.pow_target_spacing)
    if mean <= 0:
        mean = float(p.pow_target_spacing)
    iv = p.subsidy_halving_interval
    nxt = (height // iv + 1) * iv
    remaining = nxt - height
    return pl.DataFrame(
        {
            "height": [height],
            "next_halving_height": [nxt],
            "blocks_remaining": [remaining],
            "mean_block_time_s": [mean],
            "estimated_time": [tip_t + dt.timedelta(seconds=remaining * mean)],
            "subsidy_sat": [block_subsidy(height, network=p)],
            "next_subsidy_sat": [block_subsidy(nxt, network=p)],
        },
        schema_overrides={"estimated_time": _UTC},
    )


def daily_issuance(
    frame: pl.DataFrame,
    *,
    network: NetworkLike = "mainnet",
    fees: str | None = None,
) -> pl.DataFrame:
    """Per UTC day: blocks, new coins and (when a per-block fee column is named) fees.

    ``fees`` names a per-block column in satoshis (``*_sat``) or BTC. Returns ``date``
    (Date), ``blocks``, ``subsidy_sat``, ``issuance_btc``, ``difficulty`` (mean),
    ``hashrate_hs``, ``complete`` and with fees ``fees_btc``, ``fee_share`` (fees /
    (subsidy + fees)).

    ``hashrate_hs`` is the work of the day's blocks over the seconds of the day the frame
    covers: 86,400 s for a ``complete`` day; for the frame's first and last dates, which it
    may cover only in part, from the first block's time to the day's end and from the day's
    start to the last block's time (so a frame that starts at 18:00 does not read a quarter of
    the hashrate that day). Those two rows have ``complete`` false; their blocks and issuance
    are what the frame holds.
    """
    _need(frame, "height", "difficulty", fn="daily_issuance")
    subsidy = block_subsidy(frame["height"], network=network)
    f = frame.with_columns(
        _time_expr(frame).alias("__t"), subsidy.alias("subsidy_sat")
    ).with_columns(pl.col("__t").dt.date().alias("date"))
    aggs = [
        pl.len().alias("blocks"),
        pl.col("subsidy_sat").sum(),
        pl.col("difficulty").mean(),
        (pl.col("difficulty").cast(pl.Float64) * WORK_PER_DIFFICULTY).sum().alias("__work"),
        pl.col("__t").min().alias("__t0"),
        pl.col("__t").max().alias("__t1"),
    ]
    if fees is not None:
        _need(frame, fees, fn="daily_issuance")
        scale = 1.0 / _SAT if fees.endswith("_sat") else 1.0
        aggs.append((pl.col(fees).cast(pl.Float64) * scale).sum().alias("fees_btc"))
    day_start = pl.col("date").cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    first = pl.col("date") == pl.col("date").min()
    last = pl.col("date") == pl.col("date").max()
    start = pl.when(first).then(pl.col("__t0")).otherwise(day_start)
    end = pl.when(last).then(pl.col("__t1")).otherwise(day_start + pl.duration(days=1))
    seconds = (end - start).dt.total_microseconds() / 1e6
    out = (
        f.group_by("date")
        .agg(aggs)
        .sort("date")
        .with_columns(
            (pl.col("subsidy_sat") / _SAT).alias("issuance_btc"),
            # a span of 0 s (one block, or all at one time) has no rate
            (pl.col("__work") / pl.when(seconds > 0).then(seconds)).alias("hashrate_hs"),
            (~first & ~last).alias("complete"),
        )
        .drop("__work", "__t0", "__t1")
    )
    if fees is not None:
        out = out.with_columns(
            (pl.col("fees_btc") / (pl.col("issuance_btc") + pl.col("fees_btc"))).alias("fee_share")
        )
    return out


def hashprice(
    frame: pl.DataFrame,
    *,
    difficulty: str = "difficulty",
    subsidy_btc: str | float | None = None,
    fees_btc: str | float | None = None,
    price_usd: str | float | None = None,
) -> pl.DataFrame:
    """Expected miner revenue per unit of hashrate per day (ECONOMICS.md §2).

    ``b = 1e12 · 86400 · (S + F) / (D · 2^32)`` BTC per TH/s per day, with S the subsidy and
    F the mean fees per block (BTC; columns or constants). Without ``subsidy_btc``, S is the
    consensus subsidy of each row's ``height`` when the frame has that column (a chain frame:
    12.5 BTC at height 500,000), else the current era's 3.125 BTC. Adds ``hashprice_btc_th_day``,
    ``hashprice_btc_ph_day`` (×1000), ``hashvalue_sat_th_day`` and, with a price,
    ``hashprice_usd_th_day`` and ``hashprice_usd_ph_day``.
    """

    def numeric(name: str) -> None:
        _need(frame, name, fn="hashprice")
        if not frame.schema[name].is_numeric():
            raise DtypeError(
                f"hashprice: column {name!r} has dtype {frame.schema[name]}; expected numbers "
                f"(convert it first, e.g. pl.col({name!r}).cast(pl.Float64))"
            )

    def val(x: str | float | None) -> pl.Expr:
        if x is None:
            return pl.lit(0.0)
        if isinstance(x, str):
            numeric(x)
            return pl.col(x).cast(pl.Float64)
        return pl.lit(float(x))

    numeric(difficulty)
    if subsidy_btc is None and "height" in frame.columns:
        numeric("height")
        sat = block_subsidy(frame["height"].cast(pl.Int64))
        subsidy: pl.Expr = pl.lit(sat.cast(pl.Float64) / 1e8)
    else:
        subsidy = val(3.125 if subsidy_btc is None else subsidy_btc)
    b = 1e12 * 86400.0 * (subsidy + val(fees_btc)) / (pl.col(difficulty) * 2.0**32)
    cols = [
        b.alias("hashprice_btc_th_day"),
        (b * 1000.0).alias("hashprice_btc_ph_day"),
        (b * _SAT).alias("hashvalue_sat_th_day"),
    ]
    if price_usd is not None:
        pr = val(price_usd)
        cols += [
            (b * pr).alias("hashprice_usd_th_day"),
            (b * pr * 1000.0).alias("hashprice_usd_ph_day"),
        ]
    return frame.with_columns(cols)


def puell_multiple(
    daily: pl.DataFrame,
    *,
    issuance_usd: str | None = None,
    price_usd: str = "price_usd",
    window: int = 365,
) -> pl.DataFrame:
    """Puell multiple: daily issuance in USD over its ``window``-day simple moving average.

    Uses column ``issuance_usd`` if named, else ``issuance_btc × price_usd``. Adds
    ``issuance_usd`` and ``puell_multiple`` (null for the first ``window − 1`` days).
    """
    if issuance_usd is None:
        _need(daily, "issuance_btc", price_usd, fn="puell_multiple")
        iss = (pl.col("issuance_btc") * pl.col(price_usd)).alias("issuance_usd")
    else:
        _need(daily, issuance_usd, fn="puell_multiple")
        iss = pl.col(issuance_usd).alias("issuance_usd")
    out = daily.with_columns(iss)
    return out.with_columns(
        (pl.col("issuance_usd") / pl.col("issuance_usd").rolling_mean(window)).alias(
            "puell_multiple"
        )
    )


def hash_ribbons(
    daily: pl.DataFrame, *, hashrate: str = "hashrate_hs", short: int = 30, long: int = 60
) -> pl.DataFrame:
    """Hash ribbons (C. Edwards, 2019): SMA``short`` vs SMA``long`` of daily hashrate.

    Adds ``hashrate_sma{short}_hs``, ``hashrate_sma{long}_hs``, ``capitulation`` (short <
    long) and ``signal``: ``"capitulation"`` on the day the short SMA crosses below the long
    one, ``"recovery"`` on the day it crosses back above (the classic buy signal without
    the price-momentum filter), null otherwise.
    """
    if not 0 < short < long:
        raise InvalidValueError(f"hash_ribbons: need 0 < short ({short}) < long ({long})")
    _need(daily, hashrate, fn="hash_ribbons")
    s, lg = f"hashrate_sma{short}_hs", f"hashrate_sma{long}_hs"
    out = daily.with_columns(
        pl.col(hashrate).rolling_mean(short).alias(s),
        pl.col(hashrate).rolling_mean(long).alias(lg),
    ).with_columns((pl.col(s) < pl.col(lg)).alias("capitulation"))
    prev = pl.col("capitulation").shift(1)
    return out.with_columns(
        pl.when(pl.col("capitulation") & (prev == False))  # noqa: E712
        .then(pl.lit("capitulation"))
        .when((pl.col("capitulation") == False) & prev)  # noqa: E712
        .then(pl.lit("recovery"))
        .otherwise(None)
        .alias("signal")
    )
