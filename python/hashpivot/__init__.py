"""hashpivot: Bitcoin mining economics with a consensus-exact Rust core.

Modules:

* :mod:`hashpivot.consensus` — compact bits, targets, difficulty, work, retargeting, subsidy;
* :mod:`hashpivot.history` — bundled per-epoch difficulty history;
* :mod:`hashpivot.exceptions` — the error classes every failure raises;
* :mod:`hashpivot.revenue`, :mod:`hashpivot.plugins`, :mod:`hashpivot.strategy` — revenue
  models as pluggy plugins (``hookimpl`` marks their hooks) and the strategy decision.
"""

from __future__ import annotations

from hashpivot import consensus as consensus
from hashpivot import exceptions as exceptions
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
    "hookimpl",
]
