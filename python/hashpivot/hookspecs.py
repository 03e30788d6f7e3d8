"""Hook specifications of hashpivot (pluggy project name ``hashpivot``).

Plugins implement these hooks with :data:`hashpivot.hookimpl` and are found through the
entry-point group ``hashpivot.plugins``. Every hook is documented in ``docs/plugin-hooks.md``
(a test checks each name and signature there). Hook implementations may accept a subset of
the arguments (pluggy's opt-in rule), so specs can grow new arguments without breaking plugins.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import polars as pl

    from hashpivot.revenue import RevenueModel

__all__ = ["hookimpl", "hookspec", "register_revenue_models", "resolve_series"]

hookspec = pluggy.HookspecMarker("hashpivot")
hookimpl = pluggy.HookimplMarker("hashpivot")


@hookspec
def register_revenue_models(register: Callable[[RevenueModel], None]) -> None:
    """Register revenue models by calling ``register(model)`` once per model.

    :param register: callback the host builds; it takes one object satisfying
        :class:`hashpivot.revenue.RevenueModel` (a ``name`` and a ``cash_flows`` method).
        The host rejects a second model with a name already registered and reports both
        plugins.
    :returns: nothing; the return value is ignored.

    Called each time the host collects the models (``get_revenue_models()``, and so every
    ``evaluate(models=None)``), plugin by plugin in registration order — builtins, then entry
    points, then plugins registered later — so the first to register a name keeps it. A plugin
    that raises here is reported as a :class:`hashpivot.exceptions.PluginError` naming the
    plugin and its distribution, and the other plugins' models are still registered. Keep the
    hook cheap and free of side effects.

    .. versionadded:: 0.1
    """


@hookspec(firstresult=True)
def resolve_series(name: str, options: dict[str, Any]) -> pl.DataFrame | None:
    """Resolve a named user data series (a price, power price or GPU rent history).

    :param name: the series name a site or scenario asks for, for example
        ``"ercot_hub_north"`` or ``"gpu_rent_h100"``.
    :param options: free-form options from the caller (file paths, date range, ...).
    :returns: a polars frame with a ``date`` column (Date or Datetime UTC) and one value
        column whose name carries its unit (``power_price_usd_kwh``, ``price_usd``, ...), or
        ``None`` when this plugin does not know the name.

    Stops at first non-None result.

    .. versionadded:: 0.1
    """
