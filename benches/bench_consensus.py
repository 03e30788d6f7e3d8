"""Vectorised consensus kernels on 1,000,000 rows vs the pure-Python reference (goal ≥ 100×)."""

from __future__ import annotations

import random

import polars as pl

from _harness import best_of, peak_rss_mib, table, verdict  # benches/ is on sys.path
from hashpivot import _reference as ref
from hashpivot import consensus as c

N = 1_000_000
GOAL = 100.0


def main() -> str:
    rng = random.Random(42)
    # realistic mainnet bits: exponents 0x17..0x1d, mantissa without the sign bit
    bits_list = [
        (rng.randint(0x17, 0x1C) << 24) | rng.randint(0x008000, 0x7FFFFF) for _ in range(N)
    ]
    heights_list = [rng.randint(0, 7_000_000) for _ in range(N)]
    bits = pl.Series("bits", bits_list, dtype=pl.UInt32)
    heights = pl.Series("height", heights_list, dtype=pl.Int64)

    cases = [
        (
            "bits → difficulty (f64)",
            lambda: c.bits_to_difficulty(bits),
            lambda: [ref.get_difficulty(b) for b in bits_list],
        ),
        (
            "work, exact (64-hex strings)",
            lambda: c.work(bits),
            lambda: [ref.bits_proof(b) for b in bits_list],
        ),
        (
            "work as f64 (getdouble)",
            lambda: c.work(bits, as_float=True),
            lambda: [float(ref.bits_proof(b)) for b in bits_list],
        ),
        (
            "subsidy by height (sat)",
            lambda: c.block_subsidy(heights),
            lambda: [ref.block_subsidy(h) for h in heights_list],
        ),
    ]
    # correctness spot check before timing
    assert c.bits_to_difficulty(bits[:1000]).to_list() == [
        ref.get_difficulty(b) for b in bits_list[:1000]
    ]
    rows = []
    for name, fast, slow in cases:
        t_fast = best_of(fast, repeat=5)
        t_slow = best_of(slow, repeat=1)
        ratio = t_slow / t_fast
        rows.append(
            [
                name,
                f"{t_fast * 1e3:.1f} ms",
                f"{t_slow * 1e3:.0f} ms",
                f"{ratio:.0f}×",
                f"{N / t_fast / 1e6:.0f} M rows/s",
                verdict(ratio, GOAL),
            ]
        )
    return (
        f"## Consensus kernels ({N:,} rows, polars Series in and out)\n\n"
        "Reference: `hashpivot._reference` (pure Python, one call per row, producing plain "
        "ints/floats — cheaper output than the hex strings the exact work column carries). "
        f"Goal ≥ {GOAL:.0f}× the reference.\n\n"
        + table(
            ["kernel", "hashpivot", "pure Python", "ratio", "throughput", "goal"],
            rows,
        )
        + f"\n\nPeak RSS of this benchmark process: {peak_rss_mib():.0f} MiB.\n"
    )


if __name__ == "__main__":
    print(main())
