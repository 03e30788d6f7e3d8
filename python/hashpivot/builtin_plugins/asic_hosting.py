"""ASIC hosting, host side: third-party machines on our power (ECONOMICS.md §4.2).

Per day for ``mw`` MW at the wall (``k`` overhead, ``u`` uptime, ``o`` occupancy, ``r`` the
hosting rate in $/kWh of the client's machine power, ``p`` the site's power price):

* client machine kW ``= mw · 1000 / k · o``; revenue ``= that · 24 · u · r``;
* our power cost ``= mw · 1000 · o · 24 · u · p`` (the client's kW times the overhead);
* curtailment pass-through: on days when ``p · k > r`` the host loses money on each kWh, so
  it curtails and the contract passes that through (no revenue, no power cost);
* uptime SLA: if ``u < uptime_sla`` the client is credited ``sla_credit_share`` of revenue;
* client default/churn is folded into the expected ``occupancy`` (share of capacity under a
  paying contract); fixed opex ``= mw · opex_usd_mw_month · 12 / 365.25``.
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
class AsicHosting(LinearRevenueModel):
    """ASIC hosting (host side). Defaults are *illustrative*.

    Parameters
    ----------
    hosting_rate_usd_kwh
        All-in rate the client pays per kWh its machines draw (≥ 0), $0.07 (spec $0.06–0.08).
    overhead_k
        Wall / IT power in [1, 3], 1.05.
    uptime
        Share of the day the hosted machines run, in [0, 1], 0.97.
    occupancy
        Expected share of capacity under a paying contract after client churn and default,
        in [0, 1], 0.95.
    uptime_sla, sla_credit_share
        SLA uptime 0.95; credit of 5 % of revenue when ``uptime`` is below it (both in [0, 1]).
    curtail_pass_through
        Curtail on days when power costs more than the rate, passing it through (True).
    opex_usd_mw_month
        Staff and maintenance per MW-month (≥ 0), $2,000.
    capex_usd_per_mw
        Capital for added MW (≥ 0), 0 (the site is built).

    Raises
    ------
    InvalidValueError, DtypeError
        A parameter out of its range or of the wrong type (``_params``); the message names
        the class, the field, the value and what to write.
    """

    name: str = "asic_hosting"
    hosting_rate_usd_kwh: float = 0.07
    overhead_k: float = 1.05
    uptime: float = 0.97
    occupancy: float = 0.95
    uptime_sla: float = 0.95
    sla_credit_share: float = 0.05
    curtail_pass_through: bool = True
    opex_usd_mw_month: float = 2_000.0
    capex_usd_per_mw: float = 0.0

    def __post_init__(self) -> None:
        _params.name(self)
        _params.non_negative(self, "hosting_rate_usd_kwh", "a price per kWh")
        _params.overhead(self, "overhead_k")
        _params.share(self, "uptime")
        _params.share(self, "occupancy")
        _params.share(self, "uptime_sla")
        _params.share(self, "sla_credit_share")
        _params.flag(self, "curtail_pass_through")
        _params.non_negative(self, "opex_usd_mw_month", "a cost per MW-month")
        _params.non_negative(self, "capex_usd_per_mw", "a cost per MW")

    def capex_per_mw(self, site: SiteContext) -> float:
        return self.capex_usd_per_mw

    def unit_flows(self, site: SiteContext, scenario: pl.DataFrame) -> pl.LazyFrame:
        """Per-MW flows (the formulas of the module docstring with ``mw = 1``)."""
        p = site_power_price(site)
        credit = self.sla_credit_share if self.uptime < self.uptime_sla else 0.0
        kwh = 1000.0 * self.occupancy * 24.0 * self.uptime
        revenue: pl.Expr = pl.lit(
            kwh / self.overhead_k * self.hosting_rate_usd_kwh * (1.0 - credit)
        )
        power = kwh * p
        if self.curtail_pass_through:
            on = p * self.overhead_k <= self.hosting_rate_usd_kwh
            revenue = pl.when(on).then(revenue).otherwise(0.0)
            power = pl.when(on).then(power).otherwise(0.0)
        opex = power + self.opex_usd_mw_month / DAYS_PER_MONTH
        return scenario.lazy().select(revenue_usd=revenue, opex_usd=opex)


@hookimpl
def register_revenue_models(register: Callable[[RevenueModel], None]) -> None:
    register(AsicHosting())
