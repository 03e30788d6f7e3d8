"""The scenario engine's model as a radCAD model (one Monte Carlo run per path, one timestep
per day), for the benchmark. Runs inside ``benches/.venv-radcad`` (radCAD's own virtual
environment), so it imports nothing from hashpivot: it reads the flattened config
(``scenario._to_core``) as JSON on stdin and prints ``{"seconds": …, "rows": …}``.

Usage: ``python _radcad_model.py N_PATHS SEED < config.json``.
Same equations as the Rust engine and ``_numpy_model.py``; a policy computes the day and
state-update functions store each variable, as cadCAD models are written.
"""

from __future__ import annotations

import json
import math
import sys
import time

import numpy as np
from radcad import Model, Simulation
from radcad.engine import Backend

POW_LIMIT = (1 << 224) - 1
TIMESPAN = 1_209_600


def set_compact(bits):
    size = bits >> 24
    word = bits & 0x007FFFFF
    return word >> (8 * (3 - size)) if size <= 3 else word << (8 * (size - 3))


def get_compact(v):
    size = (v.bit_length() + 7) // 8
    compact = v << (8 * (3 - size)) if size <= 3 else v >> (8 * (size - 3))
    if compact & 0x00800000:
        compact >>= 8
        size += 1
    return compact | (size << 24)


def next_bits(bits, last, first):
    span = min(max(last - first, TIMESPAN // 4), TIMESPAN * 4)
    return get_compact(min(set_compact(bits) * span // TIMESPAN, POW_LIMIT))


def proof(bits):
    return float((1 << 256) // (set_compact(bits) + 1))


def difficulty(bits):
    return float(0xFFFF << 208) / float(set_compact(bits))


def build(cfg, n_paths, seed):
    nt = len(cfg["tranche_mult"])
    classes = [*cfg["mix_efficiency_jth"], cfg["arrival_efficiency_jth"]]
    eff = [e for e in classes for _ in range(nt)]
    mult = list(cfg["tranche_mult"]) * len(classes)
    rets = [*cfg["mix_retire_per_year"], cfg["retire_arrivals_per_year"]]
    keep = [(1 - r) ** (1 / 365) for r in rets for _ in range(nt)]
    w = cfg["tranche_weight"]
    hs0 = [h * wt for h in cfg["mix_hashrate_ths"] for wt in w] + [0.0] * nt
    lead = max(int(cfg["lead_time_days"]), 1)
    chol = np.linalg.cholesky(np.asarray(cfg["correlation"])).tolist()
    t_start = cfg["start_time"]
    day0 = (t_start // 86400) * 86400
    rngs = {}
    dt = 1 / 365
    mu, sigma = cfg["price_mu"], cfg["price_sigma"]
    jl, jm, js = cfg["price_jump_per_year"], cfg["price_jump_mean"], cfg["price_jump_sd"]
    comp = jl * (math.exp(jm + 0.5 * js * js) - 1)

    def day_policy(params, substep, history, s):
        run = s["run"]
        rng = rngs.setdefault(run, np.random.default_rng(seed * 1_000_003 + run))
        d = s["day"]
        logp, logf, pdev, gn = s["logp"], s["logf"], s["pdev"], s["gnoise"]
        if d > 0:
            e = rng.standard_normal(4).tolist()
            z = [sum(chol[i][j] * e[j] for j in range(i + 1)) for i in range(4)]
            lp = (mu - comp - 0.5 * sigma * sigma) * dt + sigma * math.sqrt(dt) * e[0]
            if jl > 0:
                k = int(rng.poisson(jl * dt))
                for _ in range(k):
                    lp += jm + js * float(rng.standard_normal())
            logp += lp
            logf += (
                cfg["fees_reversion_per_day"] * (math.log(cfg["fees_mean_btc"]) - logf)
                + cfg["fees_vol_per_day"] * z[1]
            )
            pdev += -cfg["power_reversion_per_day"] * pdev + cfg["power_vol_usd_kwh_per_day"] * z[2]
            gn += -cfg["gpu_reversion_per_day"] * gn + cfg["gpu_vol_per_day"] * z[3]
        day_start = day0 + 86400 * d
        price, fees = math.exp(logp), math.exp(logf)
        doy = (day_start // 86400) % 365.25
        season = 1 + cfg["power_season_amp"] * math.cos(
            2 * math.pi * (doy - cfg["power_season_peak_doy"]) / 365.25
        )
        power = max(cfg["power_base_usd_kwh"] * season + pdev, 0.0)
        if rng.random() < cfg["power_spike_prob_per_day"]:
            power *= cfg["power_spike_mult"]
        gpu = (
            cfg["gpu_start_usd_hr"]
            * (1 - cfg["gpu_generation_step"]) ** math.floor(d / cfg["gpu_generation_days"])
            * math.exp(-cfg["gpu_decay_per_year"] * d * dt)
            * math.exp(gn)
        )
        height, bits, first_t = s["height"], s["bits"], s["first_t"]
        dif, prf = difficulty(bits), proof(bits)
        subsidy = (5_000_000_000 >> ((height + 1) // 210_000)) / 1e8
        usd = 1e12 * 86400 * (subsidy + fees) / (dif * 2.0**32) * price
        rev = usd * (1 - cfg["pool_fee"])
        hs, on, pipe = list(s["hs"]), list(s["on"]), list(s["pipeline"])
        slot = d % lead
        for t in range(nt):
            hs[len(hs) - nt + t] += pipe[slot] * w[t]
        pipe[slot] = 0.0
        kwh = 24 / 1000 * power * cfg["pue"]
        hy = cfg["hysteresis"]
        online = under = installed = 0.0
        for i in range(len(hs)):
            cost = eff[i] * kwh * mult[i]
            installed += hs[i]
            if rev < cost:
                under += hs[i]
            if d == 0:
                on[i] = 1.0 if rev >= cost else 0.0
            else:
                x = (1 - hy) if on[i] > 0.5 else (1 + hy)
                target = 1.0 if rev >= x * cost else 0.0
                on[i] += cfg["response_per_day"] * (target - on[i])
            online += hs[i] * on[i]
            hs[i] *= keep[i]
        thr = cfg["arrival_threshold"]
        excess = (rev / (cfg["arrival_efficiency_jth"] * kwh) - thr) / thr
        if excess > 0:
            pipe[(d + int(cfg["lead_time_days"])) % lead] += (
                cfg["deploy_cap_per_day"] * installed * min(excess, 1)
            )
        ths = online
        for s0, sd, frac in cfg["shocks"]:
            if s0 <= d < s0 + sd:
                ths *= 1 - frac
        now, end = float(max(day_start, t_start)), float(day_start + 86400)
        while True:
            rest, lam = end - now, ths * 1e12 / prf
            if rest <= 0 or lam <= 0:
                break
            pos = (height + 1) % 2016
            need = 1 if pos == 0 else 2016 - pos
            k = int(rng.poisson(lam * rest))
            if k < need:
                height += k
                break
            frac = 1 - rng.random() ** (1 / k) if need == 1 else float(rng.beta(need, k - need + 1))
            now += rest * frac
            height += need
            if pos == 0:
                first_t = round(now)
            else:
                bits = next_bits(bits, round(now), first_t)
                prf = proof(bits)
        return {
            "day": d + 1,
            "logp": logp,
            "logf": logf,
            "pdev": pdev,
            "gnoise": gn,
            "hs": hs,
            "on": on,
            "pipeline": pipe,
            "height": height,
            "bits": bits,
            "first_t": first_t,
            "difficulty": difficulty(bits),
            "hashrate_ehs": ths / 1e6,
            "price_usd": price,
            "fees_btc_per_block": fees,
            "subsidy_btc": subsidy,
            "hashprice_usd_ph_day": usd * 1000,
            "power_price_usd_kwh": power,
            "gpu_rent_usd_hr": gpu,
            "share_under_water": under / installed if installed > 0 else 0.0,
        }

    initial = {
        "day": 0,
        "logp": math.log(cfg["price_start_usd"]),
        "logf": math.log(cfg["fees_start_btc"]),
        "pdev": 0.0,
        "gnoise": 0.0,
        "hs": hs0,
        "on": [1.0] * len(hs0),
        "pipeline": [0.0] * lead,
        "height": cfg["start_height"],
        "bits": cfg["start_bits"],
        "first_t": cfg["start_epoch_first_time"] or t_start,
        "difficulty": 0.0,
        "hashrate_ehs": 0.0,
        "price_usd": 0.0,
        "fees_btc_per_block": 0.0,
        "subsidy_btc": 0.0,
        "hashprice_usd_ph_day": 0.0,
        "power_price_usd_kwh": 0.0,
        "gpu_rent_usd_hr": 0.0,
        "share_under_water": 0.0,
    }

    def setter(key):
        return lambda params, substep, history, prev, pol: (key, pol[key])

    blocks = [
        {
            "policies": {"day": day_policy},
            "variables": {k: setter(k) for k in initial},
        }
    ]
    model = Model(initial_state=initial, state_update_blocks=blocks, params={})
    sim = Simulation(model=model, timesteps=int(cfg["n_days"]), runs=n_paths)
    sim.engine.backend = Backend.SINGLE_PROCESS
    sim.engine.deepcopy = False
    return sim


def main() -> None:
    n_paths, seed = int(sys.argv[1]), int(sys.argv[2])
    cfg = json.load(sys.stdin)
    t0 = time.perf_counter()
    sim = build(cfg, n_paths, seed)
    result = sim.run()
    import pandas as pd

    df = pd.DataFrame(result)
    dt = time.perf_counter() - t0
    print(json.dumps({"seconds": dt, "rows": len(df)}))


if __name__ == "__main__":
    main()
