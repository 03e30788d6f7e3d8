"""Statistical tests of the scenario engine with fixed seeds.

Every tolerance is derived from the law the sample should follow (written out in each
docstring) and set at 4 standard errors, so a correct engine fails with probability
< 1e-4 per check and a wrong law (a wrong rate, a missing term) fails by many standard
errors. Nothing here is tuned to the output.
"""

from __future__ import annotations

import math

import polars as pl

from hashpivot import _reference as ref
from hashpivot import consensus, scenario
from hashpivot.scenario import GBM, ChainStart, Scenario

T0 = 19_676 * 86_400
BITS = 0x17034219
Z = 4.0  # standard errors


def _proof(bits: int) -> float:
    return ref.u256_getdouble(ref.bits_proof(bits))


def test_epoch_durations_follow_the_gamma_law() -> None:
    """Constant hashrate H (Poisson arrivals). An epoch's measured span covers 2015
    inter-block intervals, each Exp(λ) with λ = H / proof(bits) for that epoch's bits, so
    u = span · λ ~ Gamma(k = 2015, 1) whatever the bits, independently across epochs (the
    bits depend only on earlier epochs).

    Gamma(k, 1): mean k, variance k, excess kurtosis 6/k. Over N epochs:
    se(mean) = √(k/N); se(sample variance) = k·√((2 + 6/k)/N) (large-N variance of s²
    = (μ4 − σ⁴)/N with μ4 = σ⁴(3 + 6/k)). Timestamps are rounded to 1 s, which moves u by
    ≤ λ ≈ 1/600 — negligible against √k ≈ 45.
    """
    h_ehs = _proof(BITS) / (600.0 * 2016 / 2015) / 1e18
    days = 730
    sc = Scenario(
        start=ChainStart(height=2016 * 417 - 1, bits=BITS, time=T0),
        hashrate_ehs=[h_ehs] * days,
        price=GBM(sigma=0.0),
    )
    _, rts = scenario.simulate_with_retargets(sc, paths=200, years=days / 365, seed=2024)
    r = rts.sort("path", "height")
    spans = r["timespan_s"].cast(pl.Float64).to_list()
    lam = [h_ehs * 1e18 / _proof(int(b)) for b in r["old_bits"].to_list()]
    u = [s * lm for s, lm in zip(spans, lam, strict=True)]
    n = len(u)
    k = 2015.0
    assert n > 8000
    mean = sum(u) / n
    var = sum((x - mean) ** 2 for x in u) / (n - 1)
    assert abs(mean - k) < Z * math.sqrt(k / n)
    assert abs(var - k) < Z * k * math.sqrt((2 + 6 / k) / n)


def test_daily_block_counts_are_poisson() -> None:
    """No retargeting (a custom network), constant hashrate: a full day's block count is
    Poisson(m), m = 86400 · H / proof. Over N path-days: se(mean) = √(m/N),
    se(s²) = √((m + 2m²)/N) (Poisson μ4 = m + 3m²)."""
    params = consensus.network_params("mainnet")
    from hashpivot import NetworkParams

    custom = NetworkParams.custom("mainnet", no_retargeting=True)
    assert custom != params
    m_target = 144.0
    h_ehs = _proof(BITS) * m_target / 86_400 / 1e18
    days = 100
    sc = Scenario(
        start=ChainStart(height=2016 * 417 - 1, bits=BITS, time=T0),
        hashrate_ehs=[h_ehs] * days,
        network=custom,
    )
    df = scenario.simulate(sc, paths=200, years=days / 365, seed=77)
    counts = (
        df.with_columns(pl.col("height").diff().over("path").alias("n"))
        .filter(pl.col("n").is_not_null())["n"]
        .cast(pl.Float64)
    )
    n = counts.len()
    m = h_ehs * 1e18 * 86_400 / _proof(BITS)
    mean = float(counts.mean())  # type: ignore[arg-type]
    var = float(counts.var())  # type: ignore[arg-type]
    assert abs(mean - m) < Z * math.sqrt(m / n)
    assert abs(var - m) < Z * math.sqrt((m + 2 * m * m) / n)


def _terminal_log_returns(sc: Scenario, paths: int, days: int, seed: int) -> list[float]:
    df = scenario.simulate(sc, paths=paths, years=days / 365, seed=seed)
    last = df.filter(pl.col("date") == pl.col("date").max())["price_usd"]
    return [math.log(p / sc.start_price_usd) for p in last.to_list()]


def test_gbm_moments() -> None:
    """GBM, no jumps: X = ln(P_T/P_0) ~ Normal((μ − σ²/2)T, σ²T) with T = (days − 1)/365
    (day 0 holds P_0). Over N paths: se(mean) = σ√T/√N, se(s²) = σ²T·√(2/(N−1)).
    E[P_T/P_0] = e^{μT}, with sd √((e^{σ²T} − 1)) e^{μT} per path."""
    mu, sigma, days, n = 0.15, 0.7, 366, 4000
    sc = Scenario(price=GBM(mu=mu, sigma=sigma))
    x = _terminal_log_returns(sc, n, days, seed=99)
    t = (days - 1) / 365
    mean = sum(x) / n
    var = sum((v - mean) ** 2 for v in x) / (n - 1)
    assert abs(mean - (mu - sigma**2 / 2) * t) < Z * sigma * math.sqrt(t / n)
    assert abs(var - sigma**2 * t) < Z * sigma**2 * t * math.sqrt(2 / (n - 1))
    ratio = sum(math.exp(v) for v in x) / n
    sd = math.sqrt(math.exp(sigma**2 * t) - 1) * math.exp(mu * t)
    assert abs(ratio - math.exp(mu * t)) < Z * sd / math.sqrt(n)


def test_gbm_with_jumps_log_moments() -> None:
    """Merton jumps, intensity λ, log-jump ~ N(m, s²), drift compensated by λκ with
    κ = e^{m + s²/2} − 1. Then X = ln(P_T/P_0) has mean (μ − λκ − σ²/2)T + λTm and variance
    σ²T + λT(m² + s²) (compound Poisson). se(mean) = √(Var X / N)."""
    mu, sigma, lam, m, s = 0.1, 0.4, 6.0, -0.08, 0.12
    days, n = 366, 4000
    sc = Scenario(price=GBM(mu=mu, sigma=sigma, jump_per_year=lam, jump_mean=m, jump_sd=s))
    x = _terminal_log_returns(sc, n, days, seed=123)
    t = (days - 1) / 365
    kappa = math.exp(m + s * s / 2) - 1
    want = (mu - lam * kappa - sigma**2 / 2) * t + lam * t * m
    var_x = sigma**2 * t + lam * t * (m * m + s * s)
    mean = sum(x) / n
    assert abs(mean - want) < Z * math.sqrt(var_x / n)
