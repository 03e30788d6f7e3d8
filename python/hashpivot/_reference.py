"""Slow, obvious pure-Python versions of the Rust kernels, for differential tests.

Nothing here is fast or clever on purpose: each function follows the spec text line by line
(``shared/spec/CONSENSUS.md``, ``shared/spec/ECONOMICS.md``) with Python's unbounded ints, so
that hypothesis can compare it with the Rust core. Not part of the public API.

Sections: consensus; chain; fleet; scenario (each area appends its own).
"""

from __future__ import annotations

# ============================================================================ consensus

MASK256 = (1 << 256) - 1
DIFF1_TARGET = 0xFFFF << 208


def set_compact(bits: int) -> tuple[int, bool, bool]:
    """Core's SetCompact: (value mod 2^256, negative, overflow)."""
    size = bits >> 24
    word = bits & 0x007FFFFF
    if size <= 3:
        word >>= 8 * (3 - size)
        value = word
    else:
        value = (word << (8 * (size - 3))) & MASK256
    negative = word != 0 and (bits & 0x00800000) != 0
    overflow = word != 0 and (
        size > 34 or (word > 0xFF and size > 33) or (word > 0xFFFF and size > 32)
    )
    return value, negative, overflow


def get_compact(value: int, negative: bool = False) -> int:
    """Core's GetCompact (truncating, with sign avoidance)."""
    size = (value.bit_length() + 7) // 8
    if size <= 3:
        mant = (value & ((1 << 64) - 1)) << (8 * (3 - size))
    else:
        mant = (value >> (8 * (size - 3))) & 0xFFFFFFFF
    if mant & 0x00800000:
        mant >>= 8
        size += 1
    c = (size << 24) | mant
    if negative and (mant & 0x007FFFFF):
        c |= 0x00800000
    return c


def get_difficulty(bits: int) -> float:
    """Core's GetDifficulty, in Core's operation order."""
    shift = (bits >> 24) & 0xFF
    d = 65535.0 / float(bits & 0x00FFFFFF)
    while shift < 29:
        d *= 256.0
        shift += 1
    while shift > 29:
        d /= 256.0
        shift -= 1
    return d


def bits_proof(bits: int) -> int:
    """Core's GetBitsProof: floor(2^256 / (target + 1)), 0 for invalid bits."""
    value, negative, overflow = set_compact(bits)
    if negative or overflow or value == 0:
        return 0
    return (1 << 256) // (value + 1)


def calculate_next_work_required(
    last_bits: int,
    last_time: int,
    first_bits: int,
    first_time: int,
    *,
    pow_limit: int = (1 << 224) - 1,
    timespan: int = 1_209_600,
    bip94: bool = False,
    no_retargeting: bool = False,
) -> int:
    """Core's CalculateNextWorkRequired with unbounded ints (the product never wraps)."""
    if no_retargeting:
        return last_bits
    span = min(max(last_time - first_time, timespan // 4), timespan * 4)
    base = first_bits if bip94 else last_bits
    t = set_compact(base)[0]
    t = t * span // timespan
    t = min(t, pow_limit)
    return get_compact(t)


def block_subsidy(height: int, interval: int = 210_000) -> int:
    """Core's GetBlockSubsidy."""
    halvings = height // interval
    if halvings >= 64:
        return 0
    return 5_000_000_000 >> halvings


def issuance_through(height: int, interval: int = 210_000) -> int:
    """Σ block_subsidy over heights 0..=height, era by era."""
    total = 0
    era = 0
    start = 0
    while start <= height and era < 64:
        end = min(height, start + interval - 1)
        total += (end - start + 1) * (5_000_000_000 >> era)
        era += 1
        start += interval
    return total


def median_time_past(times: list[int]) -> int:
    """Upper median of the last 11 timestamps."""
    w = sorted(times[-11:])
    return w[len(w) // 2]


# ============================================================================ scenario


def u256_getdouble(v: int) -> float:
    """Core's arith_uint256::getdouble: sum of 32-bit words times powers of 2^32, in order
    (the same float operations as the Rust kernel, so results match bit for bit)."""
    ret = 0.0
    fact = 1.0
    for i in range(8):
        ret += fact * float((v >> (32 * i)) & 0xFFFFFFFF)
        fact *= 4294967296.0
    return ret


def _round_half_away(t: float) -> int:
    r = int(t)  # t > 0: truncation is floor
    return r + 1 if t - r >= 0.5 else r


def fluid_chain(
    start_height: int,
    start_bits: int,
    start_time: int,
    epoch_first_time: int | None,
    hashrate_ehs: list[float],
    *,
    interval: int = 2016,
) -> tuple[list[int], list[int], list[tuple[int, int, int, int]]]:
    """The scenario engine's deterministic ("fluid") block clock, block by block.

    A block is found every ``proof(bits) / H`` seconds exactly; the day's hashrate H is
    constant within a UTC day; the first and last block times of each epoch are rounded to
    the nearest second; after an epoch's last block the next bits are
    :func:`calculate_next_work_required`. Returns per-day end heights and bits, and the
    retargets ``(height of new epoch, last block time, old bits, new bits)``.
    """
    day0 = (start_time // 86400) * 86400
    height, bits = start_height, start_bits
    first_time = start_time if epoch_first_time is None else epoch_first_time
    proof = u256_getdouble(bits_proof(bits))
    acc = 0.0
    heights: list[int] = []
    bits_out: list[int] = []
    rts: list[tuple[int, int, int, int]] = []
    for d, ehs in enumerate(hashrate_ehs):
        day_start = day0 + 86400 * d
        now = float(max(day_start, start_time))
        end = float(day_start + 86400)
        hs = ehs * 1e6 * 1e12
        while True:
            rest = end - now
            lam = hs / proof
            if rest <= 0.0 or lam <= 0.0:
                break
            pos = (height + 1) % interval
            need = 1 if pos == 0 else interval - pos
            dt = (need - acc) / lam
            if dt > rest:
                total = acc + lam * rest
                k = int(total)  # total ≥ 0
                height += k
                acc = total - k
                break
            now += dt
            acc = 0.0
            height += need
            if pos == 0:
                first_time = _round_half_away(now)
            else:
                last = _round_half_away(now)
                new = calculate_next_work_required(bits, last, bits, first_time)
                rts.append((height + 1, last, bits, new))
                bits = new
                proof = u256_getdouble(bits_proof(bits))
        heights.append(height)
        bits_out.append(bits)
    return heights, bits_out, rts
