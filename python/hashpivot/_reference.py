"""Slow, obvious pure-Python versions of the Rust kernels, for differential tests.

Nothing here is fast or clever on purpose: each function follows the spec text line by line
(``shared/spec/CONSENSUS.md``, ``shared/spec/ECONOMICS.md``) with Python's unbounded ints, so
that hypothesis can compare it with the Rust core. Not part of the public API.

Sections: consensus; chain; fleet; scenario (each area appends its own).
"""

from __future__ import annotations

# ============================================================================ consensus

MASK256 = (1 << 256) - 1
DIFF1_TARGET = 0xFFFF << 208


def set_compact(bits: int) -> tuple[int, bool, bool]:
    """Core's SetCompact: (value mod 2^256, negative, overflow)."""
    size = bits >> 24
    word = bits & 0x007FFFFF
    if size <= 3:
        word >>= 8 * (3 - size)
        value = word
    else:
        value = (word << (8 * (size - 3))) & MASK256
    negative = word != 0 and (bits & 0x00800000) != 0
    overflow = word != 0 and (
        size > 34 or (word > 0xFF and size > 33) or (word > 0xFFFF and size > 32)
    )
    return value, negative, overflow


def get_compact(value: int, negative: bool = False) -> int:
    """Core's GetCompact (truncating, with sign avoidance)."""
    size = (value.bit_length() + 7) // 8
    if size <= 3:
        mant = (value & ((1 << 64) - 1)) << (8 * (3 - size))
    else:
        mant = (value >> (8 * (size - 3))) & 0xFFFFFFFF
    if mant & 0x00800000:
        mant >>= 8
        size += 1
    c = (size << 24) | mant
    if negative and (mant & 0x007FFFFF):
        c |= 0x00800000
    return c


def get_difficulty(bits: int) -> float:
    """Core's GetDifficulty, in Core's operation order."""
    shift = (bits >> 24) & 0xFF
    d = 65535.0 / float(bits & 0x00FFFFFF)
    while shift < 29:
        d *= 256.0
        shift += 1
    while shift > 29:
        d /= 256.0
        shift -= 1
    return d


def bits_proof(bits: int) -> int:
    """Core's GetBitsProof: floor(2^256 / (target + 1)), 0 for invalid bits."""
    value, negative, overflow = set_compact(bits)
    if negative or overflow or value == 0:
        return 0
    return (1 << 256) // (value + 1)


def calculate_next_work_required(
    last_bits: int,
    last_time: int,
    first_bits: int,
    first_time: int,
    *,
    pow_limit: int = (1 << 224) - 1,
    timespan: int = 1_209_600,
    bip94: bool = False,
    no_retargeting: bool = False,
) -> int:
    """Core's CalculateNextWorkRequired with unbounded ints (the product never wraps)."""
    if no_retargeting:
        return last_bits
    span = min(max(last_time - first_time, timespan // 4), timespan * 4)
    base = first_bits if bip94 else last_bits
    t = set_compact(base)[0]
    t = t * span // timespan
    t = min(t, pow_limit)
    return get_compact(t)


def block_subsidy(height: int, interval: int = 210_000) -> int:
    """Core's GetBlockSubsidy."""
    halvings = height // interval
    if halvings >= 64:
        return 0
    return 5_000_000_000 >> halvings


def issuance_through(height: int, interval: int = 210_000) -> int:
    """Σ block_subsidy over heights 0..=height, era by era."""
    total = 0
    era = 0
    start = 0
    while start <= height and era < 64:
        end = min(height, start + interval - 1)
        total += (end - start + 1) * (5_000_000_000 >> era)
        era += 1
        start += interval
    return total


def median_time_past(times: list[int]) -> int:
    """Upper median of the last 11 timestamps."""
    w = sorted(times[-11:])
    return w[len(w) // 2]


# ============================================================================ chain


def sha256d(data: bytes) -> bytes:
    """Double SHA-256 with hashlib (internal byte order)."""
    import hashlib

    return hashlib.sha256(hashlib.sha256(data).digest()).digest()


def parse_header(raw: bytes) -> dict[str, int | bytes]:
    """The six fields of an 80-byte header (hashes in internal byte order)."""
    return {
        "version": int.from_bytes(raw[0:4], "little", signed=True),
        "prev": raw[4:36],
        "merkle": raw[36:68],
        "time": int.from_bytes(raw[68:72], "little"),
        "bits": int.from_bytes(raw[72:76], "little"),
        "nonce": int.from_bytes(raw[76:80], "little"),
    }


def validate_headers(
    data: bytes,
    start_height: int = 0,
    *,
    pow_limit: int = (1 << 224) - 1,
    interval: int = 2016,
    timespan: int = 1_209_600,
    spacing: int = 600,
    genesis_bits: int = 0x1D00FFFF,
    genesis_hash: bytes | None = None,
    min_difficulty_blocks: bool = False,
    bip94: bool = False,
    no_retargeting: bool = False,
) -> list[str]:
    """The obvious header validator: one status per header, first failing rule wins.

    Rules in order: bad-genesis, bad-prevblk, high-hash, bad-diffbits, time-too-old,
    time-timewarp-attack. The run must start at genesis (start_height 0) or rules needing
    earlier headers are skipped for the rows that lack them.
    """
    n = len(data) // 80
    hdrs = [parse_header(data[i * 80 : i * 80 + 80]) for i in range(n)]
    hashes = [sha256d(data[i * 80 : i * 80 + 80]) for i in range(n)]
    times = [int(h["time"]) for h in hdrs]
    bitsl = [int(h["bits"]) for h in hdrs]
    limit_bits = get_compact(pow_limit)
    out: list[str] = []

    def required(i: int) -> int | None:
        h = start_height + i
        if h == 0:
            return genesis_bits
        if i == 0:
            return None
        last = i - 1
        if h % interval != 0:
            if min_difficulty_blocks:
                if times[i] > times[last] + 2 * spacing:
                    return limit_bits
                j = last
                while start_height + j > 0 and (start_height + j) % interval != 0:
                    if bitsl[j] != limit_bits:
                        break
                    j -= 1
                    if j < 0:
                        return None
                return bitsl[j]
            return bitsl[last]
        first = i - interval
        if first < 0:
            return None
        return calculate_next_work_required(
            bitsl[last],
            times[last],
            bitsl[first],
            times[first],
            pow_limit=pow_limit,
            timespan=timespan,
            bip94=bip94,
            no_retargeting=no_retargeting,
        )

    for i in range(n):
        h = start_height + i
        status = "ok"
        value, negative, overflow = set_compact(bitsl[i])
        pow_ok = (
            not negative
            and not overflow
            and value != 0
            and value <= pow_limit
            and int.from_bytes(hashes[i], "little") <= value
        )
        req = required(i)
        if h == 0 and genesis_hash is not None and hashes[i] != genesis_hash:
            status = "bad-genesis"
        elif h > 0 and i > 0 and hdrs[i]["prev"] != hashes[i - 1]:
            status = "bad-prevblk"
        elif not pow_ok:
            status = "high-hash"
        elif req is not None and req != bitsl[i]:
            status = "bad-diffbits"
        elif (
            h > 0
            and (i >= 11 or start_height == 0)
            and i > 0
            and times[i] <= median_time_past(times[max(0, i - 11) : i])
        ):
            status = "time-too-old"
        if (
            status == "ok"
            and bip94
            and h > 0
            and h % interval == 0
            and i > 0
            and times[i] < times[i - 1] - 600
        ):
            status = "time-timewarp-attack"
        out.append(status)
    return out


# ============================================================================ fleet
# ECONOMICS.md §2–3 written out per machine class, per hour, per day: loops and dicts.

import math  # noqa: E402  (section imports stay in the section: the file is append-only)

TWO_POW_32 = 2.0**32


def fleet_btc_per_th_day(difficulty: float, subsidy_btc: float, fees_btc: float) -> float:
    """BTC per TH/s per day = 1e12 H/TH · 86400 s/day · (S + F) BTC/block / (D · 2^32 H/block)."""
    return 1e12 * 86400.0 * (subsidy_btc + fees_btc) / (difficulty * TWO_POW_32)


def fleet_network_hashrate_ths(difficulty: float) -> float:
    """D · 2^32 hashes per block every 600 s, in TH/s."""
    return difficulty * TWO_POW_32 / 600.0 / 1e12


def fleet_schedule(
    cost: float,
    age_days: float,
    method: str,
    life_years: float,
    salvage_fraction: float,
    rate: float | None,
) -> tuple[float, float]:
    """(depreciation per day, book value) of one unit, day by day from purchase."""
    salvage = cost * salvage_fraction
    age = max(age_days, 0.0)
    if method == "straight_line":
        life_days = life_years * 365.0
        if age >= life_days:
            return 0.0, salvage
        per_day = (cost - salvage) / life_days
        return per_day, cost - per_day * age
    r = rate if rate is not None else min(2.0 / life_years, 1.0)
    years = math.ceil(life_years)
    year = math.floor(age / 365.0)
    if year >= years:
        return 0.0, salvage
    book = cost
    for k in range(year + 1):
        dep = book - salvage if k == years - 1 else max(min(book * r, book - salvage), 0.0)
        if k < year:
            book -= dep
    per_day = dep / 365.0
    return per_day, book - per_day * (age - year * 365.0)


def fleet_economics(
    row: dict[str, float],
    *,
    btc_per_th_day: float,
    price_usd: float,
    network_hashrate_ths: float,
    method: str = "straight_line",
    life_years: float = 3.0,
    salvage_fraction: float = 0.0,
    rate: float | None = None,
    interest_rate: float = 0.0,
    hours: float = 24.0,
) -> dict[str, float]:
    """One class: ``row`` has hashrate_ths, power_w, count, power_price_usd_kwh, pue, uptime,
    pool_fee, opex_usd_month, hosting_fee_usd_kwh, price_usd, age_days."""
    h, w, n = row["hashrate_ths"], row["power_w"], row["count"]
    k, u, f = row["pue"], row["uptime"], row["pool_fee"]
    kwh_price = row["power_price_usd_kwh"] + row["hosting_fee_usd_kwh"]
    days = hours / 24.0
    e = w / h  # J/TH
    btc = n * h * u * btc_per_th_day * (1 - f) * days
    revenue = btc * price_usd
    energy = n * w * k * u * hours / 1000.0  # W · h / 1000 = kWh
    power = energy * kwh_price
    opex = n * row["opex_usd_month"] * 12.0 / 365.0 * days
    dep_day, book = fleet_schedule(
        row["price_usd"], row["age_days"], method, life_years, salvage_fraction, rate
    )
    dep = n * dep_day * days
    interest = n * book * interest_rate / 365.0 * days
    nan = float("nan")
    return {
        "hashrate_ths": n * h,
        "hashrate_share": n * h * u / network_hashrate_ths,
        "btc": btc,
        "revenue_usd": revenue,
        "energy_kwh": energy,
        "power_cost_usd": power,
        "opex_usd": opex,
        "depreciation_usd": dep,
        "interest_usd": interest,
        "margin_usd": revenue - power - opex,
        "all_in_margin_usd": revenue - power - opex - dep - interest,
        "breakeven_power_price_usd_kwh": 1000.0
        * btc_per_th_day
        * price_usd
        * (1 - f)
        / (24.0 * e * k)
        - row["hosting_fee_usd_kwh"],
        "shutdown_price_usd": 24.0 * e * k * kwh_price / (1000.0 * btc_per_th_day * (1 - f))
        if btc_per_th_day * (1 - f) > 0
        else nan,
        "cash_cost_usd_per_btc": (power + opex) / btc if btc > 0 else nan,
        "all_in_cost_usd_per_btc": (power + opex + dep + interest) / btc if btc > 0 else nan,
        "book_value_usd": n * book,
    }


def fleet_dispatch_hourly(
    unit: dict[str, float], hours: list[dict[str, float]], terms: dict[str, float]
) -> dict[str, float]:
    """No start cost, no minimum run: decide each hour on its own. Run iff the hour's
    revenue beats its power cost plus the demand-response credit it would earn curtailed."""
    h, w, n = unit["hashrate_ths"], unit["power_w"], unit["count"]
    k, u, f, q = terms["pue"], terms["uptime"], terms["pool_fee"], terms["hosting_fee_usd_kwh"]
    out = dict.fromkeys(
        (
            "run_hours",
            "starts",
            "btc",
            "revenue_usd",
            "energy_kwh",
            "power_cost_usd",
            "dr_credit_usd",
            "always_on_margin_usd",
        ),
        0.0,
    )
    was_on = True
    for hr in hours:
        btc = h * u * (1 - f) * hr["btc_per_th_hour"]
        revenue = btc * hr["btc_price_usd"]
        kwh = w * k * u / 1000.0
        cost = kwh * (hr["power_price_usd_kwh"] + q)
        credit = kwh * hr["dr_credit_usd_kwh"]
        out["always_on_margin_usd"] += n * (revenue - cost)
        on = revenue - cost > credit
        if on:
            out["run_hours"] += 1
            out["starts"] += 0 if was_on else 1
            out["btc"] += n * btc
            out["revenue_usd"] += n * revenue
            out["energy_kwh"] += n * kwh
            out["power_cost_usd"] += n * cost
        else:
            out["dr_credit_usd"] += n * credit
        was_on = on
    out["margin_usd"] = out["revenue_usd"] - out["power_cost_usd"] + out["dr_credit_usd"]
    return out


def fleet_dispatch_exhaustive(
    unit: dict[str, float], hours: list[dict[str, float]], terms: dict[str, float]
) -> float:
    """Best margin over every on/off schedule (2^hours of them: keep hours ≤ 12), with a start
    cost per off→on and a minimum run once started; the unit is on before hour 0."""
    h, w, n = unit["hashrate_ths"], unit["power_w"], unit["count"]
    k, u, f, q = terms["pue"], terms["uptime"], terms["pool_fee"], terms["hosting_fee_usd_kwh"]
    m = max(int(terms["min_run_hours"]), 1)
    best = -math.inf
    for mask in range(1 << len(hours)):
        sched = [(mask >> t) & 1 == 1 for t in range(len(hours))]
        # Feasible iff every run that starts inside the horizon lasts ≥ m hours (or is cut
        # by the end of the horizon).
        ok = True
        t = 0
        while t < len(sched):
            if sched[t] and (t > 0 and not sched[t - 1]):
                run = 0
                while t + run < len(sched) and sched[t + run]:
                    run += 1
                if run < m and t + run < len(sched):
                    ok = False
                    break
                t += run
            else:
                t += 1
        if not ok:
            continue
        total = 0.0
        was_on = True
        for on, hr in zip(sched, hours, strict=True):
            kwh = w * k * u / 1000.0
            if on:
                revenue = h * u * (1 - f) * hr["btc_per_th_hour"] * hr["btc_price_usd"]
                total += revenue - kwh * (hr["power_price_usd_kwh"] + q)
                if not was_on:
                    total -= terms["start_cost_usd"]
            else:
                total += kwh * hr["dr_credit_usd_kwh"]
            was_on = on
        best = max(best, n * total)
    return best


def fleet_payback(
    unit: dict[str, float], days: list[dict[str, float]], curtail: bool = True
) -> tuple[int | None, str, float]:
    """(payback day, status, cumulative margin per unit) for one unit along a daily path."""
    h, w = unit["hashrate_ths"], unit["power_w"]
    k, u, f = unit["pue"], unit["uptime"], unit["pool_fee"]
    opex = unit["opex_usd_month"] * 12.0 / 365.0
    capex = unit["price_usd"]
    cum = 0.0
    paid: int | None = 0 if capex == 0 else None
    last = 0.0
    for d, day in enumerate(days):
        p = day["power_price_usd_kwh"] + unit["hosting_fee_usd_kwh"]
        revenue = h * u * day["btc_per_th_day"] * (1 - f) * day["btc_price_usd"]
        power = w * k * u * 24.0 / 1000.0 * p
        operating = revenue - power
        if curtail and operating <= 0:
            operating = 0.0
        last = operating - opex
        cum += last
        if paid is None and cum >= capex:
            paid = d + 1
    if paid is not None:
        status = "paid_back"
    elif last > 0:
        status = "not_by_horizon"
    else:
        status = "never"
    return paid, status, cum


def fleet_cost_curve(
    classes: list[tuple[float, float]],
    *,
    btc_per_th_day: float,
    price_usd: float,
    power_price_usd_kwh: float,
    pue: float = 1.0,
    pool_fee: float = 0.0,
) -> dict[str, float]:
    """(efficiency J/TH, hashrate TH/s) classes → share under water, hashrate-weighted cash
    cost per BTC and the CBECI-style efficiency bounds."""
    net_b = btc_per_th_day * (1 - pool_fee)

    def cash(e: float) -> float:
        # kWh per TH/s per day = 24 · e / 1000; per BTC divide by BTC per TH/s per day.
        return 24.0 * e * pue * power_price_usd_kwh / 1000.0 / net_b

    total = sum(h for _, h in classes)
    under = sum(h for e, h in classes if cash(e) > price_usd)
    profitable = [(e, h) for e, h in classes if cash(e) <= price_usd]
    prof_h = sum(h for _, h in profitable)
    return {
        "share_under_water": under / total,
        "avg_cash_cost_usd_per_btc": sum(h * cash(e) for e, h in classes) / total,
        "lower_efficiency_jth": min(e for e, _ in classes),
        "upper_efficiency_jth": max(e for e, _ in profitable) if profitable else float("nan"),
        "best_guess_efficiency_jth": sum(e * h for e, h in profitable) / prof_h
        if prof_h > 0
        else float("nan"),
    }


# ============================================================================ scenario


def u256_getdouble(v: int) -> float:
    """Core's arith_uint256::getdouble: sum of 32-bit words times powers of 2^32, in order
    (the same float operations as the Rust kernel, so results match bit for bit)."""
    ret = 0.0
    fact = 1.0
    for i in range(8):
        ret += fact * float((v >> (32 * i)) & 0xFFFFFFFF)
        fact *= 4294967296.0
    return ret


def _round_half_away(t: float) -> int:
    r = int(t)  # t > 0: truncation is floor
    return r + 1 if t - r >= 0.5 else r


def fluid_chain(
    start_height: int,
    start_bits: int,
    start_time: int,
    epoch_first_time: int | None,
    hashrate_ehs: list[float],
    *,
    interval: int = 2016,
) -> tuple[list[int], list[int], list[tuple[int, int, int, int]]]:
    """The scenario engine's deterministic ("fluid") block clock, block by block.

    A block is found every ``proof(bits) / H`` seconds exactly; the day's hashrate H is
    constant within a UTC day; the first and last block times of each epoch are rounded to
    the nearest second; after an epoch's last block the next bits are
    :func:`calculate_next_work_required`. Returns per-day end heights and bits, and the
    retargets ``(height of new epoch, last block time, old bits, new bits)``.
    """
    day0 = (start_time // 86400) * 86400
    height, bits = start_height, start_bits
    first_time = start_time if epoch_first_time is None else epoch_first_time
    proof = u256_getdouble(bits_proof(bits))
    acc = 0.0
    heights: list[int] = []
    bits_out: list[int] = []
    rts: list[tuple[int, int, int, int]] = []
    for d, ehs in enumerate(hashrate_ehs):
        day_start = day0 + 86400 * d
        now = float(max(day_start, start_time))
        end = float(day_start + 86400)
        hs = ehs * 1e6 * 1e12
        while True:
            rest = end - now
            lam = hs / proof
            if rest <= 0.0 or lam <= 0.0:
                break
            pos = (height + 1) % interval
            need = 1 if pos == 0 else interval - pos
            dt = (need - acc) / lam
            total = acc + lam * rest
            # total < need too: λ·rest can land on `need` exactly in floating point although
            # dt > rest; the epoch's boundary block then ends the day, with its retarget
            if dt > rest and total < need:
                k = int(total)  # total ≥ 0
                height += k
                acc = total - k
                break
            now += min(dt, rest)
            acc = 0.0
            height += need
            if pos == 0:
                first_time = _round_half_away(now)
            else:
                last = _round_half_away(now)
                new = calculate_next_work_required(bits, last, bits, first_time)
                rts.append((height + 1, last, bits, new))
                bits = new
                proof = u256_getdouble(bits_proof(bits))
        heights.append(height)
        bits_out.append(bits)
    return heights, bits_out, rts


# ============================================================================ strategy (issue #6)
# A per-path Python loop: what a naive host does (slice one path, call the model, loop over
# days). Slow by design; the vectorised hashpivot.strategy.evaluate must agree with it.

from typing import Any  # noqa: E402

DAYS_PER_YEAR = 365.25


def npv_daily(flows: list[float], rate: float) -> float:
    """Σ flow_d · (1 + rate)^(−d / 365.25)."""
    return float(sum(f * (1.0 + rate) ** (-d / DAYS_PER_YEAR) for d, f in enumerate(flows)))


def running_sums(
    rev: list[float],
    opex: list[float],
    capex: list[float] | None,
    disc_day: list[float],
    n_days: int,
    path: int,
    day: int,
) -> list[float]:
    """Sums ``[n, r, o, c]`` of path ``path``'s days ``[0, day)`` (path-major rows of
    ``n_days``): ``n`` of ``(r − o − c) · disc_day[d]``, then revenue, opex and capex, added
    one day at a time in day order (what ``_core.FlowSums`` must equal bit for bit)."""
    a = [0.0, 0.0, 0.0, 0.0]
    for d in range(day):
        i = path * n_days + d
        c = capex[i] if capex is not None else 0.0
        a[0] += (rev[i] - opex[i] - c) * disc_day[d]
        a[1] += rev[i]
        a[2] += opex[i]
        a[3] += c
    return a


def period_sums(flows: list[float]) -> list[float]:
    """Sums over 1/12-year periods: day d is in period ⌊d / 30.4375⌋ (with float fuzz)."""
    out: list[float] = []
    k_day = DAYS_PER_YEAR / 12.0
    for d, f in enumerate(flows):
        # a day belongs to the period whose end ⌊(k+1)·30.4375⌋ − 1 is the first ≥ d
        k = 0
        while int((k + 1) * k_day + 1e-9) - 1 < d:
            k += 1
        while len(out) <= k:
            out.append(0.0)
        out[k] += f
    return out


def irr_periods(periods: list[float], lo: float = -0.99, hi: float = 10.0) -> float | None:
    """Annual IRR of period flows at t = k/12 years, by bisection; None unless the flows start
    negative and change sign exactly once (the IRR is then unique) and the root is in [lo, hi]."""
    signs = [c > 0 for c in periods if c != 0]
    if (
        not signs
        or signs[0]
        or sum(1 for i in range(1, len(signs)) if signs[i] != signs[i - 1]) != 1
    ):
        return None

    def f(r: float) -> float:
        return float(sum(c * (1.0 + r) ** (-k / 12.0) for k, c in enumerate(periods)))

    f_lo, f_hi = f(lo), f(hi)
    if f_lo * f_hi > 0:
        return None
    for _ in range(48):
        mid = (lo + hi) / 2
        f_mid = f(mid)
        if f_lo * f_mid <= 0:
            hi = mid
        else:
            lo, f_lo = mid, f_mid
    return (lo + hi) / 2


def payback_years(periods: list[float]) -> float | None:
    """End of the first period (years) from which the cumulative flow stays ≥ 0 at period ends;
    0.0 if it is never < 0 (nothing to pay back); None if it ends < 0."""
    cum = 0.0
    last_neg = -1
    for k, c in enumerate(periods):
        cum += c
        if cum < 0:
            last_neg = k
    if cum < 0:
        return None
    return 0.0 if last_neg < 0 else (last_neg + 2) / 12.0


def rolling_trigger(
    values: list[float], window: int, below: float | None, above: float | None
) -> int | None:
    """First day whose trailing ``window``-day mean is below/above the threshold."""
    for d in range(window - 1, len(values)):
        m = sum(values[d - window + 1 : d + 1]) / window
        if (below is not None and m < below) or (above is not None and m > above):
            return d
    return None


def evaluate_path_loop(
    site: Any, scenario: Any, strategies: list[Any], models: dict[str, Any], rate: float
) -> list[dict[str, Any]]:
    """Per strategy and path: npv_usd, irr, payback_years, from one model call per path."""
    import polars as pl  # local: the consensus section stays dependency-free

    n_days = scenario.n_days
    out = []
    for strat in strategies:
        alloc = strat.allocate(site, scenario)
        for p in range(scenario.n_paths):
            frame = scenario.frame.slice(p * n_days, n_days)
            net = [0.0] * n_days
            for mname, steps in alloc.mw.items():
                mw = [steps.start_mw] * n_days
                for x, d in steps.steps:
                    s = d if isinstance(d, int) else d[p]
                    if s is None:
                        continue
                    for t in range(max(s, 0), n_days):
                        mw[t] += x
                cf = models[mname].cash_flows(site, frame, pl.Series("mw", mw))
                for t, (r, o, c) in enumerate(
                    zip(cf["revenue_usd"], cf["opex_usd"], cf["capex_usd"], strict=False)
                ):
                    net[t] += r - o - c
            for usd, d in alloc.switch_capex:
                s = d if isinstance(d, int) else d[p]
                if s is not None and 0 <= s < n_days:
                    net[s] -= usd
            periods = period_sums(net)
            out.append(
                {
                    "strategy": strat.name,
                    "path": int(frame["path"][0]),
                    "npv_usd": npv_daily(net, rate),
                    "irr": irr_periods(periods),
                    "payback_years": payback_years(periods),
                }
            )
    return out


# ---- strategy: the vectorised IRR the Rust kernel replaced (kept as its bit-for-bit reference)


def irr_bisect_series(periods: list[Any], iterations: int = 44) -> Any:
    """Annual IRR per row by bisection on ``[-0.99, 10]`` with polars Series arithmetic:
    ``periods[k]`` holds every row's flow in period k. Null unless the flows start negative
    and change sign exactly once (zeros skipped) and the NPV changes sign over the bracket.
    This was ``strategy._irr`` before ``_core.irr_bisect``, which must equal it exactly."""
    import polars as pl

    def npv(rate: Any) -> Any:
        v = (rate + 1.0).pow(-1.0 / 12.0)
        acc = periods[-1]
        for cf in reversed(periods[:-1]):
            acc = acc * v + cf
        return acc

    n = periods[0].len()
    first = pl.Series([0.0] * n)
    prev = pl.Series([0.0] * n)
    changes = pl.Series([0] * n, dtype=pl.Int64)
    for cf in periods:
        sign = cf.sign().cast(pl.Float64)
        changes = changes + ((sign != 0) & (prev != 0) & (sign != prev)).cast(pl.Int64)
        first = sign.zip_with(first == 0, first)
        prev = sign.zip_with(sign != 0, prev)
    investment = (changes == 1) & (first < 0)
    lo = pl.Series([-0.99] * n)
    hi = pl.Series([10.0] * n)
    f_lo = npv(lo)
    f_hi = npv(hi)
    ok = ((f_lo * f_hi) <= 0) & investment
    for _ in range(iterations):
        mid = (lo + hi) * 0.5
        f_mid = npv(mid)
        left = (f_lo * f_mid) <= 0
        hi = mid.zip_with(left, hi)
        lo = lo.zip_with(left, mid)
        f_lo = f_lo.zip_with(left, f_mid)
    irr = (lo + hi) * 0.5
    return irr.zip_with(ok, pl.Series([None] * n, dtype=pl.Float64)).alias("irr")


def service_tranches(
    mw: list[float], lead: int = 0, max_tranches: int = 16
) -> list[tuple[int, list[float]]]:
    """One path's MW split into service tranches, day by day from
    ``hashpivot.revenue.service_tranches``' docstring: ``(start day, MW held each day)``."""
    n = len(mw)
    tranches: list[tuple[int, list[float]]] = []
    prev = 0.0
    for t in range(n):
        delta = mw[t] - prev
        prev = mw[t]
        amounts = [held[t - 1] if t else 0.0 for _, held in tranches]
        if delta > 0:
            if not tranches or (delta > 1e-9 and len(tranches) < max_tranches):
                tranches.append((t, [0.0] * n))
                amounts.append(delta)
            else:
                amounts[-1] += delta
        elif delta < 0:
            rest = -delta
            pending = [k for k, (start, _) in enumerate(tranches) if t < start + lead]
            for k in [*reversed(pending), *range(len(amounts))]:  # pending newest first
                take = min(rest, amounts[k])
                amounts[k] -= take
                rest -= take
        for (_, held), x in zip(tranches, amounts, strict=True):
            held[t] = x
    return tranches


def service_clock_revenue(
    mw: list[float],
    gpu_rent: list[float],
    *,
    kind: str,
    lead: int,
    params: dict[str, float],
) -> list[float]:
    """One path's daily revenue of the AI lease (``kind="ai"``) or GPU cloud (``"gpu"``)
    under the service clock, day by day from the module docstrings: the MW split into
    tranches (:func:`service_tranches`), each with ``active = min(held(t), held(t - lead))``
    (0 before day ``lead``) and ``age = t - start``."""
    n = len(mw)
    out = [0.0] * n
    for start, held in service_tranches(mw, lead):
        for t, v in enumerate(_tranche_revenue(held, start, gpu_rent, kind, lead, params)):
            out[t] += v
    return out


def _tranche_revenue(
    mw: list[float],
    start: int,
    gpu_rent: list[float],
    kind: str,
    lead: int,
    params: dict[str, float],
) -> list[float]:
    n = len(mw)
    out = []
    for t in range(n):
        active = min(mw[t], mw[t - lead]) if t >= lead else (mw[t] if lead == 0 else 0.0)
        age = max(t - start, 0)
        years = age / 365.25
        if kind == "ai":
            end = lead + params["tenor_years"] * 365.25
            if age < end:
                billed = max(params["utilisation"], params["take_or_pay"])
                rent = 1000.0 / params["pue"] * billed * params["rent_usd_kw_month"]
                factor = (1.0 + params["escalator"]) ** math.floor(years) * (
                    1.0 - params["default_prob_year"]
                ) ** years
                out.append(active * rent / (365.25 / 12.0) * factor)
            else:
                out.append(0.0)
        else:
            gpus = 1000.0 / (params["kw_per_gpu"] * params["pue"])
            decay = (1.0 - params["rent_decay_per_year"]) ** years
            out.append(
                active
                * gpus
                * 24.0
                * params["utilisation"]
                * gpu_rent[t]
                * params["rent_multiplier"]
                * decay
            )
    return out
