"""Self-mining: the site's own ASIC fleet (ECONOMICS.md §2–§4.1).

Formulas per day, for ``mw`` MW at the wall (``k`` = overhead/PUE, ``e`` = J/TH, ``u`` =
uptime, ``f`` = pool fee, ``HP`` = ``hashprice_usd_ph_day``, ``p`` = power price $/kWh):

* fleet hashrate ``PH/s = mw · 1000 / (k · e)`` (IT watts ``mw·1e6/k`` divided by J/TH, /1000);
* gross revenue ``= PH/s · u · HP · (1 − f)``;
* power cost ``= mw · 1000 kW · 24 h · u · p``;
* with ``shutdown_when_unprofitable`` the fleet is off (no revenue, no power) on days when
  gross revenue < power cost (daily economic curtailment);
* fixed opex ``= mw · opex_usd_mw_month · 12 / 365.25``; capex ``= added MW · capex_usd_per_mw``;
* hedge (a hashprice forward sold at ``hedge_strike_usd_ph_day`` on ``hedge_share`` of the
  fleet's PH/s): the miner is short, position ``q = −hedge_share · PH/s``, and the spec's
  P&L ``(index − strike) · q = hedge_share · PH/s · (strike − HP)`` is added to revenue
  (column ``hedge_pnl_usd``), whether or not the fleet runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from hashpivot.builtin_plugins import _params
from hashpivot.hookspecs import hookimpl
from hashpivot.revenue import (
    DAYS_PER_MONTH,
    LinearRevenueModel,
    RevenueModel,
    SiteContext,
    site_power_price,
)


@dataclass(frozen=True)
class SelfMining(LinearRevenueModel):
    """Self-mining. Defaults are *illustrative*.

    Parameters
    ----------
    efficiency_jth
        Fleet efficiency (J/TH, > 0); ``None`` uses ``SiteContext.efficiency_jth``.
    overhead_k
        Wall power / IT power (cooling, losses) in [1, 3], 1.05 (immersion/hydro class).
    uptime
        Share of the day machines hash, in [0, 1], 0.97.
    pool_fee
        Pool fee share in [0, 1), 0.02 (FPPS pools charge ~2–4 %).
    opex_usd_mw_month
        Staff, maintenance, insurance per MW-month (≥ 0), $3,000.
    capex_usd_per_mw
        Capital for added MW (machines bought, ≥ 0), 0: the fleet is already owned.
    shutdown_when_unprofitable
        Turn off on days when revenue < power cost (True).
    hedge_share, hedge_strike_usd_ph_day
        Share of PH/s sold forward (in [0, 1]) at a fixed hashprice (≥ 0); no hedge when the
        strike is None.

    Raises
    ------
    InvalidValueError, DtypeError
        A parameter out of its range or of the wrong type (``_params``); the message names
        the class, the field, the value and what to write.
    """

    name: str = "self_mining"
    efficiency_jth: float | None = None
    overhead_k: float = 1.05
    uptime: float = 0.97
    pool_fee: float = 0.02
    opex_usd_mw_month: float = 3_000.0
    capex_usd_per_mw: float = 0.0
    shutdown_when_unprofitable: bool = True
    hedge_share: float = 0.0
    hedge_strike_usd_ph_day: float | None = None

    def __post_init__(self) -> None:
        _params.name(self)
        _params.optional_positive(self, "efficiency_jth", "an efficiency in J/TH")
        _params.overhead(self, "overhead_k")
        _params.share(self, "uptime")
        _params.share(self, "pool_fee", below_one=True)
        _params.non_negative(self, "opex_usd_mw_month", "a cost per MW-month")
        _params.non_negative(self, "capex_usd_per_mw", "a cost per MW")
        _params.flag(self, "shutdown_when_unprofitable")
        _params.share(self, "hedge_share")
        _params.optional_non_negative(self, "hedge_strike_usd_ph_day", "a hashprice")

    def ph_per_mw(self, site: SiteContext) -> float:
        """Fleet PH/s per MW at the wall."""
        e = self.efficiency_jth if self.efficiency_jth is not None else site.efficiency_jth
        return 1000.0 / (self.overhead_k * e)

    def capex_per_mw(self, site: SiteContext) -> float:
        return self.capex_usd_per_mw

    def unit_flows(self, site: SiteContext, scenario: pl.DataFrame) -> pl.LazyFrame:
        """Per-MW flows (the formulas of the module docstring with ``mw = 1``)."""
        hp = pl.col("hashprice_usd_ph_day")
        gross = hp * (self.ph_per_mw(site) * self.uptime * (1.0 - self.pool_fee))
        power = (1000.0 * 24.0 * self.uptime) * site_power_price(site)
        fixed = self.opex_usd_mw_month / DAYS_PER_MONTH
        if self.shutdown_when_unprofitable:
            run = gross > power
            revenue = pl.when(run).then(gross).otherwise(0.0)
            opex = pl.when(run).then(power).otherwise(0.0) + fixed
        else:
            revenue, opex = gross, power + fixed
        cols = {"revenue_usd": revenue, "opex_usd": opex}
        if self.hedge_strike_usd_ph_day is not None and self.hedge_share != 0.0:
            hedge = (self.hedge_share * self.ph_per_mw(site)) * (self.hedge_strike_usd_ph_day - hp)
            cols = {"revenue_usd": revenue + hedge, "opex_usd": opex, "hedge_pnl_usd": hedge}
        return scenario.lazy().select(**cols)


@hookimpl
def register_revenue_models(register: Callable[[RevenueModel], None]) -> None:
    register(SelfMining())
