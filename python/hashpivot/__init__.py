"""hashpivot: Bitcoin mining economics with a consensus-exact Rust core.

Modules:

* :mod:`hashpivot.consensus` — compact bits, targets, difficulty, work, retargeting, subsidy;
* :mod:`hashpivot.history` — bundled per-epoch difficulty history;
* :mod:`hashpivot.exceptions` — the error classes every failure raises;
* :mod:`hashpivot.scenario` — Monte Carlo scenarios of price, fees, power, hashrate, difficulty.
"""

from __future__ import annotations

from hashpivot import consensus as consensus
from hashpivot import exceptions as exceptions
from hashpivot import scenario as scenario
from hashpivot._core import NetworkParams as NetworkParams
from hashpivot._core import __version__ as __version__
from hashpivot.exceptions import HashpivotError as HashpivotError

__all__ = ["HashpivotError", "NetworkParams", "__version__", "consensus", "exceptions", "scenario"]
