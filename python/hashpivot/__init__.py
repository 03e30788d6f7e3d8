"""hashpivot: Bitcoin mining economics with a consensus-exact Rust core.

Modules:

* :mod:`hashpivot.consensus` — compact bits, targets, difficulty, work, retargeting, subsidy;
* :mod:`hashpivot.history` — bundled per-epoch difficulty history;
* :mod:`hashpivot.chain` — read and validate block-header chains as polars frames;
* :mod:`hashpivot.network` — hashrate estimators, retarget estimate, hashprice, Puell, ribbons;
* :mod:`hashpivot.hardware` — ASIC and GPU catalogs, :class:`~hashpivot.hardware.Fleet`;
* :mod:`hashpivot.fleet` — machine economics, payback, hourly dispatch, cost curves;
* :mod:`hashpivot.scenario` — Monte Carlo scenarios of price, fees, power, hashrate, difficulty;
* :mod:`hashpivot.revenue`, :mod:`hashpivot.plugins`, :mod:`hashpivot.strategy` — revenue
  models as pluggy plugins (``hookimpl`` marks their hooks) and the strategy decision;
* :mod:`hashpivot.exceptions` — the error classes every failure raises.
"""

from __future__ import annotations

from hashpivot import consensus as consensus
from hashpivot import exceptions as exceptions
from hashpivot import fleet as fleet
from hashpivot import hardware as hardware
from hashpivot import scenario as scenario
from hashpivot._core import NetworkParams as NetworkParams
from hashpivot._core import __version__ as __version__
from hashpivot.exceptions import HashpivotError as HashpivotError
from hashpivot.hookspecs import hookimpl as hookimpl
from hashpivot.revenue import RevenueModel as RevenueModel
from hashpivot.revenue import SiteContext as SiteContext

__all__ = [
    "HashpivotError",
    "NetworkParams",
    "RevenueModel",
    "SiteContext",
    "__version__",
    "consensus",
    "exceptions",
    "fleet",
    "hardware",
    "hookimpl",
    "scenario",
]
