"""Consensus results against the real chain: the bundled epoch history and header runs."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from hashpivot import consensus as c
from hashpivot import history


def test_every_epoch_retarget_reproduces_the_chain(shared_data: Path) -> None:
    """For each epoch with both timestamps, the retarget rule gives the next epoch's real bits."""
    raw = pl.read_csv(
        shared_data / "headers" / "difficulty_epochs.csv",
        schema_overrides={"bits_hex": pl.String, "next_bits_actual": pl.String},
    )
    full = raw.filter(
        pl.col("first_time").is_not_null()
        & pl.col("last_time").is_not_null()
        & pl.col("next_bits_actual").is_not_null()
    )
    assert full.height == 413
    got = c.calculate_next_bits(full["bits_hex"], full["last_time"], full["first_time"])
    expected = full["next_bits_actual"].str.to_integer(base=16).cast(pl.UInt32)
    mismatches = full.filter(got != expected)
    assert mismatches.height == 0, mismatches.select("epoch", "bits_hex", "next_bits_actual")
    # scalar path agrees with the vectorised one
    for row in full.sample(20, seed=1).iter_rows(named=True):
        assert c.calculate_next_bits(row["bits_hex"], row["last_time"], row["first_time"]) == int(
            row["next_bits_actual"], 16
        )


def test_bundled_history_is_consistent() -> None:
    ep = history.difficulty_epochs()
    assert ep.height == 474
    assert ep.schema["bits"] == pl.UInt32
    assert ep.schema["first_time"] == pl.Datetime("us", "UTC")
    # the bundled difficulty column equals Core's GetDifficulty of the bits, epoch by epoch
    assert (c.bits_to_difficulty(ep["bits"]) == ep["difficulty"]).all()
    # each epoch's bits are the previous epoch's next_bits
    assert (ep["bits"].slice(1) == ep["next_bits"].slice(0, ep.height - 1)).all()
    # the targets agree with the bits
    assert (c.bits_to_target(ep["bits"]) == ep["target_hex"]).all()


def test_the_feb_2026_retarget() -> None:
    ep = history.difficulty_epochs()
    row = ep.filter(pl.col("first_height") == 935_424).row(0, named=True)
    assert row["epoch"] == 464
    assert round(row["difficulty_change"] * 100, 1) == -11.2
    prev = ep.filter(pl.col("epoch") == 463).row(0, named=True)
    ratio = c.bits_to_difficulty(row["bits"]) / c.bits_to_difficulty(prev["bits"])
    assert round((ratio - 1) * 100, 1) == -11.2


def _headers(shared_data: Path, name: str) -> pl.DataFrame:
    df = pl.read_csv(shared_data / "headers" / name, schema_overrides={"bits_hex": pl.String})
    return df.select("height", pl.col("time").alias("time_unix"), pl.col("bits_hex").alias("bits"))


def test_required_bits_on_real_header_runs(shared_data: Path) -> None:
    for name, retargets in (
        ("mainnet_headers_000000_010236.csv", 5),
        ("mainnet_headers_586657_589289.csv", 0),  # its period starts before the run
        ("mainnet_headers_822528_830592.csv", 4),
    ):
        chain = _headers(shared_data, name)
        required = c.required_bits(chain)
        actual = chain["bits"].str.to_integer(base=16).cast(pl.UInt32)
        known = required.is_not_null()
        assert (required.filter(known) == actual.filter(known)).all(), name
        boundary = (chain["height"] % 2016 == 0) & known & (chain["height"] > 0)
        assert int(boundary.sum()) == retargets, name
        # every non-boundary row after the first is known
        assert int((~known).sum()) <= 1 + int((chain["height"] % 2016 == 0).sum())
