"""Revenue models: the protocol plugins implement, the site context, the cash-flow schema.

A revenue model turns a site's MW allocation over time and a whole scenario frame (all
paths, all days) into daily cash flows, with polars expressions, never a Python loop over
paths or days (ARCHITECTURE.md: "Plugins are vectorised").

The scenario a model receives (:func:`prepare_scenario` builds it) is the simulator's daily
frame sorted by ``path`` then ``date``, with every path covering the same dates, plus one
helper column ``day`` (Int32, 0 on each path's first date). Because the layout is that
regular, shifting a column by ``k`` rows and masking ``day < k`` is a lag of ``k`` days within
each path: :func:`lag_days`, :func:`active_mw` and :func:`added_mw` do that.

Cash-flow schema (one row per scenario row, same order, validated by the host):

=================  =========  ==========================================================
column             dtype      meaning
=================  =========  ==========================================================
``path``           Int64      scenario path
``date``           as input   the scenario's date (Date or Datetime UTC)
``mw``             Float64    MW allocated to the model that day (site power at the wall)
``revenue_usd``    Float64    revenue that day (USD), hedges included
``opex_usd``       Float64    operating cost that day (USD): power, staff, maintenance
``capex_usd``      Float64    capital spent that day (USD)
``model``          String     optional; the host adds it (the model's name) when absent
extra columns      numeric    optional; the name must end with a unit suffix
                              (``_usd``, ``_btc``, ``_mw``, ``_kwh``, ``_ph``, ...)
=================  =========  ==========================================================

Net cash flow = ``revenue_usd - opex_usd - capex_usd``. Extra columns (``depreciation_usd``,
``hedge_pnl_usd``) are informative and not counted again.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, runtime_checkable

import polars as pl

from hashpivot import _core
from hashpivot.exceptions import DtypeError, InvalidValueError, SchemaError

__all__ = [
    "AGE_COLUMN",
    "CASH_FLOW_COLUMNS",
    "DAYS_PER_MONTH",
    "DAYS_PER_YEAR",
    "MAX_TRANCHES",
    "REQUIRED_SCENARIO_COLUMNS",
    "SCENARIO_COLUMNS",
    "UNIT_SUFFIXES",
    "LinearRevenueModel",
    "PreparedScenario",
    "RevenueModel",
    "SiteContext",
    "active_mw",
    "added_mw",
    "allocation_series",
    "cash_flow_frame",
    "lag_days",
    "parameters",
    "per_age",
    "per_day",
    "prepare_scenario",
    "service_start",
    "service_tranches",
    "site_power_price",
    "validate_cash_flows",
    "with_service_age",
]

#: The column a model with ``service_clock = True`` reads its MW's age from (Int32 days).
AGE_COLUMN = "age_days"

#: The most service tranches a path keeps per model (:func:`service_tranches`): later
#: additions join the newest one. Each tranche costs one :meth:`~LinearRevenueModel.unit_flows`
#: pass over the scenario.
MAX_TRANCHES = 16

DAYS_PER_YEAR = 365.25
DAYS_PER_MONTH = DAYS_PER_YEAR / 12.0

#: The simulator's daily frame (``hashpivot.scenario.simulate``): column → dtype class.
SCENARIO_COLUMNS: dict[str, str] = {
    "path": "Int64",
    "date": "Date or Datetime",
    "height": "Int64",
    "bits": "UInt32",
    "difficulty": "Float64",
    "hashrate_ehs": "Float64",
    "price_usd": "Float64",
    "fees_btc_per_block": "Float64",
    "subsidy_btc": "Float64",
    "hashprice_usd_ph_day": "Float64",
    "power_price_usd_kwh": "Float64",
    "gpu_rent_usd_hr": "Float64",
    "share_under_water": "Float64",
}
#: Columns the revenue layer reads; the rest of the simulator's schema is passed through.
REQUIRED_SCENARIO_COLUMNS = (
    "path",
    "date",
    "price_usd",
    "hashprice_usd_ph_day",
    "power_price_usd_kwh",
    "gpu_rent_usd_hr",
)
#: Required columns of a model's cash-flow frame (``model`` is optional; the host adds it).
CASH_FLOW_COLUMNS = ("path", "date", "mw", "revenue_usd", "opex_usd", "capex_usd")
#: Suffixes an extra cash-flow column must end with (its unit).
UNIT_SUFFIXES = (
    "_usd",
    "_btc",
    "_sat",
    "_mw",
    "_kw",
    "_kwh",
    "_mwh",
    "_ph",
    "_phs",
    "_ths",
    "_gpus",
    "_share",
    "_days",
)


@dataclass(frozen=True)
class SiteContext:
    """What a revenue model knows about the site.

    Attributes
    ----------
    capacity_mw
        Grid connection in MW at the wall; strategies allocate at most this much.
    efficiency_jth
        Efficiency of the site's ASIC fleet in J/TH (*illustrative* default 17.5, Antminer
        S21 class; ECONOMICS.md §5).
    power_price_usd_kwh
        A fixed contract power price in $/kWh. ``None`` (default): the site pays the
        scenario's ``power_price_usd_kwh`` each day.
    name
        A label for reports.
    """

    capacity_mw: float = 100.0
    efficiency_jth: float = 17.5
    power_price_usd_kwh: float | None = None
    name: str = "site"

    def __post_init__(self) -> None:
        for field_name in ("capacity_mw", "efficiency_jth", "power_price_usd_kwh"):
            v = getattr(self, field_name)
            if v is None and field_name == "power_price_usd_kwh":
                continue
            if isinstance(v, bool) or not isinstance(v, numbers.Real):
                raise DtypeError(
                    f"SiteContext.{field_name} must be a number, got {v!r} ({type(v).__name__})"
                )
            if not math.isfinite(v):
                raise InvalidValueError(
                    f"SiteContext.{field_name} must be a finite number, got {v!r}"
                )
        if not self.capacity_mw > 0:
            raise InvalidValueError(
                f"SiteContext.capacity_mw must be > 0, got {self.capacity_mw!r}; "
                "pass the grid connection in MW"
            )
        if not self.efficiency_jth > 0:
            raise InvalidValueError(
                f"SiteContext.efficiency_jth must be > 0 J/TH, got {self.efficiency_jth!r}"
            )
        if self.power_price_usd_kwh is not None and self.power_price_usd_kwh < 0:
            raise InvalidValueError(
                "SiteContext.power_price_usd_kwh must be >= 0 or None, got "
                f"{self.power_price_usd_kwh!r}"
            )


@runtime_checkable
class RevenueModel(Protocol):
    """A revenue model: a unique ``name`` and a vectorised ``cash_flows`` method."""

    @property
    def name(self) -> str:
        """The model's unique name (what strategies allocate MW to)."""
        ...

    def cash_flows(self, site: SiteContext, scenario: pl.DataFrame, mw: pl.Series) -> pl.DataFrame:
        """Daily cash flows of ``mw`` MW run by this model over every path and day.

        Parameters
        ----------
        site
            The site context.
        scenario
            The prepared scenario (:func:`prepare_scenario`): sorted by path then date, every
            path on the same dates, with the helper column ``day`` (Int32).
        mw
            Float64 Series named ``mw``, row-aligned with ``scenario``: the MW this model
            holds on each path and day.

        Returns
        -------
        polars.DataFrame
            One row per scenario row in the same order, in the cash-flow schema.
        """
        ...


@dataclass(frozen=True)
class PreparedScenario:
    """A validated scenario in the regular layout models rely on."""

    frame: pl.DataFrame
    n_paths: int
    n_days: int

    @property
    def dates(self) -> pl.Series:
        """The dates of one path (every path has the same)."""
        return self.frame["date"].head(self.n_days)


def prepare_scenario(scenario: Any) -> PreparedScenario:
    """Validate a scenario frame and bring it into the layout models rely on.

    Accepts a polars DataFrame or LazyFrame, or an object with a ``daily`` attribute holding
    one (a simulation result). Checks the columns revenue models read (the error names the
    missing ones), their dtypes and nulls; sorts by ``path`` then ``date`` if needed; checks
    that every path covers the same dates; adds ``day`` (Int32).

    Raises
    ------
    SchemaError
        Missing columns, nulls, or paths on different dates.
    DtypeError
        A column of the wrong type.
    InvalidValueError
        NaN or ±inf in any float column (the message names the column, the first such row
        in the frame as given, its path and date).
    """
    if isinstance(scenario, PreparedScenario):
        return scenario
    if not isinstance(scenario, (pl.DataFrame, pl.LazyFrame)) and hasattr(scenario, "daily"):
        scenario = scenario.daily
    if isinstance(scenario, pl.LazyFrame):
        scenario = scenario.collect()
    if not isinstance(scenario, pl.DataFrame):
        raise DtypeError(
            f"scenario must be a polars DataFrame (hashpivot.scenario.simulate output), got "
            f"{type(scenario).__name__}"
        )
    missing = [c for c in REQUIRED_SCENARIO_COLUMNS if c not in scenario.columns]
    if missing:
        raise SchemaError(
            f"scenario frame lacks column(s) {', '.join(missing)}; revenue models need "
            f"{', '.join(REQUIRED_SCENARIO_COLUMNS)} (the schema of hashpivot.scenario.simulate)"
        )
    schema = scenario.schema
    if not schema["path"].is_integer():
        raise DtypeError(f"scenario column 'path' must be an integer, got {schema['path']}")
    if not isinstance(schema["date"], (pl.Date, pl.Datetime)):
        raise DtypeError(
            f"scenario column 'date' must be Date or Datetime (UTC), got {schema['date']}"
        )
    for c in REQUIRED_SCENARIO_COLUMNS[2:]:
        if not schema[c].is_numeric():
            raise DtypeError(f"scenario column {c!r} must be numeric (Float64), got {schema[c]}")
    for c in REQUIRED_SCENARIO_COLUMNS:
        nulls = scenario[c].null_count()
        if nulls:
            first = scenario.with_row_index("_row").filter(pl.col(c).is_null())["_row"][0]
            raise SchemaError(
                f"scenario column {c!r} has {nulls} null(s), first at row {first}; fill them "
                "before evaluating revenue models"
            )
    if scenario.height == 0:
        raise SchemaError("scenario frame is empty; simulate at least one path and one day")
    _check_finite_scenario(scenario)
    casts: dict[str, Any] = {
        c: pl.Float64 for c in REQUIRED_SCENARIO_COLUMNS[2:] if schema[c] != pl.Float64
    }
    if schema["path"] != pl.Int64:
        casts["path"] = pl.Int64
    if casts:
        scenario = scenario.with_columns(pl.col(c).cast(t) for c, t in casts.items())
    try:
        n_paths, n_days = _check_layout(scenario)
    except SchemaError:
        # not (yet) in path/date order: sort once and check again (errors now stand)
        scenario = scenario.sort("path", "date")
        n_paths, n_days = _check_layout(scenario)
    day = pl.int_range(0, n_days, dtype=pl.Int32, eager=True)
    day_col = pl.concat([day] * n_paths, rechunk=True) if n_paths > 1 else day
    frame = scenario.with_columns(day_col.alias("day"))
    return PreparedScenario(frame=frame, n_paths=n_paths, n_days=n_days)


def _first_non_finite(frame: pl.DataFrame, columns: Sequence[str]) -> tuple[str, int, int] | None:
    """``(column, count, first row)`` of the first of ``columns`` holding NaN or ±inf."""
    if not columns:
        return None
    # One streaming sum per column: a sum is finite when every value is (NaN and ±inf carry
    # through; only a sum of finite values beyond ±1.8e308 could overflow). Only a column whose
    # sum is not finite is scanned value by value (half the time of is_finite().all()).
    sums = frame.select(pl.col(c).cast(pl.Float64).sum() for c in columns).row(0)
    for c, total in zip(columns, sums, strict=True):
        if total is not None and not math.isfinite(total):
            bad = ~frame[c].is_finite()
            if bad.any():
                return c, int(bad.sum()), int(bad.arg_true()[0])
    return None


def _check_finite_scenario(scenario: pl.DataFrame) -> None:
    floats = [c for c, t in scenario.schema.items() if t.is_float()]
    found = _first_non_finite(scenario, floats)
    if found is None:
        # prices and rates of the simulator's frame are never negative (a power price may be)
        for c in ("price_usd", "hashprice_usd_ph_day", "fees_btc_per_block", "gpu_rent_usd_hr"):
            if c in scenario.columns and scenario.schema[c].is_numeric():
                low = scenario[c] <= 0 if c == "price_usd" else scenario[c] < 0
                bad = low.fill_null(False).arg_true()
                if len(bad):
                    row = int(bad[0])
                    raise InvalidValueError(
                        f"scenario column {c!r} is {scenario[c][row]} at row {row} (path "
                        f"{scenario['path'][row]}, date {scenario['date'][row]}); it must be "
                        f"{'> 0' if c == 'price_usd' else '>= 0'}: fix the value or drop that path"
                    )
        return
    c, n, row = found
    raise InvalidValueError(
        f"scenario column {c!r} has {n} non-finite value(s) (NaN or ±inf), first at row {row} "
        f"(path {scenario['path'][row]}, date {scenario['date'][row]}): {scenario[c][row]}; "
        "revenue models need finite numbers on every path and day: fix the value or drop "
        "that path, or drop the column if no model reads it"
    )


def _check_layout(scenario: pl.DataFrame) -> tuple[int, int]:
    """(n_paths, n_days) if rows are path-major, date-sorted, every path on the same dates."""
    path = scenario["path"]
    if not path.is_sorted():
        raise SchemaError("scenario is not sorted by path")
    n = scenario.height
    n_days = int(path.search_sorted(path[0], side="right"))
    n_paths = n // n_days
    if n_paths * n_days != n:
        raise SchemaError(
            f"scenario paths have different lengths: path {path[0]} has {n_days} days but the "
            f"frame has {n} rows; every path must cover the same dates"
        )
    starts = path.gather_every(n_days)
    ends = path.gather_every(n_days, offset=n_days - 1)
    if not (starts == ends).all() or starts.n_unique() != n_paths:
        raise SchemaError(
            "scenario paths have different lengths; every path must cover the same dates "
            f"(path {path[0]} has {n_days})"
        )
    date = scenario["date"]
    first = date.head(n_days).to_physical()
    if n_days > 1 and not (first.diff().drop_nulls() > 0).all():
        raise SchemaError(
            f"scenario path {path[0]} has repeated or unsorted dates; one row per path and day"
        )
    if n_paths > 1:
        tiled = pl.concat([first] * n_paths, rechunk=True)
        same = date.to_physical() == tiled
        if not same.all():
            bad = int((~same).arg_true()[0])
            raise SchemaError(
                f"scenario path {path[bad]} is not on the same dates as path {path[0]} "
                f"(row {bad}); every path must cover the same dates"
            )
    return n_paths, n_days


def lag_days(expr: pl.Expr, days: int, fill: float = 0.0) -> pl.Expr:
    """``expr`` lagged by ``days`` days within each path; ``fill`` before a path's day ``days``.

    Valid on a prepared scenario (regular path-major layout), where it costs one shift.
    """
    if days <= 0:
        return expr
    return pl.when(pl.col("day") >= days).then(expr.shift(days)).otherwise(fill)


def active_mw(mw: pl.Expr, lead_time_days: int) -> pl.Expr:
    """MW that earn revenue: capacity added on day ``t`` earns from day ``t + lead_time_days``;
    capacity removed stops at once (``min(mw(t), mw(t - lead))``)."""
    if lead_time_days <= 0:
        return mw
    return pl.min_horizontal(mw, lag_days(mw, lead_time_days))


def added_mw(mw: pl.Expr) -> pl.Expr:
    """MW added on each day (``max(mw(t) - mw(t-1), 0)``; a path's first day counts in full)."""
    return (mw - lag_days(mw, 1)).clip(lower_bound=0.0)


def site_power_price(site: SiteContext) -> pl.Expr:
    """The power price the site pays ($/kWh): its fixed contract price, else the scenario's."""
    if site.power_price_usd_kwh is not None:
        return pl.lit(float(site.power_price_usd_kwh))
    return pl.col("power_price_usd_kwh")


def per_day(scenario: pl.DataFrame, values: pl.Series) -> pl.Series:
    """Broadcast one value per day index (length ``n_days``) to every scenario row.

    Cheaper than evaluating a ``pow`` or ``exp`` on every row: compute the curve over the
    day index once, then gather it by ``day``.
    """
    return values.gather(scenario["day"])


def per_age(scenario: pl.DataFrame, values: pl.Series) -> pl.Series:
    """Broadcast one value per day of service (length ``n_days``) to every scenario row.

    The service-clock twin of :func:`per_day`: gathers ``values`` by the ``age_days`` column
    the host adds for a model with ``service_clock = True`` (days since the tranche's MW
    went into the model, :func:`service_tranches`), and by ``day`` when the frame has no such
    column (a scenario given directly, whose clock starts on day 0).
    """
    col = AGE_COLUMN if AGE_COLUMN in scenario.columns else "day"
    return values.gather(scenario[col])


def _layout(scenario: pl.DataFrame) -> tuple[int, int]:
    """(n_paths, n_days) of a frame in the prepared layout (path-major, days 0 … n-1)."""
    if not isinstance(scenario, pl.DataFrame):
        raise DtypeError(
            f"scenario: {type(scenario).__name__} is not a polars DataFrame; pass "
            "prepare_scenario(...).frame"
        )
    missing = [c for c in ("path", "day") if c not in scenario.columns]
    if missing:
        raise SchemaError(
            f"scenario: no {missing[0]!r} column; pass the frame of prepare_scenario(), "
            "which adds the day index"
        )
    if not scenario.schema["day"].is_integer():
        raise DtypeError(f"scenario: column 'day' is {scenario.schema['day']}; expected integers")
    if not scenario.height:
        return 0, 0
    last = scenario["day"].max()
    n_days = int(last) + 1 if isinstance(last, int) else 0
    if n_days <= 0 or scenario.height % n_days:
        raise SchemaError(
            f"scenario of {scenario.height} rows is not whole paths of {n_days} days; "
            "pass the frame of prepare_scenario()"
        )
    return scenario.height // n_days, n_days


def service_start(scenario: pl.DataFrame, mw: pl.Series) -> pl.Series:
    """Per path (in path order), the first day index on which the path holds MW
    (``mw > 0``, row-aligned with ``scenario``); ``n_days`` (past the horizon) on a path that
    never holds any.

    This is where a path's first service tranche starts (:func:`service_tranches` gives
    every tranche's start): MW held from the start have age ``day``, a conversion on day 900
    has age 0 on day 900.
    """
    n_paths, n_days = _layout(scenario)
    if not n_paths:
        return pl.Series("start", [], dtype=pl.Int64)
    held = pl.select(
        pl.when(mw > 0).then(scenario["day"].cast(pl.Int64)).otherwise(n_days)
    ).to_series()
    return held.reshape((n_paths, n_days)).arr.min().alias("start")


def with_service_age(scenario: pl.DataFrame, start: int | pl.Series) -> pl.DataFrame:
    """``scenario`` with an Int32 ``age_days`` column: days since ``start`` (one day index
    for every path, or one per path in path order as :func:`service_start` gives them; null
    = never), 0 before it. The Rust core writes the column in one pass."""
    n_paths, n_days = _layout(scenario)
    if isinstance(start, numbers.Integral) and not isinstance(start, bool):
        starts = [int(start)] * n_paths
    elif isinstance(start, pl.Series) and (start.dtype.is_integer() or start.dtype == pl.Null):
        # past Int64 (UInt64 ≥ 2^63) is past the horizon too: null, then "never"
        starts = start.cast(pl.Int64, strict=False).fill_null(n_days).to_list()
    else:
        raise DtypeError(
            f"service clock: start must be a day index (int) or an integer Series of one day "
            f"per path, got {type(start).__name__}"
            + (f" of {start.dtype}" if isinstance(start, pl.Series) else "")
        )
    starts = [min(s, n_days) for s in starts]  # every start past the horizon is "never"
    if starts and min(starts) < 0:
        raise InvalidValueError(
            f"service clock: start day {min(starts)} is negative; days count from 0 (the first day)"
        )
    if len(starts) != n_paths:
        raise InvalidValueError(
            f"service clock: {len(starts)} start days for a scenario of {n_paths} paths; "
            "give one per path"
        )
    age = pl.Series(_core.service_age(starts, n_days)).alias(AGE_COLUMN)
    return scenario.with_columns(age)


def service_tranches(
    scenario: pl.DataFrame, mw: pl.Series, lead_time_days: int = 0
) -> list[tuple[pl.Series, pl.Series]]:
    """Split a path's MW (row-aligned with ``scenario``) into service tranches, each with
    its own clock (:attr:`LinearRevenueModel.service_clock`).

    * Every rise of a path's MW starts a new tranche on that day holding the MW added (a
      path's first rise counts whatever its size): a second conversion signs its own lease,
      a second batch of GPUs is its own vintage. Rises of at most 1e-9 MW (rounding residue)
      and rises after the path's :data:`MAX_TRANCHES`-th tranche join its newest tranche.
    * Every fall first takes MW still in their lead time (tranches started less than
      ``lead_time_days`` days before), the newest first: an order not yet delivered, a lease
      not yet started. Then it takes MW from the oldest tranche that still holds some, then
      the next (first in, first out: the longest-running lease ends, the oldest GPUs go).

    Returns ``(start, held)`` per tranche index ``k``: ``start`` one Int64 day per path (the
    day that path's ``k``-th tranche starts, ``n_days`` for a path with fewer tranches, as
    :func:`with_service_age` takes it) and ``held`` the MW it holds on every row. On every
    row the tranches add up to ``mw`` (up to rounding). A path that never holds MW has no
    tranche; all-zero ``mw`` gives an empty list. Raises :class:`InvalidValueError` for a
    null, NaN, infinite or negative MW, naming its row, and :class:`DtypeError` for a
    non-numeric ``mw``.
    """
    return list(_each_tranche(scenario, mw, lead_time_days))


def _each_tranche(
    scenario: pl.DataFrame, mw: pl.Series, lead: int
) -> Iterator[tuple[pl.Series, pl.Series]]:
    """:func:`service_tranches` one tranche at a time (each column is computed when asked
    for, so a caller holds one tranche's columns at a time). Checks before the first."""
    _, n_days = _layout(scenario)
    if isinstance(lead, bool) or not isinstance(lead, int) or not 0 <= lead <= 10_000_000:
        raise InvalidValueError(
            f"service tranches: lead_time_days {lead!r} must be a whole number of days in "
            "[0, 10,000,000]"
        )
    if not isinstance(mw, pl.Series):
        raise DtypeError(f"service tranches: mw is {type(mw).__name__}; pass a polars Series")
    if mw.len() != scenario.height:
        raise InvalidValueError(
            f"service tranches: mw has {mw.len()} rows for a scenario of {scenario.height}"
        )
    if not (mw.dtype.is_numeric() or mw.dtype == pl.Null):
        raise DtypeError(f"service tranches: mw is {mw.dtype}; pass Float64 MW per row")
    values = mw.cast(pl.Float64)
    bad = (~values.is_finite() | (values < 0)).fill_null(True)
    if bad.any():
        row = int(bad.arg_true()[0])
        raise InvalidValueError(
            f"service tranches: mw is {values[row]!r} at row {row} (path "
            f"{scenario['path'][row]}, day {scenario['day'][row]}); MW held must be a finite "
            "number >= 0"
        )
    if not n_days:
        return iter(())
    values = values.rechunk()
    starts, _ = _core.service_tranches(values, n_days, MAX_TRANCHES, lead, [])

    def each() -> Iterator[tuple[pl.Series, pl.Series]]:
        for k, start in enumerate(starts):
            _, (held,) = _core.service_tranches(values, n_days, MAX_TRANCHES, lead, [k])
            yield pl.Series(start).alias("start"), pl.Series(held).alias("mw")

    return each()


def _where(scenario: PreparedScenario, row: int) -> str:
    """``row r (path p, day d, date ...)`` of a prepared scenario, for error messages."""
    f = scenario.frame
    return f"row {row} (path {f['path'][row]}, day {f['day'][row]}, date {f['date'][row]})"


def validate_cash_flows(
    frame: Any,
    scenario: PreparedScenario,
    model_name: str,
    *,
    check_rows: bool = True,
    mw: pl.Series | None = None,
) -> pl.DataFrame:
    """Check a model's output against the cash-flow schema and return it with ``model``.

    ``mw``, when given, is the allocation the model was called with: the frame's ``mw``
    column must echo it (to 1e-9 relative, 1e-9 MW near zero), or the model would be valued
    on MW the site never gave it.

    Raises
    ------
    SchemaError
        Not a DataFrame, missing or non-numeric columns, an extra column without a unit
        suffix, a different number of rows or different path/date values than the scenario.
    InvalidValueError
        NaN or ±inf in a float column, or an ``mw`` column that differs from ``mw``; the
        message names the model, the column and the first such row (its path and day).
    """
    if isinstance(frame, pl.LazyFrame):
        frame = frame.collect()
    if not isinstance(frame, pl.DataFrame):
        raise SchemaError(
            f"revenue model {model_name!r} returned {type(frame).__name__}, expected a polars "
            f"DataFrame with columns {', '.join(CASH_FLOW_COLUMNS)}"
        )
    missing = [c for c in CASH_FLOW_COLUMNS if c not in frame.columns]
    if missing:
        raise SchemaError(
            f"revenue model {model_name!r} returned a frame without column(s) "
            f"{', '.join(missing)}; the cash-flow schema is {', '.join(CASH_FLOW_COLUMNS)}"
        )
    for c in CASH_FLOW_COLUMNS[2:]:
        if not frame.schema[c].is_float():
            raise SchemaError(
                f"revenue model {model_name!r}: column {c!r} must be Float64 (USD or MW), got "
                f"{frame.schema[c]}"
            )
        nulls = frame[c].null_count()
        if nulls:
            raise SchemaError(
                f"revenue model {model_name!r}: column {c!r} has {nulls} null(s); cash flows "
                "must be numbers (use 0.0 for no flow)"
            )
    for c in frame.columns:
        if c in CASH_FLOW_COLUMNS or c in ("model", "day"):
            continue
        if not c.endswith(UNIT_SUFFIXES):
            raise SchemaError(
                f"revenue model {model_name!r}: extra column {c!r} has no unit suffix; name it "
                f"with one of {', '.join(UNIT_SUFFIXES)}"
            )
    if frame.height != scenario.frame.height:
        raise SchemaError(
            f"revenue model {model_name!r} returned {frame.height} rows for a scenario of "
            f"{scenario.frame.height} rows; return one row per scenario row, in order"
        )
    if check_rows:
        for c in ("path", "date"):
            if not frame[c].equals(scenario.frame[c]):
                raise SchemaError(
                    f"revenue model {model_name!r}: column {c!r} differs from the scenario's; "
                    "keep the scenario's rows and order (select them from the input frame)"
                )
    floats = [c for c, t in frame.schema.items() if t.is_float()]
    found = _first_non_finite(frame, floats)
    if found is not None:
        c, n, row = found
        raise InvalidValueError(
            f"revenue model {model_name!r}: column {c!r} has {n} non-finite value(s) (NaN or "
            f"±inf), first at {_where(scenario, row)}: {frame[c][row]}; cash flows must be "
            "finite numbers (a NaN would rank the model first): guard divisions and missing "
            "inputs in the model"
        )
    if mw is not None:
        want = mw.cast(pl.Float64)
        if want.len() != frame.height:
            raise InvalidValueError(
                f"revenue model {model_name!r}: the allocation has {want.len()} rows for "
                f"{frame.height} cash-flow rows; pass the mw Series the model was called with"
            )
        got = frame["mw"]
        off = (got - want).abs() > (want.abs() + 1.0) * 1e-9
        if off.any():
            row = int(off.arg_true()[0])
            raise InvalidValueError(
                f"revenue model {model_name!r}: column 'mw' differs from the allocation on "
                f"{int(off.sum())} row(s), first at {_where(scenario, row)}: returned "
                f"{got[row]:g} MW, allocated {want[row]:g} MW; return the mw Series passed to "
                "cash_flows unchanged (cash_flow_frame(scenario, mw, ...) does), and model "
                "idle or ramping capacity in the money columns"
            )
    if "model" not in frame.columns:
        frame = frame.with_columns(pl.lit(model_name, dtype=pl.String).alias("model"))
    out: pl.DataFrame = frame.drop("day", strict=False)
    return out


def allocation_series(mw: float | pl.Series, scenario: PreparedScenario) -> pl.Series:
    """A row-aligned Float64 ``mw`` Series from a constant or a Series."""
    if isinstance(mw, pl.Series):
        if mw.len() != scenario.frame.height:
            raise InvalidValueError(
                f"allocation has {mw.len()} rows for a scenario of {scenario.frame.height} rows"
            )
        s: pl.Series = mw.cast(pl.Float64).alias("mw")
        return s
    return pl.repeat(float(mw), scenario.frame.height, dtype=pl.Float64, eager=True).alias("mw")


def cash_flow_frame(scenario: pl.DataFrame, mw: pl.Series, **columns: pl.Expr) -> pl.DataFrame:
    """Build a cash-flow frame: ``path``, ``date``, ``mw`` and the given expressions.

    The expressions may use ``pl.col("mw")`` and every scenario column.
    """
    return scenario.with_columns(mw.alias("mw")).select(
        "path", "date", "mw", *(e.alias(k) for k, e in columns.items())
    )


def parameters(model: Any) -> Mapping[str, Any]:
    """A model's parameters (its dataclass fields) for reports."""
    fields = getattr(model, "__dataclass_fields__", None)
    if not fields:
        return {}
    return {k: getattr(model, k) for k in fields}


def _suggest_days(v: Any) -> str:
    try:
        return str(max(0, round(float(v))))
    except (TypeError, ValueError, OverflowError):
        return "30"


class LinearRevenueModel:
    """Base class for models whose daily flows are linear in the MW they hold.

    A subclass gives per-MW daily flows (:meth:`unit_flows`), a lead time (attribute
    ``lead_time_days``, default 0) and capex per added MW (:meth:`capex_per_mw`). Then

    * ``revenue_usd = active · unit revenue``, ``opex_usd = active · unit opex`` (extra unit
      columns scale the same way), with ``active = min(mw(t), mw(t - lead))`` (per service
      tranche with ``service_clock = True``, below);
    * ``capex_usd = added MW · capex_per_mw`` on the day the MW are allocated.

    :meth:`cash_flows` implements the protocol from these; :func:`hashpivot.strategy.evaluate`
    also uses the parts directly to value step-shaped allocations (static mixes, staged
    conversions, switching rules) from one pass over the scenario per model instead of one per
    strategy. Both give the same numbers (``tests/test_strategy.py`` checks it).

    **Service clock.** A model whose per-MW flows depend on how long its MW have been in
    service (a lease's tenor and escalator, a GPU vintage's rent decay) sets the class
    attribute ``service_clock = True``. The scenario it then receives in :meth:`unit_flows`
    has an extra Int32 column ``age_days``: days since the MW went into this model (0 before
    that), so a conversion on day 900 starts its lease on day 900, not on the scenario's first
    day. Read it with :func:`per_age`. Every addition is its own tranche with its own clock
    (:func:`service_tranches`: a second conversion signs a second lease; removals take the
    oldest MW first), and :meth:`cash_flows` calls :meth:`unit_flows` once per tranche. With
    ``service_clock = False`` (the default) there is no such column and :func:`per_age` counts
    from day 0.
    """

    name: str
    service_clock: ClassVar[bool] = False

    def unit_flows(self, site: SiteContext, scenario: pl.DataFrame) -> pl.DataFrame | pl.LazyFrame:
        """Per-MW daily ``revenue_usd`` and ``opex_usd`` (and extra unit columns) per row.

        May return a LazyFrame: the host then computes only the columns it needs
        (``evaluate`` needs revenue and opex, not informative extras)."""
        raise NotImplementedError

    def capex_per_mw(self, site: SiteContext) -> float:
        """Capital spent per MW added (USD/MW)."""
        return 0.0

    @property
    def lead_days(self) -> int:
        """Days an added MW waits before it earns (``lead_time_days`` if the model has it).

        Raises :class:`InvalidValueError` unless it is a whole number of days >= 0 (an
        integral float such as ``30.0`` counts as whole)."""
        v = getattr(self, "lead_time_days", 0)
        ok = isinstance(v, numbers.Real) and not isinstance(v, bool)  # NumPy scalars too
        if not (ok and math.isfinite(v) and v >= 0 and float(v).is_integer()):
            raise InvalidValueError(
                f"revenue model {self.name!r}: lead_time_days must be a whole number of days "
                f">= 0, got {v!r}; round it (e.g. lead_time_days={_suggest_days(v)})"
            )
        return int(v)

    def checked_capex_per_mw(self, site: SiteContext) -> float:
        """:meth:`capex_per_mw`, checked to be a finite number."""
        v = self.capex_per_mw(site)
        ok = isinstance(v, numbers.Real) and not isinstance(v, bool)
        if not (ok and math.isfinite(v)):
            raise InvalidValueError(
                f"revenue model {self.name!r}: capex_per_mw() returned {v!r}; it must be a "
                "finite number of USD per MW added"
            )
        return float(v)

    def full_unit_flows(
        self, site: SiteContext, scenario: pl.DataFrame, columns: Sequence[str] | None = None
    ) -> pl.DataFrame:
        """:meth:`unit_flows` (only ``columns`` if given), checked and broadcast to one
        Float64 row per scenario row."""
        unit = self.unit_flows(site, scenario)
        if isinstance(unit, pl.LazyFrame):
            unit = (unit.select(columns) if columns else unit).collect()
        elif columns and isinstance(unit, pl.DataFrame):
            unit = unit.select(columns)
        if not isinstance(unit, pl.DataFrame) or not {"revenue_usd", "opex_usd"} <= set(
            unit.columns
        ):
            raise SchemaError(
                f"revenue model {self.name!r}: unit_flows() must return a DataFrame with "
                "revenue_usd and opex_usd (USD per MW-day)"
            )
        bad_type = [c for c, t in unit.schema.items() if not t.is_numeric()]
        if bad_type:
            raise SchemaError(
                f"revenue model {self.name!r}: unit_flows() column {bad_type[0]!r} is "
                f"{unit.schema[bad_type[0]]}; return Float64 USD per MW-day"
            )
        n = scenario.height
        if unit.height != n and unit.height != 1:
            raise SchemaError(
                f"revenue model {self.name!r}: unit_flows() returned {unit.height} rows for a "
                f"scenario of {n} rows"
            )
        if any(t != pl.Float64 for t in unit.schema.values()):
            unit = unit.cast(pl.Float64)
        nulls = [c for c in unit.columns if unit[c].null_count()]
        found = _first_non_finite(unit, unit.columns)
        if nulls or found is not None:
            c = nulls[0] if nulls else str(found[0] if found else "")
            bad = (unit[c].is_null() | ~unit[c].is_finite()).fill_null(True)
            row = int(bad.arg_true()[0])
            where = f"row {row}"
            if "day" in scenario.columns and unit.height == n:
                where += (
                    f" (path {scenario['path'][row]}, day {scenario['day'][row]}, "
                    f"date {scenario['date'][row]})"
                )
            raise InvalidValueError(
                f"revenue model {self.name!r}: unit_flows() column {c!r} has {int(bad.sum())} "
                f"null or non-finite value(s) (NaN or ±inf), first at {where}: {unit[c][row]}; "
                "per-MW flows must be finite numbers (a NaN would rank the model first): "
                "guard divisions and missing inputs"
            )
        if unit.height != n:
            unit = pl.DataFrame(
                [
                    pl.repeat(unit[c][0], n, eager=True, dtype=pl.Float64).alias(c)
                    for c in unit.columns
                ]
            )
        return unit

    def cash_flows(self, site: SiteContext, scenario: pl.DataFrame, mw: pl.Series) -> pl.DataFrame:
        lead = self.lead_days
        cpm = self.checked_capex_per_mw(site)
        frame = scenario.select("path", "date", "day", mw.alias("mw"))
        tranches: Iterable[tuple[pl.DataFrame, pl.Series]]
        if self.service_clock:
            # one unit_flows pass per tranche, on that tranche's clock, one at a time
            tranches = (
                (with_service_age(scenario, start), held)
                for start, held in _each_tranche(scenario, mw, lead)
            )
        else:
            tranches = [(scenario, mw)]
        flows: dict[str, pl.Series | pl.Expr] = {}
        for clocked, held in tranches:
            unit = self._checked_unit(site, clocked)
            part = frame.select("day", held.alias("_held")).with_columns(
                unit.rename({c: f"_u_{c}" for c in unit.columns})
            )
            act = active_mw(pl.col("_held"), lead)
            got = part.select(*((act * pl.col(f"_u_{c}")).alias(c) for c in unit.columns))
            flows = {c: flows[c] + got[c] if flows else got[c] for c in unit.columns}
            del clocked, unit, part, got
        if not flows:  # never holds MW: the columns unit_flows names, all zero
            unit = self._checked_unit(site, with_service_age(scenario, _layout(scenario)[1]))
            flows = {c: pl.lit(0.0) for c in unit.columns}
        # capex from the whole allocation (a unit column of that name does not count)
        flows["capex_usd"] = added_mw(pl.col("mw")) * cpm if cpm else pl.lit(0.0)
        out = frame.select("path", "date", "mw", *(v.alias(c) for c, v in flows.items()))
        return out.select(
            "path",
            "date",
            "mw",
            "revenue_usd",
            "opex_usd",
            "capex_usd",
            pl.exclude("path", "date", "mw", "revenue_usd", "opex_usd", "capex_usd"),
        )

    def _checked_unit(self, site: SiteContext, scenario: pl.DataFrame) -> pl.DataFrame:
        """:meth:`full_unit_flows`, refusing unit columns that would shadow the frame's own."""
        unit = self.full_unit_flows(site, scenario)
        clash = sorted({"path", "date", "day", "mw", "_held"} & set(unit.columns))
        if clash:
            raise SchemaError(
                f"revenue model {self.name!r}: unit_flows() returns a column named "
                f"{clash[0]!r}, which is the host's; name per-MW columns with a unit suffix "
                "(e.g. revenue_usd, depreciation_usd)"
            )
        return unit
