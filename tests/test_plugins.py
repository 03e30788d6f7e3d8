"""Plugin host: builtins, discovery (fake distributions), switches, fault isolation, kit."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import polars as pl
import pytest

from hashpivot import hookimpl
from hashpivot import plugins as hp_plugins
from hashpivot.builtin_plugins.self_mining import SelfMining
from hashpivot.exceptions import InvalidValueError, PluginError
from hashpivot.plugins import (
    DEFAULT_PLUGINS,
    get_plugin_manager,
    get_revenue_models,
    list_plugins,
    resolve_series,
)
from hashpivot.revenue import SiteContext
from hashpivot.strategy import Static, evaluate
from hashpivot.testing import (
    check_revenue_model,
    register_plugin,  # noqa: F401  (the fixture)
    registered_plugin,
    synthetic_scenario,
)

BUILTINS = {"self_mining", "asic_hosting", "ai_colocation", "gpu_cloud", "power_sale"}
ENV = (
    "HASHPIVOT_DISABLE_PLUGIN_AUTOLOAD",
    "HASHPIVOT_LOAD_PLUGINS",
    "HASHPIVOT_DISABLED_PLUGINS",
    "HASHPIVOT_TRACE_PLUGINS",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for k in ENV:
        monkeypatch.delenv(k, raising=False)
    hp_plugins.reset_plugin_manager()
    yield
    hp_plugins.reset_plugin_manager()


# ---- fake distributions (pluggy's test_load_setuptools_instantiation pattern) -----------


class FakeEntryPoint:
    def __init__(self, name: str, obj: object, group: str = "hashpivot.plugins") -> None:
        self.name = name
        self.group = group
        self.value = f"fake:{name}"
        self._obj = obj

    def load(self) -> object:
        if isinstance(self._obj, Exception):
            raise self._obj
        return self._obj


class FakeDist:
    def __init__(self, name: str, version: str, eps: list[FakeEntryPoint]) -> None:
        self.metadata = {"name": name}
        self.version = version
        self.entry_points = eps


def fake_distributions(monkeypatch: pytest.MonkeyPatch, *dists: FakeDist) -> None:
    monkeypatch.setattr(importlib.metadata, "distributions", lambda: list(dists))


class Constant:
    """A revenue model with flat flows: revenue $1,000 and opex $400 per MW-day."""

    def __init__(self, name: str) -> None:
        self.name = name

    def cash_flows(self, site: SiteContext, scenario: pl.DataFrame, mw: pl.Series) -> pl.DataFrame:
        return scenario.with_columns(mw.alias("mw")).select(
            "path",
            "date",
            "mw",
            revenue_usd=pl.col("mw") * 1000.0,
            opex_usd=pl.col("mw") * 400.0,
            capex_usd=pl.lit(0.0),
        )


class PluginWith:
    """A plugin object registering the given models."""

    def __init__(self, *models: Any) -> None:
        self.models = models

    @hookimpl
    def register_revenue_models(self, register: Any) -> None:
        for m in self.models:
            register(m)


def plugin_with(*models: Any) -> PluginWith:
    return PluginWith(*models)


class Plugin:
    """A plugin object from loose hook functions."""

    def __init__(self, **hooks: Any) -> None:
        for k, v in hooks.items():
            setattr(self, k, v)


# ---- builtins and discovery ------------------------------------------------------------


def test_builtins_registered_from_default_plugins() -> None:
    assert len(DEFAULT_PLUGINS) == 5
    reg = get_revenue_models(get_plugin_manager(load_entrypoints=False))
    assert set(reg) == BUILTINS
    assert reg.failures == []
    assert reg.distribution_of["gpu_cloud"] == "hashpivot (builtin)"


def test_entry_point_discovery_with_fake_distribution(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_distributions(
        monkeypatch,
        FakeDist("acme-hosting", "1.2.3", [FakeEntryPoint("acme", plugin_with(Constant("acme")))]),
        FakeDist("unrelated", "0.1", [FakeEntryPoint("x", object(), group="other.group")]),
    )
    pm = get_plugin_manager()
    reg = get_revenue_models(pm)
    assert "acme" in reg
    assert reg.plugin_of["acme"] == "acme"
    assert reg.distribution_of["acme"] == "acme-hosting 1.2.3"
    info = {p["name"]: p for p in list_plugins(pm)}
    assert info["acme"]["distribution"] == "acme-hosting"
    assert info["acme"]["version"] == "1.2.3"
    assert info["acme"]["hooks"] == ["register_revenue_models"]
    assert "x" not in info


def test_disable_autoload(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_distributions(
        monkeypatch,
        FakeDist("acme-hosting", "1.0", [FakeEntryPoint("acme", plugin_with(Constant("acme")))]),
    )
    monkeypatch.setenv("HASHPIVOT_DISABLE_PLUGIN_AUTOLOAD", "1")
    assert set(get_revenue_models(get_plugin_manager())) == BUILTINS


def test_load_plugins_allow_list(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_distributions(
        monkeypatch,
        FakeDist("dist-a", "1.0", [FakeEntryPoint("a", plugin_with(Constant("model_a")))]),
        FakeDist("dist-b", "1.0", [FakeEntryPoint("b", plugin_with(Constant("model_b")))]),
    )
    monkeypatch.setenv("HASHPIVOT_LOAD_PLUGINS", "dist-b")  # by distribution name
    assert set(get_revenue_models(get_plugin_manager())) == BUILTINS | {"model_b"}
    monkeypatch.setenv("HASHPIVOT_LOAD_PLUGINS", "a")  # by entry-point name
    assert set(get_revenue_models(get_plugin_manager())) == BUILTINS | {"model_a"}
    monkeypatch.setenv("HASHPIVOT_LOAD_PLUGINS", "")  # set but empty: none
    assert set(get_revenue_models(get_plugin_manager())) == BUILTINS


def test_disabled_plugins_builtin_and_entry_point(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_distributions(
        monkeypatch,
        FakeDist("dist-a", "1.0", [FakeEntryPoint("a", plugin_with(Constant("model_a")))]),
    )
    monkeypatch.setenv("HASHPIVOT_DISABLED_PLUGINS", "gpu_cloud, a")
    pm = get_plugin_manager()
    reg = get_revenue_models(pm)
    assert set(reg) == BUILTINS - {"gpu_cloud"}
    assert pm.is_blocked("gpu_cloud")
    assert pm.is_blocked("a")
    # a strategy needing the disabled model is a user error naming what is registered
    with pytest.raises(InvalidValueError, match="unknown revenue model"):
        evaluate(
            SiteContext(),
            synthetic_scenario(2, 30),
            [Static("gpu", {"gpu_cloud": 10})],
            models=reg,
        )


def test_lazy_cached_manager_no_import_time_loading() -> None:
    code = (
        "import hashpivot, hashpivot.plugins as p, hashpivot.strategy;"
        "assert p._PM is None; m = p.plugin_manager(); assert p.plugin_manager() is m;"
        "print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok"


def test_trace_plugins(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("HASHPIVOT_TRACE_PLUGINS", "1")
    get_revenue_models(get_plugin_manager(load_entrypoints=False))
    assert "register_revenue_models" in capsys.readouterr().err


# ---- faults: reported by plugin and distribution, the others still run ------------------


def test_raising_plugin_is_reported_others_run(monkeypatch: pytest.MonkeyPatch) -> None:
    @hookimpl
    def register_revenue_models(register: Any) -> None:
        raise RuntimeError("boom")

    bad = Plugin(register_revenue_models=register_revenue_models)
    fake_distributions(
        monkeypatch,
        FakeDist("bad-dist", "0.9", [FakeEntryPoint("bad", bad)]),
        FakeDist("good-dist", "1.0", [FakeEntryPoint("good", plugin_with(Constant("good")))]),
    )
    reg = get_revenue_models(get_plugin_manager())
    assert set(reg) == BUILTINS | {"good"}
    [f] = reg.failures
    assert (f.plugin, f.distribution) == ("bad", "bad-dist 0.9")
    err = f.as_error()
    assert isinstance(err, PluginError)
    assert "'bad'" in str(err)
    assert "bad-dist 0.9" in str(err)
    assert "boom" in str(err)


def test_entry_point_that_fails_to_import(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_distributions(
        monkeypatch, FakeDist("broken", "2.0", [FakeEntryPoint("broken", ImportError("no mod"))])
    )
    reg = get_revenue_models(get_plugin_manager())
    assert set(reg) == BUILTINS
    assert [(f.plugin, f.distribution, f.stage) for f in reg.failures] == [
        ("broken", "broken 2.0", "load")
    ]


def test_duplicate_model_name(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_distributions(
        monkeypatch,
        FakeDist(
            "dupe-dist", "3.1", [FakeEntryPoint("dupe", plugin_with(Constant("self_mining")))]
        ),
    )
    reg = get_revenue_models(get_plugin_manager())
    assert set(reg) == BUILTINS
    [f] = reg.failures
    assert f.plugin == "dupe"
    assert f.distribution == "dupe-dist 3.1"
    assert f.model == "self_mining"
    assert "duplicate" in f.message
    assert "'self_mining'" in f.message


def test_not_a_model(register_plugin: Any) -> None:  # noqa: F811
    register_plugin(plugin_with(object()), name="junk")
    reg = get_revenue_models()
    assert set(reg) == BUILTINS
    assert reg.failures[0].plugin == "junk"
    assert "not a RevenueModel" in reg.failures[0].message


class WrongSchema(Constant):
    def cash_flows(self, site: SiteContext, scenario: pl.DataFrame, mw: pl.Series) -> pl.DataFrame:
        return super().cash_flows(site, scenario, mw).drop("capex_usd")


class Raising(Constant):
    def cash_flows(self, site: SiteContext, scenario: pl.DataFrame, mw: pl.Series) -> pl.DataFrame:
        raise ZeroDivisionError("bad day")


def test_wrong_schema_and_raising_model_at_evaluation(register_plugin: Any) -> None:  # noqa: F811
    register_plugin(plugin_with(WrongSchema("wrong"), Raising("raiser")), name="faulty")
    ev = evaluate(
        SiteContext(),
        synthetic_scenario(3, 40),
        [
            Static("ok", {"self_mining": 10}),
            Static("uses_wrong", {"wrong": 5, "self_mining": 5}),
            Static("uses_raiser", {"raiser": 5}),
        ],
    )
    assert ev.summary["strategy"].to_list() == ["ok"]
    rows = {r["strategy"]: r for r in ev.failures.to_dicts()}
    assert set(rows) == {"uses_wrong", "uses_raiser"}
    assert rows["uses_wrong"]["plugin"] == "faulty"
    assert rows["uses_wrong"]["stage"] == "schema"
    assert "capex_usd" in rows["uses_wrong"]["message"]
    assert rows["uses_raiser"]["stage"] == "cash_flows"
    assert "ZeroDivisionError: bad day" in rows["uses_raiser"]["message"]
    assert rows["uses_raiser"]["distribution"] == "(not installed)"
    with pytest.raises(PluginError, match="faulty"):
        evaluate(
            SiteContext(),
            synthetic_scenario(3, 40),
            [Static("uses_raiser", {"raiser": 5})],
            strict=True,
        )


def test_hook_without_spec_is_dropped_and_reported(register_plugin: Any) -> None:  # noqa: F811
    @hookimpl
    def register_revenue_modelz(register: Any) -> None:  # typo: no such hook
        pass

    fake = Plugin(register_revenue_modelz=register_revenue_modelz)
    pm = get_plugin_manager(load_entrypoints=False)
    pm.register(fake, name="typo")
    hp_plugins._check_pending(pm)  # type: ignore[arg-type]
    assert pm.get_plugin("typo") is None
    assert pm.failures[-1].plugin == "typo"  # type: ignore[attr-defined]


# ---- resolver hook ------------------------------------------------------------------------


def test_resolve_series_first_result_wins(register_plugin: Any) -> None:  # noqa: F811
    frame = pl.DataFrame({"date": [1], "price_usd": [1.0]})

    class Knows:
        @hookimpl
        def resolve_series(self, name: str) -> pl.DataFrame | None:
            return frame if name == "mine" else None

    class Never:
        @hookimpl
        def resolve_series(self, name: str, options: dict[str, Any]) -> None:
            return None

    register_plugin(Knows(), name="knows")
    register_plugin(Never(), name="never")
    assert resolve_series("mine") is frame
    with pytest.raises(PluginError, match="no plugin resolves series 'other'"):
        resolve_series("other")


# ---- the author kit -----------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(BUILTINS))
def test_builtins_pass_the_kit(name: str) -> None:
    reg = get_revenue_models(get_plugin_manager(load_entrypoints=False))
    report = check_revenue_model(reg[name])
    assert report["python_calls_small"] == report["python_calls_large"]


class Looping(Constant):
    """A per-path Python loop: what the kit must catch."""

    def cash_flows(self, site: SiteContext, scenario: pl.DataFrame, mw: pl.Series) -> pl.DataFrame:
        frame = scenario.with_columns(mw.alias("mw"))
        parts = [
            g.select("path", "date", "mw", revenue_usd=pl.col("mw") * 1.0)
            for _, g in frame.group_by("path", maintain_order=True)
        ]
        return pl.concat(parts).with_columns(opex_usd=pl.lit(0.0), capex_usd=pl.lit(0.0))


class Random(Constant):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.calls = 0

    def cash_flows(self, site: SiteContext, scenario: pl.DataFrame, mw: pl.Series) -> pl.DataFrame:
        self.calls += 1
        return (
            super().cash_flows(site, scenario, mw).with_columns(pl.col("revenue_usd") + self.calls)
        )


class NoUnit(Constant):
    def cash_flows(self, site: SiteContext, scenario: pl.DataFrame, mw: pl.Series) -> pl.DataFrame:
        return super().cash_flows(site, scenario, mw).with_columns(bonus=pl.lit(1.0))


def test_kit_catches_loop_nondeterminism_units() -> None:
    check_revenue_model(Constant("fine"))
    with pytest.raises(PluginError, match="vectorised"):
        check_revenue_model(Looping("loop"))
    with pytest.raises(PluginError, match="determinism"):
        check_revenue_model(Random("rnd"))
    with pytest.raises(PluginError, match="unit suffix"):
        check_revenue_model(NoUnit("nounit"))
    with pytest.raises(PluginError, match="not a RevenueModel"):
        check_revenue_model(object())


def test_register_plugin_fixture_unregisters(register_plugin: Any) -> None:  # noqa: F811
    name = register_plugin(plugin_with(Constant("temp")), name="temp")
    assert name == "temp"
    assert "temp" in get_revenue_models()


def test_fixture_left_no_trace() -> None:
    assert "temp" not in get_revenue_models()


def test_registered_plugin_context_manager() -> None:
    with registered_plugin(plugin_with(SelfMining(name="sm2")), name="sm2"):
        assert "sm2" in get_revenue_models()
    assert "sm2" not in get_revenue_models()


def test_cli_reports_each_plugin_failure_once_on_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The manager logs load failures; the CLI prints them itself, so each must reach stderr
    once, on one line, even when the message spans lines."""
    import logging

    from hashpivot import cli

    # As in a plain process: no handlers on the root logger (pytest adds its own), so an
    # unhandled warning would go to logging's last resort, stderr.
    monkeypatch.setattr(logging.getLogger(), "handlers", [])
    monkeypatch.setattr(logging.getLogger("hashpivot.plugins"), "handlers", [])
    fake_distributions(
        monkeypatch,
        FakeDist("bad-dist", "0.9", [FakeEntryPoint("bad", ImportError("boom\nsecond line"))]),
    )
    assert cli.main(["plugins", "-q"]) == 3
    err = capsys.readouterr().err
    assert err.count("boom") == 1, err
    [line] = [x for x in err.splitlines() if "boom" in x]
    assert "second line" in line
