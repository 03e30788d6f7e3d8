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


# ============================================================================ strategy (issue #6)
# A per-path Python loop: what a naive host does (slice one path, call the model, loop over
# days). Slow by design; the vectorised hashpivot.strategy.evaluate must agree with it.

from typing import Any  # noqa: E402

DAYS_PER_YEAR = 365.25


def npv_daily(flows: list[float], rate: float) -> float:
    """Σ flow_d · (1 + rate)^(−d / 365.25)."""
    return float(sum(f * (1.0 + rate) ** (-d / DAYS_PER_YEAR) for d, f in enumerate(flows)))


def period_sums(flows: list[float]) -> list[float]:
    """Sums over 1/12-year periods: day d is in period ⌊d / 30.4375⌋ (with float fuzz)."""
    out: list[float] = []
    k_day = DAYS_PER_YEAR / 12.0
    for d, f in enumerate(flows):
        # a day belongs to the period whose end ⌊(k+1)·30.4375⌋ − 1 is the first ≥ d
        k = 0
        while int((k + 1) * k_day + 1e-9) - 1 < d:
            k += 1
        while len(out) <= k:
            out.append(0.0)
        out[k] += f
    return out


def irr_periods(periods: list[float], lo: float = -0.99, hi: float = 10.0) -> float | None:
    """Annual IRR of period flows at t = k/12 years, by bisection; None without a sign change."""

    def f(r: float) -> float:
        return float(sum(c * (1.0 + r) ** (-k / 12.0) for k, c in enumerate(periods)))

    f_lo, f_hi = f(lo), f(hi)
    if f_lo * f_hi > 0:
        return None
    for _ in range(48):
        mid = (lo + hi) / 2
        f_mid = f(mid)
        if f_lo * f_mid <= 0:
            hi = mid
        else:
            lo, f_lo = mid, f_mid
    return (lo + hi) / 2


def payback_years(periods: list[float]) -> float | None:
    """End of the first period (years) from which the cumulative flow stays ≥ 0 at period ends;
    None if it ends < 0."""
    cum = 0.0
    last_neg = -1
    for k, c in enumerate(periods):
        cum += c
        if cum < 0:
            last_neg = k
    return None if cum < 0 else (last_neg + 2) / 12.0


def rolling_trigger(
    values: list[float], window: int, below: float | None, above: float | None
) -> int | None:
    """First day whose trailing ``window``-day mean is below/above the threshold."""
    for d in range(window - 1, len(values)):
        m = sum(values[d - window + 1 : d + 1]) / window
        if (below is not None and m < below) or (above is not None and m > above):
            return d
    return None


def evaluate_path_loop(
    site: Any, scenario: Any, strategies: list[Any], models: dict[str, Any], rate: float
) -> list[dict[str, Any]]:
    """Per strategy and path: npv_usd, irr, payback_years, from one model call per path."""
    import polars as pl  # local: the consensus section stays dependency-free

    n_days = scenario.n_days
    out = []
    for strat in strategies:
        alloc = strat.allocate(site, scenario)
        for p in range(scenario.n_paths):
            frame = scenario.frame.slice(p * n_days, n_days)
            net = [0.0] * n_days
            for mname, steps in alloc.mw.items():
                mw = [steps.start_mw] * n_days
                for x, d in steps.steps:
                    s = d if isinstance(d, int) else d[p]
                    if s is None:
                        continue
                    for t in range(max(s, 0), n_days):
                        mw[t] += x
                cf = models[mname].cash_flows(site, frame, pl.Series("mw", mw))
                for t, (r, o, c) in enumerate(
                    zip(cf["revenue_usd"], cf["opex_usd"], cf["capex_usd"], strict=False)
                ):
                    net[t] += r - o - c
            for usd, d in alloc.switch_capex:
                s = d if isinstance(d, int) else d[p]
                if s is not None and 0 <= s < n_days:
                    net[s] -= usd
            periods = period_sums(net)
            out.append(
                {
                    "strategy": strat.name,
                    "path": int(frame["path"][0]),
                    "npv_usd": npv_daily(net, rate),
                    "irr": irr_periods(periods),
                    "payback_years": payback_years(periods),
                }
            )
    return out
