"""GPU cloud: we own GPUs and rent them by the hour (ECONOMICS.md §4.4).

Per day, for ``mw`` MW at the wall:

* GPUs per MW ``= 1000 / (kw_per_gpu · pue)``; capex on each added MW ``= GPUs ·
  capex_usd_per_gpu + conversion_capex_usd_per_mw``;
* lead time: ``active = min(mw(t), mw(t − lead_time_days))`` per vintage (service tranche);
* revenue ``= active GPUs · 24 · utilisation · gpu_rent_usd_hr · rent_multiplier ·
  (1 − rent_decay_per_year)^years`` (the scenario's rent index is for current hardware; our
  vintage loses ``rent_decay_per_year`` against it each year it has been in service);
* power ``= active · 1000 · 24 · (idle_power_share + (1 − idle_power_share) · utilisation) · p``;
  fixed opex ``= active · opex_usd_mw_month · 12 / 365.25``;
* ``depreciation_usd`` (informative, not a cash flow): active GPUs · capex per GPU /
  (``depreciation_years`` · 365.25) during its first ``depreciation_years`` in service.

``years`` count from the day the MW move into GPUs (the service clock, ``age_days``; day 0
for MW held from the start): GPUs bought in year 3 start at the full rent index. Every
purchase is its own vintage with its own clock; MW taken out first cancel GPUs not yet
delivered, then retire the oldest (``revenue.service_tranches``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import polars as pl

from hashpivot.builtin_plugins import _params
from hashpivot.hookspecs import hookimpl
from hashpivot.revenue import (
    AGE_COLUMN,
    DAYS_PER_MONTH,
    DAYS_PER_YEAR,
    LinearRevenueModel,
    RevenueModel,
    SiteContext,
    per_age,
    site_power_price,
)


@dataclass(frozen=True)
class GpuCloud(LinearRevenueModel):
    """GPU cloud. Defaults are *illustrative* (H100 class, ECONOMICS.md §4.4–§5).

    Parameters
    ----------
    kw_per_gpu
        IT power per GPU incl. its share of server and network (> 0), 1.0 kW: with the
        default PUE that is 1.3 kW per GPU at the wall, the spec's 1.2–1.4 kW at the wall
        (so 769 GPUs per MW at the wall).
    pue
        PUE of the GPU hall, in [1, 3], 1.3.
    capex_usd_per_gpu
        GPU + server + network per GPU (≥ 0), $35,000 (spec $30–40 k).
    conversion_capex_usd_per_mw
        Hall power/cooling upgrade per MW at the wall (≥ 0), $1.5 M.
    lead_time_days
        Whole days from allocation to first rent, in [0, 36525], 270.
    utilisation
        Share of GPU-hours rented, in [0, 1], 0.7 (the swing factor).
    rent_multiplier
        Our rent relative to the scenario's ``gpu_rent_usd_hr`` index (≥ 0), 1.0.
    rent_decay_per_year
        Yearly loss of our vintage's rent against the index, in [0, 1], 10 %.
    idle_power_share
        Power an idle GPU draws as a share of full load, in [0, 1], 0.3.
    depreciation_years
        Straight-line life for ``depreciation_usd`` (> 0), 5 years (spec 4–6).
    opex_usd_mw_month
        Staff, maintenance, software per active MW-month (≥ 0), $8,000.

    Raises
    ------
    InvalidValueError, DtypeError
        A parameter out of its range or of the wrong type (``_params``); the message names
        the class, the field, the value and what to write.
    """

    service_clock: ClassVar[bool] = True
    name: str = "gpu_cloud"
    kw_per_gpu: float = 1.0
    pue: float = 1.3
    capex_usd_per_gpu: float = 35_000.0
    conversion_capex_usd_per_mw: float = 1_500_000.0
    lead_time_days: int = 270
    utilisation: float = 0.7
    rent_multiplier: float = 1.0
    rent_decay_per_year: float = 0.10
    idle_power_share: float = 0.3
    depreciation_years: float = 5.0
    opex_usd_mw_month: float = 8_000.0

    def __post_init__(self) -> None:
        _params.name(self)
        _params.positive(self, "kw_per_gpu", "kW per GPU")
        _params.overhead(self, "pue")
        _params.non_negative(self, "capex_usd_per_gpu", "a cost per GPU")
        _params.non_negative(self, "conversion_capex_usd_per_mw", "a cost per MW")
        _params.days(self, "lead_time_days")
        _params.share(self, "utilisation")
        _params.non_negative(self, "rent_multiplier", "a multiplier of the rent index")
        _params.share(self, "rent_decay_per_year", "a yearly loss share")
        _params.share(self, "idle_power_share")
        _params.positive(self, "depreciation_years", "a life in years")
        _params.non_negative(self, "opex_usd_mw_month", "a cost per MW-month")

    def gpus_per_mw(self) -> float:
        """GPUs per MW at the wall."""
        return 1000.0 / (self.kw_per_gpu * self.pue)

    def capex_per_mw(self, site: SiteContext) -> float:
        return self.gpus_per_mw() * self.capex_usd_per_gpu + self.conversion_capex_usd_per_mw

    def unit_flows(self, site: SiteContext, scenario: pl.DataFrame) -> pl.LazyFrame:
        """Per active MW flows (the formulas of the module docstring with ``active = 1``)."""
        n_days = int(scenario["day"][-1]) + 1
        days = pl.int_range(0, n_days, eager=True).cast(pl.Float64)
        decay = pl.select(pl.lit(1.0 - self.rent_decay_per_year).pow(days / DAYS_PER_YEAR))
        dep_on = (days < self.depreciation_years * DAYS_PER_YEAR).cast(pl.Float64)
        gpus = self.gpus_per_mw()
        load = self.idle_power_share + (1.0 - self.idle_power_share) * self.utilisation
        dep = gpus * self.capex_usd_per_gpu / (self.depreciation_years * DAYS_PER_YEAR)
        rent = gpus * 24.0 * self.utilisation * self.rent_multiplier
        age = AGE_COLUMN if AGE_COLUMN in scenario.columns else "day"  # as per_age reads it
        return scenario.lazy().select(
            # the constant is folded into the per-day curve before it is spread over the rows
            revenue_usd=pl.col("gpu_rent_usd_hr") * per_age(scenario, decay.to_series() * rent),
            opex_usd=(1000.0 * 24.0 * load) * site_power_price(site)
            + self.opex_usd_mw_month / DAYS_PER_MONTH,
            # lazy: computed only when asked for (evaluate needs revenue and opex only)
            depreciation_usd=pl.lit(dep_on * dep).gather(pl.col(age)),
        )


@hookimpl
def register_revenue_models(register: Callable[[RevenueModel], None]) -> None:
    register(GpuCloud())
