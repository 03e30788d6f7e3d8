"""Fleet economics (ECONOMICS.md §2–3), with the kernels in Rust.

* :func:`economics` — per machine class, per day (or hour): hashrate share, BTC mined,
  revenue, power cost, opex, depreciation, interest, margins, breakeven power price, shutdown
  BTC price, cash and all-in production cost per BTC;
* :func:`breakeven_power_price`, :func:`shutdown_price` — the two thresholds alone;
* :func:`difficulty_trend`, :func:`payback` — payback and ROI along a daily difficulty path
  with an explicit ``"never"`` state;
* :func:`dispatch` — hourly run/curtail decisions against an hourly power-price series, with
  optional start (ramp) cost, minimum run and demand-response credits, without ever
  materialising the machine × hour product;
* :func:`cost_curve`, :func:`network_cost`, :func:`share_under_water` — the network cost
  curve and CBECI-style bounds.

Units are in every column name; all schemas are in ``docs/fleet.md``. Defaults are neutral
(no pool fee, PUE 1, full uptime, no opex) except those named ``ILLUSTRATIVE_*``, which are
public-figure placeholders a user should override.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from typing import Any, Literal, overload

import polars as pl

from hashpivot import _core
from hashpivot import consensus as _consensus
from hashpivot.exceptions import DtypeError, InvalidValueError, SchemaError
from hashpivot.hardware import Fleet, catalog_model

__all__ = [
    "ILLUSTRATIVE_DEPRECIATION_YEARS",
    "breakeven_power_price",
    "btc_per_th_day",
    "cost_curve",
    "difficulty_trend",
    "dispatch",
    "economics",
    "network_cost",
    "network_hashrate_ths",
    "payback",
    "share_under_water",
    "shutdown_price",
]

#: *Illustrative* useful life of an ASIC for depreciation, years.
ILLUSTRATIVE_DEPRECIATION_YEARS = 3.0

SiteValue = float | Mapping[str, float]
FleetLike = Fleet | pl.DataFrame | str

_STATUS = {0: "paid_back", 1: "not_by_horizon", 2: "never"}


# ----------------------------------------------------------------------------- helpers


def _num(value: object, arg: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise DtypeError(f"{arg}: {type(value).__name__} is not a number")
    v = float(value)
    if not math.isfinite(v):
        raise InvalidValueError(f"{arg}: {v} is not a finite number")
    return v


def subsidy_btc_at(height: int | None, subsidy_btc: float | None) -> float:
    """Subsidy per block in BTC: from ``height`` (consensus schedule) or given directly."""
    if height is not None and subsidy_btc is not None:
        raise InvalidValueError("height / subsidy_btc: pass one of them, not both")
    if height is not None:
        return _consensus.block_subsidy(height) / 1e8
    if subsidy_btc is not None:
        return _num(subsidy_btc, "subsidy_btc")
    raise InvalidValueError(
        "height / subsidy_btc: pass height= (the subsidy follows the halving schedule) or "
        "subsidy_btc= (BTC per block, e.g. 3.125)"
    )


def btc_per_th_day(
    difficulty: float,
    *,
    height: int | None = None,
    subsidy_btc: float | None = None,
    fees_btc_per_block: float = 0.0,
) -> float:
    """Expected BTC per TH/s per day: ``1e12 · 86400 · (S + F) / (D · 2^32)``."""
    s = subsidy_btc_at(height, subsidy_btc)
    return _core.btc_per_th_day(
        _num(difficulty, "difficulty"), s, _num(fees_btc_per_block, "fees_btc_per_block")
    )


def network_hashrate_ths(difficulty: float) -> float:
    """Network hashrate implied by difficulty: ``D · 2^32 / 600`` H/s, in TH/s."""
    return _core.network_hashrate_ths(_num(difficulty, "difficulty"))


def _as_fleet(fleet: FleetLike) -> Fleet:
    if isinstance(fleet, Fleet):
        return fleet
    if isinstance(fleet, str):
        catalog_model(fleet)  # raises with the known names
        return Fleet.from_catalog({fleet: 1})
    if isinstance(fleet, pl.DataFrame):
        return Fleet(fleet)
    raise DtypeError(
        f"fleet: {type(fleet).__name__} is not a Fleet, a frame or a catalog model name"
    )


def _site_col(value: SiteValue, fleet: Fleet, arg: str) -> pl.Expr:
    """A per-class column from one number or a site → number map."""
    if isinstance(value, Mapping):
        missing = sorted(set(fleet.sites) - set(value))
        if missing:
            raise InvalidValueError(
                f"{arg}: no value for sites {missing}; give every site of the fleet a value "
                "(or pass one number for all)"
            )
        return pl.col("site").replace_strict(
            {k: _num(v, f"{arg}[{k!r}]") for k, v in value.items()}, return_dtype=pl.Float64
        )
    return pl.lit(_num(value, arg), dtype=pl.Float64)


def _columns(pairs: list[tuple[str, Any]]) -> pl.DataFrame:
    return pl.DataFrame([pl.Series(arr).alias(name) for name, arr in pairs])


def _age_days(fleet: Fleet, as_of: dt.date | None) -> pl.Expr:
    if as_of is None:
        return pl.lit(0.0)
    if isinstance(as_of, dt.datetime):
        as_of = as_of.date()
    if not isinstance(as_of, dt.date):
        raise DtypeError(f"as_of: {type(as_of).__name__} is not a date")
    return (
        (pl.lit(as_of) - pl.col("purchase_date"))
        .dt.total_days()
        .cast(pl.Float64)
        .fill_null(0.0)
        .clip(lower_bound=0.0)
    )


def _class_table(
    fleet: Fleet,
    *,
    power_price_usd_kwh: SiteValue,
    pue: SiteValue,
    uptime: SiteValue,
    pool_fee: SiteValue,
    opex_usd_month: SiteValue,
    hosting_fee_usd_kwh: SiteValue,
    as_of: dt.date | None = None,
) -> pl.DataFrame:
    return fleet.frame.select(
        pl.col("hashrate_ths"),
        pl.col("power_w"),
        pl.col("count").cast(pl.Float64),
        pl.col("price_usd"),
        _age_days(fleet, as_of).alias("age_days"),
        _site_col(power_price_usd_kwh, fleet, "power_price_usd_kwh").alias("power_price_usd_kwh"),
        _site_col(pue, fleet, "pue").alias("pue"),
        _site_col(uptime, fleet, "uptime").alias("uptime"),
        _site_col(pool_fee, fleet, "pool_fee").alias("pool_fee"),
        _site_col(opex_usd_month, fleet, "opex_usd_month").alias("opex_usd_month"),
        _site_col(hosting_fee_usd_kwh, fleet, "hosting_fee_usd_kwh").alias("hosting_fee_usd_kwh"),
    )


_ID_COLS = ["class_id", "model", "site", "count", "efficiency_jth"]


# ----------------------------------------------------------------------------- economics


def economics(
    fleet: FleetLike,
    *,
    difficulty: float,
    price_usd: float,
    power_price_usd_kwh: SiteValue,
    height: int | None = None,
    subsidy_btc: float | None = None,
    fees_btc_per_block: float = 0.0,
    pool_fee: SiteValue = 0.0,
    pue: SiteValue = 1.0,
    uptime: SiteValue = 1.0,
    opex_usd_month: SiteValue = 0.0,
    hosting_fee_usd_kwh: SiteValue = 0.0,
    depreciation: Literal["straight_line", "declining"] = "straight_line",
    depreciation_years: float = ILLUSTRATIVE_DEPRECIATION_YEARS,
    salvage_fraction: float = 0.0,
    declining_rate: float | None = None,
    interest_rate: float = 0.0,
    as_of: dt.date | None = None,
    period: Literal["day", "hour"] = "day",
) -> pl.DataFrame:
    """Per-class economics at one market state (ECONOMICS.md §3).

    Parameters
    ----------
    fleet
        A :class:`~hashpivot.hardware.Fleet`, a fleet frame, or one catalog model name.
    difficulty
        Network difficulty (e.g. ``difficulty_epochs()`` at an epoch).
    price_usd
        BTC price, USD.
    power_price_usd_kwh, pool_fee, pue, uptime, opex_usd_month, hosting_fee_usd_kwh
        Site terms: one number, or a ``{site: value}`` map. ``opex_usd_month`` is per unit;
        ``hosting_fee_usd_kwh`` is charged on top of the power price for every kWh.
    height, subsidy_btc
        The block subsidy: from a height (halving schedule) or in BTC per block.
    fees_btc_per_block
        Mean fees per block, BTC.
    depreciation, depreciation_years, salvage_fraction, declining_rate
        ``"straight_line"`` or ``"declining"`` balance (rate defaults to ``min(2 / years, 1)``);
        the machines' ages come from ``purchase_date`` and ``as_of``.
    interest_rate
        Annual rate charged on the book value (financed capital); 0 for none.
    as_of
        Valuation date for ages; ``None`` treats every machine as new.
    period
        ``"day"`` or ``"hour"``: the flow columns are per this period and named with it.

    Returns
    -------
    polars.DataFrame
        One row per class; see ``docs/fleet.md`` (``economics`` schema).
    """
    fl = _as_fleet(fleet)
    if period not in ("day", "hour"):
        raise InvalidValueError(f"period: {period!r} is not 'day' or 'hour'")
    b = btc_per_th_day(
        difficulty, height=height, subsidy_btc=subsidy_btc, fees_btc_per_block=fees_btc_per_block
    )
    table = _class_table(
        fl,
        power_price_usd_kwh=power_price_usd_kwh,
        pue=pue,
        uptime=uptime,
        pool_fee=pool_fee,
        opex_usd_month=opex_usd_month,
        hosting_fee_usd_kwh=hosting_fee_usd_kwh,
        as_of=as_of,
    )
    cols = _core.fleet_economics(
        table,
        btc_per_th_day=b,
        price_usd=_num(price_usd, "price_usd"),
        network_hashrate_ths=network_hashrate_ths(difficulty),
        depreciation=depreciation,
        depreciation_years=_num(depreciation_years, "depreciation_years"),
        salvage_fraction=_num(salvage_fraction, "salvage_fraction"),
        declining_rate=None if declining_rate is None else _num(declining_rate, "declining_rate"),
        interest_rate=_num(interest_rate, "interest_rate"),
        hours=24.0 if period == "day" else 1.0,
    )
    res = _columns(cols)
    flows = [
        "btc",
        "revenue_usd",
        "energy_kwh",
        "power_cost_usd",
        "opex_usd",
        "depreciation_usd",
        "interest_usd",
        "margin_usd",
        "all_in_margin_usd",
    ]
    res = res.rename({c: f"{c}_{period}" for c in flows})
    res = res.with_columns(pl.col(pl.Float64).fill_nan(None))
    # Per unit, not from the flows: a class with count 0 (or uptime 0) has zero revenue and
    # zero power cost but is still under water when its breakeven is below the power price.
    res = res.with_columns(
        (pl.col("breakeven_power_price_usd_kwh") < table["power_price_usd_kwh"]).alias(
            "under_water"
        )
    )
    return pl.concat([fl.frame.select(_ID_COLS), res], how="horizontal")


@overload
def breakeven_power_price(fleet: str, **kwargs: Any) -> float: ...
@overload
def breakeven_power_price(fleet: Fleet | pl.DataFrame, **kwargs: Any) -> pl.DataFrame: ...
def breakeven_power_price(fleet: FleetLike, **kwargs: Any) -> float | pl.DataFrame:
    """Power price at which revenue equals power cost, $/kWh:
    ``p* = 1000 · b · P · (1 − f) / (24 · e · k) − hosting fee``.

    Takes :func:`economics`' keywords (``difficulty``, ``price_usd``, ``height`` or
    ``subsidy_btc``, ``fees_btc_per_block``, ``pool_fee``, ``pue``, ``hosting_fee_usd_kwh``);
    ``power_price_usd_kwh`` is not needed. A model name gives a float; a fleet gives a frame
    ``class_id, model, site, efficiency_jth, breakeven_power_price_usd_kwh``.
    """
    kwargs.setdefault("power_price_usd_kwh", 0.0)
    e = economics(fleet, **kwargs)
    if isinstance(fleet, str):
        return float(e["breakeven_power_price_usd_kwh"][0])
    return e.select("class_id", "model", "site", "efficiency_jth", "breakeven_power_price_usd_kwh")


@overload
def shutdown_price(fleet: str, **kwargs: Any) -> float: ...
@overload
def shutdown_price(fleet: Fleet | pl.DataFrame, **kwargs: Any) -> pl.DataFrame: ...
def shutdown_price(fleet: FleetLike, **kwargs: Any) -> float | pl.DataFrame:
    """BTC price at which revenue equals power cost, USD:
    ``P* = 24 · e · k · (p + hosting) / (1000 · b · (1 − f))``.

    Takes :func:`economics`' keywords; ``price_usd`` is not needed. A model name gives a
    float; a fleet gives a frame ``class_id, model, site, efficiency_jth, shutdown_price_usd``.
    Where a TH/s earns no BTC (no subsidy left and no fees) no price pays for the power: the
    float is ``inf`` and the frame's value null.
    """
    kwargs.setdefault("price_usd", 0.0)
    e = economics(fleet, **kwargs)
    if isinstance(fleet, str):
        v = e["shutdown_price_usd"][0]
        return math.inf if v is None else float(v)
    return e.select("class_id", "model", "site", "efficiency_jth", "shutdown_price_usd")


# ----------------------------------------------------------------------------- payback


def difficulty_trend(
    *,
    start: dt.date,
    days: int,
    difficulty: float,
    height: int,
    annual_growth: float,
    price_usd: float,
    fees_btc_per_block: float = 0.0,
    blocks_per_day: float = 144.0,
) -> pl.DataFrame:
    """A daily path with difficulty growing ``annual_growth`` per year, stepping at retargets.

    Heights advance ``blocks_per_day`` per day from ``height``; difficulty changes only at
    retarget heights (multiples of 2016), each step by ``(1 + annual_growth)^(2016 /
    (blocks_per_day · 365))``; the subsidy follows the halving schedule (so a path through
    height 1,050,000 halves revenue there). BTC price and fees are held flat — pass your own
    frame for other paths.

    Columns: ``date`` (Date), ``day`` (Int64, 0-based), ``height`` (Int64),
    ``difficulty`` (Float64), ``subsidy_btc`` (Float64, BTC/block), ``fees_btc_per_block``
    (Float64), ``btc_per_th_day`` (Float64), ``price_usd`` (Float64).
    """
    if isinstance(days, bool) or not isinstance(days, int) or days <= 0:
        raise InvalidValueError(f"days: {days!r} must be an int > 0")
    if isinstance(start, dt.datetime) or not isinstance(start, dt.date):
        raise DtypeError(
            f"start: {start!r} is not a datetime.date; pass e.g. datetime.date(2026, 2, 11)"
        )
    if isinstance(height, bool) or not isinstance(height, int) or not 0 <= height < 2**40:
        raise InvalidValueError(
            f"height: {height!r} must be a block height (an int in [0, 2^40); real chains are "
            "below 2^32)"
        )
    d0 = _num(difficulty, "difficulty")
    if not d0 > 0:
        raise InvalidValueError(f"difficulty: {d0} must be > 0")
    if not _num(price_usd, "price_usd") >= 0:
        raise InvalidValueError(f"price_usd: {price_usd} must be ≥ 0")
    g = _num(annual_growth, "annual_growth")
    if g <= -1.0:
        raise InvalidValueError(f"annual_growth: {g} must be > -1 (-100 %)")
    bpd = _num(blocks_per_day, "blocks_per_day")
    if not 1.0 <= bpd <= 1e6:
        raise InvalidValueError(
            f"blocks_per_day: {bpd} must lie in [1, 1e6] (144 for 10-minute blocks)"
        )
    step = (1.0 + g) ** (2016.0 / (bpd * 365.0))
    base_epoch = height // 2016
    df = pl.DataFrame({"day": pl.int_range(0, days, eager=True).cast(pl.Int64)})
    df = df.with_columns(
        pl.lit(start).dt.offset_by(pl.format("{}d", pl.col("day"))).alias("date"),
        (pl.lit(height) + (pl.col("day") * bpd).floor().cast(pl.Int64)).alias("height"),
    )
    df = df.with_columns(
        (pl.lit(d0) * pl.lit(step).pow(pl.col("height") // 2016 - base_epoch)).alias("difficulty"),
        (_consensus.block_subsidy(df["height"]).cast(pl.Float64) / 1e8).alias("subsidy_btc"),
        pl.lit(_num(fees_btc_per_block, "fees_btc_per_block")).alias("fees_btc_per_block"),
        pl.lit(_num(price_usd, "price_usd")).alias("price_usd"),
    )
    df = df.with_columns(_btc_per_th_day_expr().alias("btc_per_th_day"))
    return df.select(
        "date",
        "day",
        "height",
        "difficulty",
        "subsidy_btc",
        "fees_btc_per_block",
        "btc_per_th_day",
        "price_usd",
    )


def _btc_per_th_day_expr() -> pl.Expr:
    return (
        pl.lit(1e12 * 86400.0)
        * (pl.col("subsidy_btc") + pl.col("fees_btc_per_block"))
        / (pl.col("difficulty") * pl.lit(2.0**32))
    )


def payback(
    fleet: FleetLike,
    path: pl.DataFrame,
    *,
    power_price_usd_kwh: SiteValue | None = None,
    pool_fee: SiteValue = 0.0,
    pue: SiteValue = 1.0,
    uptime: SiteValue = 1.0,
    opex_usd_month: SiteValue = 0.0,
    hosting_fee_usd_kwh: SiteValue = 0.0,
    curtail: bool = True,
) -> pl.DataFrame:
    """Payback and ROI of each class's purchase price along a daily path.

    ``path`` has one row per day: ``date`` (Date) and either ``btc_per_th_day`` or
    ``difficulty`` with ``subsidy_btc`` (or ``height``) and optional ``fees_btc_per_block``;
    plus ``price_usd`` (BTC price) and optionally ``power_price_usd_kwh`` (overrides the
    keyword for every class). :func:`difficulty_trend` builds one.

    With ``curtail`` a unit is off on days its revenue does not cover its power (it still
    pays opex). ``status`` is ``"paid_back"``, ``"not_by_horizon"`` (still cash-positive on
    the last day: extend the path) or ``"never"`` (not cash-positive on the last day: under
    this path it cannot earn its price back). Never "today's yield forever".
    """
    fl = _as_fleet(fleet)
    if not isinstance(path, pl.DataFrame):
        raise DtypeError(f"path: {type(path).__name__} is not a polars DataFrame")
    p = _path_table(path)
    if power_price_usd_kwh is None and "power_price_usd_kwh" not in p.columns:
        raise InvalidValueError(
            "power_price_usd_kwh: not given and the path has no power_price_usd_kwh column; "
            "pass one of them"
        )
    table = _class_table(
        fl,
        power_price_usd_kwh=0.0 if power_price_usd_kwh is None else power_price_usd_kwh,
        pue=pue,
        uptime=uptime,
        pool_fee=pool_fee,
        opex_usd_month=opex_usd_month,
        hosting_fee_usd_kwh=hosting_fee_usd_kwh,
    )
    if power_price_usd_kwh is not None and "power_price_usd_kwh" in p.columns:
        raise InvalidValueError(
            "power_price_usd_kwh: given both as a keyword and as a path column; drop one"
        )
    res = _columns(_core.fleet_payback(table, p, curtail=bool(curtail)))
    if "date" in path.columns and not (
        path.schema["date"] == pl.Date or isinstance(path.schema["date"], pl.Datetime)
    ):
        raise DtypeError(
            f"path: column 'date' has dtype {path.schema['date']}; expected dates (parse it "
            "first, e.g. pl.col('date').str.to_date())"
        )
    if "date" in path.columns and path.height > 1:
        days = path["date"].cast(pl.Date)
        step = days.diff().slice(1).dt.total_days()
        gap = (step != 1).fill_null(True)
        if gap.any():
            row = int(gap.arg_true()[0]) + 1
            raise InvalidValueError(
                f"path: row {row} has date {days[row]} after {days[row - 1]}; a payback path "
                "has one row per day in date order (sort it by date, drop repeated days, fill "
                "gaps)"
            )
    start = path["date"][0] if "date" in path.columns else None
    res = res.with_columns(
        pl.col("status_code").replace_strict(_STATUS, return_dtype=pl.String).alias("status"),
        pl.col("roi").fill_nan(None),
        (
            # day n of the path is start + n − 1; nothing to pay back (0 days) is the start
            (pl.lit(start) + pl.duration(days=(pl.col("payback_days") - 1).clip(0))).cast(pl.Date)
            if start is not None
            else pl.lit(None, pl.Date)
        ).alias("payback_date"),
        pl.lit(path.height, pl.Int64).alias("horizon_days"),
    )
    out = res.select(
        "capex_usd",
        "status",
        "payback_days",
        "payback_date",
        "roi",
        "cum_margin_usd",
        "btc",
        "last_day_margin_usd",
        "days_running",
        "horizon_days",
    )
    return pl.concat([fl.frame.select(_ID_COLS), out], how="horizontal")


def _path_table(path: pl.DataFrame) -> pl.DataFrame:
    cols = set(path.columns)
    _numeric(
        path,
        "path",
        ("price_usd", "btc_per_th_day", "difficulty", "height", "subsidy_btc",
         "fees_btc_per_block", "power_price_usd_kwh"),
    )  # fmt: skip
    if "price_usd" not in cols:
        raise SchemaError(
            f"path: no 'price_usd' column (columns: {path.columns}); add the BTC price"
        )
    if "btc_per_th_day" in cols:
        b = pl.col("btc_per_th_day").cast(pl.Float64)
    elif "difficulty" in cols:
        df = path
        if "subsidy_btc" not in cols:
            if "height" not in cols:
                raise SchemaError(
                    "path: has 'difficulty' but neither 'subsidy_btc' nor 'height'; add one"
                )
            df = df.with_columns(
                (
                    _consensus.block_subsidy(path["height"].cast(pl.Int64)).cast(pl.Float64) / 1e8
                ).alias("subsidy_btc")
            )
        if "fees_btc_per_block" not in cols:
            df = df.with_columns(pl.lit(0.0).alias("fees_btc_per_block"))
        path = df
        b = _btc_per_th_day_expr()
    else:
        raise SchemaError(
            f"path: needs 'btc_per_th_day' or 'difficulty' (columns: {path.columns}); "
            "see fleet.difficulty_trend"
        )
    sel = [
        b.cast(pl.Float64).alias("btc_per_th_day"),
        pl.col("price_usd").cast(pl.Float64).alias("btc_price_usd"),
    ]
    if "power_price_usd_kwh" in cols:
        sel.append(pl.col("power_price_usd_kwh").cast(pl.Float64))
    out = path.select(sel)
    _no_nulls(out, "path")
    return out


def _numeric(df: pl.DataFrame, arg: str, cols: Iterable[str]) -> None:
    """DtypeError naming the first of ``cols`` (those present) that does not hold numbers."""
    for c in cols:
        if c in df.columns and not (df.schema[c].is_numeric() or df.schema[c] == pl.Null):
            raise DtypeError(
                f"{arg}: column {c!r} has dtype {df.schema[c]}; expected numbers (convert it "
                f"first, e.g. pl.col({c!r}).cast(pl.Float64))"
            )


def _no_nulls(df: pl.DataFrame, arg: str) -> None:
    for c in df.columns:
        n = df[c].null_count()
        if n:
            row = df.with_row_index("_r").filter(pl.col(c).is_null())["_r"][0]
            raise InvalidValueError(
                f"{arg}: column {c!r} has {n} nulls (first at row {row}); fill or drop them"
            )


# ----------------------------------------------------------------------------- dispatch


def dispatch(
    fleet: FleetLike,
    prices: pl.DataFrame,
    *,
    difficulty: float,
    price_usd: float | None = None,
    height: int | None = None,
    subsidy_btc: float | None = None,
    fees_btc_per_block: float = 0.0,
    pool_fee: float = 0.0,
    pue: float = 1.0,
    uptime: float = 1.0,
    hosting_fee_usd_kwh: float = 0.0,
    dr_credit_usd_kwh: float | None = None,
    start_cost_usd: float = 0.0,
    min_run_hours: int = 1,
    method: Literal["auto", "dp"] = "auto",
) -> pl.DataFrame:
    """Run or curtail every class in every hour of an hourly power-price series.

    ``prices`` has one row per hour: ``power_price_usd_kwh`` (may be negative), optional
    ``dr_credit_usd_kwh`` (credit per kWh of curtailed load; or pass the keyword for a flat
    credit) and optional ``price_usd`` (hourly BTC price; else the keyword). A unit runs in an
    hour iff its revenue beats its power cost plus the credit it would earn curtailed, net of
    ``start_cost_usd`` per start and a ``min_run_hours`` minimum run once started (solved
    exactly per class by dynamic programming when either is set). Every class starts on.

    Work is O((classes + hours) · log hours) without start costs and O(classes · hours ·
    min_run) with them; memory never holds the classes × hours product. One site per call:
    use ``fleet.filter(site=...)`` to dispatch sites against their own series.

    Returns one row per class; see ``docs/fleet.md`` (``dispatch`` schema).
    """
    fl = _as_fleet(fleet)
    if not isinstance(prices, pl.DataFrame):
        raise DtypeError(f"prices: {type(prices).__name__} is not a polars DataFrame")
    if "power_price_usd_kwh" not in prices.columns:
        raise SchemaError(
            f"prices: no 'power_price_usd_kwh' column (columns: {prices.columns}); one row "
            "per hour with the power price in $/kWh"
        )
    if prices.height == 0:
        raise InvalidValueError("prices: no hours; pass at least one row")
    _numeric(prices, "prices", ("power_price_usd_kwh", "price_usd", "dr_credit_usd_kwh"))
    b_hour = (
        btc_per_th_day(
            difficulty,
            height=height,
            subsidy_btc=subsidy_btc,
            fees_btc_per_block=fees_btc_per_block,
        )
        / 24.0
    )
    if "price_usd" in prices.columns:
        if price_usd is not None:
            raise InvalidValueError("price_usd: given as keyword and as a prices column; drop one")
        px = pl.col("price_usd").cast(pl.Float64)
    elif price_usd is None:
        raise InvalidValueError("price_usd: pass the BTC price (keyword or hourly column)")
    else:
        px = pl.lit(_num(price_usd, "price_usd"))
    if "dr_credit_usd_kwh" in prices.columns:
        if dr_credit_usd_kwh is not None:
            raise InvalidValueError(
                "dr_credit_usd_kwh: given as keyword and as a prices column; drop one"
            )
        dr = pl.col("dr_credit_usd_kwh").cast(pl.Float64)
    else:
        dr = pl.lit(
            0.0 if dr_credit_usd_kwh is None else _num(dr_credit_usd_kwh, "dr_credit_usd_kwh")
        )
    hourly = prices.select(
        pl.col("power_price_usd_kwh").cast(pl.Float64),
        dr.alias("dr_credit_usd_kwh"),
        pl.lit(b_hour).alias("btc_per_th_hour"),
        px.alias("btc_price_usd"),
    )
    _no_nulls(hourly, "prices")
    if isinstance(min_run_hours, bool) or not isinstance(min_run_hours, int) or min_run_hours < 0:
        raise InvalidValueError(f"min_run_hours: {min_run_hours!r} must be an int ≥ 0")
    if method not in ("auto", "dp"):
        raise InvalidValueError(f"method: {method!r} is not 'auto' or 'dp'")
    classes = fl.frame.select(
        pl.col("hashrate_ths"), pl.col("power_w"), pl.col("count").cast(pl.Float64)
    )
    cols = _core.fleet_dispatch(
        classes,
        hourly,
        pue=_num(pue, "pue"),
        uptime=_num(uptime, "uptime"),
        pool_fee=_num(pool_fee, "pool_fee"),
        hosting_fee_usd_kwh=_num(hosting_fee_usd_kwh, "hosting_fee_usd_kwh"),
        start_cost_usd=_start_cost(start_cost_usd),
        min_run_hours=min_run_hours,
        force_dp=method == "dp",
    )
    res = _columns(cols)
    res = res.with_columns(
        (pl.col("margin_usd") - pl.col("always_on_margin_usd")).alias("flexibility_value_usd")
    )
    return pl.concat([fl.frame.select(_ID_COLS), res], how="horizontal")


def _positive_total(col: pl.Series, where: str, what: str) -> float:
    """The sum of ``col``, whose values must each be ``what`` (finite, ≥ 0, not null) and
    whose sum must be > 0; errors name ``where``, the row and the column."""
    values = col.cast(pl.Float64)
    bad = (values.is_null() | ~values.is_finite() | (values < 0)).fill_null(True)
    if bad.any():
        r = int(bad.arg_true()[0])
        raise InvalidValueError(f"{where} (row {r}): {col.name} {values[r]} must be {what}")
    total = float(values.sum())
    if not total > 0:
        raise InvalidValueError(
            f"{where}: {col.name} sums to 0 (or the frame is empty); give positive values"
        )
    return total


def _start_cost(v: object) -> float:
    """``start_cost_usd`` checked: a finite cost ≥ 0 of at most 1e12 USD a restart (beyond
    that the dispatch's sums of costs overflow)."""
    x = _num(v, "start_cost_usd")
    if not 0.0 <= x <= 1e12:
        raise InvalidValueError(
            f"start_cost_usd: {x!r} must be a cost in USD per restart of a class, in [0, 1e12]"
        )
    return x


# ----------------------------------------------------------------------------- cost curve


def _mix_table(mix: pl.DataFrame, network_ths: float, capex_usd_th: float | None) -> pl.DataFrame:
    if not isinstance(mix, pl.DataFrame):
        raise DtypeError(f"mix: {type(mix).__name__} is not a polars DataFrame")
    cols = set(mix.columns)
    _numeric(mix, "mix", ("efficiency_jth", "hashrate_ths", "hashrate_share", "capex_usd_th"))
    df = mix
    if "efficiency_jth" not in cols:
        if "model" not in cols:
            raise SchemaError(
                f"mix: needs 'efficiency_jth' or a catalog 'model' (columns: {mix.columns})"
            )
        from hashpivot.hardware import asic_catalog

        if mix.schema["model"] != pl.String:
            raise DtypeError(
                f"mix: column 'model' is {mix.schema['model']}; expected catalog model names "
                "(strings)"
            )
        df = df.join(asic_catalog().select("model", "efficiency_jth"), on="model", how="left")
        bad = df.filter(pl.col("efficiency_jth").is_null())["model"].to_list()
        if bad:
            raise InvalidValueError(
                f"mix: models {bad[:5]} are not in the ASIC catalog; add efficiency_jth"
            )
    if "hashrate_ths" in cols:
        _positive_total(df["hashrate_ths"], "mix", "a finite hashrate ≥ 0 (TH/s)")
        h = pl.col("hashrate_ths").cast(pl.Float64)
    elif "hashrate_share" in cols:
        total = _positive_total(df["hashrate_share"], "mix", "a finite share ≥ 0")
        h = pl.col("hashrate_share").cast(pl.Float64) / total * network_ths
    else:
        raise SchemaError(f"mix: needs 'hashrate_ths' or 'hashrate_share' (columns: {mix.columns})")
    if "capex_usd_th" in cols:
        if capex_usd_th is not None:
            raise InvalidValueError("capex_usd_th: given as keyword and as a mix column; drop one")
        cap = pl.col("capex_usd_th").cast(pl.Float64)
    else:
        cap = pl.lit(0.0 if capex_usd_th is None else _num(capex_usd_th, "capex_usd_th"))
    out = df.select(
        pl.col("efficiency_jth").cast(pl.Float64),
        h.alias("hashrate_ths"),
        cap.alias("capex_usd_th"),
    )
    _no_nulls(out, "mix")
    return out


def _curve(
    mix: pl.DataFrame,
    *,
    difficulty: float,
    price_usd: float,
    power_price_usd_kwh: float,
    height: int | None,
    subsidy_btc: float | None,
    fees_btc_per_block: float,
    pool_fee: float,
    pue: float,
    capex_usd_th: float | None,
    depreciation_years: float,
) -> tuple[pl.DataFrame, dict[str, float], pl.DataFrame, float]:
    net = network_hashrate_ths(difficulty)
    b = btc_per_th_day(
        difficulty, height=height, subsidy_btc=subsidy_btc, fees_btc_per_block=fees_btc_per_block
    )
    table = _mix_table(mix, net, capex_usd_th)
    cols, summary = _core.fleet_cost_curve(
        table,
        btc_per_th_day=b,
        price_usd=_num(price_usd, "price_usd"),
        power_price_usd_kwh=_num(power_price_usd_kwh, "power_price_usd_kwh"),
        pue=_num(pue, "pue"),
        pool_fee=_num(pool_fee, "pool_fee"),
        depreciation_years=_num(depreciation_years, "depreciation_years"),
    )
    return _columns(cols), summary, table, net


def cost_curve(
    mix: pl.DataFrame,
    *,
    difficulty: float,
    price_usd: float,
    power_price_usd_kwh: float,
    height: int | None = None,
    subsidy_btc: float | None = None,
    fees_btc_per_block: float = 0.0,
    pool_fee: float = 0.0,
    pue: float = 1.0,
    capex_usd_th: float | None = None,
    depreciation_years: float = ILLUSTRATIVE_DEPRECIATION_YEARS,
) -> pl.DataFrame:
    """The network cost curve: hardware classes sorted by shutdown BTC price.

    ``mix`` has ``efficiency_jth`` (or a catalog ``model``) and either ``hashrate_ths`` or
    ``hashrate_share`` (scaled to the network hashrate implied by ``difficulty``), and
    optionally ``capex_usd_th`` for the all-in cost (else the keyword, else 0).
    :func:`hashpivot.hardware.network_mix` gives an *illustrative* mix.

    Returns one row per class in curve order: the mix's own columns, then
    ``hashrate_ths, shutdown_price_usd, breakeven_power_price_usd_kwh, cash_cost_usd_per_btc,
    all_in_cost_usd_per_btc, cum_hashrate_ths, cum_hashrate_share, under_water``.
    """
    curve, _, table, _ = _curve(
        mix,
        difficulty=difficulty,
        price_usd=price_usd,
        power_price_usd_kwh=power_price_usd_kwh,
        height=height,
        subsidy_btc=subsidy_btc,
        fees_btc_per_block=fees_btc_per_block,
        pool_fee=pool_fee,
        pue=pue,
        capex_usd_th=capex_usd_th,
        depreciation_years=depreciation_years,
    )
    rows = curve["row"]
    keep = [c for c in mix.columns if c not in ("hashrate_ths", "efficiency_jth", "capex_usd_th")]
    left = mix.select(keep)[rows] if keep else pl.DataFrame()
    mid = table[rows]
    return pl.concat([left, mid, curve.drop("row")], how="horizontal")


def network_cost(
    mix: pl.DataFrame,
    *,
    difficulty: float,
    price_usd: float,
    power_price_usd_kwh: float,
    height: int | None = None,
    subsidy_btc: float | None = None,
    fees_btc_per_block: float = 0.0,
    pool_fee: float = 0.0,
    pue: float = 1.0,
    capex_usd_th: float | None = None,
    depreciation_years: float = ILLUSTRATIVE_DEPRECIATION_YEARS,
) -> pl.DataFrame:
    """One-row summary of the cost curve: share under water, network average cash and all-in
    cost per BTC, and CBECI-style lower / upper / best-guess bounds on efficiency, power draw
    and cash cost per BTC. Same arguments as :func:`cost_curve`; schema in ``docs/fleet.md``.
    """
    _, s, _, net = _curve(
        mix,
        difficulty=difficulty,
        price_usd=price_usd,
        power_price_usd_kwh=power_price_usd_kwh,
        height=height,
        subsidy_btc=subsidy_btc,
        fees_btc_per_block=fees_btc_per_block,
        pool_fee=pool_fee,
        pue=pue,
        capex_usd_th=capex_usd_th,
        depreciation_years=depreciation_years,
    )
    row: dict[str, float] = {
        "price_usd": float(price_usd),
        "power_price_usd_kwh": float(power_price_usd_kwh),
        "network_hashrate_ths": net,
        "mix_hashrate_ths": s.pop("hashrate_ths"),
    }
    row.update(s)
    return pl.DataFrame([row]).with_columns(pl.col(pl.Float64).fill_nan(None))


def share_under_water(curve: pl.DataFrame, price_usd: float) -> float:
    """Share of the curve's hashrate whose shutdown price is above ``price_usd``."""
    if not isinstance(curve, pl.DataFrame):
        raise DtypeError(
            f"curve: {type(curve).__name__} is not a polars DataFrame; pass what cost_curve "
            "returned"
        )
    for c in ("shutdown_price_usd", "hashrate_ths"):
        if c not in curve.columns:
            raise SchemaError(f"curve: no {c!r} column; pass the frame cost_curve returned")
        if not curve.schema[c].is_numeric():
            raise DtypeError(f"curve: column {c!r} is {curve.schema[c]}; expected numbers")
    p = _num(price_usd, "price_usd")
    total = _positive_total(curve["hashrate_ths"], "curve", "a finite hashrate ≥ 0 (TH/s)")
    under = float(curve.filter(pl.col("shutdown_price_usd") > p)["hashrate_ths"].sum())
    return under / total
