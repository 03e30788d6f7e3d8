"""Bad input raises a hashpivot.exceptions error naming the input, the row and why."""

from __future__ import annotations

import polars as pl
import pytest

from hashpivot import consensus as c
from hashpivot.consensus import NetworkParams
from hashpivot.exceptions import (
    ArithmeticOverflowError,
    DtypeError,
    HashpivotError,
    InvalidBitsError,
    InvalidValueError,
)


def test_sign_bit_names_the_row() -> None:
    s = pl.Series([0x1D00FFFF, 0x17034219, 0x1D80FFFF])
    with pytest.raises(
        InvalidBitsError, match=r"bits \(row 2\): bits 0x1d80ffff have the sign bit"
    ):
        c.bits_to_target(s)


def test_overflow_names_the_row() -> None:
    with pytest.raises(InvalidBitsError, match=r"row 1.*overflow"):
        c.work(pl.Series([0x1D00FFFF, 0xFF7FFFFF]))


def test_out_of_range_bits() -> None:
    with pytest.raises(InvalidBitsError, match=r"row 1\): -5 is outside"):
        c.bits_to_difficulty(pl.Series([0x1D00FFFF, -5]))
    with pytest.raises(InvalidBitsError, match="outside the 32-bit range"):
        c.bits_to_difficulty(1 << 32)
    with pytest.raises(InvalidBitsError, match="hex digits"):
        c.bits_to_difficulty("xyz")


def test_negative_height_names_the_row() -> None:
    with pytest.raises(InvalidValueError, match=r"height \(row 1\): -1 is negative"):
        c.block_subsidy(pl.Series([5, -1]))
    with pytest.raises(InvalidValueError, match="negative"):
        c.block_subsidy(-1)


def test_wrong_dtype() -> None:
    with pytest.raises(DtypeError, match=r"bits: dtype Float64 is not supported"):
        c.bits_to_difficulty(pl.Series([1.5]))
    with pytest.raises(DtypeError):
        c.bits_to_difficulty(1.5)  # type: ignore[call-overload]
    with pytest.raises(DtypeError):
        c.block_subsidy(pl.Series(["a"]))
    with pytest.raises(DtypeError, match="network"):
        c.block_subsidy(1, network=3)  # type: ignore[call-overload]
    assert issubclass(DtypeError, TypeError)


def test_bad_hex_target_names_row() -> None:
    with pytest.raises(InvalidValueError, match=r"row 1"):
        c.target_to_bits(pl.Series(["ff", "zz"]))


def test_errors_are_hashpivot_errors_and_builtins() -> None:
    with pytest.raises(HashpivotError):
        c.bits_to_target(0)
    with pytest.raises(ValueError, match="zero target"):
        c.bits_to_target(0)


def test_unknown_network() -> None:
    with pytest.raises(InvalidValueError, match="not a known network"):
        c.block_subsidy(1, network="dogecoin")


def test_custom_params_overflow_modes() -> None:
    """regtest's powLimit with retargeting on overflows 256 bits at ×4 (CONSENSUS.md §2)."""
    checked = NetworkParams.custom("regtest", no_retargeting=False)
    assert checked.overflow == "checked"
    with pytest.raises(ArithmeticOverflowError, match="exceeds 256 bits"):
        c.calculate_next_bits(0x207FFFFF, 4 * 86_400, 0, network=checked)
    wide = NetworkParams.custom("regtest", no_retargeting=False, overflow="wide")
    assert c.calculate_next_bits(0x207FFFFF, 4 * 86_400, 0, network=wide) == 0x207FFFFF
    wrap = NetworkParams.custom("regtest", no_retargeting=False, overflow="wrap")
    assert c.calculate_next_bits(0x207FFFFF, 4 * 86_400, 0, network=wrap) != 0x207FFFFF
    with pytest.raises(InvalidValueError, match="overflow"):
        NetworkParams.custom(overflow="saturate")
    with pytest.raises(InvalidValueError, match="multiple"):
        NetworkParams.custom(pow_target_spacing=7000)
    # custom limits are unsigned 256-bit
    with pytest.raises(InvalidValueError, match="negative"):
        NetworkParams.custom(pow_limit=-1)
    with pytest.raises(ArithmeticOverflowError, match="256 bits"):
        NetworkParams.custom(pow_limit=1 << 256)


def test_next_bits_needs_context() -> None:
    chain = pl.DataFrame({"height": [4031], "time_unix": [0], "bits": [0x1D00FFFF]})
    with pytest.raises(InvalidValueError, match=r"height 2016.*not in the given headers"):
        c.next_bits(chain)
    with pytest.raises(InvalidValueError, match="consecutive"):
        c.next_bits(pl.DataFrame({"height": [1, 3], "time_unix": [0, 1], "bits": [1, 1]}))
    with pytest.raises(DtypeError, match="missing column"):
        c.next_bits(pl.DataFrame({"height": [1]}))
    testnet_chain = pl.DataFrame({"height": [5], "time_unix": [0], "bits": [0x1D00FFFF]})
    with pytest.raises(InvalidValueError, match="new block's time"):
        c.next_bits(testnet_chain, network="testnet3")


@pytest.mark.parametrize("height", [2**63, 2**70, -(2**63) - 1])
def test_heights_outside_i64_are_value_errors(height: int) -> None:
    with pytest.raises(InvalidValueError, match="64-bit range"):
        c.block_subsidy(height)


def test_bip94_retarget_needs_the_first_blocks_bits() -> None:
    """testnet4 takes the period's first block's bits as the base: without first_bits the
    rule would silently use last_bits (the testnet3 behaviour BIP94 removes)."""
    import polars as pl

    from hashpivot import consensus as c
    from hashpivot.exceptions import InvalidValueError

    with pytest.raises(InvalidValueError, match="first_bits: required on testnet4"):
        c.calculate_next_bits(0x1D00FFFF, 302_400, 0, network="testnet4")
    s = pl.Series([0x1D00FFFF], dtype=pl.UInt32)
    with pytest.raises(InvalidValueError, match="first_bits"):
        c.calculate_next_bits(s, pl.Series([302_400]), pl.Series([0]), network="testnet4")
    got = c.calculate_next_bits(0x1D00FFFF, 302_400, 0, first_bits=0x1B0404CB, network="testnet4")
    assert got == 0x1B010132
    assert c.calculate_next_bits(0x1D00FFFF, 302_400, 0) == c.calculate_next_bits(
        0x1D00FFFF, 302_400, 0, first_bits=0x1D00FFFF
    )
