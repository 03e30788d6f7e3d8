"""The CLI through its real entry point, in a subprocess."""

from __future__ import annotations

import subprocess
import sys


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hashpivot", *args], capture_output=True, text=True, check=False
    )


def test_schedule_prints_the_halvings_and_famous_blocks() -> None:
    r = _run("schedule")
    assert r.returncode == 0, r.stderr
    assert "2,099,999,997,690,000 sat" in r.stdout
    assert "3.125" in r.stdout
    assert "0x17034219" in r.stdout  # block 840,000
    assert "-11.16" in r.stdout  # the Feb 2026 retarget


def test_regtest_schedule() -> None:
    r = _run("schedule", "--network", "regtest", "--all", "--no-famous")
    assert r.returncode == 0, r.stderr
    assert "regtest" in r.stdout
    assert "Famous" not in r.stdout


def test_bad_network_is_one_clear_line() -> None:
    r = _run("schedule", "--network", "dogecoin")
    assert r.returncode == 2
    assert "not a known network" in r.stderr
    assert "Traceback" not in r.stderr
    assert r.stdout == ""


def test_help_has_examples() -> None:
    r = _run("--help")
    assert r.returncode == 0
    assert "examples:" in r.stdout
