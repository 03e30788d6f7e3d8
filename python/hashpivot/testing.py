"""Helpers for tests, benchmarks and plugin authors.

Chains (issue #3):

* :func:`synthetic_chain` mines valid header chains under easy custom parameters (Rust, fast);
* :func:`easy_params` gives such parameters (regtest's proof-of-work limit, retargeting on);
* :func:`mine_header` re-mines one tampered header so that only the intended rule breaks.

Revenue models (issue #6):

* :func:`synthetic_scenario` — a deterministic scenario frame in the simulator's schema,
  pure polars (no simulator, no numpy), for trying models and for benchmarks;
* :func:`check_revenue_model` — checks a model's schema, units, determinism and that it does
  not loop over paths or rows in Python;
* :func:`registered_plugin` (context manager) and the pytest fixture :func:`register_plugin`
  — register a temporary plugin on the process-wide plugin manager.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import math
import sys
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

import polars as pl

from hashpivot import _core
from hashpivot._core import NetworkParams, RawHeaders
from hashpivot.exceptions import InvalidValueError, PluginError
from hashpivot.plugins import plugin_manager
from hashpivot.revenue import (
    CASH_FLOW_COLUMNS,
    SiteContext,
    prepare_scenario,
    validate_cash_flows,
)

__all__ = [
    "check_revenue_model",
    "easy_params",
    "mine_header",
    "register_plugin",
    "registered_plugin",
    "synthetic_chain",
    "synthetic_scenario",
]

# --------------------------------------------------------------------------------------------
# Revenue models (issue #6)
# --------------------------------------------------------------------------------------------

_BITS_935424 = 0x17023C7E  # bundled epoch 464 (2026-02-09): difficulty 125.86 T
_D0 = 125.86e12


def _uniform(n: int, seed: int, stream: int) -> pl.Expr:
    """Deterministic uniforms in (0, 1) from hashing the row index (no RNG state)."""
    h = pl.int_range(0, n, dtype=pl.UInt64).hash(seed * 1_000_003 + stream)
    return ((h // (1 << 11)).cast(pl.Float64) + 0.5) / float(1 << 53)


def _normal(n: int, seed: int, stream: int) -> pl.Expr:
    u1, u2 = _uniform(n, seed, stream), _uniform(n, seed, stream + 1)
    return (-2.0 * u1.log()).sqrt() * (2.0 * math.pi * u2).cos()


def synthetic_scenario(
    n_paths: int = 16,
    n_days: int = 365,
    *,
    seed: int = 0,
    start: dt.date = dt.date(2026, 3, 1),
    price_usd: float = 68_000.0,
    price_vol_year: float = 0.55,
    power_price_usd_kwh: float = 0.045,
    gpu_rent_usd_hr: float = 2.4,
) -> pl.DataFrame:
    """A deterministic scenario in the schema of ``hashpivot.scenario.simulate``.

    Price is a driftless geometric Brownian motion (``price_vol_year`` annual volatility);
    difficulty follows price with elasticity 0.6 and a 20 %/year trend; fees are 0.02 BTC per
    block; subsidy halves at height 1,050,000; hashprice is ECONOMICS.md §2
    (``20,116,567.6 · (S+F) / D · P`` USD/TH/day, ×1000 per PH); power price is lognormal
    day-to-day noise (20 %) around ``power_price_usd_kwh``; GPU rent decays 20 %/year with
    10 % noise. Same arguments → identical frame (row hashing, no global RNG state).

    Not a forecast: a shape-correct stand-in for tests, benchmarks and plugin authors.
    """
    n = n_paths * n_days
    row = pl.int_range(0, n, dtype=pl.Int64)
    day = row % n_days
    years = day.cast(pl.Float64) / 365.25
    sig = price_vol_year / math.sqrt(365.25)
    frame = pl.select(
        path=row // n_days,
        day=day,
        _z=_normal(n, seed, 0) * sig - 0.5 * sig * sig,
        _pz=_normal(n, seed, 2),
        _gz=_normal(n, seed, 4),
    )
    # per-path cumulative log-return from one global cumulative sum
    cs = frame["_z"].cum_sum()
    start_rows = (pl.int_range(0, n, dtype=pl.Int64, eager=True) // n_days) * n_days
    base = cs.gather(start_rows) - frame["_z"].gather(start_rows)
    frame = frame.with_columns((cs - base).alias("_logret"))
    t0 = dt.datetime(start.year, start.month, start.day, tzinfo=dt.timezone.utc)
    height0 = 940_000
    out = frame.select(
        pl.col("path"),
        (pl.lit(t0) + pl.duration(days=pl.col("day"))).dt.cast_time_unit("us").alias("date"),
        (height0 + pl.col("day") * 144).alias("height"),
        pl.lit(_BITS_935424, dtype=pl.UInt32).alias("bits"),
        (_D0 * (0.6 * pl.col("_logret")).exp() * (1.0 + 0.2 * years.cast(pl.Float64))).alias(
            "difficulty"
        ),
        (price_usd * pl.col("_logret").exp()).alias("price_usd"),
        pl.lit(0.02).alias("fees_btc_per_block"),
        pl.when(height0 + pl.col("day") * 144 >= 1_050_000)
        .then(1.5625)
        .otherwise(3.125)
        .alias("subsidy_btc"),
        (power_price_usd_kwh * (0.2 * pl.col("_pz") - 0.02).exp()).alias("power_price_usd_kwh"),
        (gpu_rent_usd_hr * (-0.2 * years).exp() * (0.1 * pl.col("_gz") - 0.005).exp()).alias(
            "gpu_rent_usd_hr"
        ),
        pl.lit(0.3).alias("share_under_water"),
    )
    return out.with_columns(
        (pl.col("difficulty") * 2.0**32 / 600.0 / 1e18).alias("hashrate_ehs"),
        (
            20_116_567.6
            * (pl.col("subsidy_btc") + pl.col("fees_btc_per_block"))
            / pl.col("difficulty")
            * pl.col("price_usd")
            * 1000.0
        ).alias("hashprice_usd_ph_day"),
    ).select(
        "path",
        "date",
        "height",
        "bits",
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


def _count_python_calls(fn: Callable[[], Any]) -> tuple[int, Any]:
    """Run ``fn`` counting Python-level function calls (``sys.setprofile`` 'call' events).

    The garbage collector is paused meanwhile: a collection that happens to fall inside
    ``fn`` runs ``gc.callbacks`` (registered by other libraries) as Python calls, which would
    be counted as the model's."""
    count = 0

    def prof(frame: FrameType, event: str, arg: Any) -> None:
        nonlocal count
        if event == "call":
            count += 1

    old = sys.getprofile()
    was_enabled = gc.isenabled()
    gc.disable()
    sys.setprofile(prof)
    try:
        result = fn()
    finally:
        sys.setprofile(old)
        if was_enabled:
            gc.enable()
    return count, result


def check_revenue_model(
    model: Any,
    site: SiteContext | None = None,
    *,
    small_paths: int = 3,
    large_paths: int = 48,
    n_days: int = 120,
) -> dict[str, Any]:
    """Check a revenue model the way the host will use it.

    Runs the model on :func:`synthetic_scenario` frames with an allocation that steps up
    mid-way, and checks:

    * **protocol** — a ``str`` ``name`` and a ``cash_flows(site, scenario, mw)`` method;
    * **schema** — the host's cash-flow validation (columns, Float64, no nulls, same rows);
    * **units** — every extra column ends in a unit suffix; ``mw`` echoes the allocation;
      money columns are finite;
    * **determinism** — two calls give identical frames;
    * **vectorised** — the number of Python function calls does not grow with the number of
      paths (``small_paths`` vs ``large_paths``); a per-path or per-row Python loop, or
      ``map_elements``, makes it grow.

    Returns
    -------
    dict
        Measurements (``python_calls_small``, ``python_calls_large``, ``rows``).

    Raises
    ------
    PluginError
        Listing every failed check.
    """
    site = site or SiteContext()
    problems: list[str] = []
    name = getattr(model, "name", None)
    if not isinstance(name, str) or not callable(getattr(model, "cash_flows", None)):
        raise PluginError(
            f"{model!r} is not a RevenueModel: it needs a str 'name' and a "
            "'cash_flows(site, scenario, mw)' method"
        )

    def run(n_paths: int) -> tuple[pl.DataFrame, pl.Series, Any]:
        sc = prepare_scenario(synthetic_scenario(n_paths, n_days, seed=7))
        mw = pl.when(sc.frame["day"] >= n_days // 2).then(pl.lit(10.0)).otherwise(pl.lit(4.0))
        mw_s = sc.frame.select(mw.alias("mw"))["mw"]
        return sc.frame, mw_s, sc

    frame, mw, sc = run(small_paths)
    try:
        out1 = model.cash_flows(site, frame, mw)
        out2 = model.cash_flows(site, frame, mw)
    except Exception as exc:
        raise PluginError(
            f"revenue model {name!r} raised on a synthetic scenario: {type(exc).__name__}: {exc}"
        ) from exc
    try:
        cf = validate_cash_flows(out1, sc, name)
    except Exception as exc:
        problems.append(f"schema: {exc}")
        cf = None
    if cf is not None:
        if not cf["mw"].equals(mw):
            problems.append("units: column 'mw' must echo the allocation passed in (MW)")
        for c in CASH_FLOW_COLUMNS[3:]:
            if not cf[c].is_finite().all():
                problems.append(f"units: column {c!r} has non-finite values (USD per day)")
        if isinstance(out2, pl.DataFrame) and not out1.equals(out2):
            problems.append("determinism: two calls with the same inputs gave different frames")

    frame_l, mw_l, _ = run(large_paths)
    calls_small, _ = _count_python_calls(lambda: model.cash_flows(site, frame, mw))
    calls_large, _ = _count_python_calls(lambda: model.cash_flows(site, frame_l, mw_l))
    if calls_large > calls_small * 1.5 + 50:
        problems.append(
            f"vectorised: {calls_small} Python calls for {small_paths} paths but {calls_large} "
            f"for {large_paths}; use polars expressions over all paths, not a Python loop"
        )
    if problems:
        raise PluginError(f"revenue model {name!r} failed checks:\n- " + "\n- ".join(problems))
    return {
        "python_calls_small": calls_small,
        "python_calls_large": calls_large,
        "rows": frame.height,
    }


@contextlib.contextmanager
def registered_plugin(plugin: object, name: str | None = None) -> Iterator[str]:
    """Register ``plugin`` (a module, class or object with ``@hookimpl`` functions) on the
    process-wide plugin manager for the duration of a ``with`` block; yields its name."""
    pm = plugin_manager()
    registered = pm.register(plugin, name=name)
    if registered is None:
        raise PluginError(f"plugin {name or plugin!r} is blocked (HASHPIVOT_DISABLED_PLUGINS)")
    try:
        yield registered
    finally:
        pm.unregister(plugin)


try:
    import pytest
except ImportError:  # pragma: no cover - pytest is a test-time tool
    pass
else:

    @pytest.fixture
    def register_plugin() -> Iterator[Callable[..., str]]:
        """Fixture: ``register_plugin(plugin, name=None)`` registers a temporary plugin;
        every plugin registered this way is unregistered when the test ends.

        Use it from your ``conftest.py``: ``from hashpivot.testing import register_plugin``.
        """
        stack = contextlib.ExitStack()

        def register(plugin: object, name: str | None = None) -> str:
            return stack.enter_context(registered_plugin(plugin, name))

        with stack:
            yield register


# --------------------------------------------------------------------------------------------
# Chains (issue #3)
# --------------------------------------------------------------------------------------------
def easy_params(
    *,
    name: str = "synthetic",
    interval: int = 144,
    spacing: int = 600,
    min_difficulty_blocks: bool = False,
    bip94: bool = False,
) -> NetworkParams:
    """Custom parameters on which a laptop mines thousands of headers a millisecond.

    regtest's proof-of-work limit (about half of all hashes qualify at minimum difficulty),
    ``interval`` blocks per difficulty period, retargeting on, the retarget product in 512
    bits (``overflow="wide"``: regtest's limit times 4·timespan exceeds 256 bits).
    """
    return NetworkParams.custom(
        "regtest",
        name=name,
        pow_target_timespan=interval * spacing,
        pow_target_spacing=spacing,
        no_retargeting=False,
        allow_min_difficulty_blocks=min_difficulty_blocks,
        enforce_bip94=bip94,
        overflow="wide",
    )


def synthetic_chain(n: int, params: NetworkParams | None = None, seed: int = 0) -> RawHeaders:
    """Mine ``n`` consecutive valid headers from a synthetic genesis block (height 0).

    Timestamps are a seeded random walk around the target spacing (some run backwards but
    stay above the median time past), periods alternate between fast and slow so the
    difficulty really retargets, bits follow the consensus rule of ``params`` and every
    nonce is ground until the proof of work holds. Same ``(n, params, seed)``, same bytes.

    Returns :class:`~hashpivot._core.RawHeaders`; pass it to
    :func:`hashpivot.chain.read_headers` / :func:`hashpivot.chain.validate` with
    ``network=params``, or call ``.to_bytes()``.
    """
    if n < 0:
        raise InvalidValueError(f"n: {n} is negative")
    if seed < 0 or seed >= 2**64:
        raise InvalidValueError(f"seed: {seed} is outside 0 … 2^64−1")
    return _core.synthetic_chain(n, params if params is not None else easy_params(), seed)


def mine_header(header: bytes, params: NetworkParams) -> bytes:
    """Grind the nonce of one 80-byte header until its proof of work holds under ``params``."""
    return _core.mine_header(header, params)
