"""Shared fixtures. Real-data tests read ``../shared/data`` (or ``$HASHPIVOT_SHARED/data``)
and skip with a reason when it is absent."""

from __future__ import annotations

import os
from pathlib import Path

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
