"""Strategy evaluation: 4 builtin models × 10,000 paths × 5 years daily × 5 strategies.

Goal (issue #6): ≤ 3 s for ``evaluate`` on this machine. Measured side by side with
a per-path Python loop reference (``hashpivot._reference.evaluate_path_loop``: one model call
per path and model, Python loops over days), run on a subset of paths and scaled linearly to
10,000 paths (the loop's cost is linear in paths). Also shown: ``evaluate(fast=False)``, the
generic path that calls each model's ``cash_flows`` on all rows once per distinct allocation.
"""

from __future__ import annotations

import time

from _harness import best_of, peak_rss_mib, table, verdict  # benches/ is on sys.path
from hashpivot import _reference as ref
from hashpivot.builtin_plugins.ai_colocation import AiColocation
from hashpivot.builtin_plugins.asic_hosting import AsicHosting
from hashpivot.builtin_plugins.gpu_cloud import GpuCloud
from hashpivot.builtin_plugins.self_mining import SelfMining
from hashpivot.revenue import SiteContext, prepare_scenario
from hashpivot.strategy import Stage, Staged, Static, SwitchRule, evaluate
from hashpivot.testing import synthetic_scenario

N_PATHS = 10_000
N_DAYS = 1826  # 5 years
REF_PATHS = 10
GOAL_S = 3.0


def strategies() -> list[object]:
    return [
        Static("all_mining", {"self_mining": 100}),
        Static("all_ai", {"ai_colocation": 100}),
        Static(
            "mix", {"self_mining": 50, "ai_colocation": 30, "gpu_cloud": 10, "asic_hosting": 10}
        ),
        Staged(
            "staged_ai",
            {"self_mining": 100},
            [Stage(365, 50, "self_mining", "ai_colocation")],
            switch_cost_usd_per_mw=50_000.0,
        ),
        SwitchRule(
            "ai_when_hashprice_low",
            {"self_mining": 100},
            "self_mining",
            "ai_colocation",
            50,
            below=28.0,
            window_days=30,
            lead_time_days=30,
            switch_cost_usd_per_mw=100_000.0,
        ),
    ]


def main() -> str:
    site = SiteContext(capacity_mw=100.0)
    models = [SelfMining(), AsicHosting(), AiColocation(), GpuCloud()]
    t0 = time.perf_counter()
    raw = synthetic_scenario(N_PATHS, N_DAYS, seed=1)
    t_gen = time.perf_counter() - t0
    strats = strategies()

    def run_fast() -> object:
        return evaluate(site, raw, strats, models=models)

    t_fast = best_of(run_fast, repeat=2)
    ev = evaluate(site, raw, strats, models=models)
    assert ev.failures.height == 0
    t_generic = best_of(lambda: evaluate(site, raw, strats, models=models, fast=False), repeat=1)

    small = prepare_scenario(raw.head(REF_PATHS * N_DAYS))
    by_name = {m.name: m for m in models}
    t_ref = best_of(
        lambda: ref.evaluate_path_loop(site, small, strats, by_name, 0.10), repeat=1
    ) * (N_PATHS / REF_PATHS)
    # the subset agrees with the vectorised result on the same paths
    check = ref.evaluate_path_loop(site, small, strats, by_name, 0.10)
    got = ev.per_path.filter(ev.per_path["path"] < REF_PATHS)
    for row, want in zip(
        got.sort("strategy", "path").to_dicts(),
        sorted(check, key=lambda r: (r["strategy"], r["path"])),
        strict=False,
    ):
        assert abs(row["npv_usd"] - want["npv_usd"]) <= 1e-6 * max(1.0, abs(want["npv_usd"]))

    rows_total = N_PATHS * N_DAYS
    tbl = table(
        ["implementation", "time", "vs loop", "path-days × strategies / s"],
        [
            [
                "evaluate (default: one pass per model)",
                f"{t_fast:.2f} s",
                f"{t_ref / t_fast:,.0f}×",
                f"{rows_total * len(strats) / t_fast / 1e6:.0f} M",
            ],
            [
                "evaluate(fast=False) (cash_flows per distinct allocation)",
                f"{t_generic:.2f} s",
                f"{t_ref / t_generic:,.0f}×",
                f"{rows_total * len(strats) / t_generic / 1e6:.0f} M",
            ],
            [
                f"per-path Python loop (measured on {REF_PATHS} paths, ×{N_PATHS // REF_PATHS})",
                f"{t_ref:,.0f} s",
                "1×",
                f"{rows_total * len(strats) / t_ref / 1e6:.2f} M",
            ],
        ],
    )
    return (
        f"## Strategy evaluation ({N_PATHS:,} paths × {N_DAYS} days, 4 models, "
        f"{len(strats)} strategies)\n\n"
        f"{tbl}\n\n"
        f"Goal ≤ {GOAL_S:.0f} s: **{verdict(t_fast, GOAL_S, higher_is_better=False)}** "
        f"({t_fast:.2f} s, best of 2). Scenario generation (not timed above): {t_gen:.1f} s; "
        f"peak RSS {peak_rss_mib():,.0f} MiB. The reference loop ran on {REF_PATHS} paths and "
        "was scaled linearly; its per-path NPVs match the vectorised ones (rel 1e-6).\n"
    )


if __name__ == "__main__":
    print(main())
