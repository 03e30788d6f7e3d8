"""Tiny benchmark harness: best-of-N wall time, ratios against references, peak RSS.

Each ``benches/bench_*.py`` is a script with a ``main() -> str`` that returns a Markdown
section; ``benches/run.py`` runs each in its own process (so peak memory is per script) and
writes ``benches/results.md`` atomically. Timings are for ratios measured side by side in one
run: the machine is shared and noisy, so absolute times are indicative only.
"""

from __future__ import annotations

import gc
import resource
import time
from collections.abc import Callable
from typing import Any


def best_of(
    fn: Callable[[], Any], repeat: int = 5, min_time: float = 0.0, number: int = 1
) -> float:
    """Best wall time in seconds per call: the minimum over ``repeat`` measurements of
    ``number`` back-to-back calls each, divided by ``number`` (``timeit``'s method; use
    ``number > 1`` for millisecond kernels so thread wake-up noise is averaged, not picked),
    after one warm-up call."""
    fn()
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - t0) / number)
    return max(best, min_time)


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def table(headers: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


def verdict(value: float, goal: float, higher_is_better: bool = True) -> str:
    ok = value >= goal if higher_is_better else value <= goal
    return "met" if ok else "NOT met"
