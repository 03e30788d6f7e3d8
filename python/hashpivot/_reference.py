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


# ============================================================================ chain


def sha256d(data: bytes) -> bytes:
    """Double SHA-256 with hashlib (internal byte order)."""
    import hashlib

    return hashlib.sha256(hashlib.sha256(data).digest()).digest()


def parse_header(raw: bytes) -> dict[str, int | bytes]:
    """The six fields of an 80-byte header (hashes in internal byte order)."""
    return {
        "version": int.from_bytes(raw[0:4], "little", signed=True),
        "prev": raw[4:36],
        "merkle": raw[36:68],
        "time": int.from_bytes(raw[68:72], "little"),
        "bits": int.from_bytes(raw[72:76], "little"),
        "nonce": int.from_bytes(raw[76:80], "little"),
    }


def validate_headers(
    data: bytes,
    start_height: int = 0,
    *,
    pow_limit: int = (1 << 224) - 1,
    interval: int = 2016,
    timespan: int = 1_209_600,
    spacing: int = 600,
    genesis_bits: int = 0x1D00FFFF,
    genesis_hash: bytes | None = None,
    min_difficulty_blocks: bool = False,
    bip94: bool = False,
    no_retargeting: bool = False,
) -> list[str]:
    """The obvious header validator: one status per header, first failing rule wins.

    Rules in order: bad-genesis, bad-prevblk, high-hash, bad-diffbits, time-too-old,
    time-timewarp-attack. The run must start at genesis (start_height 0) or rules needing
    earlier headers are skipped for the rows that lack them.
    """
    n = len(data) // 80
    hdrs = [parse_header(data[i * 80 : i * 80 + 80]) for i in range(n)]
    hashes = [sha256d(data[i * 80 : i * 80 + 80]) for i in range(n)]
    times = [int(h["time"]) for h in hdrs]
    bitsl = [int(h["bits"]) for h in hdrs]
    limit_bits = get_compact(pow_limit)
    out: list[str] = []

    def required(i: int) -> int | None:
        h = start_height + i
        if h == 0:
            return genesis_bits
        if i == 0:
            return None
        last = i - 1
        if h % interval != 0:
            if min_difficulty_blocks:
                if times[i] > times[last] + 2 * spacing:
                    return limit_bits
                j = last
                while start_height + j > 0 and (start_height + j) % interval != 0:
                    if bitsl[j] != limit_bits:
                        break
                    j -= 1
                    if j < 0:
                        return None
                return bitsl[j]
            return bitsl[last]
        first = i - interval
        if first < 0:
            return None
        return calculate_next_work_required(
            bitsl[last],
            times[last],
            bitsl[first],
            times[first],
            pow_limit=pow_limit,
            timespan=timespan,
            bip94=bip94,
            no_retargeting=no_retargeting,
        )

    for i in range(n):
        h = start_height + i
        status = "ok"
        value, negative, overflow = set_compact(bitsl[i])
        pow_ok = (
            not negative
            and not overflow
            and value != 0
            and value <= pow_limit
            and int.from_bytes(hashes[i], "little") <= value
        )
        req = required(i)
        if h == 0 and genesis_hash is not None and hashes[i] != genesis_hash:
            status = "bad-genesis"
        elif h > 0 and i > 0 and hdrs[i]["prev"] != hashes[i - 1]:
            status = "bad-prevblk"
        elif not pow_ok:
            status = "high-hash"
        elif req is not None and req != bitsl[i]:
            status = "bad-diffbits"
        elif (
            h > 0
            and (i >= 11 or start_height == 0)
            and i > 0
            and times[i] <= median_time_past(times[max(0, i - 11) : i])
        ):
            status = "time-too-old"
        if (
            status == "ok"
            and bip94
            and h > 0
            and h % interval == 0
            and i > 0
            and times[i] < times[i - 1] - 600
        ):
            status = "time-timewarp-attack"
        out.append(status)
    return out
