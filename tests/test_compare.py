"""The main job: compare(), the report folder, and `hashpivot compare` end to end."""

from __future__ import annotations

import dataclasses
import json
import os
import struct
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hashpivot import compare as cmpmod
from hashpivot import config, report
from hashpivot import scenario as scn
from hashpivot.exceptions import OutputError
from hashpivot.strategy import evaluate

SMALL = {"paths": 60, "years": 1.0, "seed": 11}


@pytest.fixture(scope="module")
def small_cfg() -> config.SiteConfig:
    return config.load_site().with_run(**SMALL)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def result(small_cfg: config.SiteConfig) -> cmpmod.Comparison:
    return cmpmod.compare(small_cfg)


# --------------------------------------------------------------------------- compare()


def test_decision_is_evaluate_ranked(
    small_cfg: config.SiteConfig, result: cmpmod.Comparison
) -> None:
    daily = scn.simulate(small_cfg.scenario, paths=60, years=1.0, seed=11)
    ev = evaluate(
        small_cfg.site,
        daily,
        small_cfg.strategies,
        discount_rate=small_cfg.discount_rate,
        models=small_cfg.models,
    )
    want = ev.summary.sort("mean_npv_usd", descending=True)
    d = result.decision
    assert d["strategy"].to_list() == want["strategy"].to_list()
    assert d["rank"].to_list() == list(range(1, d.height + 1))
    assert d["mean_npv_usd"].to_list() == pytest.approx(want["mean_npv_usd"].to_list())
    assert d["mean_npv_usd"].is_sorted(descending=True)
    assert set(d["strategy"]) == {s.name for s in small_cfg.strategies}
    assert result.best == d["strategy"][0]
    assert tuple(d.columns) == cmpmod.DECISION_COLUMNS


def test_best_cash_flows_add_up(result: cmpmod.Comparison) -> None:
    # the monthly timeline (mean over paths, undiscounted) sums to the per-path totals' mean
    pp = result.evaluation.per_path.filter(pl.col("strategy") == result.best)
    want = float((pp["revenue_usd"] - pp["opex_usd"] - pp["capex_usd"]).mean())  # type: ignore[arg-type]
    got = float(result.best_cash_flows["net_usd"].sum())
    assert got == pytest.approx(want, rel=1e-9, abs=1e-3)


def test_fans_and_start(small_cfg: config.SiteConfig, result: cmpmod.Comparison) -> None:
    f = result.fans
    assert set(f["column"]) == set(cmpmod._FAN_COLUMNS)
    assert f.filter(pl.col("column") == "price_usd").height == round(365 * SMALL["years"])
    assert (f["q05"] <= f["q50"]).all()
    assert (f["q50"] <= f["q95"]).all()
    assert result.start["price_usd"][0] == small_cfg.scenario.start_price_usd
    assert small_cfg.scenario.start is not None
    assert result.start["bits"][0] == small_cfg.scenario.start.bits
    assert result.paths_sample["path"].n_unique() == SMALL["paths"]


# --------------------------------------------------------------------------- quantile fan


@settings(max_examples=25)
@given(
    n_paths=st.integers(1, 30),
    n_days=st.integers(1, 12),
    seed=st.integers(0, 2**32 - 1),
    qs=st.lists(
        st.sampled_from([0.0, 0.01, 0.05, 0.1, 0.25, 0.333, 0.5, 0.9, 0.99, 1.0]),
        min_size=1,
        max_size=5,
        unique=True,
    ),
)
def test_quantile_fan_kernel_equals_group_by(
    n_paths: int, n_days: int, seed: int, qs: list[float]
) -> None:
    import random

    rnd = random.Random(seed)
    dates = pl.datetime_range(
        pl.datetime(2030, 1, 1), pl.datetime(2030, 1, n_days), "1d", eager=True, time_zone="UTC"
    )
    frame = pl.DataFrame(
        {
            "path": pl.Series([p for p in range(n_paths) for _ in range(n_days)], dtype=pl.UInt32),
            "date": pl.concat([dates] * n_paths),
            "x": [
                rnd.choice([rnd.gauss(0, 1e6), float(rnd.randint(-3, 3))])
                for _ in range(n_paths * n_days)
            ],
        }
    )
    qs = sorted(set(qs))
    fast = scn.quantile_fan(frame, "x", qs)  # regular layout: the Rust kernel
    slow = scn.quantile_fan(frame.sample(fraction=1.0, shuffle=True, seed=seed), "x", qs)
    assert scn._regular(frame) == (n_paths, n_days)
    assert fast.columns == slow.columns
    for c in fast.columns[1:]:
        assert fast[c].to_list() == pytest.approx(slow[c].to_list(), rel=1e-12, abs=1e-9)


# --------------------------------------------------------------------------- report folder


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    w, h = struct.unpack(">II", head[16:24])
    return w, h


def test_report_folder(result: cmpmod.Comparison, tmp_path: Path) -> None:
    dest = tmp_path / "rep"
    files = report.write_report(result, dest)
    assert files.warnings == []
    for name in report.CHARTS:
        assert _png_size(dest / f"{name}.png") == report.CHART_SIZE_PX
    for name in ("decision", "per_path", "fans", "best_cash_flows", "cost_curve"):
        assert pl.read_parquet(dest / f"{name}.parquet").height > 0
    back = pl.read_parquet(dest / "decision.parquet")
    assert back.equals(result.decision)
    manifest = json.loads((dest / report.MANIFEST).read_text())
    assert manifest["best"] == result.best
    assert manifest["paths"] == SMALL["paths"]
    assert sorted(p.name for p in dest.iterdir()) == sorted(files.files)
    page = files.html.read_text(encoding="utf-8")
    # self-contained: no external URL anywhere, every chart inline
    assert "http://" not in page
    assert "https://" not in page
    assert page.count('src="data:image/png;base64,') == len(report.CHARTS)
    assert [p.name for p in tmp_path.iterdir()] == ["rep"]  # no temp folders left


def test_report_replaces_an_earlier_report_only(result: cmpmod.Comparison, tmp_path: Path) -> None:
    dest = tmp_path / "rep"
    report.write_report(result, dest)
    (dest / "stale.txt").write_text("from the old report")
    with pytest.raises(OutputError, match=r"stale\.txt.*move it out"):
        report.write_report(result, dest)
    assert (dest / "stale.txt").exists()  # a file the report did not write is never deleted
    (dest / "stale.txt").unlink()
    report.write_report(result, dest)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    with pytest.raises(OutputError, match="not a hashpivot report"):
        report.write_report(result, mine)
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]


def test_report_failure_leaves_nothing(
    result: cmpmod.Comparison, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dest = tmp_path / "rep"
    report.write_report(result, dest)
    before = sorted(p.name for p in dest.iterdir())

    def boom(cmp: cmpmod.Comparison, charts: object, warnings: object) -> str:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(report, "_html", boom)
    with pytest.raises(OSError, match="No space left"):
        report.write_report(result, dest)
    assert sorted(p.name for p in dest.iterdir()) == before  # the earlier report is intact
    assert [p.name for p in tmp_path.iterdir()] == ["rep"]


def test_report_renders_offline_in_chromium(
    result: cmpmod.Comparison, tmp_path: Path, browser: ModuleType
) -> None:
    files = report.write_report(result, tmp_path / "rep")
    r = browser.render(files.html, tmp_path / "shot", width=1200)
    assert r.requests == []  # nothing left the machine
    assert r.console_errors == []
    imgs = [i for i in r.imgs if str(i.get("id", "")).startswith("chart-")]
    assert sorted(i["id"] for i in imgs) == sorted(f"chart-{n}" for n in report.CHARTS)
    w, h = report.CHART_SIZE_PX
    for i in imgs:
        assert i["ok"], i
        assert (i["natural_width"], i["natural_height"]) == (w, h), i
        assert (i["width"], i["height"]) == (w, h), i
    assert r.page_width <= 1200  # no sideways overflow
    from PIL import Image, ImageStat

    with Image.open(r.screenshot) as im:
        assert im.size[0] == 1200
        gray = im.convert("L")
        assert max(ImageStat.Stat(gray).var) > 100  # not a blank page
        for i in imgs:  # every chart's area of the screenshot has a drawing in it
            x, y = round(i["x"]), round(i["y"])
            box = gray.crop((x, y, x + w, y + h))
            assert box.getbbox() is not None
            assert ImageStat.Stat(box).var[0] > 50, i["id"]


# --------------------------------------------------------------------------- the command


def _hashpivot(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).parent / "hashpivot"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "hashpivot"]
    env = {**os.environ, "HASHPIVOT_DISABLE_PLUGIN_AUTOLOAD": "1"}
    return subprocess.run(
        [*cmd, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def test_cli_compare_end_to_end(tmp_path: Path) -> None:
    p = _hashpivot("compare", "--paths", "40", "--years", "0.5", "--output", "out", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert "keep_mining" in p.stdout
    assert "NPV mean" in p.stdout
    assert "value of flexibility" in p.stdout
    assert (tmp_path / "out" / "report.html").is_file()
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["paths"] == 40
    j = _hashpivot(
        "compare", "--paths", "20", "--years", "0.3", "--json", "--no-report", cwd=tmp_path
    )
    assert j.returncode == 0, j.stderr
    rows = json.loads(j.stdout)
    assert [r["rank"] for r in rows] == list(range(1, len(rows) + 1))
    assert {"strategy", "mean_npv_usd", "p_loss", "cvar_usd"} <= set(rows[0])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


DEFAULT = config.default_site_path().read_text(encoding="utf-8")
BAD_SITES = {
    "missing key": (DEFAULT.replace("capacity_mw = 100 ", ""), "missing key 'capacity_mw'"),
    "wrong unit": (
        DEFAULT.replace("power_price_usd_kwh = 0.045", 'power_price_usd_kwh = "45 USD/MW"'),
        "is not an energy price",
    ),
    "negative MW": (DEFAULT.replace("capacity_mw = 100 ", "capacity_mw = -100 "), "must be > 0"),
    "unknown model": (
        DEFAULT.replace("mix = { asic_hosting = 100 }", "mix = { hosting = 100 }"),
        "unknown revenue model 'hosting'",
    ),
    "unreadable series": (
        DEFAULT.replace('# power_series = "ercot_hourly.csv"', 'power_series = "gone.csv"'),
        "cannot read",
    ),
}


@pytest.mark.parametrize("case", list(BAD_SITES))
def test_cli_bad_site_file(case: str, tmp_path: Path) -> None:
    text, expect = BAD_SITES[case]
    (tmp_path / "site.toml").write_text(text, encoding="utf-8")
    p = _hashpivot("compare", "site.toml", "--output", "out", cwd=tmp_path)
    assert p.returncode == 2
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    assert lines[0].startswith("hashpivot: error: site.toml:")
    assert expect in lines[0]
    assert "Traceback" not in p.stderr
    assert p.stdout == ""
    assert sorted(x.name for x in tmp_path.iterdir()) == ["site.toml"]  # no partial output


def test_cli_refuses_foreign_output_folder(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "thesis.tex").write_text("x")
    p = _hashpivot("compare", "--paths", "5", "--years", "0.1", "--output", "docs", cwd=tmp_path)
    assert p.returncode == 4
    assert "not a hashpivot report" in p.stderr
    assert [x.name for x in (tmp_path / "docs").iterdir()] == ["thesis.tex"]


def test_decision_table_has_its_quantiles_whatever_the_site_asks(
    small_cfg: config.SiteConfig,
) -> None:
    import dataclasses

    cfg = dataclasses.replace(small_cfg, quantiles=(0.1, 0.9))
    res = cmpmod.compare(cfg)
    for c in ("npv_q05_usd", "npv_q50_usd", "npv_q95_usd"):
        assert res.decision[c].null_count() == 0, c
    assert {"npv_q10_usd", "npv_q90_usd"} <= set(res.evaluation.summary.columns)


def test_start_figures_come_from_the_simulated_first_day(tmp_path: Path) -> None:
    """A site whose power follows a series at $0.08/kWh: the start row, the fleet table and
    the cost curve use $0.08 (the day-0 value simulated), not the base power price."""
    from hashpivot.config import default_site_path

    text = default_site_path().read_text(encoding="utf-8")
    (tmp_path / "power.csv").write_text(
        "date,power_price_usd_kwh\n" + "\n".join(f"2026-01-{d:02d},0.08" for d in range(1, 32))
    )
    site = tmp_path / "site.toml"
    site.write_text(text.replace("[site]", '[site]\npower_series = "power.csv"', 1), "utf-8")
    cfg = config.load_site(site, paths=5, years=0.05, seed=1)
    cmp = cmpmod.compare(cfg)
    assert cmp.start["power_price_usd_kwh"][0] == pytest.approx(0.08)
    assert cmp.start["price_usd"][0] == pytest.approx(cfg.scenario.start_price_usd)
    from hashpivot import fleet

    sm: Any = cfg.models["self_mining"]
    want = fleet.economics(
        cfg.fleet, difficulty=float(cmp.start["difficulty"][0]),
        price_usd=float(cmp.start["price_usd"][0]), power_price_usd_kwh=0.08,
        height=int(cmp.start["height"][0]),
        fees_btc_per_block=float(cmp.start["fees_btc_per_block"][0]),
        pool_fee=sm.pool_fee, pue=sm.overhead_k, uptime=sm.uptime,
    )  # fmt: skip
    assert cmp.fleet_economics["power_cost_usd_day"].to_list() == pytest.approx(
        want["power_cost_usd_day"].to_list(), rel=1e-9
    )


def test_mining_more_mw_than_the_fleet_draws_is_noted(tmp_path: Path) -> None:
    """The bundled site's fleet covers its 100 MW; a fleet cut to 100 machines leaves the
    mining strategies valuing MW of machines the site does not have: a note says so."""
    from hashpivot.config import default_site_path

    cfg = config.load_site(paths=3, years=0.02, seed=1)
    assert cmpmod._fleet_notes(cfg) == []
    text = default_site_path().read_text(encoding="utf-8")
    small = text.replace("count = 6000", "count = 100").replace("count = 5000", "count = 0")
    small = small.replace("count = 9850", "count = 0").replace("count = 7500", "count = 0")
    site = tmp_path / "site.toml"
    site.write_text(small, encoding="utf-8")
    cmp = cmpmod.compare(config.load_site(site, paths=3, years=0.02, seed=1))
    assert any("'keep_mining' mines up to 100 MW" in n for n in cmp.notes), cmp.notes
    assert all("'full_ai' mines" not in n for n in cmp.notes)  # it mines nothing


def test_self_mining_variants_share_the_fleet_in_the_fleet_note(tmp_path: Path) -> None:
    """A variant of self_mining (``base = "self_mining"``) mines with the same fleet: a
    strategy splitting its mining MW between the two is checked on their sum (30 + 30 MW
    against a ~35 MW fleet), which neither model alone exceeds."""
    from hashpivot.config import default_site_path

    text = default_site_path().read_text(encoding="utf-8")
    text = text.replace("count = 9850", "count = 0").replace("count = 7500", "count = 0")
    text += (
        '\n[models.mining_b]\nbase = "self_mining"\npool_fee = 0.03\n'
        '\n[[strategy]]\nname = "split_mining"\nmix = { self_mining = 30, mining_b = 30 }\n'
    )
    site = tmp_path / "site.toml"
    site.write_text(text, encoding="utf-8")
    cfg = config.load_site(site, paths=3, years=0.02, seed=1)
    wall = cfg.fleet_power_mw * 1.05
    assert 30 < wall < 60, wall
    assert set(cmpmod._mining_models(cfg)) == {"self_mining", "mining_b"}
    notes = [n for n in cmpmod._fleet_notes(cfg) if "'split_mining'" in n]
    assert len(notes) == 1, cmpmod._fleet_notes(cfg)
    assert "mines up to 60 MW (mining_b + self_mining)" in notes[0]
    # one model's share alone stays under the fleet: the old per-model check missed it
    split = next(s for s in cfg.strategies if s.name == "split_mining")
    assert cmpmod._max_mw(split, "self_mining", cfg) == 30.0
    assert cmpmod._max_mw(split, frozenset({"self_mining", "mining_b"}), cfg) == 60.0


def test_a_switch_between_two_mining_models_holds_their_sum() -> None:
    from hashpivot.strategy import SwitchRule

    cfg = config.load_site(paths=3, years=0.02, seed=1)
    rule = SwitchRule(
        "sw", {"self_mining": 50, "asic_hosting": 50}, signal="hashprice_usd_ph_day",
        below=40.0, from_model="asic_hosting", to_model="self_mining", mw=50,
    )  # fmt: skip
    assert cmpmod._max_mw(rule, "self_mining", cfg) == 100.0
    assert cmpmod._max_mw(rule, "asic_hosting", cfg) == 50.0
    assert cmpmod._max_mw(rule, frozenset({"self_mining", "asic_hosting"}), cfg) == 100.0


def test_moves_past_the_horizon_are_noted() -> None:
    """A stage after the last simulated day, MW whose strategy and model lead times end past
    it and a rule whose window is longer than the run never happen or never earn in the run:
    notes say so; moves that earn inside the horizon get none."""
    from hashpivot.strategy import Stage, Staged, SwitchRule

    cfg = config.load_site(paths=3, years=0.02, seed=1)
    ai_lead = cfg.models["ai_colocation"].lead_days  # type: ignore[attr-defined]
    assert ai_lead > 500
    # the bundled strategies: the rule's window (30 days) is longer than 8 days; partial_ai
    # moves 40 MW to ai_colocation on day 0, which earn only after the model's lead time
    base = cmpmod._horizon_notes(cfg, 8)
    assert any("'flexible' waits for a 30-day window" in n for n in base), base
    assert any(f"'partial_ai' stage 0 moves MW that earn in 'ai_colocation' only from day "
               f"{ai_lead} (day 0 + the model's own lead time {ai_lead})" in n
               for n in base), base  # fmt: skip
    assert any("'full_ai' holds 100 MW in 'ai_colocation' from day 0, which earn only from "
               f"day {ai_lead}" in n for n in base), base  # fmt: skip
    assert cmpmod._horizon_notes(cfg, 1827) == []
    late = Staged(
        "late", {"self_mining": 100},
        [Stage(5, 10, "self_mining", "asic_hosting"), Stage(20, 10, "self_mining", None)],
        lead_time_days=4,
    )  # fmt: skip
    slow = SwitchRule("slow", {"self_mining": 100}, "self_mining", "asic_hosting", 10,
                      below=1e9, window_days=1, lead_time_days=8)  # fmt: skip
    cfg = dataclasses.replace(cfg, strategies=[late, slow])
    notes = cmpmod._horizon_notes(cfg, 8)
    assert any("'late' stage 1 is on day 20, past the simulated 8 days" in n for n in notes)
    assert any("'late' stage 0 moves MW that earn in 'asic_hosting' only from day 9 (day 5 + "
               "the strategy's lead time 4)" in n for n in notes), notes  # fmt: skip
    assert any("'slow' moves MW that earn in 'asic_hosting' only from day 8 (day 0 at the "
               "earliest + the strategy's lead time 8)" in n for n in notes), notes  # fmt: skip
    assert len(notes) == 3
    assert len(cmpmod._horizon_notes(cfg, 10)) == 1  # only the stage on day 20 is left
    cmp = cmpmod.compare(cfg)
    assert any("'late' stage 1" in n for n in cmp.notes), cmp.notes
    from hashpivot.scenario import Shock

    shocked = dataclasses.replace(
        cfg, scenario=dataclasses.replace(cfg.scenario, shocks=(Shock(3, 2, 0.5), Shock(9, 2, 0.5)))
    )
    notes = cmpmod._horizon_notes(shocked, 8)
    assert len(notes) == 4
    assert "scenario shock 1 starts on day 9, past the simulated 8 days" in notes[0]


def test_the_most_mw_a_plan_holds_counts_a_days_moves_together() -> None:
    """Two stages on one day that move MW into a model and back out leave it where it was:
    the fleet note must not count the MW as held in between."""
    from hashpivot.strategy import Stage, Staged

    cfg = config.load_site(paths=3, years=0.02, seed=1)
    swap = Staged(
        "swap",
        {"self_mining": 60, "asic_hosting": 40},
        [Stage(5, 40, "asic_hosting", "self_mining"), Stage(5, 40, "self_mining", "asic_hosting")],
    )
    assert cmpmod._max_mw(swap, "self_mining", cfg) == 60.0
    grow = Staged("grow", {"self_mining": 60}, [Stage(5, 30, None, "self_mining")])
    assert cmpmod._max_mw(grow, "self_mining", cfg) == 90.0


def test_a_fleet_larger_than_the_site_is_noted() -> None:
    cfg = config.load_site(paths=3, years=0.02, seed=1)
    assert not any("at once" in n for n in cmpmod._fleet_notes(cfg))
    site = dataclasses.replace(cfg.site, capacity_mw=1.0)
    small = dataclasses.replace(cfg, site=site, strategies=[])
    notes = cmpmod._fleet_notes(small)
    assert len(notes) == 1, notes
    assert "but the site has 1 MW: at most" in notes[0]
