"""Inputs at the edges of what the core can hold: each is a hashpivot error, never a Rust
panic, an allocation abort or a hang (found by fuzzing the bindings, session 6)."""

from __future__ import annotations

from collections.abc import Callable

import polars as pl
import pytest

from hashpivot import _core
from hashpivot import scenario as sc
from hashpivot.exceptions import InvalidValueError

EMPTY = pl.Series([], dtype=pl.Float64)


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (lambda: sc.simulate(sc.Scenario(fleet=sc.Fleet(lead_time_days=2**40)), paths=1,
                             years=0.1), "lead_time_days"),
        (lambda: sc.simulate(sc.Scenario(), paths=1, years=1e10), "≤ 100"),
        (lambda: sc.simulate(sc.Scenario(), paths=2**32 - 1, years=0.1), "simulate_to_parquet"),
        (lambda: sc.simulate(sc.Scenario(price=sc.GBM(jump_per_year=1e12)), paths=1, years=0.1),
         "jumps a year"),
        (lambda: _core.synthetic_chain(2**40, _core.NetworkParams.regtest()), "at most"),
        (lambda: _core.day_quantiles(EMPTY, 2**63, 2, [0.5]), "n_paths × n_days"),
        (lambda: _core.FlowSums(EMPTY, EMPTY, None, pl.Series([1.0, 1.0]), 2**63, 2, [0, 2]),
         "do not fit"),
        (lambda: _core.irr_bisect([pl.Series([-1.0]), pl.Series([2.0])], 10**10), "200"),
    ],
)  # fmt: skip
def test_extreme_sizes_are_hashpivot_errors(call: Callable[[], object], fragment: str) -> None:
    with pytest.raises(InvalidValueError, match=fragment):
        call()
