"""Docs as tests: every hook and its exact signature is documented (datasette-style)."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from hashpivot import hookspecs

ROOT = Path(__file__).resolve().parents[1]
HOOKS = sorted(
    name for name, fn in vars(hookspecs).items() if callable(fn) and hasattr(fn, "hashpivot_spec")
)


def test_hooks_found() -> None:
    assert HOOKS == ["register_revenue_models", "resolve_series"]


@pytest.mark.parametrize("hook", HOOKS)
def test_plugin_hooks_are_documented(hook: str) -> None:
    doc = (ROOT / "docs" / "plugin-hooks.md").read_text()
    params = ", ".join(inspect.signature(getattr(hookspecs, hook)).parameters)
    headings = re.findall(r"^## (.+)$", doc, flags=re.MULTILINE)
    assert f"{hook}({params})" in headings


def test_writing_plugins_mentions_every_switch_and_the_example() -> None:
    doc = (ROOT / "docs" / "writing-plugins.md").read_text()
    for word in (
        "HASHPIVOT_DISABLE_PLUGIN_AUTOLOAD",
        "HASHPIVOT_LOAD_PLUGINS",
        "HASHPIVOT_DISABLED_PLUGINS",
        "HASHPIVOT_TRACE_PLUGINS",
        'entry-points."hashpivot.plugins"',
        "check_revenue_model",
        "register_plugin",
    ):
        assert word in doc
    example = (ROOT / "examples" / "hashpivot-example-plugin" / "pyproject.toml").read_text()
    assert '[project.entry-points."hashpivot.plugins"]' in example
