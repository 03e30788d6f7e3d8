"""The example plugin, installed into a fresh virtual environment and found by its entry point.

How: ``python -m venv --without-pip`` creates the environment; a ``.pth`` file in it adds
this project's environment's site-packages with ``site.addsitedir`` (so ``hashpivot``,
polars, pluggy and
setuptools are importable without downloads or a wheel build of the Rust extension); the
project .venv's pip installs the example with ``--python <fresh venv> --no-deps
--no-build-isolation``. A subprocess in the fresh environment then lists the plugins,
evaluates a strategy that uses the plugin's model, and resolves its data series.
"""

from __future__ import annotations

import json
import shutil
import site
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "hashpivot-example-plugin"

SCRIPT = r"""
import json
from hashpivot.plugins import get_revenue_models, list_plugins, resolve_series
from hashpivot.revenue import SiteContext
from hashpivot.strategy import Static, evaluate
from hashpivot.testing import check_revenue_model, synthetic_scenario

models = get_revenue_models()
check_revenue_model(models["curtailment_credit"])
ev = evaluate(
    SiteContext(),
    synthetic_scenario(4, 60),
    [Static("curtail", {"curtailment_credit": 20}), Static("mine", {"self_mining": 20})],
)
info = {p["name"]: p for p in list_plugins()}
print(json.dumps({
    "models": sorted(models),
    "plugin": models.plugin_of["curtailment_credit"],
    "distribution": models.distribution_of["curtailment_credit"],
    "listed": info["curtailment_credit"],
    "strategies": ev.summary["strategy"].to_list(),
    "failures": ev.failures.height,
    "series_rows": resolve_series("flat_power_0045").height,
}))
"""


@pytest.mark.slow
def test_example_plugin_in_fresh_venv(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    py = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    ours = {sysconfig.get_paths()["purelib"], *site.getsitepackages()}
    # "import" lines in a .pth run at startup; addsitedir also processes the .pth files there
    # (maturin's editable install of hashpivot is one)
    lines = [f"import site; site.addsitedir({d!r})" for d in sorted(ours)]
    (Path(purelib) / "_hashpivot_project.pth").write_text("\n".join(lines) + "\n")
    # build from a copy, so the install leaves no build/ or egg-info in the checkout
    source = tmp_path / "example"
    shutil.copytree(EXAMPLE, source, ignore=shutil.ignore_patterns("build", "*.egg-info"))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(py),
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            str(source),
        ],
        check=True,
        cwd=tmp_path,
    )
    out = subprocess.run(
        [str(py), "-c", SCRIPT], capture_output=True, text=True, cwd=tmp_path, check=False
    )
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert "curtailment_credit" in got["models"]
    assert got["plugin"] == "curtailment_credit"
    assert got["distribution"] == "hashpivot-example-plugin 0.1.0"
    assert got["listed"]["version"] == "0.1.0"
    assert got["strategies"] == ["curtail", "mine"]
    assert got["failures"] == 0
    assert got["series_rows"] == 365
    # and the project environment itself does not have it installed
    assert "hashpivot_curtailment" not in sys.modules
