"""The main job: ``hashpivot compare`` on the bundled default site (10,000 paths × 5 years).

Goal (issue #7): under 30 s for ``make run`` (the command on the default site, build
excluded). Measured as the wall time of the real command in a fresh process (what a user
waits for: imports, site file, simulation, evaluation of six strategies, the report with six
charts and the Parquet frames), with its stage timings from the report's manifest and its
peak RSS. Also: the per-day quantile kernel behind the fan charts against the polars group-by
it replaced, side by side on the same simulated frame.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

from _harness import best_of, table, verdict  # benches/ is on sys.path
from hashpivot import config
from hashpivot import scenario as scn

GOAL_S = 30.0
FAN_COLUMNS = (
    "price_usd",
    "hashprice_usd_ph_day",
    "difficulty",
    "hashrate_ehs",
    "power_price_usd_kwh",
)
QS = (0.05, 0.25, 0.5, 0.75, 0.95)


def _run_compare(out: Path) -> tuple[float, dict[str, float], str]:
    exe = Path(sys.executable).parent / "hashpivot"
    t0 = time.perf_counter()
    p = subprocess.run(
        [str(exe), "compare", "--output", str(out)], capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"hashpivot compare failed ({p.returncode}): {p.stderr}")
    manifest = json.loads((out / "manifest.json").read_text())
    return wall, manifest["timings_s"], p.stdout


def main() -> str:
    with tempfile.TemporaryDirectory() as d:
        runs = [_run_compare(Path(d) / f"rep{i}") for i in range(2)]
    wall, stages, stdout = min(runs, key=lambda r: r[0])
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
    best_line = next((ln for ln in stdout.splitlines() if ln.startswith("best by")), "")

    cfg = config.load_site()
    daily = scn.simulate(cfg.scenario, paths=cfg.paths, years=cfg.years, seed=cfg.seed)

    def kernel() -> object:
        return scn.quantile_fans(daily, FAN_COLUMNS, QS)

    def group_by() -> object:
        aggs = [
            pl.col(c).quantile(q, interpolation="linear").alias(f"{c}{q}")
            for c in FAN_COLUMNS
            for q in QS
        ] + [pl.col(c).mean().alias(f"{c}_mean") for c in FAN_COLUMNS]
        return daily.group_by("date").agg(aggs).sort("date")

    t_k = best_of(kernel, repeat=3)
    t_g = best_of(group_by, repeat=1)
    stage_txt = ", ".join(f"{k} {v:.1f} s" for k, v in stages.items())
    tbl = table(
        ["what", "time", "ratio"],
        [
            ["`hashpivot compare` (default site, fresh process, best of 2)", f"{wall:.1f} s", ""],
            [
                "fans: Rust per-day quantile kernel (5 columns × 5 quantiles + mean)",
                f"{t_k:.2f} s",
                f"{t_g / t_k:.0f}×",
            ],
            ["fans: polars group_by quantiles (the same numbers)", f"{t_g:.2f} s", "1×"],
        ],
    )
    return (
        f"## Main job: `hashpivot compare` ({cfg.paths:,} paths × {cfg.years:g} years, "
        f"{len(cfg.strategies)} strategies)\n\n{tbl}\n\n"
        f"Goal < {GOAL_S:.0f} s: **{verdict(wall, GOAL_S, higher_is_better=False)}** "
        f"({wall:.1f} s wall, build excluded). Stages inside the command: {stage_txt}; the rest "
        f"is start-up, the charts and writing the report. Peak RSS of the command "
        f"{rss:,.0f} MiB. {best_line}.\n"
    )


if __name__ == "__main__":
    print(main())
