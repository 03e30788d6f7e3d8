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
class PowerSale(LinearRevenueModel):
    """Power sale / demand response. Defaults are *illustrative*.

    Parameters
    ----------
    resale_share
        Share of the market price the site captures when reselling (grid fees), in [0, 1], 0.9.
    dr_credit_usd_mw_day
        Demand-response / capacity credit per MW-day (≥ 0), $30.
    opex_usd_mw_month
        Fixed cost per MW-month (≥ 0), $500.

    Raises
    ------
    InvalidValueError, DtypeError
        A parameter out of its range or of the wrong type (``_params``); the message names
        the class, the field, the value and what to write.
    """

    name: str = "power_sale"
    resale_share: float = 0.9
    dr_credit_usd_mw_day: float = 30.0
    opex_usd_mw_month: float = 500.0

    def __post_init__(self) -> None:
        _params.name(self)
        _params.share(self, "resale_share")
        _params.non_negative(self, "dr_credit_usd_mw_day", "a credit per MW-day")
        _params.non_negative(self, "opex_usd_mw_month", "a cost per MW-month")

    def unit_flows(self, site: SiteContext, scenario: pl.DataFrame) -> pl.LazyFrame:
        """Per-MW flows (the formulas of the module docstring with ``mw = 1``)."""
        q = pl.col("power_price_usd_kwh")
        p = site_power_price(site)
        sell = q * self.resale_share > p
        revenue = pl.when(sell).then(q * (24_000.0 * self.resale_share)).otherwise(0.0)
        opex = pl.when(sell).then(p * 24_000.0).otherwise(0.0)
        return scenario.lazy().select(
            revenue_usd=revenue + self.dr_credit_usd_mw_day,
            opex_usd=opex + self.opex_usd_mw_month / DAYS_PER_MONTH,
        )


@hookimpl
def register_revenue_models(register: Callable[[RevenueModel], None]) -> None:
    register(PowerSale())
