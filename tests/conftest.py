"""Shared fixtures. Real-data tests read ``../shared/data`` (or ``$HASHPIVOT_SHARED/data``)
and skip with a reason when it is absent."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import HealthCheck, settings

# The machine is shared and noisy: no per-example deadline. In CI, derandomise so a run is
# reproducible (the examples still come from hypothesis' search, seeded by the test name).
settings.register_profile("default", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile(
    "ci", deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("ci" if os.environ.get("CI") else "default")

ROOT = Path(__file__).resolve().parents[1]


def shared_dir() -> Path | None:
    env = os.environ.get("HASHPIVOT_SHARED")
    candidates = [Path(env)] if env else []
    candidates.append(ROOT.parent / "shared")
    for c in candidates:
        if (c / "data").is_dir():
            return c
    return None


@pytest.fixture(scope="session")
def shared() -> Path:
    """The project's shared/ folder (specs and real data)."""
    d = shared_dir()
    if d is None:
        pytest.skip("shared/ data not found beside the checkout (set HASHPIVOT_SHARED)")
    return d


@pytest.fixture(scope="session")
def shared_data(shared: Path) -> Path:
    return shared / "data"


# --- headless browser (tests/browser.py; docs/design.md) -----------------------------


def _load_browser_harness() -> ModuleType:
    """Import tests/browser.py (not on sys.path under --import-mode=importlib)."""
    name = "hashpivot_tests_browser"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("browser.py"))
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def browser() -> ModuleType:
    """The headless-Chromium harness module (``browser.render(html, out_dir)`` etc.).

    Skips when no Chromium is installed, unless ``HASHPIVOT_REQUIRE_BROWSER=1`` (set by
    ``make py-test``), in which case the test fails: CI can never silently skip.
    """
    harness = _load_browser_harness()
    if harness.find_chromium() is None:
        reason = (
            "no headless Chromium (chromium-headless-shell or chromium) found: run "
            "`make test-deps` or set HASHPIVOT_CHROMIUM"
        )
        if os.environ.get("HASHPIVOT_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{reason} (HASHPIVOT_REQUIRE_BROWSER=1 forbids skipping)")
        pytest.skip(reason)
    return harness
