"""Bundled chain history, as typed polars frames.

:func:`difficulty_epochs` is the embedded default that later commands start from. Its
schema is documented in ``docs/schemas.md``; sources and licences are in
``hashpivot/data/README.md``.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import polars as pl

from hashpivot.exceptions import DtypeError, InvalidValueError

__all__ = ["difficulty_epochs", "epoch_of_height"]

_EPOCH_CSV = "difficulty_epochs.csv"


def _hex_to_u32(col: str) -> pl.Expr:
    return pl.col(col).str.to_integer(base=16, strict=True).cast(pl.UInt32, strict=True)


@lru_cache(maxsize=1)
def _load_epochs() -> pl.DataFrame:
    raw = (resources.files("hashpivot") / "data" / _EPOCH_CSV).read_bytes()
    df = pl.read_csv(
        raw,
        schema_overrides={
            "first_time": pl.Int64,
            "last_time": pl.Int64,
            "timespan_s": pl.Int64,
            "bits_hex": pl.String,
            "next_bits_by_retarget_rule": pl.String,
            "next_bits_actual": pl.String,
            "last_block_hash": pl.String,
        },
    )
    utc = pl.Datetime("us", "UTC")
    return df.select(
        pl.col("epoch").cast(pl.Int64),
        pl.col("first_height").cast(pl.Int64),
        pl.col("last_height").cast(pl.Int64),
        pl.from_epoch("first_time", time_unit="s").cast(utc).alias("first_time"),
        pl.from_epoch("last_time", time_unit="s").cast(utc).alias("last_time"),
        pl.col("first_time").alias("first_time_unix"),
        pl.col("last_time").alias("last_time_unix"),
        pl.col("timespan_s"),
        _hex_to_u32("bits_hex").alias("bits"),
        pl.col("target_hex"),
        pl.col("difficulty").cast(pl.Float64),
        (pl.col("difficulty") / pl.col("difficulty").shift(1) - 1.0).alias("difficulty_change"),
        pl.col("last_block_hash"),
        _hex_to_u32("next_bits_by_retarget_rule").alias("next_bits_by_retarget_rule"),
        _hex_to_u32("next_bits_actual").alias("next_bits"),
        pl.col("implied_hashrate_hs").cast(pl.Float64),
    )


def difficulty_epochs() -> pl.DataFrame:
    """Per-epoch mainnet difficulty history, epochs 0–473 (heights 0–955,583).

    Columns: ``epoch, first_height, last_height, first_time, last_time`` (UTC datetimes,
    null where unknown), ``first_time_unix, last_time_unix, timespan_s, bits`` (UInt32),
    ``target_hex, difficulty, difficulty_change`` (relative to the previous epoch),
    ``last_block_hash, next_bits_by_retarget_rule, next_bits`` (the bits the next epoch
    actually used), ``implied_hashrate_hs``.
    """
    return _load_epochs().clone()


def epoch_of_height(height: int) -> dict[str, object]:
    """The bundled epoch row (as a dict) that contains ``height``."""
    if isinstance(height, bool) or not isinstance(height, int):
        raise DtypeError(f"height: {height!r} is not a block height (an int)")
    epochs = _load_epochs()
    last = int(epochs["last_height"][-1])
    if not 0 <= height <= last:
        raise InvalidValueError(
            f"height: {height} is outside the bundled history (0 … {last}); "
            "use hashpivot.chain.read_headers for newer blocks"
        )
    row = epochs.filter((pl.col("first_height") <= height) & (pl.col("last_height") >= height))
    return row.row(0, named=True)
