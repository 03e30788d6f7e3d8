"""Bitcoin Core's consensus arithmetic, exact and integer-based.

Every function takes a scalar or a polars Series. Scalars return Python scalars (256-bit
values as ``int``); Series return Series of the same length with nulls kept in place.

Column conventions (see ``docs/schemas.md``):

* compact bits: any integer dtype (``pl.UInt32`` preferred) or hex strings (``"1d00ffff"``);
* 256-bit targets and work: 64-digit lowercase hex strings, exactly as Bitcoin Core's RPC
  prints ``target`` and ``chainwork`` (polars has no 256-bit integer; hex is exact, sorts
  correctly and round-trips through Parquet/CSV). 32-byte big-endian binary is accepted on
  input. ``work(..., as_float=True)`` gives Core's ``getdouble()`` instead;
* heights and Unix times: any integer dtype.

Errors are :mod:`hashpivot.exceptions` classes whose message names the row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, overload

import polars as pl

from hashpivot import _core
from hashpivot._core import NetworkParams
from hashpivot.exceptions import DtypeError, InvalidBitsError, InvalidValueError

__all__ = [
    "NetworkParams",
    "bits_to_difficulty",
    "bits_to_target",
    "block_subsidy",
    "calculate_next_bits",
    "check_proof_of_work",
    "decode_compact",
    "halving_heights",
    "halving_schedule",
    "is_canonical_bits",
    "median_time_past",
    "network_params",
    "next_bits",
    "permitted_difficulty_transition",
    "required_bits",
    "target_to_bits",
    "target_to_difficulty",
    "total_issuance",
    "work",
    "work_from_target",
]

NetworkLike = str | NetworkParams
BitsLike = int | str

_U32_MAX = 0xFFFFFFFF


def network_params(network: NetworkLike = "mainnet") -> NetworkParams:
    """Resolve a network name (``"mainnet"``, ``"testnet3"``, ``"testnet4"``, ``"signet"``,
    ``"regtest"``) or pass a :class:`NetworkParams` through."""
    if isinstance(network, NetworkParams):
        return network
    if isinstance(network, str):
        return NetworkParams.by_name(network)
    raise DtypeError(
        f"network: {type(network).__name__} is not a network; pass a name such as 'mainnet' "
        "or a NetworkParams"
    )


def _bits(bits: object, arg: str = "bits") -> int:
    """Validate a scalar compact-bits value."""
    if isinstance(bits, bool) or not isinstance(bits, int | str):
        raise DtypeError(
            f"{arg}: {type(bits).__name__} is not compact bits; pass an int such as 0x1d00ffff "
            "or a hex string such as '1d00ffff'"
        )
    if isinstance(bits, str):
        text = bits.strip().lower().removeprefix("0x")
        if not 1 <= len(text) <= 8 or any(c not in "0123456789abcdef" for c in text):
            raise InvalidBitsError(
                f"{arg}: {bits!r} is not 1 to 8 hex digits; write bits like '1d00ffff'"
            )
        return int(text, 16)
    if not 0 <= bits <= _U32_MAX:
        raise InvalidBitsError(
            f"{arg}: {bits} is outside the 32-bit range of compact bits [0, 0xffffffff]"
        )
    return bits


def _int(value: object, arg: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise DtypeError(f"{arg}: {type(value).__name__} is not an int")
    if not -(2**63) <= value < 2**63:
        raise InvalidValueError(
            f"{arg}: {value} is outside the signed 64-bit range Bitcoin Core uses for heights "
            "and times (−2^63 … 2^63 − 1)"
        )
    return value


def _u256(value: object, arg: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise DtypeError(f"{arg}: {type(value).__name__} is not an int (a 256-bit value)")
    return value


def _series(name: str, obj: Any) -> pl.Series:
    """Wrap an Arrow array returned by the core (``__arrow_c_array__``) as a named Series."""
    return pl.Series(obj).alias(name)


def _require_series(value: object, arg: str) -> pl.Series:
    if not isinstance(value, pl.Series):
        raise DtypeError(f"{arg}: {type(value).__name__} is neither a scalar nor a polars Series")
    return value


# ----------------------------------------------------------------------------- targets


def decode_compact(bits: BitsLike) -> tuple[int, bool, bool]:
    """Core's ``SetCompact``: ``(value, negative, overflow)`` with no validity check.

    The value is the (possibly wrapped) magnitude; never use it when a flag is set.
    """
    return _core.decode_compact(_bits(bits))


@overload
def bits_to_target(bits: BitsLike, *, network: NetworkLike | None = None) -> int: ...
@overload
def bits_to_target(bits: pl.Series, *, network: NetworkLike | None = None) -> pl.Series: ...
def bits_to_target(
    bits: BitsLike | pl.Series, *, network: NetworkLike | None = None
) -> int | pl.Series:
    """The 256-bit target of compact bits.

    Bits with the sign flag, an overflow or a zero value raise :class:`InvalidBitsError`. With
    ``network`` the target must also be at most that network's proof-of-work limit (Core's
    ``DeriveTarget``). A Series gives 64-digit hex strings (column ``target_hex``).
    """
    params = None if network is None else network_params(network)
    if isinstance(bits, pl.Series):
        return _series("target_hex", _core.bits_to_target_arrow(bits, params))
    return _core.bits_to_target(_bits(bits), params)


@overload
def target_to_bits(target: int) -> int: ...
@overload
def target_to_bits(target: pl.Series) -> pl.Series: ...
def target_to_bits(target: int | pl.Series) -> int | pl.Series:
    """Core's ``GetCompact``: encode a target as compact bits, truncating (never rounding up).

    A Series takes 64-digit hex strings or 32-byte big-endian binary (column ``bits``).
    """
    if isinstance(target, pl.Series):
        return _series("bits", _core.target_to_bits_arrow(target))
    return _core.target_to_bits(_u256(target, "target"))


def is_canonical_bits(bits: BitsLike | pl.Series) -> bool | pl.Series:
    """Whether bits are in canonical form (``target_to_bits(decode(bits)) == bits``)."""
    if isinstance(bits, pl.Series):
        return _series("is_canonical", _core.is_canonical_bits_arrow(bits))
    return _core.is_canonical_bits(_bits(bits))


# ----------------------------------------------------------------------------- difficulty


@overload
def bits_to_difficulty(bits: BitsLike) -> float: ...
@overload
def bits_to_difficulty(bits: pl.Series) -> pl.Series: ...
def bits_to_difficulty(bits: BitsLike | pl.Series) -> float | pl.Series:
    """Difficulty exactly as Core's ``GetDifficulty`` computes it from the bits.

    ``0x17034219`` (block 840,000) gives ``86388558925171.02``. A zero mantissa raises
    :class:`InvalidBitsError` (Core would divide by zero).
    """
    if isinstance(bits, pl.Series):
        return _series("difficulty", _core.bits_to_difficulty_arrow(bits))
    return _core.bits_to_difficulty(_bits(bits))


@overload
def target_to_difficulty(target: int) -> float: ...
@overload
def target_to_difficulty(target: pl.Series) -> pl.Series: ...
def target_to_difficulty(target: int | pl.Series) -> float | pl.Series:
    """``0xffff·2^208 / target``, correctly rounded (equal to ``GetDifficulty`` for canonical
    targets)."""
    if isinstance(target, pl.Series):
        return _series("difficulty", _core.target_to_difficulty_arrow(target))
    return _core.target_to_difficulty(_u256(target, "target"))


# ----------------------------------------------------------------------------- work


@overload
def work(bits: BitsLike, *, as_float: bool = False, strict: bool = True) -> int: ...
@overload
def work(bits: pl.Series, *, as_float: bool = False, strict: bool = True) -> pl.Series: ...
def work(
    bits: BitsLike | pl.Series, *, as_float: bool = False, strict: bool = True
) -> int | pl.Series:
    """Expected hashes of a block: ``floor(2^256 / (target + 1))`` (Core's ``GetBitsProof``).

    ``strict=False`` returns 0 for negative/overflowing/zero bits as Core does; by default they
    raise. A Series gives exact 64-digit hex (column ``work_hex``) or, with ``as_float=True``,
    Core's ``getdouble()`` (column ``work``).
    """
    if isinstance(bits, pl.Series):
        name = "work" if as_float else "work_hex"
        return _series(name, _core.work_arrow(bits, as_float, strict))
    if as_float:
        raise InvalidValueError("as_float: only applies to a Series; a scalar returns an exact int")
    return _core.work(_bits(bits), strict)


def work_from_target(target: int) -> int:
    """Work of an arbitrary (non-zero) 256-bit target."""
    return _core.target_work(_u256(target, "target"))


def check_proof_of_work(
    block_hash: bytes | str, bits: BitsLike, *, network: NetworkLike = "mainnet"
) -> bool:
    """Core's ``CheckProofOfWork``: valid bits and ``hash ≤ target``.

    ``block_hash`` is either the 32 raw double-SHA256 bytes (internal order) or the usual
    display hex (``"000000000019d6..."``).
    """
    if isinstance(block_hash, str):
        try:
            raw = bytes.fromhex(block_hash)[::-1]
        except ValueError as e:
            raise InvalidValueError(f"block_hash: {block_hash!r} is not hex ({e})") from None
    else:
        raw = bytes(block_hash)
    if len(raw) != 32:
        raise InvalidValueError(f"block_hash: has {len(raw)} bytes; a block hash has 32")
    return _core.check_proof_of_work(raw, _bits(bits), network_params(network))


# ----------------------------------------------------------------------------- retarget


@overload
def calculate_next_bits(
    last_bits: BitsLike,
    last_time: int,
    first_time: int,
    *,
    first_bits: BitsLike | None = None,
    network: NetworkLike = "mainnet",
) -> int: ...
@overload
def calculate_next_bits(
    last_bits: pl.Series,
    last_time: pl.Series,
    first_time: pl.Series,
    *,
    first_bits: pl.Series | None = None,
    network: NetworkLike = "mainnet",
) -> pl.Series: ...
def calculate_next_bits(
    last_bits: BitsLike | pl.Series,
    last_time: int | pl.Series,
    first_time: int | pl.Series,
    *,
    first_bits: BitsLike | pl.Series | None = None,
    network: NetworkLike = "mainnet",
) -> int | pl.Series:
    """The retarget rule (Core's ``CalculateNextWorkRequired``).

    ``last_*`` describe the last block of the ending period, ``first_*`` its first block
    (2015 intervals earlier). The span is clamped to [timespan/4, 4·timespan], the target is
    multiplied by it, floor-divided by the timespan, capped at powLimit and encoded. Under
    BIP94 (testnet4) the base is ``first_bits``, which must then be given (without it the
    rule would silently take ``last_bits``, the testnet3 behaviour BIP94 removes); elsewhere
    ``last_bits``.
    """
    params = network_params(network)
    if first_bits is None and params.enforce_bip94:
        raise InvalidValueError(
            f"first_bits: required on {params.name} (BIP94 takes the period's first block's "
            "bits as the base); pass first_bits= the bits of the period's first block"
        )
    if isinstance(last_bits, pl.Series):
        lt = _require_series(last_time, "last_time")
        ft = _require_series(first_time, "first_time")
        fb = last_bits if first_bits is None else _require_series(first_bits, "first_bits")
        return _series("next_bits", _core.calculate_next_bits_arrow(last_bits, lt, fb, ft, params))
    lb = _bits(last_bits, "last_bits")
    fb_s = lb if first_bits is None else _bits(first_bits, "first_bits")
    return _core.calculate_next_bits(
        lb, _int(last_time, "last_time"), fb_s, _int(first_time, "first_time"), params
    )


def _chain_columns(chain: pl.DataFrame) -> tuple[int, list[int], list[int]]:
    """Extract (start_height, times, bits) from a frame of consecutive headers."""
    if not isinstance(chain, pl.DataFrame):
        raise DtypeError(f"chain: {type(chain).__name__} is not a polars DataFrame")
    missing = [c for c in ("height", "bits") if c not in chain.columns]
    time_col = next((c for c in ("time_unix", "time") if c in chain.columns), None)
    if missing or time_col is None:
        need = missing + ([] if time_col else ["time_unix (or time)"])
        raise DtypeError(
            f"chain: missing column(s) {', '.join(need)}; a chain frame needs height, time_unix "
            "and bits (as from hashpivot.chain.read_headers)"
        )
    if chain.height == 0:
        raise InvalidValueError("chain: the frame is empty; pass at least one header")
    time_ok = chain.schema[time_col].is_integer() or isinstance(chain.schema[time_col], pl.Datetime)
    for c, ok, want in (
        ("height", chain.schema["height"].is_integer(), "integers"),
        ("bits", chain.schema["bits"].is_integer() or chain.schema["bits"] == pl.String,
         "integers or hex strings"),
        (time_col, time_ok, "integer Unix seconds or Datetime"),
    ):  # fmt: skip
        if not ok:
            raise DtypeError(
                f"chain: column {c!r} is {chain.schema[c]}; expected {want} (a float would be "
                "truncated)"
            )
    heights = chain["height"]
    if heights.null_count() or chain["bits"].null_count() or chain[time_col].null_count():
        raise InvalidValueError("chain: height, time and bits may not contain nulls")
    start = int(heights[0])
    if not 0 <= start <= 2**62 - chain.height:
        raise InvalidValueError(
            f"chain: height {start} at row 0 is outside 0 … 2^62 − {chain.height} (the heights "
            "the consensus code handles; real chains are below 2^32)"
        )
    expected = pl.int_range(start, start + chain.height, eager=True)
    bad = (heights.cast(pl.Int64) != expected).arg_true()
    if len(bad):
        row = int(bad[0])
        raise InvalidValueError(
            f"chain: heights must be consecutive; row {row} has height {heights[row]} where "
            f"{start + row} was expected. Sort the frame by height and remove gaps"
        )
    times_s = chain[time_col]
    if times_s.dtype == pl.Datetime:
        times_s = times_s.dt.epoch("s")
    bits_s = chain["bits"]
    if bits_s.dtype == pl.String:
        bits_list = [_bits(b, f"bits (row {i})") for i, b in enumerate(bits_s.to_list())]
    else:
        bits_list = [_bits(int(b), f"bits (row {i})") for i, b in enumerate(bits_s.to_list())]
    return start, [int(t) for t in times_s.to_list()], bits_list


def next_bits(
    chain: pl.DataFrame, *, new_time: int | None = None, network: NetworkLike = "mainnet"
) -> int:
    """Bits required of the block after the frame's last row (Core's ``GetNextWorkRequired``).

    ``chain`` holds consecutive headers (``height``, ``time_unix`` or ``time``, ``bits``). At a
    retarget the frame must reach back to the first block of the ending period; on testnets
    ``new_time`` (the new block's timestamp) is needed for the 20-minute rule, and the frame
    must reach back to the period start for the walk-back.
    """
    params = network_params(network)
    start, times, bits = _chain_columns(chain)
    new = None if new_time is None else _int(new_time, "new_time")
    return _core.next_bits(start, times, bits, params, new)


def required_bits(chain: pl.DataFrame, *, network: NetworkLike = "mainnet") -> pl.Series:
    """For each row of a consecutive header run, the bits consensus requires of it given the
    rows before it; null where the run lacks the context (its first row, or a retarget whose
    period began before the run). Column ``required_bits``.
    """
    params = network_params(network)
    start, times, bits = _chain_columns(chain)
    return _series("required_bits", _core.required_bits_run(start, times, bits, params))


def permitted_difficulty_transition(
    height: int, old_bits: BitsLike, new_bits: BitsLike, *, network: NetworkLike = "mainnet"
) -> bool:
    """Core's ``PermittedDifficultyTransition`` (header pre-sync sanity check)."""
    return _core.permitted_difficulty_transition(
        network_params(network),
        _int(height, "height"),
        _bits(old_bits, "old_bits"),
        _bits(new_bits, "new_bits"),
    )


def median_time_past(times: Sequence[int]) -> int:
    """Upper median of a block's timestamp and up to 10 ancestors (oldest → newest)."""
    return _core.median_time_past([_int(t, "times") for t in times])


# ----------------------------------------------------------------------------- subsidy


@overload
def block_subsidy(height: int, *, network: NetworkLike = "mainnet") -> int: ...
@overload
def block_subsidy(height: pl.Series, *, network: NetworkLike = "mainnet") -> pl.Series: ...
def block_subsidy(height: int | pl.Series, *, network: NetworkLike = "mainnet") -> int | pl.Series:
    """Block subsidy in satoshis (Core's ``GetBlockSubsidy``): ``5e9 >> (height // interval)``,
    0 from the 64th halving on. A Series gives column ``subsidy_sat`` (Int64)."""
    interval = network_params(network).subsidy_halving_interval
    if isinstance(height, pl.Series):
        return _series("subsidy_sat", _core.block_subsidy_arrow(height, interval))
    return _core.block_subsidy(_int(height, "height"), interval)


def halving_heights(*, network: NetworkLike = "mainnet") -> list[int]:
    """Heights at which the subsidy changes: ``k · interval`` for k = 1 … 33.

    After the 33rd halving the integer subsidy is 0; Core's guard at 64 halvings changes
    nothing further, so those heights are not listed.
    """
    return _core.halving_heights(network_params(network).subsidy_halving_interval)


@overload
def total_issuance(height: None = None, *, network: NetworkLike = "mainnet") -> int: ...
@overload
def total_issuance(height: int, *, network: NetworkLike = "mainnet") -> int: ...
@overload
def total_issuance(height: pl.Series, *, network: NetworkLike = "mainnet") -> pl.Series: ...
def total_issuance(
    height: int | pl.Series | None = None, *, network: NetworkLike = "mainnet"
) -> int | pl.Series:
    """Satoshis issued by blocks ``0 … height`` (genesis included); with no height, the total
    supply (2,099,999,997,690,000 sat on mainnet). A Series gives column ``issuance_sat``."""
    interval = network_params(network).subsidy_halving_interval
    if height is None:
        return _core.total_issuance(interval)
    if isinstance(height, pl.Series):
        return _series("issuance_sat", _core.issuance_through_arrow(height, interval))
    return _core.issuance_through(_int(height, "height"), interval)


def halving_schedule(*, network: NetworkLike = "mainnet") -> pl.DataFrame:
    """One row per subsidy era: ``era, start_height, end_height, subsidy_sat, subsidy_btc,
    era_issuance_sat, cumulative_issuance_sat`` (eras 0 … 33; era 33 pays 0)."""
    params = network_params(network)
    interval = params.subsidy_halving_interval
    starts = [0, *halving_heights(network=params)]
    start = pl.Series("start_height", starts, dtype=pl.Int64)
    subsidy = block_subsidy(start, network=params)
    end = pl.Series("end_height", [s + interval - 1 for s in starts], dtype=pl.Int64)
    cumulative = total_issuance(end, network=params)
    return pl.DataFrame(
        {
            "era": pl.Series(range(len(starts)), dtype=pl.Int64),
            "start_height": start,
            "end_height": end,
            "subsidy_sat": subsidy,
            "subsidy_btc": subsidy.cast(pl.Float64) / 1e8,
            "era_issuance_sat": subsidy * interval,
            "cumulative_issuance_sat": cumulative,
        }
    )
