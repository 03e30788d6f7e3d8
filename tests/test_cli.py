"""The CLI through its real entry points, in subprocesses (and main() in-process for the
internal-error and interrupt paths, which a subprocess cannot provoke)."""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from hashpivot import cli, history, scenario
from hashpivot.consensus import network_params
from hashpivot.testing import synthetic_chain

SCRIPT = shutil.which("hashpivot", path=str(Path(sys.executable).parent))


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    env.pop("HASHPIVOT_DEBUG", None)
    return env


def _run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hashpivot", *args],
        capture_output=True,
        text=True,
        check=False,
        env=_env(),
        cwd=cwd,
    )


def _script(*args: str) -> subprocess.CompletedProcess[str]:
    if SCRIPT is None:
        pytest.skip("the hashpivot console script is not installed beside this interpreter")
    return subprocess.run([SCRIPT, *args], capture_output=True, text=True, check=False, env=_env())


def _one_line_error(r: subprocess.CompletedProcess[str], code: int = 2) -> str:
    assert r.returncode == code, (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("hashpivot: error: ")
    assert r.stdout == ""
    return lines[0]


def _no_temp_left(parent: Path) -> None:
    left = [p.name for p in parent.iterdir() if ".tmp-" in p.name or ".old-" in p.name]
    assert left == []


# ----------------------------------------------------------------------------- schedule


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


def test_schedule_json_is_the_eras_alone() -> None:
    r = _run("schedule", "--all", "--json")
    assert r.returncode == 0, r.stderr
    recs = json.loads(r.stdout)
    assert len(recs) == 34  # 33 halvings to 1 sat, then the zero era
    assert recs[4]["start_height"] == 840_000
    assert recs[4]["subsidy_sat"] == 312_500_000
    assert recs[-1]["cumulative_issuance_sat"] == 2_099_999_997_690_000
    assert _run("schedule", "--quiet").stdout == ""
    assert "must be > 0" in _one_line_error(_run("schedule", "--eras", "0"))


def test_bad_network_is_one_clear_line() -> None:
    line = _one_line_error(_run("schedule", "--network", "dogecoin"))
    assert "not a known network" in line


# ----------------------------------------------------------------------------- help


def test_help_has_examples_and_exit_codes() -> None:
    r = _run("--help")
    assert r.returncode == 0
    assert "examples:" in r.stdout
    for code in ("0", "2", "3", "4", "70", "130"):
        assert f"  {code:>3}  " in r.stdout


@pytest.mark.parametrize(
    "cmd",
    [
        ["schedule"],
        ["run"],
        ["simulate"],
        ["fleet"],
        ["retarget"],
        ["history"],
        ["chain"],
        ["chain", "validate"],
        ["catalog"],
        ["plugins"],
    ],
)
def test_every_command_help_has_examples(cmd: list[str]) -> None:
    r = _run(*cmd, "--help")
    assert r.returncode == 0, r.stderr
    assert "example" in r.stdout
    assert r.stdout.startswith("usage: hashpivot " + " ".join(cmd))


def test_usage_errors_are_one_line() -> None:
    line = _one_line_error(_run("simulate", "--paths", "0"))
    assert "--paths" in line
    assert "--help" in line
    _one_line_error(_run("nosuchcommand"))
    _one_line_error(_run())  # no command
    _one_line_error(_run("chain"))  # no chain subcommand
    _one_line_error(_run("fleet", "--pool-fee", "1.5", "--model", "Antminer S21"))


# ----------------------------------------------------------------------------- simulate


def test_simulate_summary_and_json_equal_the_library() -> None:
    r = _run("simulate", "--paths", "20", "--years", "1.2", "--seed", "5", "--json")
    assert r.returncode == 0, r.stderr
    recs = json.loads(r.stdout)
    assert {rec["variable"] for rec in recs} == {"price_usd", "difficulty", "hashprice_usd_ph_day"}
    assert set(recs[0]) == {"variable", "date", "days", "years", "mean", "q05", "q25", "q50",
                            "q75", "q95"}  # fmt: skip
    # Year end (day 365) and the last day (round(1.2·365) = 438).
    assert sorted({rec["days"] for rec in recs}) == [365, 438]
    # The numbers are the library's, for the same seed, from the latest bundled epoch.
    daily = scenario.simulate(
        scenario.Scenario(start=scenario.ChainStart.from_epoch()), paths=20, years=1.2, seed=5
    )
    last = daily.filter(pl.col("date") == pl.col("date").max())
    got = next(rec for rec in recs if rec["variable"] == "price_usd" and rec["days"] == 438)
    assert math.isclose(got["q50"], float(last["price_usd"].median()), rel_tol=1e-12)  # type: ignore[arg-type]
    assert math.isclose(got["mean"], float(last["price_usd"].mean()), rel_tol=1e-12)  # type: ignore[arg-type]


def test_simulate_human_output_and_seed_changes_numbers() -> None:
    a = _run("simulate", "--paths", "20", "--years", "0.3", "--seed", "1")
    b = _run("simulate", "--paths", "20", "--years", "0.3", "--seed", "2")
    assert a.returncode == 0, a.stderr
    assert "price_usd: mean and quantiles" in a.stdout
    assert "Retargets:" in a.stdout
    assert a.stdout != b.stdout
    assert "Traceback" not in a.stderr


def test_simulate_output_files(tmp_path: Path) -> None:
    out = tmp_path / "runs" / "sim"
    r = _run("simulate", "--paths", "20", "--years", "0.3", "--output", str(out), "--quiet")
    assert r.returncode == 0, r.stderr
    assert r.stdout == ""
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(
        f"{n}.{ext}"
        for n in ("daily", "fan", "retargets", "retarget_dates")
        for ext in ("parquet", "csv")
    )
    daily = pl.read_parquet(out / "daily.parquet")
    assert daily.schema == pl.Schema(scenario.DAILY_SCHEMA)
    assert daily.height == 20 * round(0.3 * 365)
    assert pl.read_csv(out / "daily.csv").height == daily.height
    _no_temp_left(out.parent)


def test_simulate_large_run_streams_partitions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # In-process with a tiny threshold, so the streamed layout is exercised quickly.
    monkeypatch.setattr(cli, "DAILY_INLINE_ROWS", 100)
    monkeypatch.setattr(cli, "CHUNK_ROWS", 300)
    out = tmp_path / "big"
    assert cli.main(["simulate", "--paths", "7", "--years", "0.3", "-q", "--output", str(out)]) == 0
    parts = sorted((out / "daily").glob("chunk=*/part.parquet"))
    assert len(parts) == 4  # 300 rows // 110 days = 2 paths a chunk: 2 + 2 + 2 + 1
    got = pl.scan_parquet(out / "daily").collect().sort("path", "date")
    want = scenario.simulate(
        scenario.Scenario(start=scenario.ChainStart.from_epoch()), paths=7, years=0.3, seed=0
    )
    assert got.drop("chunk", strict=False).equals(want.sort("path", "date"))
    assert not (out / "daily.csv").exists()


# ----------------------------------------------------------------------------- fleet


def test_fleet_via_console_script_json() -> None:
    r = _script(
        "fleet", "--model", "Antminer S21", "--count", "100",
        "--model", "Antminer S19j Pro", "--count", "50",
        "--btc-price", "90000", "--power-price", "0.06", "--json",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    recs = json.loads(r.stdout)
    assert [x["model"] for x in recs] == ["Antminer S21", "Antminer S19j Pro"]
    assert [x["count"] for x in recs] == [100, 50]
    for key in ("breakeven_power_price_usd_kwh", "shutdown_price_usd", "margin_usd_day"):
        assert key in recs[0]
    # Breakeven power price: revenue / energy; hashprice from the latest bundled difficulty.
    d = float(history.difficulty_epochs()["difficulty"][-1])
    b = 1e12 * 86400 * 3.125 / (d * 2**32)  # BTC per TH/s per day
    s21 = recs[0]
    assert math.isclose(s21["btc_day"], b * 200 * 100, rel_tol=1e-9)
    assert math.isclose(
        s21["breakeven_power_price_usd_kwh"], b * 200 * 90000 / (3.5 * 24), rel_tol=1e-9
    )
    assert math.isclose(s21["shutdown_price_usd"], 3.5 * 24 * 0.06 / (b * 200), rel_tol=1e-9)


def test_fleet_takes_a_negative_power_price() -> None:
    # negative wholesale prices (paid to consume) are real; the API takes them, so does the CLI
    r = _run("fleet", "--model", "Antminer S21", "--count", "10", "--power-price", "-0.01",
             "--json")  # fmt: skip
    assert r.returncode == 0, r.stderr
    rec = json.loads(r.stdout)[0]
    assert math.isclose(rec["power_cost_usd_day"], 10 * 3.5 * 24 * -0.01, rel_tol=1e-9)
    assert rec["margin_usd_day"] > rec["revenue_usd_day"]
    assert "finite" in _one_line_error(
        _run("fleet", "--model", "Antminer S21", "--power-price", "nan")
    )
    assert "beyond ±10 USD/kWh" in _one_line_error(
        _run("fleet", "--model", "Antminer S21", "--power-price=-1e308")
    )


def test_fleet_file_and_output(tmp_path: Path) -> None:
    f = tmp_path / "fleet.csv"
    f.write_text("model,count,price_usd\nAntminer S21 XP,10,5000\nCustom rig,2,0\n")
    bad = _run("fleet", "--fleet", str(f))
    assert "Custom rig" in _one_line_error(bad)
    f.write_text("model,count,hashrate_ths,power_w\nAntminer S21 XP,10,,\nCustom rig,2,100,3000\n")
    out = tmp_path / "o"
    r = _run("fleet", "--fleet", str(f), "--output", str(out), "--pue", "1.1")
    assert r.returncode == 0, r.stderr
    assert "Custom rig" in r.stdout
    assert {p.name for p in out.iterdir()} == {
        "economics.parquet", "economics.csv", "totals.parquet", "totals.csv",
    }  # fmt: skip
    totals = pl.read_parquet(out / "totals.parquet")
    econ = pl.read_parquet(out / "economics.parquet")
    assert totals["units"].to_list() == [12]
    # economics' hashrate_ths is already the class total (count × unit): summed, not × count
    assert totals["hashrate_ths"][0] == pytest.approx(float(econ["hashrate_ths"].sum()))
    assert totals["hashrate_ths"][0] == pytest.approx(10 * 270.0 + 2 * 100.0)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--model", "Antminer S99", "--count", "1"], "not in the ASIC catalog"),
        (["--model", "Antminer S21", "--model", "Antminer S19", "--count", "3"], "2 models"),
        ([], "no machines"),
        (["--fleet", "does/not/exist.csv"], "no such file"),
        (["--model", "Antminer S21", "--btc-price", "-5"], "--btc-price"),
    ],
)
def test_fleet_bad_input(args: list[str], needle: str) -> None:
    assert needle in _one_line_error(_run("fleet", *args))


# ----------------------------------------------------------------------------- retarget


def test_retarget_from_bundled_history() -> None:
    r = _run("retarget", "--json")
    assert r.returncode == 0, r.stderr
    (rec,) = json.loads(r.stdout)
    ep = history.difficulty_epochs()
    assert rec["next_retarget_height"] == int(ep["last_height"][-1]) + 1
    changes = ep["difficulty_change"].tail(6).to_list()
    want = math.prod(1 + c for c in changes) ** (1 / 6) - 1
    assert math.isclose(rec["expected_change_pct"], want * 100, rel_tol=1e-9)
    assert rec["method"].startswith("trend")
    human = _run("retarget", "--trend-epochs", "3")
    assert "next retarget at height" in human.stdout


def test_retarget_from_headers_matches_network_module(shared_data: Path) -> None:
    from hashpivot import chain, network

    f = shared_data / "headers" / "mainnet_headers_822528_830592.bin"
    r = _script("retarget", "--headers", str(f), "--start-height", "822528", "--json")
    assert r.returncode == 0, r.stderr
    (rec,) = json.loads(r.stdout)
    want = network.next_retarget_estimate(chain.read_headers(f, start_height=822528)).row(
        0, named=True
    )
    assert rec["next_retarget_height"] == want["next_retarget_height"] == 832_608
    assert math.isclose(rec["expected_change_pct"], want["expected_change_pct"], rel_tol=1e-12)


def test_retarget_bad_now() -> None:
    _one_line_error(_run("retarget", "--now", "2026-01-01"))  # only with --headers


# ----------------------------------------------------------------------------- history


def test_history_tables_and_json() -> None:
    r = _run("history", "--last", "3", "--top", "2")
    assert r.returncode == 0, r.stderr
    assert "Biggest drops" in r.stdout
    assert "-27.94" in r.stdout  # July 2021, the China mining ban
    assert "Per year" in r.stdout
    j = json.loads(_run("history", "--last", "3", "--json").stdout)
    assert [x["epoch"] for x in j] == [471, 472, 473]
    assert set(j[0]) == {"epoch", "first_height", "date", "date_estimated", "difficulty",
                         "change_pct"}  # fmt: skip


def test_history_from_file_and_output(tmp_path: Path) -> None:
    src = tmp_path / "epochs.csv"
    history.difficulty_epochs().head(60).select(
        "epoch", "first_height", "first_time_unix", "difficulty"
    ).rename({"first_time_unix": "first_time"}).write_csv(src)
    out = tmp_path / "h"
    r = _run("history", "--file", str(src), "--json", "--output", str(out))
    assert r.returncode == 0, r.stderr
    assert [x["epoch"] for x in json.loads(r.stdout)] == list(range(50, 60))
    per_year = pl.read_parquet(out / "per_year.parquet")
    import collections
    import datetime as dt

    times = history.difficulty_epochs().head(60)["first_time_unix"].to_list()
    counts = collections.Counter(dt.datetime.fromtimestamp(t, dt.timezone.utc).year for t in times)
    assert dict(zip(per_year["year"], per_year["epochs"], strict=True)) == counts
    assert {p.suffix for p in out.iterdir()} == {".parquet", ".csv"}
    src.write_text("epoch,difficulty\n0,1\n")
    assert "first_height" in _one_line_error(_run("history", "--file", str(src)))


# ----------------------------------------------------------------------------- chain validate


@pytest.fixture(scope="module")
def headers(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A valid regtest run (heights 1–599, the synthetic genesis dropped since regtest's real
    genesis differs) and the same with one header's merkle root flipped."""
    d = tmp_path_factory.mktemp("headers")
    data = synthetic_chain(600, network_params("regtest"), 1).to_bytes()[80:]
    ok, bad = d / "ok.bin", d / "bad.bin"
    ok.write_bytes(data)
    b = bytearray(data)
    b[150 * 80 + 40] ^= 0x01  # height 151's merkle root: its hash changes, 152's link breaks
    bad.write_bytes(bytes(b))
    return ok, bad


def test_chain_validate_ok(headers: tuple[Path, Path]) -> None:
    ok, _ = headers
    r = _script("chain", "validate", str(ok), "--network", "regtest", "--start-height", "1")
    assert r.returncode == 0, r.stderr
    assert "VALID" in r.stdout


def test_chain_validate_tampered_exits_3(headers: tuple[Path, Path], tmp_path: Path) -> None:
    _, bad = headers
    args = ["chain", "validate", str(bad), "--network", "regtest", "--start-height", "1"]
    r = _run(*args)
    assert r.returncode == 3, r.stderr
    assert "INVALID" in r.stdout
    assert "bad-prevblk" in r.stdout
    j = _run(*args, "--json", "--output", str(tmp_path / "rep"))
    assert j.returncode == 3
    (rec,) = json.loads(j.stdout)
    assert rec["valid"] is False
    assert rec["headers"] == 599
    assert rec["failures"][0]["height"] == 152
    assert rec["failures"][0]["status"] == "bad-prevblk"
    rep = pl.read_parquet(tmp_path / "rep" / "report.parquet")
    assert rep.filter(pl.col("status") != "ok")["height"].to_list() == [152]


def test_chain_validate_bad_input(tmp_path: Path) -> None:
    _one_line_error(_run("chain", "validate", str(tmp_path / "missing.bin")))
    cut = tmp_path / "cut.bin"
    cut.write_bytes(b"\x00" * 100)
    assert "truncated" in _one_line_error(_run("chain", "validate", str(cut), "--format", "raw"))


def test_retarget_from_regtest_headers(headers: tuple[Path, Path]) -> None:
    ok, _ = headers
    r = _run("retarget", "--headers", str(ok), "--network", "regtest", "--start-height", "1",
             "--json")  # fmt: skip
    assert r.returncode == 0, r.stderr
    (rec,) = json.loads(r.stdout)
    assert rec["height"] == 599
    interval = network_params("regtest").interval  # 144: regtest's one-day timespan
    assert rec["next_retarget_height"] == (599 // interval + 1) * interval
    assert rec["blocks_in_epoch"] == 599 % interval
    assert rec["remaining_blocks"] == interval - 599 % interval


# ----------------------------------------------------------------------------- catalog, plugins


def test_catalog_filters_and_sort() -> None:
    r = _run("catalog", "--maker", "bitmain", "--since", "2024", "--sort", "hashrate_ths",
             "--desc", "--json")  # fmt: skip
    assert r.returncode == 0, r.stderr
    recs = json.loads(r.stdout)
    assert recs
    assert {x["maker"] for x in recs} == {"Bitmain"}
    assert all(x["release_year"] >= 2024 for x in recs)
    ths = [x["hashrate_ths"] for x in recs]
    assert ths == sorted(ths, reverse=True)
    gpu = json.loads(_run("catalog", "--gpu", "--json").stdout)
    assert "board_power_w" in gpu[0]
    assert "efficiency_jth" in _one_line_error(_run("catalog", "--sort", "nope"))
    human = _run("catalog", "--cooling", "hydro")
    assert "Hyd" in human.stdout
    assert "2,024" not in human.stdout  # years print without a thousands separator


def test_plugins_lists_builtins() -> None:
    r = _run("plugins", "--json")
    assert r.returncode == 0, r.stderr
    recs = json.loads(r.stdout)
    by_name = {x["name"]: x for x in recs}
    assert by_name["self_mining"]["revenue_models"] == ["self_mining"]
    assert by_name["gpu_cloud"]["distribution"] == "hashpivot (builtin)"
    assert set(recs[0]) == {"name", "distribution", "version", "hooks", "revenue_models"}


def test_plugins_failure_exits_3(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from hashpivot import plugins
    from hashpivot.plugins import PluginFailure

    real = plugins.get_revenue_models

    def broken(pm: object = None) -> plugins.RevenueModels:
        out = real(pm)  # type: ignore[arg-type]
        out.failures.append(PluginFailure("evil", "evil-dist 1.0", "load", "ImportError: boom"))
        return out

    monkeypatch.setattr(plugins, "get_revenue_models", broken)
    assert cli.main(["plugins", "-q"]) == 3
    err = capsys.readouterr().err
    assert "evil" in err
    assert "boom" in err


# ----------------------------------------------------------------------------- outputs, exits


def test_output_under_a_file_is_exit_4_and_leaves_nothing(tmp_path: Path) -> None:
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    r = _run("catalog", "--output", str(blocker / "out"))
    line = _one_line_error(r, 4)
    assert "is not a directory" in line
    r = _run("simulate", "--paths", "5", "--years", "0.1", "--output", str(blocker))
    _one_line_error(r, 4)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


def test_failure_mid_run_leaves_no_partial_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*a: object, **k: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pl.DataFrame, "write_csv", boom)
    out = tmp_path / "o"
    assert cli.main(["simulate", "--paths", "5", "--years", "0.1", "-q", "--output", str(out)]) == 4
    assert list(tmp_path.iterdir()) == []


def test_existing_output_dir_is_updated_in_place(tmp_path: Path) -> None:
    out = tmp_path / "o"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    (out / "asic_catalog.csv").write_text("stale")
    assert _run("catalog", "--output", str(out), "-q").returncode == 0
    assert (out / "keep.txt").read_text() == "mine"
    assert pl.read_csv(out / "asic_catalog.csv").height > 10
    _no_temp_left(tmp_path)
    _no_temp_left(out)


def test_internal_error_is_exit_70(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def bug(args: object) -> int:
        raise ZeroDivisionError("oops")

    monkeypatch.setattr(cli, "_cmd_catalog", bug)
    monkeypatch.delenv("HASHPIVOT_DEBUG", raising=False)
    assert cli.main(["catalog"]) == 70
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert "bug" in err
    assert "HASHPIVOT_DEBUG=1" in err
    assert "Traceback" not in err
    monkeypatch.setenv("HASHPIVOT_DEBUG", "1")
    assert cli.main(["catalog"]) == 70
    assert "Traceback" in capsys.readouterr().err


def test_interrupt_is_exit_130(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    def stop(*a: object, **k: object) -> None:
        raise KeyboardInterrupt

    from hashpivot import scenario as sc

    monkeypatch.setattr(sc, "_run", stop)
    out = tmp_path / "o"
    assert cli.main(["simulate", "--paths", "5", "--output", str(out)]) == 130
    assert "interrupted" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_quiet_and_json_keep_stdout_clean(tmp_path: Path) -> None:
    r = _run("catalog", "--quiet")
    assert r.returncode == 0
    assert r.stdout == ""
    r = _run(
        "simulate", "--paths", "3", "--years", "0.1", "--json", "--output", str(tmp_path / "o")
    )
    assert r.returncode == 0, r.stderr
    json.loads(r.stdout)  # nothing but the JSON
    assert "wrote" in r.stderr
    assert "\r" not in r.stderr  # no progress bar when stderr is not a terminal


def test_chain_validate_refuses_an_empty_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.bin"
    empty.write_bytes(b"")
    msg = _one_line_error(_run("chain", "validate", str(empty)), code=2)
    assert "no headers to validate" in msg


def test_chain_validate_reads_a_csv_of_header_fields(shared_data: Path, tmp_path: Path) -> None:
    src = shared_data / "headers" / "mainnet_headers_822528_830592.csv"
    r = _run("chain", "validate", str(src), "--json")
    assert r.returncode == 0, r.stderr
    (rec,) = json.loads(r.stdout)
    assert rec["valid"] is True
    assert rec["first_height"] == 822_528
    assert rec["headers"] == 830_592 - 822_528 + 1
    # the same text under another name is named as CSV, not as a truncated binary file
    txt = tmp_path / "headers.dat"
    txt.write_bytes(src.read_bytes()[:5000])
    msg = _one_line_error(_run("chain", "validate", str(txt), "--start-height", "822528"), code=2)
    assert "looks like CSV text" in msg


@pytest.mark.parametrize(
    ("rows", "match"),
    [
        ("0,0,1.0\n1,2016,\n", r"e\.csv:3: difficulty is empty"),
        ("0,0,1.0\n1,2016,abc\n", r"e\.csv:3: difficulty 'abc' is not a valid number"),
        ("0,0,1.0\n0,2016,2.0\n", r"e\.csv:3: epoch 0 appears twice"),
        ("0,0,1.0\n1,2016,-2.0\n", r"e\.csv:3: difficulty -2\.0 must be a finite number > 0"),
        ("0,0,1.0\n1,2016,inf\n", r"e\.csv:3: difficulty inf must be a finite number > 0"),
    ],
)
def test_history_file_errors_name_the_line(tmp_path: Path, rows: str, match: str) -> None:
    f = tmp_path / "e.csv"
    f.write_text("epoch,first_height,difficulty\n" + rows)
    msg = _one_line_error(_run("history", "--file", str(f)), code=2)
    assert re.search(match, msg), msg


def test_compare_years_override_too_long_for_the_price_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``compare --years`` longer than a site's price file covers: a config error naming the
    file's line and the override, before anything is simulated."""
    from hashpivot.config import default_site_path

    text = default_site_path().read_text(encoding="utf-8")
    start, end = text.index('model = "gbm"'), text.index("[scenario.fees]")
    site = tmp_path / "site.toml"
    text = text[:start] + 'model = "series"\nfile = "p.csv"\n\n' + text[end:]
    assert "\nyears = 5\n" in text
    site.write_text(text.replace("\nyears = 5\n", "\nyears = 0.02\n"), encoding="utf-8")
    rows = [f"2024-01-{d + 1:02d},{60_000 + d}" for d in range(10)]
    (tmp_path / "p.csv").write_text("date,price_usd\n" + "\n".join(rows) + "\n", encoding="utf-8")
    assert cli.main(["compare", str(site), "--paths", "5", "--no-report", "-q"]) == 0  # 7 days
    capsys.readouterr()
    code = cli.main(["compare", str(site), "--years", "2", "--paths", "5", "--no-report", "-q"])
    err = capsys.readouterr().err
    assert code != 0
    line = next(i for i, t in enumerate(site.read_text().splitlines(), 1) if "p.csv" in t)
    assert f"site.toml:{line}: scenario.price.file:" in err, err
    assert "(checked with paths = 5, years = 2 from the command line)" in err, err


def test_simulate_output_never_mixes_runs_or_deletes_user_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A partitioned run after an inline one removes the inline ``daily.*`` (and retarget
    dates a later run did not produce); a ``daily/`` folder holding a file of the user's is
    refused (exit 4) and left as it is; the user's other files are kept."""
    out = tmp_path / "o"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    args = ["simulate", "--paths", "4", "-q", "--output", str(out)]
    assert cli.main([*args, "--years", "0.3", "--seed", "1"]) == 0
    assert (out / "daily.parquet").is_file()
    assert (out / "retarget_dates.parquet").is_file()
    monkeypatch.setattr(cli, "DAILY_INLINE_ROWS", 10)  # the next run is partitioned
    assert cli.main([*args, "--years", "0.01", "--seed", "2"]) == 0
    assert not (out / "daily.parquet").exists()
    assert not (out / "daily.csv").exists()
    assert not (out / "retarget_dates.parquet").exists()  # 4 days: no retarget this time
    daily = pl.read_parquet(out / "daily", hive_partitioning=True).drop("chunk")
    n_days = scenario._n_days(0.01)
    assert daily.height == 4 * n_days
    assert daily["path"].n_unique() == 4
    assert (out / "keep.txt").read_text() == "mine"
    notes = out / "daily" / "notes.txt"
    notes.write_text("mine too")
    before = sorted(p.as_posix() for p in out.rglob("*"))
    assert cli.main([*args, "--years", "0.01", "--seed", "3"]) == 4
    assert notes.read_text() == "mine too"
    assert sorted(p.as_posix() for p in out.rglob("*")) == before
    _no_temp_left(tmp_path)
