"""The Rust fleet kernels against the slow, obvious pure-Python reference (hypothesis)."""

from __future__ import annotations

import math

import polars as pl
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from hashpivot import _reference as ref
from hashpivot import fleet
from hashpivot.hardware import Fleet

finite = {"allow_nan": False, "allow_infinity": False}
ths = st.floats(1.0, 1000.0, **finite)
watts = st.floats(100.0, 10_000.0, **finite)
counts = st.integers(0, 50)


def _close(a: float | None, b: float, rel: float = 1e-9) -> bool:
    if a is None:
        return math.isnan(b)
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-9)


machines = st.lists(
    st.tuples(ths, watts, counts, st.floats(0, 10_000, **finite), st.integers(0, 2000)),
    min_size=1,
    max_size=6,
)


@settings(max_examples=60, deadline=None)
@given(
    rows=machines,
    difficulty=st.floats(1e10, 1e15, **finite),
    price=st.floats(0.0, 200_000.0, **finite),
    power=st.floats(-0.05, 0.3, **finite),
    pue=st.floats(1.0, 2.0, **finite),
    uptime=st.floats(0.5, 1.0, **finite),
    pool_fee=st.floats(0.0, 0.05, **finite),
    opex=st.floats(0.0, 50.0, **finite),
    method=st.sampled_from(["straight_line", "declining"]),
    years=st.floats(1.0, 6.0, **finite),
    salvage=st.floats(0.0, 0.3, **finite),
    interest=st.floats(0.0, 0.2, **finite),
)
def test_economics_matches_reference(
    rows, difficulty, price, power, pue, uptime, pool_fee, opex, method, years, salvage, interest
) -> None:
    import datetime as dt

    as_of = dt.date(2026, 1, 1)
    frame = pl.DataFrame(
        {
            "model": [f"m{i}" for i in range(len(rows))],
            "hashrate_ths": [r[0] for r in rows],
            "power_w": [r[1] for r in rows],
            "count": [r[2] for r in rows],
            "price_usd": [r[3] for r in rows],
            "purchase_date": [as_of - dt.timedelta(days=r[4]) for r in rows],
        }
    )
    got = fleet.economics(
        Fleet(frame),
        difficulty=difficulty,
        subsidy_btc=3.125,
        fees_btc_per_block=0.1,
        price_usd=price,
        power_price_usd_kwh=power,
        pue=pue,
        uptime=uptime,
        pool_fee=pool_fee,
        opex_usd_month=opex,
        depreciation=method,
        depreciation_years=years,
        salvage_fraction=salvage,
        interest_rate=interest,
        as_of=as_of,
    )
    b = ref.fleet_btc_per_th_day(difficulty, 3.125, 0.1)
    assert _close(fleet.btc_per_th_day(difficulty, subsidy_btc=3.125, fees_btc_per_block=0.1), b)
    for i, r in enumerate(rows):
        want = ref.fleet_economics(
            {
                "hashrate_ths": r[0],
                "power_w": r[1],
                "count": r[2],
                "power_price_usd_kwh": power,
                "pue": pue,
                "uptime": uptime,
                "pool_fee": pool_fee,
                "opex_usd_month": opex,
                "hosting_fee_usd_kwh": 0.0,
                "price_usd": r[3],
                "age_days": float(r[4]),
            },
            btc_per_th_day=b,
            price_usd=price,
            network_hashrate_ths=ref.fleet_network_hashrate_ths(difficulty),
            method=method,
            life_years=years,
            salvage_fraction=salvage,
            interest_rate=interest,
        )
        row = got.row(i, named=True)
        for k, v in want.items():
            col = k if k in row else f"{k}_day"
            assert _close(row[col], v), (k, row[col], v)


hours_st = st.lists(
    st.tuples(
        st.floats(-0.05, 0.3, **finite),
        st.sampled_from([0.0, 0.0, 0.05]),
        st.floats(10_000.0, 150_000.0, **finite),
    ),
    min_size=1,
    max_size=60,
)


def _hour_dicts(hours: list[tuple[float, float, float]], b_hour: float) -> list[dict[str, float]]:
    return [
        {
            "power_price_usd_kwh": p,
            "dr_credit_usd_kwh": dr,
            "btc_per_th_hour": b_hour,
            "btc_price_usd": px,
        }
        for p, dr, px in hours
    ]


def _not_near_tie(units, hours, b_hour, pue, pool_fee) -> bool:
    for h, w, _ in units:
        for p, dr, px in hours:
            rev = h * (1 - pool_fee) * b_hour * px
            cost = w * pue / 1000 * (p + dr)
            if abs(rev - cost) <= 1e-9 * max(abs(rev), abs(cost), 1e-12):
                return False
    return True


@settings(max_examples=60, deadline=None)
@given(
    units=st.lists(st.tuples(ths, watts, st.integers(1, 20)), min_size=1, max_size=8),
    hours=hours_st,
    pue=st.floats(1.0, 1.5, **finite),
    uptime=st.floats(0.5, 1.0, **finite),
    pool_fee=st.floats(0.0, 0.05, **finite),
)
def test_dispatch_matches_hour_by_hour_reference(units, hours, pue, uptime, pool_fee) -> None:
    d = 1e14
    b_hour = ref.fleet_btc_per_th_day(d, 3.125, 0.0) / 24
    assume(_not_near_tie(units, hours, b_hour, pue, pool_fee))
    f = Fleet(
        pl.DataFrame(
            {
                "model": [f"u{i}" for i in range(len(units))],
                "hashrate_ths": [u[0] for u in units],
                "power_w": [u[1] for u in units],
                "count": [u[2] for u in units],
            }
        )
    )
    prices = pl.DataFrame(
        {
            "power_price_usd_kwh": [h[0] for h in hours],
            "dr_credit_usd_kwh": [h[1] for h in hours],
            "price_usd": [h[2] for h in hours],
        }
    )
    kw = {"difficulty": d, "subsidy_btc": 3.125, "pue": pue, "uptime": uptime, "pool_fee": pool_fee}
    fast = fleet.dispatch(f, prices, **kw)
    dp = fleet.dispatch(f, prices, method="dp", **kw)
    terms = {"pue": pue, "uptime": uptime, "pool_fee": pool_fee, "hosting_fee_usd_kwh": 0.0}
    for i, (h, w, n) in enumerate(units):
        want = ref.fleet_dispatch_hourly(
            {"hashrate_ths": h, "power_w": w, "count": n}, _hour_dicts(hours, b_hour), terms
        )
        for res in (fast, dp):
            row = res.row(i, named=True)
            assert row["run_hours"] == want["run_hours"]
            assert row["starts"] == want["starts"]
            for k in (
                "btc",
                "revenue_usd",
                "energy_kwh",
                "power_cost_usd",
                "dr_credit_usd",
                "margin_usd",
                "always_on_margin_usd",
            ):
                assert _close(row[k], want[k], rel=1e-7), (k, row[k], want[k])


@settings(max_examples=40, deadline=None)
@given(
    unit=st.tuples(ths, watts),
    hours=st.lists(
        st.tuples(
            st.floats(-0.05, 0.3, **finite),
            st.sampled_from([0.0, 0.04]),
            st.floats(20_000.0, 120_000.0, **finite),
        ),
        min_size=1,
        max_size=9,
    ),
    start_cost=st.floats(0.0, 3.0, **finite),
    min_run=st.integers(0, 4),
)
def test_dispatch_programme_matches_exhaustive_search(unit, hours, start_cost, min_run) -> None:
    d = 1e14
    b_hour = ref.fleet_btc_per_th_day(d, 3.125, 0.0) / 24
    f = Fleet(
        pl.DataFrame(
            {"model": ["u"], "hashrate_ths": [unit[0]], "power_w": [unit[1]], "count": [3]}
        )
    )
    prices = pl.DataFrame(
        {
            "power_price_usd_kwh": [h[0] for h in hours],
            "dr_credit_usd_kwh": [h[1] for h in hours],
            "price_usd": [h[2] for h in hours],
        }
    )
    got = fleet.dispatch(
        f,
        prices,
        difficulty=d,
        subsidy_btc=3.125,
        start_cost_usd=start_cost,
        min_run_hours=min_run,
        method="dp",
    ).row(0, named=True)
    terms = {
        "pue": 1.0,
        "uptime": 1.0,
        "pool_fee": 0.0,
        "hosting_fee_usd_kwh": 0.0,
        "start_cost_usd": start_cost,
        "min_run_hours": min_run,
    }
    best = ref.fleet_dispatch_exhaustive(
        {"hashrate_ths": unit[0], "power_w": unit[1], "count": 3}, _hour_dicts(hours, b_hour), terms
    )
    assert got["margin_usd"] == pytest.approx(best, rel=1e-9, abs=1e-9)
    # The totals of the chosen path are consistent with its margin.
    assert got["margin_usd"] == pytest.approx(
        got["revenue_usd"] - got["power_cost_usd"] + got["dr_credit_usd"] - got["start_cost_usd"],
        rel=1e-9,
        abs=1e-9,
    )


@settings(max_examples=40, deadline=None)
@given(
    unit=st.tuples(ths, watts, st.floats(0.0, 5000.0, **finite)),
    days=st.lists(
        st.tuples(st.floats(1e-7, 2e-6, **finite), st.floats(10_000, 150_000, **finite)),
        min_size=1,
        max_size=80,
    ),
    power=st.floats(0.0, 0.2, **finite),
    opex=st.floats(0.0, 20.0, **finite),
    curtail=st.booleans(),
)
def test_payback_matches_reference(unit, days, power, opex, curtail) -> None:
    f = Fleet(
        pl.DataFrame(
            {
                "model": ["u"],
                "hashrate_ths": [unit[0]],
                "power_w": [unit[1]],
                "price_usd": [unit[2]],
                "count": [2],
            }
        )
    )
    path = pl.DataFrame({"btc_per_th_day": [x[0] for x in days], "price_usd": [x[1] for x in days]})
    got = fleet.payback(
        f, path, power_price_usd_kwh=power, opex_usd_month=opex, curtail=curtail
    ).row(0, named=True)
    want_day, want_status, want_cum = ref.fleet_payback(
        {
            "hashrate_ths": unit[0],
            "power_w": unit[1],
            "pue": 1.0,
            "uptime": 1.0,
            "pool_fee": 0.0,
            "opex_usd_month": opex,
            "hosting_fee_usd_kwh": 0.0,
            "price_usd": unit[2],
        },
        [
            {"btc_per_th_day": b, "btc_price_usd": px, "power_price_usd_kwh": power}
            for b, px in days
        ],
        curtail,
    )
    assert _close(got["cum_margin_usd"], 2 * want_cum, rel=1e-9)
    # Same operations in the same order as the kernel: the status and day agree exactly.
    assert got["status"] == want_status
    assert got["payback_days"] == want_day


@settings(max_examples=60, deadline=None)
@given(
    classes=st.lists(
        st.tuples(st.floats(10.0, 100.0, **finite), st.floats(0.0, 1e6, **finite)),
        min_size=1,
        max_size=30,
    ),
    price=st.floats(1_000.0, 200_000.0, **finite),
    power=st.floats(0.0, 0.2, **finite),
)
def test_cost_curve_matches_reference(classes, price, power) -> None:
    assume(sum(h for _, h in classes) > 0)
    d = 1e14
    mix = pl.DataFrame(
        {"efficiency_jth": [c[0] for c in classes], "hashrate_ths": [c[1] for c in classes]}
    )
    kw = {"difficulty": d, "subsidy_btc": 3.125, "price_usd": price, "power_price_usd_kwh": power}
    got = fleet.network_cost(mix, **kw).row(0, named=True)
    want = ref.fleet_cost_curve(
        classes,
        btc_per_th_day=ref.fleet_btc_per_th_day(d, 3.125, 0.0),
        price_usd=price,
        power_price_usd_kwh=power,
    )
    for k, v in want.items():
        assert _close(got[k], v, rel=1e-9), (k, got[k], v)
    curve = fleet.cost_curve(mix, **kw)
    assert curve["shutdown_price_usd"].is_sorted()
    assert curve["cum_hashrate_ths"][-1] == pytest.approx(sum(h for _, h in classes))
    assert fleet.share_under_water(curve, price) == pytest.approx(want["share_under_water"])
