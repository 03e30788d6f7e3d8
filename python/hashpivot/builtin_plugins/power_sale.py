"""Power sale / demand response (ECONOMICS.md §4.5).

Per day, for ``mw`` MW at the wall not used by anything else (``energy = mw · 1000 · 24`` kWh,
``q`` = the scenario's market ``power_price_usd_kwh``, ``p`` = what the site pays: its fixed
contract price, else ``q``):

* the site resells its energy on days when ``q · resale_share > p`` (a fixed contract below
  market): revenue ``energy · q · resale_share``, cost ``energy · p``; otherwise it stays idle;
* demand-response / capacity credit every day: ``mw · dr_credit_usd_mw_day``;
* fixed opex ``= mw · opex_usd_mw_month · 12 / 365.25``.

Without a fixed contract price the resale never pays (``0.9 q < q``) and the model earns the
DR credit only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from hashpivot.hookspecs import hookimpl
from hashpivot.revenue import (
    DAYS_PER_MONTH,
    RevenueModel,
    SiteContext,
    cash_flow_frame,
    site_power_price,
)


@dataclass(frozen=True)
class PowerSale:
    """Power sale / demand response. Defaults are *illustrative*.

    Parameters
    ----------
    resale_share
        Share of the market price the site captures when reselling (grid fees), 0.9.
    dr_credit_usd_mw_day
        Demand-response / capacity credit per MW-day, $30.
    opex_usd_mw_month
        Fixed cost per MW-month, $500.
    """

    name: str = "power_sale"
    resale_share: float = 0.9
    dr_credit_usd_mw_day: float = 30.0
    opex_usd_mw_month: float = 500.0

    def cash_flows(self, site: SiteContext, scenario: pl.DataFrame, mw: pl.Series) -> pl.DataFrame:
        m = pl.col("mw")
        q = pl.col("power_price_usd_kwh")
        p = site_power_price(site)
        sell = q * self.resale_share > p
        energy = m * (1000.0 * 24.0)
        revenue = pl.when(sell).then(energy * q * self.resale_share).otherwise(0.0) + m * (
            self.dr_credit_usd_mw_day
        )
        opex = pl.when(sell).then(energy * p).otherwise(0.0) + m * (
            self.opex_usd_mw_month / DAYS_PER_MONTH
        )
        return cash_flow_frame(scenario, mw, revenue_usd=revenue, opex_usd=opex, capex_usd=pl.lit(0.0))


@hookimpl
def register_revenue_models(register: Callable[[RevenueModel], None]) -> None:
    register(PowerSale())
