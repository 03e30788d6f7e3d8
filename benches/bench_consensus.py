"""Vectorised consensus kernels on 1,000,000 rows vs the pure-Python reference (goal ≥ 100×)."""

from __future__ import annotations

import random

import polars as pl

from _harness import best_of, peak_rss_mib, table, verdict  # benches/ is on sys.path
from hashpivot import _reference as ref
from hashpivot import consensus as c
from hashpivot import history

N = 1_000_000
GOAL = 100.0


def main() -> str:
    rng = random.Random(42)
    # A chain-shaped column: the real mainnet epochs' bits in chain order, 2016 rows each,
    # continued from the start until 1,000,000 rows (what a header frame looks like).
    epoch_bits = history.difficulty_epochs()["bits"].to_list()
    bits_list = [epoch_bits[(i // 2016) % len(epoch_bits)] for i in range(N)]
    # Worst case for the run cache: every row different.
    rand_list = [
        (rng.randint(0x17, 0x1C) << 24) | rng.randint(0x008000, 0x7FFFFF) for _ in range(N)
    ]
    rand_bits = pl.Series("bits", rand_list, dtype=pl.UInt32)
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
            "work, exact (64-digit hex)",
            lambda: c.work(bits),
            lambda: [f"{ref.bits_proof(b):064x}" for b in bits_list],
        ),
        (
            "work as f64",
            lambda: c.work(bits, as_float=True),
            lambda: [float(ref.bits_proof(b)) for b in bits_list],
        ),
        (
            "work, exact, every row distinct bits (worst case)",
            lambda: c.work(rand_bits),
            lambda: [f"{ref.bits_proof(b):064x}" for b in rand_list],
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
        t_fast = best_of(fast, repeat=5, number=10)
        t_slow = best_of(slow, repeat=3)
        ratio = t_slow / t_fast
        rows.append(
            [
                name,
                f"{t_fast * 1e3:.1f} ms",
                f"{t_slow * 1e3:.0f} ms",
                f"{ratio:.0f}×",
                f"{N / t_fast / 1e6:.0f} M rows/s",
                "no goal (worst case)" if "worst case" in name else verdict(ratio, GOAL),
            ]
        )
    return (
        f"## Consensus kernels ({N:,} rows, polars Series in and out)\n\n"
        "Input: a chain-shaped column (the real mainnet epochs' bits in chain order, 2016 rows "
        "each) and, for the worst case, 1,000,000 distinct random bits. Reference: "
        "`hashpivot._reference` (pure Python, one call per row) producing the same values "
        "(hex strings for exact work). hashpivot's times include the polars → Arrow → Rust → "
        "polars round trip. Timing (timeit's method): hashpivot, the best of 5 measurements "
        "of 10 back-to-back calls each (per call), so the 2-thread pool's wake-up noise is "
        "averaged rather than picked; the reference, the best of 3 single calls. "
        f"Goal ≥ {GOAL:.0f}× the reference.\n\n"
        + table(
            ["kernel", "hashpivot", "pure Python", "ratio", "throughput", "goal"],
            rows,
        )
        + f"\n\nPeak RSS of this benchmark process: {peak_rss_mib():.0f} MiB.\n"
    )


if __name__ == "__main__":
    print(main())
