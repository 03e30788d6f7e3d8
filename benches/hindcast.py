"""Hindcast of the scenario engine: start at the first difficulty epoch of 2020 (epoch 303,
height 610,848) with the realised daily BTC price and fees, a documented 2020 hardware mix,
and compare the simulated difficulty of every epoch over the next 24 months with the
bundled history. Writes the tables into ``docs/validation.md`` (atomically) and prints them.

Data are read at run time from ``../shared/data/market`` (never bundled):
``daily_bitcoin_prices_bitstamp_close_multi_ccy.csv`` (newest-first rows) and
``cedav12_btc_total_fees.csv`` (daily total fees, BTC; divided by 144 for a per-block mean).

Usage: ``python benches/hindcast.py [--paths N] [--seed S]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import polars as pl

from hashpivot import scenario
from hashpivot.history import difficulty_epochs
from hashpivot.scenario import ChainStart, Fees, Fleet, GivenPath, Power, Scenario, Shock

ROOT = Path(__file__).resolve().parents[1]
START_EPOCH = 303
MONTHS = 24
DAYS = 731

#: Hardware mix at the start of 2020 (J/TH, share of hashrate): an *estimate* from public
#: nameplate figures and the generations shipping in 2018–2019 — S9-class (~98 J/TH),
#: S11/T15/M10-class (~65), T17/M20S/M21S (~55), S17/S17 Pro/M20S+ (~42), and the first
#: S17+/M30-class (~38). S19/M30S (≈34 J/TH) arrive through the model's arrivals.
MIX_2020 = pl.DataFrame(
    {
        "efficiency_jth": [98.0, 65.0, 55.0, 42.0, 38.0],
        "hashrate_share": [0.30, 0.15, 0.20, 0.30, 0.05],
    }
)


def shared_market() -> Path:
    env = os.environ.get("HASHPIVOT_SHARED")
    base = Path(env) if env else ROOT.parent / "shared"
    d = base / "data" / "market"
    if not d.is_dir():
        sys.exit(f"hindcast: {d} not found; set HASHPIVOT_SHARED to the shared/ folder")
    return d


def daily_series(market: Path, start: datetime) -> tuple[list[float], list[float]]:
    px = pl.read_csv(market / "daily_bitcoin_prices_bitstamp_close_multi_ccy.csv")
    px = (
        px.select(pl.col("Date").str.to_date().alias("date"), pl.col("BTC_USD").alias("p"))
        .sort("date")
        .filter(pl.col("date") >= start.date())
        .head(DAYS)
    )
    fees = pl.read_csv(market / "cedav12_btc_total_fees.csv").select(
        pl.col("t").str.to_date().alias("date"), (pl.col("total_fees") / 144).alias("f")
    )
    j = px.join(fees, on="date", how="left").sort("date")
    if j.height < DAYS or j["f"].null_count():
        sys.exit("hindcast: the market files do not cover the 24 months after the start")
    return j["p"].to_list(), j["f"].to_list()


def build(with_shock: bool) -> Scenario:
    start = ChainStart.from_epoch(START_EPOCH)
    t = datetime.fromtimestamp(start.time, tz=timezone.utc)
    prices, fees = daily_series(shared_market(), t)
    ep = difficulty_epochs()
    prev = ep.filter(pl.col("epoch") == START_EPOCH - 1).row(0, named=True)
    shocks: tuple[Shock, ...] = ()
    if with_shock:
        # Hindsight: the 2021 Chinese mining ban, coarsely (≈ −50 % from late May 2021,
        # recovering through the autumn). Day 0 is the start day.
        d0 = (datetime(2021, 5, 20, tzinfo=timezone.utc) - t).days
        shocks = (
            Shock(d0, 40, 0.25),
            Shock(d0 + 40, 60, 0.45),
            Shock(d0 + 100, 60, 0.30),
            Shock(d0 + 160, 60, 0.15),
        )
    return Scenario(
        start=start,
        price=GivenPath(prices),
        start_price_usd=prices[0],
        fees=Fees(given=fees),
        power=Power(base_usd_kwh=0.045, spike_prob_per_day=0.0),
        fleet=Fleet(
            mix=MIX_2020,
            arrival_efficiency_jth=34.0,
            arrival_threshold=2.0,
            deploy_cap_per_day=0.003,
            lead_time_days=90,
            retire_per_year=0.10,
        ),
        initial_hashrate_ehs=float(prev["implied_hashrate_hs"]) / 1e18,
        shocks=shocks,
    )


def compare(paths: int, seed: int, with_shock: bool) -> pl.DataFrame:
    sc = build(with_shock)
    _, rts = scenario.simulate_with_retargets(sc, paths=paths, years=DAYS / 365, seed=seed)
    ep = difficulty_epochs()
    start_t = datetime.fromtimestamp(sc.start.time, tz=timezone.utc)  # type: ignore[union-attr]
    end_t = start_t.replace(year=start_t.year + MONTHS // 12)
    actual = ep.filter((pl.col("epoch") > START_EPOCH) & (pl.col("first_time") <= end_t)).select(
        "epoch", "first_time", pl.col("difficulty").alias("actual")
    )
    sim = rts.group_by("epoch").agg(
        pl.len().alias("paths"),
        pl.col("difficulty").quantile(0.1).alias("sim_q10"),
        pl.col("difficulty").median().alias("sim_q50"),
        pl.col("difficulty").quantile(0.9).alias("sim_q90"),
        pl.col("time").dt.epoch("s").median().alias("sim_time_s"),
    )
    j = actual.join(sim, on="epoch", how="left").sort("epoch")
    return j.with_columns(
        (pl.col("sim_q50") / pl.col("actual") - 1).alias("error"),
        ((pl.col("actual") >= pl.col("sim_q10")) & (pl.col("actual") <= pl.col("sim_q90"))).alias(
            "in_p10_p90"
        ),
        ((pl.col("sim_time_s") - pl.col("first_time").dt.epoch("s")) / 86400.0).alias(
            "timing_error_days"
        ),
    )


def markdown(df: pl.DataFrame, paths: int) -> str:
    rows = [
        "| epoch | first block (actual) | actual D (T) | sim median D (T) | sim p10–p90 (T) "
        "| error | paths reached | timing error (days) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in df.iter_rows(named=True):
        if r["sim_q50"] is None:
            rows.append(
                f"| {r['epoch']} | {r['first_time']:%Y-%m-%d} | {r['actual'] / 1e12:.2f} | "
                "not reached | — | — | 0 | — |"
            )
            continue
        rows.append(
            f"| {r['epoch']} | {r['first_time']:%Y-%m-%d} | {r['actual'] / 1e12:.2f} | "
            f"{r['sim_q50'] / 1e12:.2f} | {r['sim_q10'] / 1e12:.2f}–{r['sim_q90'] / 1e12:.2f} | "
            f"{r['error'] * 100:+.1f} % | {r['paths']}/{paths} | {r['timing_error_days']:+.1f} |"
        )
    return "\n".join(rows)


def summary(df: pl.DataFrame) -> str:
    e = df.filter(pl.col("error").is_not_null())
    mape = float(e["error"].abs().mean()) * 100  # type: ignore[arg-type]
    bias = float(e["error"].mean()) * 100  # type: ignore[arg-type]
    worst = float(e["error"].abs().max()) * 100  # type: ignore[arg-type]
    cover = float(e["in_p10_p90"].mean()) * 100  # type: ignore[arg-type]
    last = e.tail(1).row(0, named=True)
    t_mae = float(e["timing_error_days"].abs().mean())  # type: ignore[arg-type]
    return (
        f"{e.height} epochs compared; mean absolute error of the median path "
        f"**{mape:.1f} %** (bias {bias:+.1f} %, worst {worst:.1f} %); the actual difficulty "
        f"lies inside the simulated p10–p90 band in {cover:.0f} % of epochs; error at the "
        f"last epoch ({last['epoch']}) {last['error'] * 100:+.1f} %; mean absolute "
        f"retarget-date error {t_mae:.1f} days."
    )


def write_doc(sections: list[tuple[str, pl.DataFrame]], paths: int, seed: int) -> str:
    doc = ROOT / "docs" / "validation.md"
    head = doc.read_text().split("<!-- hindcast:begin -->")[0] if doc.exists() else ""
    body = [f"Run: `python benches/hindcast.py --paths {paths} --seed {seed}`.\n"]
    for title, df in sections:
        body.append(f"### {title}\n\n{summary(df)}\n\n{markdown(df, paths)}\n")
    text = head + "<!-- hindcast:begin -->\n" + "\n".join(body) + "<!-- hindcast:end -->\n"
    doc.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=doc.parent, prefix=".validation-", suffix=".md")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, doc)
    return "\n".join(body)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--paths", type=int, default=200)
    ap.add_argument("--seed", type=int, default=2020)
    ap.add_argument("--no-write", action="store_true")
    a = ap.parse_args(argv)
    sections = [
        ("Model as configured (no hindsight)", compare(a.paths, a.seed, with_shock=False)),
        (
            "With a coarse hindsight shock for the 2021 China ban",
            compare(a.paths, a.seed, with_shock=True),
        ),
    ]
    if a.no_write:
        for t, df in sections:
            print(f"### {t}\n\n{summary(df)}\n\n{markdown(df, a.paths)}\n")
    else:
        print(write_doc(sections, a.paths, a.seed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
