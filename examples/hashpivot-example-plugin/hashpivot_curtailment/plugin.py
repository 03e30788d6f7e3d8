"""The plugin module the ``hashpivot.plugins`` entry point names.

Model ``curtailment_credit``, per day for ``mw`` MW at the wall:

* hashrate ``PH/s = mw · 1000 / (k · e)`` with the site's fleet efficiency ``e`` (J/TH);
* when the day's ``power_price_usd_kwh`` is above ``strike_usd_kwh`` the fleet is off and
  earns ``credit_share · power price`` per kWh it would have drawn (``mw · 1000 · 24 · u``);
* otherwise it mines: revenue ``PH/s · u · hashprice · (1 − pool_fee)``, power cost
  ``mw · 1000 · 24 · u · power price``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import polars as pl

from hashpivot import SiteContext, hookimpl


@dataclass(frozen=True)
class CurtailmentCredit:
    """Mining with demand-response curtailment credits (illustrative defaults)."""

    name: str = "curtailment_credit"
    strike_usd_kwh: float = 0.06
    credit_share: float = 0.8
    overhead_k: float = 1.05
    uptime: float = 0.97
    pool_fee: float = 0.02

    def cash_flows(self, site: SiteContext, scenario: pl.DataFrame, mw: pl.Series) -> pl.DataFrame:
        m = pl.col("mw")
        p = pl.col("power_price_usd_kwh")
        kwh = m * (1000.0 * 24.0 * self.uptime)
        ph = m * (1000.0 / (self.overhead_k * site.efficiency_jth))
        mine = ph * self.uptime * (1.0 - self.pool_fee) * pl.col("hashprice_usd_ph_day")
        off = p > self.strike_usd_kwh
        credit = pl.when(off).then(kwh * p * self.credit_share).otherwise(0.0)
        return scenario.with_columns(mw.alias("mw")).select(
            "path",
            "date",
            "mw",
            revenue_usd=pl.when(off).then(credit).otherwise(mine),
            opex_usd=pl.when(off).then(0.0).otherwise(kwh * p),
            capex_usd=pl.lit(0.0),
            curtailment_credit_usd=credit,
        )


@hookimpl
def register_revenue_models(register: Callable[[Any], None]) -> None:
    register(CurtailmentCredit())


@hookimpl
def resolve_series(name: str) -> pl.DataFrame | None:
    if name != "flat_power_0045":
        return None
    dates = pl.date_range(pl.date(2026, 1, 1), pl.date(2026, 12, 31), eager=True)
    return pl.DataFrame({"date": dates, "power_price_usd_kwh": [0.045] * dates.len()})
