"""The scenario engine's model written with numpy, vectorised across paths (loop over days),
for the benchmark. Same equations, same flattened config (``scenario._to_core``), same output
frame; different random numbers (numpy's PCG64), so results agree in distribution only.
The retarget uses exact integer arithmetic (Python ints) for the paths that retarget.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import polars as pl

POW_LIMIT = (1 << 224) - 1
TIMESPAN = 1_209_600


def set_compact(bits: int) -> int:
    size = bits >> 24
    word = bits & 0x007FFFFF
    return word >> (8 * (3 - size)) if size <= 3 else word << (8 * (size - 3))


def get_compact(v: int) -> int:
    size = (v.bit_length() + 7) // 8
    compact = v << (8 * (3 - size)) if size <= 3 else v >> (8 * (size - 3))
    if compact & 0x00800000:
        compact >>= 8
        size += 1
    return compact | (size << 24)


def next_bits(bits: int, last: int, first: int) -> int:
    span = min(max(last - first, TIMESPAN // 4), TIMESPAN * 4)
    t = min(set_compact(bits) * span // TIMESPAN, POW_LIMIT)
    return get_compact(t)


def proof(bits: int) -> float:
    return float((1 << 256) // (set_compact(bits) + 1))


def difficulty(bits: int) -> float:
    return float(0xFFFF << 208) / float(set_compact(bits))


def simulate_numpy(cfg: dict[str, Any], n_paths: int, seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    nd = int(cfg["n_days"])
    n = n_paths
    dt = 1.0 / 365.0
    chol = np.linalg.cholesky(np.asarray(cfg["correlation"], dtype=float))
    mu, sigma = cfg["price_mu"], cfg["price_sigma"]
    jl, jm, js = cfg["price_jump_per_year"], cfg["price_jump_mean"], cfg["price_jump_sd"]
    comp = jl * (math.exp(jm + 0.5 * js * js) - 1.0)
    # fleet cohorts
    nt = len(cfg["tranche_mult"])
    eff = np.repeat(np.r_[cfg["mix_efficiency_jth"], cfg["arrival_efficiency_jth"]], nt)
    mult = np.tile(cfg["tranche_mult"], len(cfg["mix_efficiency_jth"]) + 1)
    w = np.asarray(cfg["tranche_weight"])
    keep = np.repeat(
        (1.0 - np.r_[cfg["mix_retire_per_year"], cfg["retire_arrivals_per_year"]]) ** (1 / 365),
        nt,
    )
    hs0 = np.r_[np.outer(cfg["mix_hashrate_ths"], w).ravel(), np.zeros(nt)]
    hs = np.tile(hs0, (n, 1))
    on = np.ones_like(hs, dtype=np.float64)
    k_resp = cfg["response_per_day"]
    lead = max(int(cfg["lead_time_days"]), 1)
    pipeline = np.zeros((lead, n))
    arr_idx = slice(len(cfg["mix_efficiency_jth"]) * nt, None)
    # state
    logp = np.full(n, math.log(cfg["price_start_usd"]))
    logf = np.full(n, math.log(cfg["fees_start_btc"]))
    pdev = np.zeros(n)
    gnoise = np.zeros(n)
    height = np.full(n, cfg["start_height"], dtype=np.int64)
    bits = np.full(n, cfg["start_bits"], dtype=np.int64)
    prf = np.full(n, proof(cfg["start_bits"]))
    dif = np.full(n, difficulty(cfg["start_bits"]))
    t_start = cfg["start_time"]
    first_t = np.full(n, cfg["start_epoch_first_time"] or t_start, dtype=np.int64)
    day0 = (t_start // 86400) * 86400
    out = {
        k: np.empty((n, nd))
        for k in (
            "difficulty",
            "hashrate_ehs",
            "price_usd",
            "fees_btc_per_block",
            "subsidy_btc",
            "hashprice_usd_ph_day",
            "power_price_usd_kwh",
            "gpu_rent_usd_hr",
            "share_under_water",
        )
    }
    out_h = np.empty((n, nd), dtype=np.int64)
    out_b = np.empty((n, nd), dtype=np.int64)
    h_sys = cfg["hysteresis"]
    for d in range(nd):
        day_start = day0 + 86400 * d
        if d > 0:
            e = rng.standard_normal((n, 4))
            z = e @ chol.T
            lp = (mu - comp - 0.5 * sigma * sigma) * dt + sigma * math.sqrt(dt) * e[:, 0]
            if jl > 0:
                k = rng.poisson(jl * dt, n)
                lp += k * jm + np.sqrt(k) * js * rng.standard_normal(n)
            logp += lp
            logf += (
                cfg["fees_reversion_per_day"] * (math.log(cfg["fees_mean_btc"]) - logf)
                + cfg["fees_vol_per_day"] * z[:, 1]
            )
            pdev += (
                -cfg["power_reversion_per_day"] * pdev + cfg["power_vol_usd_kwh_per_day"] * z[:, 2]
            )
            gnoise += -cfg["gpu_reversion_per_day"] * gnoise + cfg["gpu_vol_per_day"] * z[:, 3]
        price = np.exp(logp)
        fees = np.exp(logf)
        doy = (day_start // 86400) % 365.25
        season = 1 + cfg["power_season_amp"] * math.cos(
            2 * math.pi * (doy - cfg["power_season_peak_doy"]) / 365.25
        )
        power = np.maximum(cfg["power_base_usd_kwh"] * season + pdev, 0.0)
        power = np.where(
            rng.random(n) < cfg["power_spike_prob_per_day"], power * cfg["power_spike_mult"], power
        )
        gens = math.floor(d / cfg["gpu_generation_days"])
        gpu = (
            cfg["gpu_start_usd_hr"]
            * (1 - cfg["gpu_generation_step"]) ** gens
            * math.exp(-cfg["gpu_decay_per_year"] * d * dt)
            * np.exp(gnoise)
        )
        subsidy = (5_000_000_000 >> ((height + 1) // 210_000)) / 1e8
        b = 1e12 * 86400 * (subsidy + fees) / (dif * 2.0**32)
        usd = b * price
        rev = usd * (1 - cfg["pool_fee"])
        # fleet
        slot = d % lead
        hs[:, arr_idx] += np.outer(pipeline[slot], w)
        pipeline[slot] = 0.0
        kwh = 24 / 1000 * power * cfg["pue"]
        cost = eff[None, :] * mult[None, :] * kwh[:, None]
        r = rev[:, None]
        installed = hs.sum(axis=1)
        under = np.where(r < cost, hs, 0.0).sum(axis=1)
        if d == 0:
            on = np.where(r >= cost, 1.0, 0.0)
        else:
            up = np.where(on > 0.5, r >= (1 - h_sys) * cost, r >= (1 + h_sys) * cost)
            on = on + k_resp * (up - on)
        online = (on * hs).sum(axis=1)
        hs *= keep
        cost_new = cfg["arrival_efficiency_jth"] * kwh
        thr = cfg["arrival_threshold"]
        excess = (rev / cost_new - thr) / thr
        order = np.where(
            excess > 0, cfg["deploy_cap_per_day"] * installed * np.minimum(excess, 1), 0
        )
        pipeline[(d + int(cfg["lead_time_days"])) % lead] += order
        ths = online.copy()
        for s0, sd, frac in cfg["shocks"]:
            if s0 <= d < s0 + sd:
                ths *= 1 - frac
        # blocks: Poisson counts, order statistics at epoch boundaries, exact retarget
        now = np.full(n, float(max(day_start, t_start)))
        end = float(day_start + 86400)
        active = np.arange(n)
        hsec = ths * 1e12
        while active.size:
            rest = end - now[active]
            lam = hsec[active] / prf[active]
            ok = (rest > 0) & (lam > 0)
            active, rest, lam = active[ok], rest[ok], lam[ok]
            if not active.size:
                break
            pos = (height[active] + 1) % 2016
            need = np.where(pos == 0, 1, 2016 - pos)
            k = rng.poisson(lam * rest)
            stop = k < need
            height[active[stop]] += k[stop]
            go = ~stop
            a, kk, nn, rr = active[go], k[go], need[go], rest[go]
            frac = np.where(
                nn == 1,
                1 - rng.random(a.size) ** (1 / np.maximum(kk, 1)),
                rng.beta(nn, np.maximum(kk - nn + 1, 1)),
            )
            now[a] += rr * frac
            height[a] += nn
            for i, p0 in zip(a.tolist(), (pos[go] == 0).tolist(), strict=True):
                t = round(now[i])
                if p0:
                    first_t[i] = t
                else:
                    nb = next_bits(int(bits[i]), t, int(first_t[i]))
                    bits[i] = nb
                    prf[i] = proof(nb)
                    dif[i] = difficulty(nb)
            active = a
        out_h[:, d] = height
        out_b[:, d] = bits
        out["difficulty"][:, d] = dif
        out["hashrate_ehs"][:, d] = ths / 1e6
        out["price_usd"][:, d] = price
        out["fees_btc_per_block"][:, d] = fees
        out["subsidy_btc"][:, d] = subsidy
        out["hashprice_usd_ph_day"][:, d] = usd * 1000
        out["power_price_usd_kwh"][:, d] = power
        out["gpu_rent_usd_hr"][:, d] = gpu
        out["share_under_water"][:, d] = np.where(installed > 0, under / installed, 0.0)
    dates = (day0 + 86400 * np.arange(nd, dtype=np.int64)) * 1_000_000
    cols: dict[str, Any] = {
        "path": pl.Series(np.repeat(np.arange(n, dtype=np.uint32), nd)),
        "date": pl.Series(np.tile(dates, n)).cast(pl.Datetime("us", "UTC")),
        "height": pl.Series(out_h.ravel()),
        "bits": pl.Series(out_b.ravel().astype(np.uint32)),
    }
    for k2, v in out.items():
        cols[k2] = pl.Series(v.ravel())
    return pl.DataFrame(cols)
