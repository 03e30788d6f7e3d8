"""The plugin host: pluggy manager, discovery, operator switches, model registry.

* Project name ``hashpivot``; entry-point group ``hashpivot.plugins``.
* Builtins are registered from :data:`DEFAULT_PLUGINS` (module names).
* Environment switches, read when a manager is built:

  - ``HASHPIVOT_DISABLE_PLUGIN_AUTOLOAD`` (non-empty, not ``0``): skip entry points;
  - ``HASHPIVOT_LOAD_PLUGINS=a,b``: load only these entry points (entry-point name or
    distribution name); set but empty loads none;
  - ``HASHPIVOT_DISABLED_PLUGINS=a,b``: block these plugins (entry-point, distribution or
    builtin short name such as ``gpu_cloud``) with ``set_blocked``;
  - ``HASHPIVOT_TRACE_PLUGINS`` (non-empty, not ``0``): print every hook call to stderr.

* :func:`get_plugin_manager` is a factory; :func:`plugin_manager` builds one lazily on first
  use and caches it (nothing is loaded at import time).
* A plugin that fails to load, raises, registers a duplicate name or returns a wrong schema
  is recorded as a :class:`PluginFailure` naming the plugin and its distribution; the other
  plugins keep working.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import logging
import os
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pluggy

from hashpivot import hookspecs
from hashpivot.exceptions import PluginError
from hashpivot.revenue import RevenueModel

__all__ = [
    "DEFAULT_PLUGINS",
    "ENTRY_POINT_GROUP",
    "PluginFailure",
    "RevenueModels",
    "distribution_of",
    "get_plugin_manager",
    "get_revenue_models",
    "list_plugins",
    "plugin_manager",
    "reset_plugin_manager",
    "resolve_series",
]

log = logging.getLogger("hashpivot.plugins")

ENTRY_POINT_GROUP = "hashpivot.plugins"
PROJECT_NAME = "hashpivot"
DEFAULT_PLUGINS: tuple[str, ...] = (
    "hashpivot.builtin_plugins.self_mining",
    "hashpivot.builtin_plugins.asic_hosting",
    "hashpivot.builtin_plugins.ai_colocation",
    "hashpivot.builtin_plugins.gpu_cloud",
    "hashpivot.builtin_plugins.power_sale",
)
BUILTIN_DISTRIBUTION = "hashpivot (builtin)"
NOT_INSTALLED = "(not installed)"


@dataclass(frozen=True)
class PluginFailure:
    """A plugin that failed: which plugin, from which distribution, where, and why."""

    plugin: str
    distribution: str
    stage: str
    message: str
    model: str | None = None

    def as_error(self) -> PluginError:
        """The failure as a :class:`hashpivot.exceptions.PluginError`."""
        what = f" model {self.model!r}" if self.model else ""
        return PluginError(
            f"plugin {self.plugin!r} (distribution {self.distribution}){what} failed at "
            f"{self.stage}: {self.message}"
        )

    def __str__(self) -> str:
        return str(self.as_error())


class _Manager(pluggy.PluginManager):
    """A pluggy manager that remembers each plugin's distribution and load failures."""

    def __init__(self) -> None:
        super().__init__(PROJECT_NAME)
        self.distributions: dict[str, tuple[str, str | None]] = {}
        self.failures: list[PluginFailure] = []


def _env_flag(name: str) -> bool:
    v = os.environ.get(name, "")
    return v not in ("", "0")


def _env_list(name: str) -> list[str] | None:
    v = os.environ.get(name)
    if v is None:
        return None
    return [s.strip() for s in v.split(",") if s.strip()]


def get_plugin_manager(load_entrypoints: bool = True) -> pluggy.PluginManager:
    """Build a new plugin manager: hookspecs, builtins, entry points, switches, check_pending.

    Parameters
    ----------
    load_entrypoints
        Load plugins from the ``hashpivot.plugins`` entry-point group (unless
        ``HASHPIVOT_DISABLE_PLUGIN_AUTOLOAD`` is set).
    """
    pm = _Manager()
    pm.add_hookspecs(hookspecs)
    disabled = _env_list("HASHPIVOT_DISABLED_PLUGINS") or []
    for name in disabled:
        pm.set_blocked(name)
    for modname in DEFAULT_PLUGINS:
        short = modname.rsplit(".", 1)[-1]
        if short in disabled or modname in disabled:
            continue
        module = importlib.import_module(modname)
        _register(pm, module, short, (BUILTIN_DISTRIBUTION, None))
    if load_entrypoints and not _env_flag("HASHPIVOT_DISABLE_PLUGIN_AUTOLOAD"):
        _load_entrypoints(pm, _env_list("HASHPIVOT_LOAD_PLUGINS"), disabled)
    _check_pending(pm)
    if _env_flag("HASHPIVOT_TRACE_PLUGINS"):
        pm.trace.root.setwriter(lambda s: print(s, end="", file=sys.stderr))
        pm.enable_tracing()
    return pm


def _register(pm: _Manager, plugin: object, name: str, dist: tuple[str, str | None]) -> bool:
    try:
        pm.register(plugin, name=name)
    except Exception as exc:  # duplicate plugin name, bad hookimpl signature
        pm.failures.append(PluginFailure(name, _dist_label(dist), "register", str(exc)))
        log.warning("%s", pm.failures[-1])
        return False
    pm.distributions[name] = dist
    return True


def _dist_label(dist: tuple[str, str | None]) -> str:
    return dist[0] if dist[1] is None else f"{dist[0]} {dist[1]}"


def _load_entrypoints(pm: _Manager, allow: list[str] | None, disabled: list[str]) -> None:
    """pluggy's ``load_setuptools_entrypoints`` with allow/deny lists and failure capture."""
    for dist in list(importlib.metadata.distributions()):
        dist_name = dist.metadata["name"] or "?"
        for ep in dist.entry_points:
            if ep.group != ENTRY_POINT_GROUP:
                continue
            if allow is not None and ep.name not in allow and dist_name not in allow:
                continue
            if ep.name in disabled or dist_name in disabled:
                continue
            if pm.get_plugin(ep.name) is not None or pm.is_blocked(ep.name):
                if pm.distributions.get(ep.name, (None,))[0] == dist_name:
                    continue  # the same distribution seen twice on sys.path
                if not pm.is_blocked(ep.name):
                    other = _dist_label(pm.distributions.get(ep.name, (NOT_INSTALLED, None)))
                    pm.failures.append(
                        PluginFailure(
                            ep.name,
                            _dist_label((dist_name, dist.version)),
                            "load",
                            f"a plugin named {ep.name!r} is already registered (from {other}); "
                            "rename the entry point",
                        )
                    )
                continue
            try:
                plugin = ep.load()
            except Exception as exc:
                pm.failures.append(
                    PluginFailure(
                        ep.name,
                        _dist_label((dist_name, dist.version)),
                        "load",
                        f"{type(exc).__name__}: {exc}",
                    )
                )
                log.warning("%s", pm.failures[-1])
                continue
            _register(pm, plugin, ep.name, (dist_name, dist.version))


def _check_pending(pm: _Manager) -> None:
    """``check_pending()``, dropping (and reporting) plugins whose hooks have no spec."""
    for _ in range(len(pm.get_plugins()) + 1):
        try:
            pm.check_pending()
            return
        except pluggy.PluginValidationError as exc:
            name = pm.get_name(exc.plugin) or repr(exc.plugin)
            dist = _dist_label(pm.distributions.get(name, (NOT_INSTALLED, None)))
            pm.failures.append(PluginFailure(name, dist, "check_pending", str(exc)))
            log.warning("%s", pm.failures[-1])
            pm.unregister(exc.plugin)


_PM: pluggy.PluginManager | None = None


def plugin_manager() -> pluggy.PluginManager:
    """The process-wide plugin manager, built on first use and cached."""
    global _PM
    if _PM is None:
        _PM = get_plugin_manager()
    return _PM


def reset_plugin_manager() -> None:
    """Forget the cached manager (the next :func:`plugin_manager` call rebuilds it)."""
    global _PM
    _PM = None


def distribution_of(pm: pluggy.PluginManager, plugin_name: str) -> str:
    """``"name version"`` of the distribution a plugin came from, or a marker."""
    dists = getattr(pm, "distributions", {})
    return _dist_label(dists.get(plugin_name, (NOT_INSTALLED, None)))


@dataclass
class RevenueModels(Mapping[str, RevenueModel]):
    """The registered revenue models by name, which plugin provided each, and failures."""

    models: dict[str, RevenueModel] = field(default_factory=dict)
    plugin_of: dict[str, str] = field(default_factory=dict)
    distribution_of: dict[str, str] = field(default_factory=dict)
    failures: list[PluginFailure] = field(default_factory=list)

    def __getitem__(self, name: str) -> RevenueModel:
        return self.models[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.models)

    def __len__(self) -> int:
        return len(self.models)


def get_revenue_models(pm: pluggy.PluginManager | None = None) -> RevenueModels:
    """Call ``register_revenue_models`` on every plugin, one plugin at a time.

    Plugins are called in registration order (builtins, entry points, then plugins
    registered later); the first to register a name keeps it. Each plugin is called through
    its own hook caller (so tracing still sees it). A plugin that raises, registers an object
    that is not a :class:`RevenueModel`, or a name already
    taken is recorded in ``failures``; the other plugins' models are kept.
    """
    pm = pm if pm is not None else plugin_manager()
    out = RevenueModels(failures=list(getattr(pm, "failures", [])))
    hook = pm.hook.register_revenue_models
    # Registration order: builtins first, then entry points, then plugins registered later;
    # the first plugin to register a name keeps it (a plugin cannot take a builtin's name).
    impls = list(hook.get_hookimpls())
    plugins = [i.plugin for i in impls]
    for impl in impls:
        name = impl.plugin_name
        dist = distribution_of(pm, name)

        def register(model: RevenueModel, *_: Any, _plugin: str = name, _dist: str = dist) -> None:
            mname = getattr(model, "name", None)
            if not isinstance(mname, str) or not callable(getattr(model, "cash_flows", None)):
                out.failures.append(
                    PluginFailure(
                        _plugin,
                        _dist,
                        "register_revenue_models",
                        f"registered {model!r}, which is not a RevenueModel (needs a str "
                        "'name' and a 'cash_flows(site, scenario, mw)' method)",
                    )
                )
                return
            if mname in out.models:
                out.failures.append(
                    PluginFailure(
                        _plugin,
                        _dist,
                        "register_revenue_models",
                        f"duplicate revenue model name {mname!r}, already registered by plugin "
                        f"{out.plugin_of[mname]!r} ({out.distribution_of[mname]}); rename one",
                        model=mname,
                    )
                )
                return
            out.models[mname] = model
            out.plugin_of[mname] = _plugin
            out.distribution_of[mname] = _dist

        caller = pm.subset_hook_caller(
            "register_revenue_models", remove_plugins=[p for p in plugins if p is not impl.plugin]
        )
        try:
            caller(register=register)
        except Exception as exc:
            out.failures.append(
                PluginFailure(name, dist, "register_revenue_models", f"{type(exc).__name__}: {exc}")
            )
            log.warning("%s", out.failures[-1])
    return out


def resolve_series(
    name: str, options: dict[str, Any] | None = None, pm: pluggy.PluginManager | None = None
) -> Any:
    """Ask the plugins for a named data series (``resolve_series`` hook, first result wins).

    Returns the polars frame of the first plugin that knows ``name``.

    Raises
    ------
    PluginError
        No plugin resolves ``name``, or the resolving plugin raised.
    """
    pm = pm if pm is not None else plugin_manager()
    try:
        result = pm.hook.resolve_series(name=name, options=dict(options or {}))
    except Exception as exc:
        raise PluginError(
            f"a plugin raised while resolving series {name!r}: {type(exc).__name__}: {exc}"
        ) from exc
    if result is None:
        raise PluginError(
            f"no plugin resolves series {name!r}; install or register a plugin implementing "
            "the resolve_series hook (docs/plugin-hooks.md)"
        )
    return result


def list_plugins(pm: pluggy.PluginManager | None = None) -> list[dict[str, Any]]:
    """The registered plugins: name, hooks, distribution and version (llm's ``get_plugins``)."""
    pm = pm if pm is not None else plugin_manager()
    dists: dict[str, tuple[str, str | None]] = getattr(pm, "distributions", {})
    out = []
    for plugin in pm.get_plugins():
        name = pm.get_name(plugin) or repr(plugin)
        hooks = sorted(h.name for h in pm.get_hookcallers(plugin) or [])
        dist, version = dists.get(name, (NOT_INSTALLED, None))
        out.append({"name": name, "hooks": hooks, "distribution": dist, "version": version})
    return sorted(out, key=lambda d: d["name"])
