"""AI/HPC colocation lease: the "powered shell" deal (ECONOMICS.md §4.3).

Per day, for ``mw`` MW at the wall allocated to the AI hall:

* capex: ``conversion_capex_usd_per_mw`` on each MW added (the day it is allocated);
* lead time: an added MW earns nothing for ``lead_time_days``; ``active = min(mw(t),
  mw(t − lead))`` per lease (service tranche; a MW taken away stops at once);
* critical IT kW ``= active · 1000 / pue``; billed share ``= max(utilisation, take_or_pay)``;
* revenue ``= IT kW · billed · rent · (1 + escalator)^⌊years⌋ · (1 − default)^years · 12 /
  365.25`` while ``day < lead_time_days + tenor_years · 365.25`` (no re-leasing after the
  tenor; the default term is the expected value of an annual counterparty default
  probability; the escalator steps each year). ``day`` and ``years = day / 365.25`` count
  from the day the MW move into the hall (the service clock, ``age_days``; day 0 for MW held
  from the start), so a conversion in year 3 signs its lease in year 3. Every conversion is
  its own lease (``revenue.service_tranches``); MW taken out first cancel leases not yet
  started, then end the oldest;
* power: passed through to the tenant by default (no power cost); otherwise we pay
  ``active · 1000 · 24 · utilisation · p``;
* fixed opex ``= active · opex_usd_mw_month · 12 / 365.25``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import polars as pl

from hashpivot.builtin_plugins import _params
from hashpivot.hookspecs import hookimpl
from hashpivot.revenue import (
    DAYS_PER_MONTH,
    DAYS_PER_YEAR,
    LinearRevenueModel,
    RevenueModel,
    SiteContext,
    per_age,
    site_power_price,
)


@dataclass(frozen=True)
class AiColocation(LinearRevenueModel):
    """AI/HPC colocation lease. Defaults are *illustrative* (ECONOMICS.md §4.3).

    Parameters
    ----------
    rent_usd_kw_month
        Rent per kW of critical IT load per month (≥ 0), $130 (spec range $100–180).
    pue
        Power usage effectiveness of the AI hall, in [1, 3], 1.3.
    tenor_years
        Lease length (> 0), 12 years.
    escalator
        Annual rent escalator in (−1, 1], 3 %.
    conversion_capex_usd_per_mw
        Our power/cooling upgrade per MW at the wall (≥ 0), $2.0 M (spec range $1.5–3 M).
    lead_time_days
        Whole days from allocation to first rent, in [0, 36525], 540 (18 months; spec 12–24).
    utilisation, take_or_pay
        Tenant's use of the contracted load (0.85) and the minimum billed share (0.9), in
        [0, 1].
    default_prob_year
        Annual counterparty default probability in [0, 1], 2 % (expected value, no recovery).
    power_pass_through
        The tenant pays the power (True).
    opex_usd_mw_month
        Our staff and maintenance per active MW-month (≥ 0), $5,000.

    Raises
    ------
    InvalidValueError, DtypeError
        A parameter out of its range or of the wrong type (``_params``); the message names
        the class, the field, the value and what to write.
    """

    service_clock: ClassVar[bool] = True
    name: str = "ai_colocation"
    rent_usd_kw_month: float = 130.0
    pue: float = 1.3
    tenor_years: float = 12.0
    escalator: float = 0.03
    conversion_capex_usd_per_mw: float = 2_000_000.0
    lead_time_days: int = 540
    utilisation: float = 0.85
    take_or_pay: float = 0.9
    default_prob_year: float = 0.02
    power_pass_through: bool = True
    opex_usd_mw_month: float = 5_000.0

    def __post_init__(self) -> None:
        _params.name(self)
        _params.non_negative(self, "rent_usd_kw_month", "a rent per kW-month")
        _params.overhead(self, "pue")
        _params.positive(self, "tenor_years", "the lease length in years")
        _params.rate(self, "escalator", "an annual escalator")
        _params.non_negative(self, "conversion_capex_usd_per_mw", "a cost per MW")
        _params.days(self, "lead_time_days")
        _params.share(self, "utilisation")
        _params.share(self, "take_or_pay")
        _params.share(self, "default_prob_year", "a probability")
        _params.flag(self, "power_pass_through")
        _params.non_negative(self, "opex_usd_mw_month", "a cost per MW-month")

    def day_factor(self, n_days: int) -> pl.Series:
        """Escalator × survival × tenor mask for days of service ``0 … n_days-1``."""
        years = pl.int_range(0, n_days, eager=True).cast(pl.Float64) / DAYS_PER_YEAR
        end = self.lead_time_days + self.tenor_years * DAYS_PER_YEAR
        return pl.select(
            pl.when(pl.int_range(0, n_days) < end)
            .then(
                pl.lit(1.0 + self.escalator).pow(years.floor())
                * pl.lit(1.0 - self.default_prob_year).pow(years)
            )
            .otherwise(0.0)
        ).to_series()

    def capex_per_mw(self, site: SiteContext) -> float:
        return self.conversion_capex_usd_per_mw

    def unit_flows(self, site: SiteContext, scenario: pl.DataFrame) -> pl.LazyFrame:
        """Per active MW flows (the formulas of the module docstring with ``active = 1``)."""
        n_days = int(scenario["day"][-1]) + 1
        billed = max(self.utilisation, self.take_or_pay)
        per_mw_day = 1000.0 / self.pue * billed * self.rent_usd_kw_month / DAYS_PER_MONTH
        # the constant is folded into the per-day curve before it is spread over the rows
        revenue = per_age(scenario, self.day_factor(n_days) * per_mw_day)
        opex: pl.Expr = pl.lit(self.opex_usd_mw_month / DAYS_PER_MONTH)
        if not self.power_pass_through:
            opex = opex + (1000.0 * 24.0 * self.utilisation) * site_power_price(site)
        return scenario.lazy().select(revenue_usd=revenue, opex_usd=opex)


@hookimpl
def register_revenue_models(register: Callable[[RevenueModel], None]) -> None:
    register(AiColocation())
