"""Property tests: the Rust core against the slow, obvious reference in ``_reference.py``."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from hashpivot import _reference as ref
from hashpivot import consensus as c
from hashpivot.exceptions import InvalidBitsError

u32 = st.integers(0, 0xFFFFFFFF)
target = st.integers(1, (1 << 256) - 1)
spans = st.integers(-(10**10), 10**10)


@given(u32)
def test_decode_matches_reference(bits: int) -> None:
    assert c.decode_compact(bits) == ref.set_compact(bits)


@given(st.integers(0, (1 << 256) - 1))
def test_encode_matches_reference_and_truncates(value: int) -> None:
    bits = c.target_to_bits(value)
    assert bits == ref.get_compact(value)
    decoded, neg, ovf = ref.set_compact(bits)
    assert not neg
    assert not ovf
    assert decoded <= value  # never rounds up
    assert c.target_to_bits(decoded) == bits  # canonical after one round trip


@given(u32)
def test_canonical_round_trip(bits: int) -> None:
    value, neg, ovf = ref.set_compact(bits)
    canonical = not ovf and ref.get_compact(value, neg) == bits
    assert c.is_canonical_bits(bits) == canonical


@given(u32)
def test_difficulty_and_work_match_reference(bits: int) -> None:
    if bits & 0x00FFFFFF:
        assert c.bits_to_difficulty(bits) == ref.get_difficulty(bits)
    else:
        try:
            c.bits_to_difficulty(bits)
        except InvalidBitsError:
            pass
        else:  # pragma: no cover - must raise
            raise AssertionError("zero mantissa must raise")
    assert c.work(bits, strict=False) == ref.bits_proof(bits)


@given(target)
def test_target_difficulty_is_correctly_rounded(t: int) -> None:
    from fractions import Fraction

    assert c.target_to_difficulty(t) == float(Fraction(ref.DIFF1_TARGET, t))


@settings(max_examples=300)
@given(st.integers(0x03000001, 0x1D00FFFF).filter(lambda b: b & 0x00800000 == 0), spans, spans)
def test_retarget_matches_reference(bits: int, first_time: int, last_time: int) -> None:
    value, _, _ = ref.set_compact(bits)
    if value == 0:
        return
    assert c.calculate_next_bits(bits, last_time, first_time) == ref.calculate_next_work_required(
        bits, last_time, bits, first_time
    )


@settings(max_examples=200)
@given(
    st.integers(0x1A000001, 0x1D00FFFF).filter(lambda b: b & 0x00800000 == 0),
    st.integers(0, 10**7),
    st.integers(0, 10**7),
)
def test_retarget_monotone_and_clamped(bits: int, span_a: int, span_b: int) -> None:
    """A slower period never gives a smaller target; the move is within ×4 / ÷4."""
    if ref.set_compact(bits)[0] == 0:
        return
    lo, hi = sorted((span_a, span_b))
    t_lo = ref.set_compact(c.calculate_next_bits(bits, lo, 0))[0]
    t_hi = ref.set_compact(c.calculate_next_bits(bits, hi, 0))[0]
    assert t_lo <= t_hi
    old = ref.set_compact(bits)[0]
    for t in (t_lo, t_hi):
        assert t <= min(old * 4, (1 << 224) - 1)
        assert t >= ref.set_compact(ref.get_compact(old // 4))[0] - 0  # ÷4 then truncation


@given(st.integers(0, 20_000_000), st.sampled_from([210_000, 150, 1000]))
def test_subsidy_and_issuance(height: int, interval: int) -> None:
    net = c.NetworkParams.custom(subsidy_halving_interval=interval)
    assert c.block_subsidy(height, network=net) == ref.block_subsidy(height, interval)
    assert c.total_issuance(height, network=net) == ref.issuance_through(height, interval)


@given(st.lists(st.integers(0, 2**32), min_size=1, max_size=30))
def test_mtp(times: list[int]) -> None:
    assert c.median_time_past(times) == ref.median_time_past(times)


@given(st.lists(st.one_of(st.none(), u32), max_size=50))
def test_vectorised_equals_scalar_with_nulls(values: list[int | None]) -> None:
    s = pl.Series(values, dtype=pl.UInt32)
    got = c.work(s, strict=False).to_list()
    assert got == [None if v is None else f"{ref.bits_proof(v):064x}" for v in values]
