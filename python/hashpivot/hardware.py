"""Hardware catalogs and fleets.

* :func:`asic_catalog` — bundled Bitcoin ASIC nameplate specs, one row per model, with a
  ``source`` per row (``hashpivot/data/asic_catalog.csv``).
* :func:`gpu_catalog` — bundled data-centre GPU specs (board power, memory, generation).
* :func:`network_mix` — an *illustrative* network hardware mix built from the catalog by era.
* :class:`Fleet` — a validated frame of machine classes (model or custom specs, count,
  purchase price and date, site).

Schemas (dtypes and units) are documented in ``docs/fleet.md``.
"""

from __future__ import annotations

import datetime as dt
import numbers
import os
from collections.abc import Callable, Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import polars as pl

from hashpivot._files import first_non_number, not_text
from hashpivot.exceptions import DataFormatError, DtypeError, InvalidValueError, SchemaError

__all__ = [
    "FLEET_SCHEMA",
    "ILLUSTRATIVE_CAPEX_USD_TH_BY_AGE",
    "ILLUSTRATIVE_ERA_SHARES",
    "Fleet",
    "asic_catalog",
    "catalog_model",
    "gpu_catalog",
    "network_mix",
]

_ASIC_SCHEMA: dict[str, Any] = {
    "model": pl.String,
    "maker": pl.String,
    "release_year": pl.Int64,
    "hashrate_ths": pl.Float64,
    "power_w": pl.Float64,
    "efficiency_jth": pl.Float64,
    "cooling": pl.String,
    "source": pl.String,
}
_GPU_SCHEMA: dict[str, Any] = {
    "model": pl.String,
    "maker": pl.String,
    "generation": pl.String,
    "release_year": pl.Int64,
    "board_power_w": pl.Float64,
    "memory_gb": pl.Float64,
    "memory_type": pl.String,
    "form_factor": pl.String,
    "source": pl.String,
}

#: The columns of :attr:`Fleet.frame`, in order, with their dtypes.
FLEET_SCHEMA: dict[str, Any] = {
    "class_id": pl.String,
    "model": pl.String,
    "site": pl.String,
    "count": pl.Int64,
    "hashrate_ths": pl.Float64,
    "power_w": pl.Float64,
    "efficiency_jth": pl.Float64,
    "price_usd": pl.Float64,
    "purchase_date": pl.Date,
}

#: *Illustrative* share of network hashrate by machine age in years (release year to the
#: year of the mix): 0–1, 2–3, 4–5, 6+. Public-figure guesses, not measurements; override
#: by passing your own mix frame to ``fleet.cost_curve``.
ILLUSTRATIVE_ERA_SHARES: dict[str, float] = {"0-1": 0.35, "2-3": 0.40, "4-5": 0.20, "6+": 0.05}

#: *Illustrative* replacement capex in $/TH by machine age bucket (same buckets as above),
#: used for the all-in (depreciation) part of the network cost curve.
ILLUSTRATIVE_CAPEX_USD_TH_BY_AGE: dict[str, float] = {
    "0-1": 16.0,
    "2-3": 9.0,
    "4-5": 4.0,
    "6+": 1.0,
}


@lru_cache(maxsize=2)
def _load(name: str) -> pl.DataFrame:
    raw = (resources.files("hashpivot") / "data" / name).read_bytes()
    schema = _ASIC_SCHEMA if name.startswith("asic") else _GPU_SCHEMA
    return pl.read_csv(raw, schema=schema)


def asic_catalog() -> pl.DataFrame:
    """Bundled Bitcoin ASIC catalog (nameplate specs at launch).

    Columns: ``model`` (String), ``maker`` (String), ``release_year`` (Int64),
    ``hashrate_ths`` (Float64, TH/s per unit), ``power_w`` (Float64, W per unit at the wall),
    ``efficiency_jth`` (Float64, J/TH as the maker states it), ``cooling`` (``air`` /
    ``hydro``), ``source`` (String: where the row's figures come from).
    """
    return _load("asic_catalog.csv").clone()


def gpu_catalog() -> pl.DataFrame:
    """Bundled data-centre GPU catalog.

    Columns: ``model``, ``maker``, ``generation`` (architecture), ``release_year`` (Int64),
    ``board_power_w`` (Float64, W per GPU board; a whole server draws ~1.3–1.5× this),
    ``memory_gb`` (Float64), ``memory_type``, ``form_factor``, ``source``.
    """
    return _load("gpu_catalog.csv").clone()


def catalog_model(model: str) -> dict[str, Any]:
    """The catalog row of one ASIC model, as a dict; raises with the known names if absent."""
    if not isinstance(model, str):
        raise DtypeError(f"model: {model!r} ({type(model).__name__}) is not a model name (str)")
    cat = _load("asic_catalog.csv")
    row = cat.filter(pl.col("model") == model)
    if row.height == 0:
        raise InvalidValueError(
            f"model: {model!r} is not in the ASIC catalog; use one of "
            f"{', '.join(cat['model'].to_list())} or give hashrate_ths and power_w yourself"
        )
    return row.row(0, named=True)


def _age_bucket(age: pl.Expr) -> pl.Expr:
    return (
        pl.when(age <= 1)
        .then(pl.lit("0-1"))
        .when(age <= 3)
        .then(pl.lit("2-3"))
        .when(age <= 5)
        .then(pl.lit("4-5"))
        .otherwise(pl.lit("6+"))
    )


def network_mix(year: int = 2026, *, cooling: str | None = None) -> pl.DataFrame:
    """An *illustrative* network hardware mix for ``year`` built from the catalog by era.

    Each age bucket of :data:`ILLUSTRATIVE_ERA_SHARES` is split equally among the catalog
    models released in it (models released after ``year`` are left out; a bucket with no
    model gives its share to the others pro rata). ``cooling`` keeps only ``"air"`` or
    ``"hydro"`` models. This is a stand-in for real mix data, clearly labelled: pass your
    own frame to :func:`hashpivot.fleet.cost_curve` when you have one.

    Columns: ``model``, ``release_year``, ``efficiency_jth``, ``age_bucket``,
    ``hashrate_share`` (Float64, fraction of network hashrate, sums to 1),
    ``capex_usd_th`` (Float64, *illustrative* $/TH by age bucket).
    """
    if isinstance(year, bool) or not isinstance(year, int):
        raise DtypeError(f"year: {year!r} is not a year (an int, e.g. 2026)")
    if cooling not in (None, "air", "hydro"):
        raise InvalidValueError(f"cooling: {cooling!r} is not 'air', 'hydro' or None")
    cat = _load("asic_catalog.csv").filter(pl.col("release_year") <= year)
    if cooling is not None:
        cat = cat.filter(pl.col("cooling") == cooling)
    if cat.height == 0:
        raise InvalidValueError(
            f"year: no catalog model was released by {year} (cooling={cooling!r}); "
            "pick a later year or pass your own mix frame"
        )
    df = cat.with_columns(_age_bucket(pl.lit(year) - pl.col("release_year")).alias("age_bucket"))
    shares = pl.DataFrame(
        {
            "age_bucket": list(ILLUSTRATIVE_ERA_SHARES),
            "bucket_share": list(ILLUSTRATIVE_ERA_SHARES.values()),
            "capex_usd_th": [ILLUSTRATIVE_CAPEX_USD_TH_BY_AGE[k] for k in ILLUSTRATIVE_ERA_SHARES],
        }
    )
    df = df.join(shares, on="age_bucket", how="left")
    df = df.with_columns(
        (pl.col("bucket_share") / pl.len().over("age_bucket")).alias("hashrate_share")
    )
    df = df.with_columns(pl.col("hashrate_share") / pl.col("hashrate_share").sum())
    return df.select(
        "model", "release_year", "efficiency_jth", "age_bucket", "hashrate_share", "capex_usd_th"
    ).sort("efficiency_jth")


# ----------------------------------------------------------------------------- Fleet


def _err_rows(df: pl.DataFrame, mask: pl.Expr) -> list[int]:
    return df.with_row_index("__r").filter(mask)["__r"].to_list()[:5]


class Fleet:
    """A validated frame of machine classes.

    Build one from a user frame (``Fleet(frame)``) or from catalog model names
    (:meth:`from_catalog`). Input columns (``model`` is required; the rest optional):

    * ``model`` (String): a catalog model name or any label for custom hardware;
    * ``count`` (integer ≥ 0, default 1): units in the class;
    * ``hashrate_ths`` / ``power_w`` (> 0, per unit): filled from the catalog by ``model``
      when absent or null; required for models not in the catalog;
    * ``price_usd`` (≥ 0, per unit purchase price, default 0 — no capital cost);
    * ``purchase_date`` (Date, may be null = new at the valuation date);
    * ``site`` (String, default ``"default"``);
    * ``class_id`` (String, unique; default ``"<model>@<site>"`` with ``#n`` on repeats).

    :attr:`frame` has exactly the columns of :data:`FLEET_SCHEMA`; ``efficiency_jth`` is
    derived as ``power_w / hashrate_ths``.
    """

    __slots__ = ("_frame",)

    def __init__(self, frame: pl.DataFrame | Fleet) -> None:
        if isinstance(frame, Fleet):
            self._frame: pl.DataFrame = frame._frame
            return
        if not isinstance(frame, pl.DataFrame):
            raise DtypeError(
                f"fleet: {type(frame).__name__} is not a polars DataFrame; pass a frame with "
                "at least a 'model' column, or use Fleet.from_catalog({'Antminer S21': 10})"
            )
        self._frame = _validate(frame)

    @classmethod
    def from_catalog(
        cls,
        models: Mapping[str, int],
        *,
        price_usd: float | Mapping[str, float] = 0.0,
        purchase_date: dt.date | None = None,
        site: str = "default",
    ) -> Fleet:
        """A fleet of catalog models: ``{"Antminer S21 XP": 100, ...}`` (model → count).

        ``price_usd`` is the purchase price per unit, one number or a model → price map.
        """
        if not isinstance(models, Mapping):
            raise DtypeError(
                f"models: expected a mapping of model name → count, got {type(models).__name__}"
            )
        if purchase_date is not None and (
            not isinstance(purchase_date, dt.date) or isinstance(purchase_date, dt.datetime)
        ):
            raise DtypeError(
                f"purchase_date: {purchase_date!r} is not a datetime.date; pass e.g. "
                "datetime.date(2024, 1, 1)"
            )
        rows: list[dict[str, object]] = []
        for model, count in models.items():
            if isinstance(count, bool) or not isinstance(count, numbers.Integral) or count < 0:
                raise InvalidValueError(
                    f"models[{model!r}]: count {count!r} must be a whole number of machines ≥ 0"
                )
            price = price_usd.get(model, 0.0) if isinstance(price_usd, Mapping) else price_usd
            if isinstance(price, bool) or not isinstance(price, numbers.Real):
                raise DtypeError(
                    f"price_usd for {model!r}: {price!r} is not a number (USD per unit)"
                )
            rows.append(
                {
                    "model": model,
                    "count": int(count),
                    "price_usd": float(price),
                    "purchase_date": purchase_date,
                    "site": site,
                }
            )
        schema = {
            "model": pl.String,
            "count": pl.Int64,
            "price_usd": pl.Float64,
            "purchase_date": pl.Date,
            "site": pl.String,
        }
        return cls(pl.DataFrame(rows, schema=schema))

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> Fleet:
        """A fleet from a CSV or Parquet file with the columns of ``Fleet(frame)``; errors
        name ``FILE:LINE`` for CSV (the header is line 1) and ``FILE row R`` for Parquet."""
        p = Path(path)
        if p.is_dir():
            raise DataFormatError(f"fleet file {p}: is a folder; pass the file inside it")
        if not p.is_file():
            raise DataFormatError(f"fleet file {p}: no such file; check the path")
        parquet = p.suffix.lower() in (".parquet", ".pq")
        why = None if parquet else not_text(p)
        if why:
            raise DataFormatError(f"fleet file {p}: {why}")
        try:
            frame = pl.read_parquet(p) if parquet else pl.read_csv(p, try_parse_dates=True)
        except (pl.exceptions.PolarsError, OSError) as e:
            first = (str(e).strip().splitlines() or [type(e).__name__])[0]
            raise DataFormatError(f"fleet file {p}: cannot read it: {first}") from None

        def label(r: int) -> str:
            return f"{p} row {r}" if parquet else f"{p}:{r + 2}"

        obj = cls.__new__(cls)
        obj._frame = _validate(frame, label)
        return obj

    @property
    def frame(self) -> pl.DataFrame:
        """The validated classes (columns of :data:`FLEET_SCHEMA`)."""
        return self._frame

    def __len__(self) -> int:
        return self._frame.height

    def __repr__(self) -> str:
        units = int(self._frame["count"].sum())
        ths = float((self._frame["count"] * self._frame["hashrate_ths"]).sum())
        return f"Fleet({len(self)} classes, {units} units, {ths:,.1f} TH/s)"

    def __add__(self, other: Fleet) -> Fleet:
        if not isinstance(other, Fleet):
            return NotImplemented
        return Fleet(pl.concat([self._frame, other._frame]).drop("class_id"))

    def filter(self, *, site: str | None = None, model: str | None = None) -> Fleet:
        """The classes of one site and/or model."""
        df = self._frame
        if site is not None:
            df = df.filter(pl.col("site") == site)
        if model is not None:
            df = df.filter(pl.col("model") == model)
        out = Fleet.__new__(Fleet)
        out._frame = df
        return out

    @property
    def sites(self) -> list[str]:
        """Distinct sites, sorted."""
        return sorted(self._frame["site"].unique().to_list())


def _validate(frame: pl.DataFrame, label: Callable[[int], str] | None = None) -> pl.DataFrame:
    """The checked, completed class frame; ``label`` names a row in errors (``FILE:LINE``
    for a file), else rows are given by index."""

    def at(rows: list[int]) -> str:
        return ", ".join(label(r) for r in rows) if label else f"rows {rows}"

    if "model" not in frame.columns:
        raise SchemaError(
            f"fleet: no 'model' column (columns: {frame.columns}); add a 'model' column "
            "(a catalog name or any label with hashrate_ths and power_w)"
        )
    unknown = [c for c in frame.columns if c not in FLEET_SCHEMA]
    if unknown:
        import difflib

        close = difflib.get_close_matches(unknown[0].lower(), list(FLEET_SCHEMA), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise SchemaError(
            f"fleet: unknown column {unknown[0]!r}{hint}; a fleet has the columns "
            f"{', '.join(FLEET_SCHEMA)} (model required); rename or drop it"
        )
    numeric = {"count", "hashrate_ths", "power_w", "price_usd"}
    for c in sorted(numeric & set(frame.columns)):
        if frame.schema[c] == pl.String:  # a text cell in a CSV column of numbers: name it
            r = first_non_number(frame[c])
            if r is not None:
                raise DtypeError(
                    f"fleet ({at([r]) if label else f'row {r}'}): {c} {frame[c][r]!r} is not a "
                    f"number ({'units' if c == 'count' else FLEET_UNITS[c]})"
                )
        if not (frame.schema[c].is_numeric() or frame.schema[c] == pl.Null):
            raise DtypeError(
                f"fleet: column {c!r} has dtype {frame.schema[c]}; expected a number "
                f"({c} is {'units' if c == 'count' else FLEET_UNITS[c]})"
            )
    if "purchase_date" in frame.columns and frame.schema["purchase_date"] not in (
        pl.Date,
        pl.Null,
    ):
        dtype = frame.schema["purchase_date"]
        if isinstance(dtype, pl.Datetime):
            frame = frame.with_columns(pl.col("purchase_date").dt.date())
        elif dtype == pl.String:
            parsed = frame["purchase_date"].str.strip_chars().str.to_date(strict=False)
            unparsed = (parsed.is_null() & frame["purchase_date"].is_not_null()).arg_true()
            if unparsed.len():
                r = int(unparsed[0])
                raise InvalidValueError(
                    f"fleet ({at([r]) if label else f'row {r}'}): purchase_date "
                    f"{frame['purchase_date'][r]!r} is not a "
                    "date; write it as YYYY-MM-DD (e.g. 2024-05-01) or leave it empty (new)"
                )
            frame = frame.with_columns(parsed.alias("purchase_date"))
        else:
            raise DtypeError(
                f"fleet: column 'purchase_date' has dtype {dtype}; expected dates "
                "(YYYY-MM-DD text, pl.Date or pl.Datetime)"
            )
    df = frame.with_columns(
        pl.col("model").cast(pl.String),
        *(
            pl.lit(None, dtype=pl.Float64).alias(c)
            for c in ("hashrate_ths", "power_w")
            if c not in frame.columns
        ),
    )
    cat = _load("asic_catalog.csv").select(
        "model",
        pl.col("hashrate_ths").alias("_cat_ths"),
        pl.col("power_w").alias("_cat_w"),
    )
    df = df.with_row_index("_row").join(cat, on="model", how="left").sort("_row")
    df = df.with_columns(
        pl.col("hashrate_ths").cast(pl.Float64).fill_null(pl.col("_cat_ths")),
        pl.col("power_w").cast(pl.Float64).fill_null(pl.col("_cat_w")),
        (
            pl.col("count").cast(pl.Int64, strict=False)
            if "count" in df.columns
            else pl.lit(1, pl.Int64)
        ).alias("count"),
        (pl.col("price_usd").cast(pl.Float64) if "price_usd" in df.columns else pl.lit(0.0))
        .fill_null(0.0)
        .alias("price_usd"),
        (
            pl.col("purchase_date").cast(pl.Date)
            if "purchase_date" in df.columns
            else pl.lit(None, pl.Date)
        ).alias("purchase_date"),
        (pl.col("site").cast(pl.String) if "site" in df.columns else pl.lit("default"))
        .fill_null("default")
        .alias("site"),
    )
    missing = _err_rows(df, pl.col("hashrate_ths").is_null() | pl.col("power_w").is_null())
    if missing:
        names = df["model"].gather(missing).to_list()
        raise InvalidValueError(
            f"fleet: {at(missing)} (models {names}) have no hashrate_ths/power_w and are not "
            "in the ASIC catalog; add hashrate_ths (TH/s per unit) and power_w (W per unit)"
        )
    checks = [
        ("model", pl.col("model").is_null(), "is null; name every class"),
        (
            "count",
            pl.col("count").is_null() | (pl.col("count") < 0),
            "must be an integer ≥ 0 (units)",
        ),
        (
            "hashrate_ths",
            ~(pl.col("hashrate_ths") > 0) | ~pl.col("hashrate_ths").is_finite(),
            "must be > 0 TH/s per unit",
        ),
        (
            "power_w",
            ~(pl.col("power_w") > 0) | ~pl.col("power_w").is_finite(),
            "must be > 0 W per unit",
        ),
        (
            "price_usd",
            (pl.col("price_usd") < 0) | ~pl.col("price_usd").is_finite(),
            "must be ≥ 0 USD per unit",
        ),
    ]
    for name, bad, why in checks:
        rows = _err_rows(df, bad)
        if rows:
            empty = " (a value is empty)" if df[name].gather(rows).null_count() else ""
            raise InvalidValueError(f"fleet: column {name!r} at {at(rows)} {why}{empty}")
    if "count" in frame.columns and frame.schema["count"].is_float():
        frac = _err_rows(frame, pl.col("count") != pl.col("count").round(0))
        if frac:
            raise InvalidValueError(
                f"fleet: column 'count' at {at(frac)} is not a whole number of units"
            )
    if "class_id" in df.columns:
        df = df.with_columns(pl.col("class_id").cast(pl.String))
        dup = df.filter(pl.col("class_id").is_duplicated() | pl.col("class_id").is_null())
        if dup.height:
            raise InvalidValueError(
                f"fleet: class_id values {dup['class_id'].to_list()[:5]} are null or repeated; "
                "class_id must be unique (or drop the column to have one generated)"
            )
    else:
        base = pl.col("model") + pl.lit("@") + pl.col("site")
        n = pl.int_range(pl.len()).over(base)
        df = df.with_columns(
            pl.when(pl.len().over(base) > 1)
            .then(base + pl.lit("#") + (n + 1).cast(pl.String))
            .otherwise(base)
            .alias("class_id")
        )
    df = df.with_columns((pl.col("power_w") / pl.col("hashrate_ths")).alias("efficiency_jth"))
    return df.select([pl.col(c).cast(t) for c, t in FLEET_SCHEMA.items()])


FLEET_UNITS = {
    "hashrate_ths": "TH/s per unit",
    "power_w": "watts per unit",
    "price_usd": "US dollars per unit",
}
