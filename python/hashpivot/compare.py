"""The main job: simulate a site's futures, evaluate every strategy, rank them.

:func:`compare` takes a :class:`~hashpivot.config.SiteConfig` (from a site file) and returns
a :class:`Comparison`: the decision table, the evaluation frames, the scenario summaries the
report plots (quantile fans, retarget dates), the fleet's place on the network cost curve
and the cash-flow timeline of the best strategy. :mod:`hashpivot.report` writes it out;
``hashpivot compare`` is the command line. Choices are documented in ``docs/compare.md``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import polars as pl

from hashpivot import fleet as fleet_econ
from hashpivot import scenario as scn
from hashpivot.builtin_plugins.self_mining import SelfMining
from hashpivot.config import SiteConfig
from hashpivot.consensus import bits_to_difficulty
from hashpivot.exceptions import HashpivotError
from hashpivot.revenue import LinearRevenueModel, prepare_scenario
from hashpivot.strategy import Evaluation, Staged, Static, SwitchRule, evaluate

__all__ = ["DECISION_COLUMNS", "Comparison", "compare", "decision_table"]

#: Columns of :attr:`Comparison.decision` (all Float64 but ``rank``, ``strategy``, ``flexible``).
DECISION_COLUMNS = (
    "rank",
    "strategy",
    "flexible",
    "mean_npv_usd",
    "npv_q05_usd",
    "npv_q50_usd",
    "npv_q95_usd",
    "p_loss",
    "cvar_usd",
    "median_payback_years",
    "share_paid_back",
    "median_irr",
    "share_irr_defined",
)

#: NPV quantiles the decision table shows (``npv_q05_usd`` … ``npv_q95_usd``).
_DECISION_QUANTILES = (0.05, 0.5, 0.95)


def _with_decision_quantiles(qs: Sequence[float]) -> tuple[float, ...]:
    """The site's quantiles plus those of the decision table, one per column name (a site
    value that names the same column as 0.05, 0.5 or 0.95 is kept instead)."""
    from hashpivot.strategy import quantile_column

    by_name = {quantile_column(q): float(q) for q in _DECISION_QUANTILES}
    by_name.update({quantile_column(q): float(q) for q in qs})
    return tuple(sorted(by_name.values()))


#: Paths whose daily cash flows make the best strategy's timeline (a mean over these paths).
TIMELINE_PATHS = 2_000

#: Paths kept in full for the report's sample-path plots and ``paths_sample.parquet``.
SAMPLE_PATHS = 100

Progress = Callable[[str, float], None]


def _no_progress(stage: str, fraction: float) -> None:
    return None


@dataclass(frozen=True)
class Comparison:
    """What :func:`compare` found. Every table is a polars DataFrame.

    Attributes
    ----------
    config
        The site file it ran.
    decision
        The ranked decision table (:data:`DECISION_COLUMNS`), best mean NPV first.
    evaluation
        The full :class:`~hashpivot.strategy.Evaluation` (per-path NPVs, summary, by model,
        flexibility, plugin failures).
    fans
        Daily quantiles over paths: ``date, column, q05, q25, q50, q75, q95`` for
        ``price_usd``, ``hashprice_usd_ph_day``, ``difficulty``, ``hashrate_ehs``,
        ``power_price_usd_kwh`` (long format).
    retargets
        Per retarget epoch: ``epoch, height, paths, time_q10/q50/q90, difficulty_change_q10/
        q50/q90`` (:func:`hashpivot.scenario.retarget_dates`).
    paths_sample
        The daily frame of the first :data:`SAMPLE_PATHS` paths.
    cost_curve
        The network cost curve at the start (:func:`hashpivot.fleet.cost_curve`).
    fleet_economics
        The site's machine classes at the start (:func:`hashpivot.fleet.economics`).
    best_cash_flows
        Monthly cash flows of the best strategy, mean over paths: ``month, model,
        revenue_usd, opex_usd, capex_usd, net_usd``.
    start
        One row, the first simulated day (means over paths): ``date, height, bits,
        difficulty, price_usd, hashprice_usd_ph_day, power_price_usd_kwh`` (the site's fixed
        price under a fixed contract) and ``fees_btc_per_block``; the fleet table and cost
        curve are priced with it.
    timings
        Seconds per stage (``simulate``, ``evaluate``, ``summaries``).
    notes
        Cautions about the inputs the numbers rest on (for example a strategy that mines
        more MW than the site's fleet draws); the report and the CLI show them.
    """

    config: SiteConfig
    decision: pl.DataFrame
    evaluation: Evaluation
    fans: pl.DataFrame
    retargets: pl.DataFrame
    paths_sample: pl.DataFrame
    cost_curve: pl.DataFrame
    fleet_economics: pl.DataFrame
    best_cash_flows: pl.DataFrame
    start: pl.DataFrame
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def best(self) -> str | None:
        """The strategy with the highest mean NPV (None if every strategy failed)."""
        return None if self.decision.height == 0 else str(self.decision["strategy"][0])

    @property
    def value_of_flexibility_usd(self) -> float | None:
        """Best flexible minus best fixed strategy, mean NPV (None without both kinds)."""
        v = self.evaluation.flexibility["value_of_flexibility_usd"][0]
        return None if v is None else float(v)


def decision_table(ev: Evaluation) -> pl.DataFrame:
    """The ranked decision table of an evaluation (best mean NPV first)."""
    s = ev.summary
    for c in DECISION_COLUMNS[3:]:
        if c not in s.columns:
            s = s.with_columns(pl.lit(None, dtype=pl.Float64).alias(c))
    return (
        s.sort("mean_npv_usd", descending=True, nulls_last=True)
        .with_row_index("rank", offset=1)
        .select(DECISION_COLUMNS)
    )


_FAN_COLUMNS = (
    "price_usd",
    "hashprice_usd_ph_day",
    "difficulty",
    "hashrate_ehs",
    "power_price_usd_kwh",
)
_FAN_Q = (0.05, 0.25, 0.5, 0.75, 0.95)


def _fans(daily: pl.DataFrame) -> pl.DataFrame:
    return scn.quantile_fans(daily, _FAN_COLUMNS, _FAN_Q).drop("mean")


def _best_cash_flows(cfg: SiteConfig, daily: pl.DataFrame, best: str) -> pl.DataFrame:
    strat = next(s for s in cfg.strategies if s.name == best)
    n = min(int(daily["path"].max() or 0) + 1, TIMELINE_PATHS)  # type: ignore[arg-type]
    sc = prepare_scenario(daily.filter(pl.col("path") < n))
    alloc = strat.allocate(cfg.site, sc)
    parts = []
    for mname, steps in alloc.mw.items():
        cf = cfg.models[mname].cash_flows(cfg.site, sc.frame, steps.materialize(sc).alias("mw"))
        parts.append(
            cf.select("date", "revenue_usd", "opex_usd", "capex_usd").with_columns(
                pl.lit(mname).alias("model")
            )
        )
    switching = [(usd, day) for usd, day in alloc.switch_capex]
    flows = pl.concat(parts) if parts else pl.DataFrame()
    month = pl.col("date").dt.truncate("1mo").alias("month")
    out = (
        flows.group_by(month, "model")
        .agg(pl.col("revenue_usd", "opex_usd", "capex_usd").sum() / n)
        .with_columns(
            (pl.col("revenue_usd") - pl.col("opex_usd") - pl.col("capex_usd")).alias("net_usd")
        )
    )
    rows = []
    for usd, day in switching:
        d = day.cast(pl.Int64) if isinstance(day, pl.Series) else pl.Series([day] * sc.n_paths)
        # outlays on or after the horizon are not in the NPV (evaluate drops them): not shown
        idx = d.drop_nulls().filter(d.drop_nulls() < sc.n_days).clip(0, sc.n_days - 1)
        months = sc.dates.gather(idx).dt.truncate("1mo")
        for m, cnt in months.value_counts().iter_rows():
            rows.append({"month": m, "capex_usd": usd * cnt / sc.n_paths})
    if rows:
        sw = (
            pl.DataFrame(rows)
            .group_by("month")
            .agg(pl.col("capex_usd").sum())
            .with_columns(
                pl.lit("switching").alias("model"),
                pl.lit(0.0).alias("revenue_usd"),
                pl.lit(0.0).alias("opex_usd"),
                (-pl.col("capex_usd")).alias("net_usd"),
            )
        )
        out = pl.concat([out, sw.select(out.columns)])
    return out.sort("month", "model")


def _max_mw(strat: object, models: str | frozenset[str], cfg: SiteConfig) -> float | None:
    """The most MW ``strat`` ever gives ``models`` together (one name or a set of names; a
    move between two of them changes nothing). None for strategy kinds not known here."""
    group = frozenset([models]) if isinstance(models, str) else models

    def held(mix: Mapping[str, float]) -> float:
        return float(sum(v for k, v in mix.items() if k in group))

    if isinstance(strat, Static):
        return held(strat.mix)
    if isinstance(strat, SwitchRule):
        delta = strat.mw * ((strat.to_model in group) - (strat.from_model in group))
        start = held(strat.start)
        return max(start, start + delta)
    if isinstance(strat, Staged):
        steps, _ = strat.replay(cfg.site)
        level = top = held(strat.start)
        by_day: dict[int, float] = {}
        for model in group:
            for x, day in steps.get(model, []):
                assert isinstance(day, int)  # a staged plan's days are the same on every path
                by_day[day] = by_day.get(day, 0.0) + x
        for day in sorted(by_day):  # the MW held on a day: after all of that day's moves
            level += by_day[day]
            top = max(top, level)
        return top
    return None


def _mining_models(cfg: SiteConfig) -> dict[str, SelfMining]:
    """The site's self-mining models: ``self_mining`` and every variant of it (a
    ``[models.x]`` table with ``base = "self_mining"``). All of them mine with the site's
    fleet."""
    return {k: m for k, m in cfg.models.items() if isinstance(m, SelfMining)}


def _fleet_notes(cfg: SiteConfig) -> list[str]:
    """A strategy that mines more MW than the site's fleet draws at the wall values the rest
    as machines the site does not have (at the fleet's efficiency): say so. The MW of all
    self-mining models (``self_mining`` and its variants) count together: they share the
    fleet."""
    mining = _mining_models(cfg)
    if not mining:
        return []
    first = mining.get("self_mining", next(iter(mining.values())))
    wall = cfg.fleet_power_mw * float(first.overhead_k)
    notes = []
    cap = cfg.site.capacity_mw
    if wall > cap * 1.01:
        notes.append(
            f"the site's fleet draws {wall:,.1f} MW at the wall but the site has {cap:g} MW: at "
            f"most {cap / wall:.1%} of it can run at once; self_mining values the MW strategies "
            "give it, not the fleet's size (check the fleet's counts)"
        )
    for strat in cfg.strategies:
        used = frozenset(k for k in mining if (_max_mw(strat, k, cfg) or 0.0) > 0.0)
        if not used:
            continue
        top = _max_mw(strat, used, cfg)
        # each model's own overhead: the most lenient one sets the fleet's wall power
        wall_s = cfg.fleet_power_mw * max(float(mining[k].overhead_k) for k in used)
        if top is not None and top > wall_s * 1.01:
            names = " + ".join(sorted(used))
            notes.append(
                f"strategy {strat.name!r} mines up to {top:g} MW ({names}) but the site's "
                f"fleet draws {wall_s:.1f} MW at the wall; the other {top - wall_s:.1f} MW are "
                "valued as if the site had machines of the fleet's efficiency for them: add "
                "them to the fleet (and their cost to the mining model's capex_usd_per_mw) or "
                "lower the mix"
            )
    return notes


def _model_lead(cfg: SiteConfig, name: str | None) -> int:
    """A receiving model's own lead time in days (0 when it has none or it is not linear)."""
    model = cfg.models.get(name) if name is not None else None
    if isinstance(model, LinearRevenueModel):
        try:
            return model.lead_days
        except HashpivotError:
            return 0
    return 0


def _horizon_notes(cfg: SiteConfig, n_days: int) -> list[str]:
    """Moves a strategy plans past the simulated horizon never happen, or never earn, in
    this run: say so (a stage in year 6 of a 5-year run is not an error, but its strategy is
    then valued as if it never converted; MW that reach a model with a 540-day lead time in
    year 4 are paid for and earn nothing within the run)."""
    notes = []

    def waits(who: str, day: str, first: int, to: str | None, lead: int) -> None:
        own = _model_lead(cfg, to)
        if to is not None and first + lead + own >= n_days:
            parts = [f"{day}"]
            if lead:
                parts.append(f"the strategy's lead time {lead}")
            if own:
                parts.append(f"the model's own lead time {own}")
            notes.append(
                f"{who} moves MW that earn in {to!r} only from day {first + lead + own} "
                f"({' + '.join(parts)}), past the simulated {n_days} days: in this run they "
                "never earn there"
            )

    for i, sh in enumerate(cfg.scenario.shocks):
        if sh.start_day >= n_days:
            notes.append(
                f"scenario shock {i} starts on day {sh.start_day}, past the simulated {n_days} "
                "days: it never happens in this run"
            )
    for strat in cfg.strategies:
        if isinstance(strat, Static | Staged | SwitchRule):
            # the start allocation: MW held from day 0 wait for their model's lead time
            start = strat.mix if isinstance(strat, Static) else strat.start
            for m, mw in start.items():
                if mw > 0 and _model_lead(cfg, m) >= n_days:
                    notes.append(
                        f"strategy {strat.name!r} holds {mw:g} MW in {m!r} from day 0, which "
                        f"earn only from day {_model_lead(cfg, m)} (the model's own lead "
                        f"time), past the simulated {n_days} days: in this run they never earn"
                    )
        if isinstance(strat, Staged):
            for i, st in enumerate(strat.stages):
                who = f"strategy {strat.name!r} stage {i}"
                if st.at_day >= n_days:
                    notes.append(
                        f"{who} is on day {st.at_day}, past the simulated {n_days} days: it "
                        "never happens in this run; lengthen [scenario] years or move the stage"
                    )
                else:
                    waits(who, f"day {st.at_day}", st.at_day, st.to_model, strat.lead_time_days)
        elif isinstance(strat, SwitchRule):
            who = f"strategy {strat.name!r}"
            if strat.window_days > n_days:
                notes.append(
                    f"{who} waits for a {strat.window_days}-day window but the run has "
                    f"{n_days} days: it never switches in this run"
                )
            else:
                # the earliest a rule can fire is its first full window, day window − 1
                first = strat.window_days - 1
                waits(who, f"day {first} at the earliest", first, strat.to_model,
                      strat.lead_time_days)  # fmt: skip
    return notes


def _start_row(cfg: SiteConfig, daily: pl.DataFrame) -> pl.DataFrame:
    """The run's first day as simulated (means over paths of day 0: a price or power series
    or given paths start where they start, not at the GBM start price or the base power
    price); the power price is the site's fixed price under a fixed contract."""
    st = cfg.scenario.start or scn.ChainStart.from_epoch()
    first = daily["date"].min()
    day0 = daily.filter(pl.col("date") == first)

    def mean(c: str) -> float:
        return float(day0[c].mean())  # type: ignore[arg-type]

    fixed = cfg.site.power_price_usd_kwh
    return pl.DataFrame(
        {
            "date": [first],
            "height": [st.height + 1],
            "bits": [st.bits],
            "difficulty": [float(bits_to_difficulty(st.bits))],
            "price_usd": [mean("price_usd")],
            "hashprice_usd_ph_day": [mean("hashprice_usd_ph_day")],
            "power_price_usd_kwh": [fixed if fixed is not None else mean("power_price_usd_kwh")],
            "fees_btc_per_block": [mean("fees_btc_per_block")],
        }
    )


def _fleet_views(cfg: SiteConfig, start: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    mix = cfg.scenario.fleet.mix if cfg.scenario.fleet.mix is not None else scn.DEFAULT_MIX
    diff = float(start["difficulty"][0])
    price = float(start["price_usd"][0])
    power = float(start["power_price_usd_kwh"][0])
    fees = float(start["fees_btc_per_block"][0])
    height = int(start["height"][0])
    curve = fleet_econ.cost_curve(
        mix,
        difficulty=diff,
        price_usd=price,
        power_price_usd_kwh=power,
        height=height,
        fees_btc_per_block=fees,
        pool_fee=cfg.scenario.fleet.pool_fee,
        pue=cfg.scenario.fleet.pue,
    )
    sm = cfg.models.get("self_mining")
    econ = fleet_econ.economics(
        cfg.fleet,
        difficulty=diff,
        price_usd=price,
        power_price_usd_kwh=power,
        height=height,
        fees_btc_per_block=fees,
        pool_fee=float(getattr(sm, "pool_fee", 0.0)),
        pue=float(getattr(sm, "overhead_k", 1.0)),
        uptime=float(getattr(sm, "uptime", 1.0)),
    )
    return curve, econ


@contextmanager
def _timed(timings: dict[str, float], stage: str) -> Iterator[None]:
    t0 = time.perf_counter()
    yield
    timings[stage] = time.perf_counter() - t0


def compare(cfg: SiteConfig, *, progress: Progress | None = None) -> Comparison:
    """Simulate ``cfg.paths`` paths over ``cfg.years``, evaluate every strategy, rank them.

    ``progress(stage, fraction_done)`` is called between stages (for progress bars).
    """
    report = progress or _no_progress
    timings: dict[str, float] = {}
    report(f"simulating {cfg.paths:,} paths × {cfg.years:g} years", 0.0)
    with _timed(timings, "simulate"):
        daily, rts = scn.simulate_with_retargets(
            cfg.scenario, paths=cfg.paths, years=cfg.years, seed=cfg.seed
        )
    report(f"evaluating {len(cfg.strategies)} strategies", 0.45)
    with _timed(timings, "evaluate"):
        ev = evaluate(
            cfg.site,
            daily,
            cfg.strategies,
            discount_rate=cfg.discount_rate,
            # the decision table's p5 / median / p95 are always computed, whatever else the
            # site file asks for (its quantiles are in the summary)
            quantiles=_with_decision_quantiles(cfg.quantiles),
            cvar_level=cfg.cvar_level,
            models=cfg.models,
        )
    report("summarising", 0.8)
    with _timed(timings, "summaries"):
        decision = decision_table(ev)
        fans = _fans(daily)
        retargets = scn.retarget_dates(rts)
        sample = daily.filter(pl.col("path") < SAMPLE_PATHS)
        start = _start_row(cfg, daily)
        curve, econ = _fleet_views(cfg, start)
        best = None if decision.height == 0 else str(decision["strategy"][0])
        flows = (
            _best_cash_flows(cfg, daily, best)
            if best is not None
            else pl.DataFrame(
                schema={
                    "month": daily.schema["date"],
                    "model": pl.String,
                    "revenue_usd": pl.Float64,
                    "opex_usd": pl.Float64,
                    "capex_usd": pl.Float64,
                    "net_usd": pl.Float64,
                }
            )
        )
    n_days = daily.height // cfg.paths  # every path covers the same days (n_unique cost 0.6 s)
    del daily
    notes = _fleet_notes(cfg) + _horizon_notes(cfg, n_days)
    report("done", 1.0)
    return Comparison(
        config=cfg,
        decision=decision,
        evaluation=ev,
        fans=fans,
        retargets=retargets,
        paths_sample=sample,
        cost_curve=curve,
        fleet_economics=econ,
        best_cash_flows=flows,
        start=start,
        timings=timings,
        notes=notes,
    )
