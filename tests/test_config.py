"""Site files: the bundled default, units, and errors that name file, line and key."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import polars as pl
import pytest

from hashpivot import config
from hashpivot.builtin_plugins.ai_colocation import AiColocation
from hashpivot.exceptions import ConfigError
from hashpivot.strategy import Staged, Static, SwitchRule

DEFAULT = config.default_site_path().read_text(encoding="utf-8")


def _line_of(text: str, needle: str) -> int:
    """1-based line of the first line containing ``needle``."""
    for i, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return i
    raise AssertionError(f"{needle!r} not in text")


def _write(tmp_path: Path, text: str, name: str = "site.toml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def _err(tmp_path: Path, text: str) -> str:
    p = _write(tmp_path, text)
    with pytest.raises(ConfigError) as ei:
        config.load_site(p)
    return str(ei.value)


# --------------------------------------------------------------------------- the default


def test_default_site_is_the_issue_site() -> None:
    c = config.load_site()
    assert c.site.capacity_mw == 100.0
    assert c.scenario.power.base_usd_kwh == pytest.approx(0.045)
    assert c.power_contract == "index"
    assert c.scenario.start_price_usd == 66_680.0
    models = set(c.fleet.frame["model"].to_list())
    assert models == {"Antminer S19j Pro", "Antminer S19 XP", "Antminer S21", "Antminer S21 XP"}
    # fleet efficiency = total watts / total TH/s, from the catalog's nameplate figures
    f = c.fleet.frame
    want = float((f["count"] * f["power_w"]).sum() / (f["count"] * f["hashrate_ths"]).sum())
    assert c.site.efficiency_jth == pytest.approx(want)
    assert c.fleet_power_mw * 1.05 <= c.site.capacity_mw  # fits the grid connection
    # latest bundled epoch
    from hashpivot.history import difficulty_epochs

    last = difficulty_epochs().tail(1).row(0, named=True)
    assert c.scenario.start is not None
    assert c.scenario.start.height == last["first_height"] - 1
    assert c.scenario.start.bits == last["bits"]
    names = [s.name for s in c.strategies]
    assert names == ["keep_mining", "host", "partial_ai", "full_ai", "gpu_cloud", "flexible"]
    kinds = {s.name: type(s) for s in c.strategies}
    assert kinds["keep_mining"] is Static
    assert kinds["partial_ai"] is Staged
    assert kinds["flexible"] is SwitchRule
    assert (c.paths, c.years, c.seed) == (10_000, 5.0, 2026)
    # "18 months" → days, rounded
    ai = c.models["ai_colocation"]
    assert isinstance(ai, AiColocation)
    assert ai.lead_time_days == round(18 * 365.25 / 12)
    # site pue flows into the self-mining overhead
    assert c.models["self_mining"].overhead_k == pytest.approx(1.05)  # type: ignore[attr-defined]


def test_with_run_overrides() -> None:
    c = config.load_site().with_run(paths=7, years=0.5, seed=3)
    assert (c.paths, c.years, c.seed) == (7, 0.5, 3)


# --------------------------------------------------------------------------- units


@pytest.mark.parametrize(
    ("key", "value", "want"),
    [
        ("capacity_mw", 100, 100.0),
        ("capacity_mw", "100000 kW", 100.0),
        ("capacity_mw", "0.1 GW", 100.0),
        ("power_price_usd_kwh", "45 USD/MWh", 0.045),
        ("power_price_usd_kwh", "4.5 c/kWh", 0.045),
        ("lead_time_days", "2 weeks", 14.0),
        ("tenor_years", "18 months", 1.5),
        ("discount_rate", "10 %", 0.10),
        ("rent_usd_kw_month", "130000 $/MW-month", 130.0),
        ("conversion_capex_usd_per_mw", "2000 $/kW", 2_000_000.0),
        ("start_btc", "2500000 sat", 0.025),
        ("sigma", "1_000 bp", 0.1),
    ],
)
def test_parse_quantity(key: str, value: object, want: float) -> None:
    assert config.parse_quantity(key, value) == pytest.approx(want)


@pytest.mark.parametrize(
    ("key", "value", "match"),
    [
        ("capacity_mw", "100 TH/s", "is not a power"),
        ("power_price_usd_kwh", "45 USD/MW", "is not an energy price"),
        ("lead_time_days", "3 MW", "is not a duration"),
        ("sigma", "3 MW", "takes a plain number"),
        ("capacity_mw", "a lot", "not a number"),
        ("capacity_mw", True, "boolean"),
    ],
)
def test_parse_quantity_rejects(key: str, value: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        config.parse_quantity(key, value)


# --------------------------------------------------------------------------- errors


def test_missing_key_names_file_line_and_key(tmp_path: Path) -> None:
    text = DEFAULT.replace("capacity_mw = 100 ", "# capacity removed ")
    msg = _err(tmp_path, text)
    assert msg.startswith(f"{tmp_path / 'site.toml'}:{_line_of(text, '[site]')}: site: ")
    assert "missing key 'capacity_mw'" in msg


def test_negative_mw(tmp_path: Path) -> None:
    text = DEFAULT.replace("capacity_mw = 100 ", "capacity_mw = -5 ")
    msg = _err(tmp_path, text)
    assert f"site.toml:{_line_of(text, 'capacity_mw = -5')}: site.capacity_mw: must be > 0" in msg


def test_wrong_unit(tmp_path: Path) -> None:
    text = DEFAULT.replace("capacity_mw = 100 ", 'capacity_mw = "100 MWh" ')
    msg = _err(tmp_path, text)
    line = _line_of(text, 'capacity_mw = "100 MWh"')
    assert f"site.toml:{line}: site.capacity_mw: '100 MWh' is not a power" in msg
    assert "expected the grid connection in MW" in msg


def test_unknown_model_in_strategy(tmp_path: Path) -> None:
    text = DEFAULT.replace(
        "mix = { gpu_cloud = 20, self_mining = 80 }", "mix = { gpu_clod = 20, self_mining = 80 }"
    )
    msg = _err(tmp_path, text)
    line = _line_of(text, "gpu_clod = 20")
    assert f"site.toml:{line}: strategy[4].mix.gpu_clod: unknown revenue model" in msg
    assert "did you mean 'gpu_cloud'" in msg


def test_unknown_hardware_model(tmp_path: Path) -> None:
    text = DEFAULT.replace('model = "Antminer S21 XP"', 'model = "Antminer S21 XPP"')
    msg = _err(tmp_path, text)
    line = _line_of(text, "S21 XPP")
    assert (
        f"site.toml:{line}: site.fleet[3].model: 'Antminer S21 XPP' is not in the hardware" in msg
    )
    assert "did you mean 'Antminer S21 XP'" in msg


def test_unknown_key_did_you_mean(tmp_path: Path) -> None:
    text = DEFAULT.replace("escalator = 0.03", "escalater = 0.03")
    msg = _err(tmp_path, text)
    line = _line_of(text, "escalater")
    assert f"site.toml:{line}: models.ai_colocation.escalater: unknown key" in msg
    assert "did you mean 'escalator'" in msg


def test_unreadable_series(tmp_path: Path) -> None:
    text = DEFAULT.replace(
        '# power_series = "ercot_hourly.csv"', 'power_series = "no_such_file.csv"'
    )
    msg = _err(tmp_path, text)
    line = _line_of(text, "no_such_file.csv")
    assert f"site.toml:{line}: site.power_series: cannot read" in msg
    assert "no_such_file.csv" in msg


def test_series_with_bad_column(tmp_path: Path) -> None:
    (tmp_path / "p.csv").write_text("time,usd\n2025-01-01T00:00:00,0.04\n", encoding="utf-8")
    text = DEFAULT.replace('# power_series = "ercot_hourly.csv"', 'power_series = "p.csv"')
    msg = _err(tmp_path, text)
    assert "has no column 'power_price_usd_kwh' or 'price_usd_kwh' or 'price_usd_mwh'" in msg


def test_toml_syntax_error_has_line(tmp_path: Path) -> None:
    text = DEFAULT.replace("pue = 1.05", "pue = = 1.05")
    msg = _err(tmp_path, text)
    assert f"site.toml:{_line_of(text, 'pue = = 1.05')}: not valid TOML" in msg


def test_wrong_type(tmp_path: Path) -> None:
    text = DEFAULT.replace("paths = 10_000", 'paths = "many"')
    msg = _err(tmp_path, text)
    assert f"site.toml:{_line_of(text, 'paths = ')}: scenario.paths:" in msg


def test_duplicate_strategy(tmp_path: Path) -> None:
    text = DEFAULT.replace('name = "host"', 'name = "keep_mining"')
    msg = _err(tmp_path, text)
    assert "strategy[1].name: strategy name 'keep_mining' is used twice" in msg


def test_over_capacity_mix(tmp_path: Path) -> None:
    text = DEFAULT.replace("mix = { asic_hosting = 100 }", "mix = { asic_hosting = 120 }")
    msg = _err(tmp_path, text)
    assert (
        f"site.toml:{_line_of(text, 'asic_hosting = 120')}: strategy[1].mix: allocates 120" in msg
    )


def test_switch_needs_one_threshold(tmp_path: Path) -> None:
    text = DEFAULT.replace("below = 30,", "")
    msg = _err(tmp_path, text)
    assert "strategy[5].switch: give exactly one of below" in msg


def test_missing_file() -> None:
    with pytest.raises(ConfigError, match=r"nope\.toml: cannot read the site file"):
        config.load_site("nope.toml")


# --------------------------------------------------------------------------- features


def test_percent_mix_and_model_variant(tmp_path: Path) -> None:
    text = DEFAULT + (
        '\n[models.ai_cheap]\nbase = "ai_colocation"\nrent_usd_kw_month = 100\n'
        '\n[[strategy]]\nname = "cheap_ai"\nmix = { ai_cheap = "60 %", self_mining = "40 %" }\n'
    )
    c = config.load_site(_write(tmp_path, text))
    s = next(s for s in c.strategies if s.name == "cheap_ai")
    assert isinstance(s, Static)
    assert s.mix == {"ai_cheap": pytest.approx(60.0), "self_mining": pytest.approx(40.0)}
    m = c.models["ai_cheap"]
    assert isinstance(m, AiColocation)
    assert m.name == "ai_cheap"
    assert m.rent_usd_kw_month == 100.0
    # a variant starts from its base as configured earlier in the file ("18 months")
    assert m.lead_time_days == c.models["ai_colocation"].lead_time_days == 548  # type: ignore[attr-defined]


def _power_series_site(
    tmp_path: Path, frame: pl.DataFrame, name: str
) -> tuple[list[float], dt.date, str]:
    """Load the bundled site with ``frame`` written to ``name`` as its ``power_series``:
    the simulated power series, the run's day 0 (UTC) and the site text."""
    out = tmp_path / name
    frame.write_parquet(out) if name.endswith(".parquet") else frame.write_csv(out)
    text = DEFAULT.replace('# power_series = "ercot_hourly.csv"', f'power_series = "{name}"')
    c = config.load_site(_write(tmp_path, text))
    given = c.scenario.power.given
    assert given is not None
    day0 = dt.datetime.fromtimestamp(c.scenario.start.time, tz=dt.timezone.utc).date()
    return list(given), day0, text


def test_hourly_power_series_daily_means(tmp_path: Path) -> None:
    hours = pl.datetime_range(
        pl.datetime(2025, 1, 1), pl.datetime(2025, 1, 2, 23), "1h", eager=True
    )
    price = [0.02] * 24 + [0.06] * 24
    frame = pl.DataFrame({"time": hours, "price_usd_mwh": [p * 1000 for p in price]})
    given, day0, _ = _power_series_site(tmp_path, frame, "hourly.csv")
    # daily means, repeated with a 2-day period anchored at 2025-01-01 (a 0.02 day)
    odd = (day0 - dt.date(2025, 1, 1)).days % 2
    want = [0.06, 0.02] if odd else [0.02, 0.06]
    assert list(given[:4]) == pytest.approx(want * 2)


def test_a_typical_year_is_applied_by_calendar_date(tmp_path: Path) -> None:
    """A year of daily prices from 1 January, each day's price = its month / 100: the run's
    day 0 gets its own calendar day's price, not 1 January's, and the year repeats by date."""
    days = pl.date_range(dt.date(2025, 1, 1), dt.date(2025, 12, 31), "1d", eager=True)
    frame = pl.DataFrame({"date": days, "power_price_usd_kwh": days.dt.month() / 100})
    given, day0, text = _power_series_site(tmp_path, frame, "year.csv")
    for k in range(0, 5 * 366):  # every day, across leap years: no drift
        d = day0 + dt.timedelta(days=k)
        assert given[k] == pytest.approx(d.month / 100), (k, d)
    # a day-of-month code shows the exact day; 29 February takes 28 February's value
    from hashpivot.config import _periodic_from

    code = [d.month * 100 + d.day for d in days.to_list()]
    got = _periodic_from(code, dt.date(2025, 1, 1), dt.date(2027, 12, 30), 800)
    for k, v in enumerate(got):
        d = dt.date(2027, 12, 30) + dt.timedelta(days=k)
        assert v == (228 if (d.month, d.day) == (2, 29) else d.month * 100 + d.day), d
    # an empty date cell is refused (it used to drop the alignment silently)
    (tmp_path / "year.csv").write_text(
        "date,power_price_usd_kwh\n2025-01-01,0.04\n,0.5\n2025-01-02,0.05\n"
    )
    assert "year.csv:3: date is empty" in _err(tmp_path, text)
    # a gap in the dates would shift every later day: refused, naming the missing days
    pl.DataFrame(
        {"date": [dt.date(2025, 1, 1), dt.date(2025, 1, 4)], "power_price_usd_kwh": [0.04, 0.05]}
    ).write_csv(tmp_path / "year.csv")
    msg = _err(tmp_path, text)
    assert "has no rows from 2025-01-02 to 2025-01-03 (2 day(s))" in msg


def test_fleet_file(tmp_path: Path) -> None:
    pl.DataFrame(
        {
            "model": ["Antminer S21", "Custom"],
            "count": [10, 5],
            "hashrate_ths": [None, 100.0],
            "power_w": [None, 2000.0],
        }
    ).write_csv(tmp_path / "fleet.csv")
    text = re.sub(r"\[\[site\.fleet\]\].*?(?=\n# Revenue models)", "", DEFAULT, flags=re.S)
    text = text.replace("[site]\n", '[site]\nfleet_file = "fleet.csv"\n')
    c = config.load_site(_write(tmp_path, text))
    assert c.fleet.frame["count"].to_list() == [10, 5]
    assert c.site.efficiency_jth == pytest.approx((10 * 3500 + 5 * 2000) / (10 * 200 + 5 * 100))


# --------------------------------------------------------------------------- locator


def test_locator_lines() -> None:
    text = (
        "a = 1\n"  # 1
        "[t]\n"  # 2
        "x = { p = 1, q = { r = 2 } }\n"  # 3
        "y = [ 1,\n"  # 4
        "  [2, 3] ]\n"  # 5
        'm = """\n'  # 6
        "[not a header]\n"  # 7
        '"""\n'  # 8
        "[[arr]]\n"  # 9
        "k = [ {z = 1},\n"  # 10
        "      {z = 2} ]  # [[fake]]\n"  # 11
        "[[arr]]\n"  # 12
        "'quoted.key' = 3\n"  # 13
        "[arr.sub]\n"  # 14
        "deep.er = 4\n"  # 15
    )
    import tomllib

    tomllib.loads(text)  # valid TOML
    loc = config._Locator(text)
    assert loc.find(("a",)) == 1
    assert loc.find(("t", "x", "p")) == 3
    assert loc.find(("t", "x", "q", "r")) == 3
    assert loc.find(("t", "y", 1, 0)) == 5
    assert loc.find(("t", "m")) == 6
    assert loc.find(("arr", 0)) == 9
    assert loc.find(("arr", 0, "k", 1, "z")) == 11
    assert loc.find(("arr", 1, "quoted.key")) == 13
    assert loc.find(("arr", 1, "sub", "deep", "er")) == 15
    assert loc.find(("not a header",)) is None


def test_literal_and_tuple_fields_are_read(tmp_path: Path) -> None:
    text = DEFAULT.replace(
        "[scenario.power]",
        '[scenario.network]\nstart_state = "installed"\nresponse_per_day = 0.2\n'
        "tranche_mult = [0.8, 1.2]\ntranche_weight = [0.5, 0.5]\n\n[scenario.power]",
    )
    c = config.load_site(_write(tmp_path, text))
    fl = c.scenario.fleet
    assert fl.start_state == "installed"
    assert fl.response_per_day == 0.2
    assert fl.tranche_mult == (0.8, 1.2)
    bad = text.replace('start_state = "installed"', 'start_state = "instaled"')
    msg = _err(tmp_path, bad)
    assert "scenario.network.start_state: 'instaled' is not one of" in msg
    assert "did you mean 'installed'" in msg


# ---------------------------------------------------------------- price paths from a file


def _with_price_paths(tmp_path: Path, frame: pl.DataFrame, paths: int, name: str) -> str:
    frame.write_csv(tmp_path / name)
    text = DEFAULT.replace("paths = 10_000", f"paths = {paths}").replace("years = 5", "years = 0.1")
    gbm = re.search(r'model = "gbm".*\nmu = .*\nsigma = .*\n', text)
    assert gbm is not None
    text = text.replace(gbm.group(0), f'model = "paths"\nfile = "{name}"\n')
    assert f"paths = {paths}" in text
    assert "years = 0.1" in text
    return text


def _price_frame(n_paths: int, n_days: int) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "path": [p for p in range(n_paths) for _ in range(n_days)],
            "day": [d for _ in range(n_paths) for d in range(n_days)],
            "price_usd": [60_000.0 + 100 * p + d for p in range(n_paths) for d in range(n_days)],
        }
    )


def test_price_paths_file(tmp_path: Path) -> None:
    from hashpivot import scenario

    text = _with_price_paths(tmp_path, _price_frame(3, 40), 3, "pp.csv")
    c = config.load_site(_write(tmp_path, text))
    assert isinstance(c.scenario.price, scenario.GivenPaths)
    out = scenario.simulate(c.scenario, paths=3, years=0.1, seed=1)
    assert out.filter(pl.col("path") == 2)["price_usd"][5] == 60_205.0


def test_price_paths_file_errors_name_file_and_line(tmp_path: Path) -> None:
    fr = _price_frame(3, 40).with_columns(
        price_usd=pl.when(pl.int_range(pl.len()) == 45).then(-5.0).otherwise(pl.col("price_usd"))
    )
    msg = _err(tmp_path, _with_price_paths(tmp_path, fr, 3, "bad.csv"))
    assert "bad.csv:47" in msg, msg  # row 45, after the header line, 1-based
    assert "positive" in msg, msg
    msg = _err(tmp_path, _with_price_paths(tmp_path, _price_frame(2, 40), 3, "few.csv"))
    assert "has 2 price paths but [scenario] paths = 3" in msg, msg
    msg = _err(tmp_path, _with_price_paths(tmp_path, _price_frame(2, 40).drop("day"), 2, "x.csv"))
    assert "needs path, date (or day) and price_usd" in msg, msg


# ------------------------------------------- checked at load: scenario values and stages

_GBM = 'model = "gbm"'


def _price_csv(tmp_path: Path, days: int, name: str = "short.csv") -> None:
    rows = [f"2024-01-{d + 1:02d},{60_000 + 10 * d}" for d in range(days)]
    (tmp_path / name).write_text("date,price_usd\n" + "\n".join(rows) + "\n", encoding="utf-8")


def _price_model(kind: str, extra: str = "") -> str:
    """The default site with ``[scenario.price]`` replaced by ``kind`` reading short.csv."""
    start = DEFAULT.index(_GBM)
    end = DEFAULT.index("[scenario.fees]")
    return DEFAULT[:start] + f'model = "{kind}"\nfile = "short.csv"\n{extra}\n' + DEFAULT[end:]


@pytest.mark.parametrize(
    ("old", "new", "key", "fragment"),
    [
        ("sigma = 0.55", "sigma = -1", "scenario.price.sigma", "-1 must be a finite number"),
        ("season_amp = 0.15", "season_amp = 15", "scenario.power.season_amp", "[0, 1]"),
        ("mean_btc = 0.03", "mean_btc = 0", "scenario.fees.mean_btc", "mean_btc"),
        (
            "[scenario.power]",
            "[scenario.network]\npool_fee = 1.5\n\n[scenario.power]",
            "scenario.network.pool_fee",
            "pool_fee: 1.5 must lie in [0, 1]",
        ),
    ],
)
def test_scenario_values_checked_at_load(
    tmp_path: Path, old: str, new: str, key: str, fragment: str
) -> None:
    assert old in DEFAULT
    text = DEFAULT.replace(old, new, 1)
    msg = _err(tmp_path, text)
    line = _line_of(text, new.splitlines()[1] if "\n" in new else new)
    assert f"site.toml:{line}: {key}: " in msg, msg
    assert fragment in msg, msg


def test_series_price_file_too_short(tmp_path: Path) -> None:
    _price_csv(tmp_path, 10)
    text = _price_model("series")
    msg = _err(tmp_path, text)
    line = _line_of(text, 'file = "short.csv"')
    assert f"site.toml:{line}: scenario.price.file: price_usd (given): has 10 daily values" in msg
    # the same file covers a short enough horizon
    ok = text.replace("years = 5", "years = 0.02")  # 7 days
    assert config.load_site(_write(tmp_path, ok)).years == 0.02


def test_run_overrides_are_checked_at_load_with_file_and_line(tmp_path: Path) -> None:
    """A longer ``years`` (``--years`` on the command line) than the price file covers fails
    at load, naming the file's line and the override, not later inside the simulator."""
    _price_csv(tmp_path, 10)
    text = _price_model("series").replace("years = 5", "years = 0.02")  # 7 days: covered
    p = _write(tmp_path, text)
    assert config.load_site(p).years == 0.02
    c = config.load_site(p, paths=3, years=0.01, seed=9)
    assert (c.paths, c.years, c.seed) == (3, 0.01, 9)
    with pytest.raises(ConfigError) as ei:
        config.load_site(p, years=1.0)
    msg = str(ei.value)
    line = _line_of(text, 'file = "short.csv"')
    assert f"site.toml:{line}: scenario.price.file: price_usd (given): has 10 daily" in msg
    assert msg.endswith("(checked with years = 1 from the command line)"), msg
    for bad in ({"years": 0}, {"years": 51}, {"paths": 0}, {"paths": 2.5}, {"seed": -1}):
        with pytest.raises(ConfigError, match=f"{next(iter(bad))}="):
            config.load_site(p, **bad)  # type: ignore[arg-type]


def test_bootstrap_price_file_too_short(tmp_path: Path) -> None:
    _price_csv(tmp_path, 10)
    text = _price_model("bootstrap")
    msg = _err(tmp_path, text)
    line = _line_of(text, 'file = "short.csv"')
    assert f"site.toml:{line}: scenario.price.file: " in msg, msg
    assert "9 returns cannot fill blocks of 30 days" in msg, msg
    assert config.load_site(_write(tmp_path, _price_model("bootstrap", "block_days = 5")))


def test_stage_moves_more_than_the_model_holds(tmp_path: Path) -> None:
    text = DEFAULT.replace("mw = 40, from", "mw = 400, from")
    msg = _err(tmp_path, text)
    line = _line_of(text, "mw = 400, from")
    assert (
        f"site.toml:{line}: strategy[2].stages[0].mw: strategy 'partial_ai' "
        "stage 0 moves 400 MW out of " in msg
    )
    assert "'self_mining', which holds 100 MW on day 0" in msg


def test_empty_stages_are_refused_and_an_all_zero_mix_is_an_idle_site(tmp_path: Path) -> None:
    stages = 'stages = [{ at_day = 0, mw = 40, from = "self_mining", to = "ai_colocation" }]'
    assert stages in DEFAULT
    text = DEFAULT.replace(stages, "stages = []")
    msg = _err(tmp_path, text)
    line = _line_of(text, "stages = []")
    assert f"site.toml:{line}: strategy[2].stages: is empty; give at least one stage" in msg
    assert "use mix = {...} for a plan that never changes" in msg
    # an idle site (every MW 0) loads and is worth exactly nothing
    idle = DEFAULT + '\n[[strategy]]\nname = "idle"\nmix = { self_mining = 0 }\n'
    cfg = config.load_site(_write(tmp_path, idle), paths=3, years=0.05, seed=1)
    from hashpivot.compare import compare

    res = compare(cfg)
    row = res.decision.filter(pl.col("strategy") == "idle")
    assert row.height == 1
    assert row["mean_npv_usd"].item() == 0.0
    assert row["p_loss"].item() == 0.0


def test_stages_replayed_in_day_order(tmp_path: Path) -> None:
    stages = 'stages = [{ at_day = 0, mw = 40, from = "self_mining", to = "ai_colocation" }]'
    assert stages in DEFAULT
    two = (
        "stages = [\n"
        '  { at_day = 100, mw = 70, from = "self_mining", to = "gpu_cloud" },\n'
        '  { at_day = 0, mw = 40, from = "self_mining", to = "ai_colocation" },\n'
        "]"
    )
    text = DEFAULT.replace(stages, two)
    msg = _err(tmp_path, text)
    line = _line_of(text, "at_day = 100")
    assert (
        f"site.toml:{line}: strategy[2].stages[0].mw: strategy 'partial_ai' "
        "stage 0 moves 70 MW" in msg
    )
    assert "which holds 60 MW on day 100" in msg
    # in the other order they fit: 40 out on day 0 leaves 60, 60 out on day 100
    assert config.load_site(_write(tmp_path, text.replace("mw = 70", "mw = 60")))


def test_stage_adding_unallocated_mw_beyond_capacity(tmp_path: Path) -> None:
    text = DEFAULT.replace('mw = 40, from = "self_mining", ', "mw = 40, ")
    msg = _err(tmp_path, text)
    line = _line_of(text, 'mw = 40, to = "ai_colocation"')
    assert (
        f"site.toml:{line}: strategy[2].stages[0].mw: strategy 'partial_ai' "
        "stage 0 brings the allocation " in msg
    )
    assert "to 140 MW on day 0 but the site has 100 MW" in msg


def test_scenario_check_does_not_simulate(monkeypatch: pytest.MonkeyPatch) -> None:
    from hashpivot import _core

    calls: list[int] = []
    real = _core.simulate_paths

    def spy(cfg: object, params: object, seed: int, first: int, n: int) -> object:
        calls.append(n)
        return real(cfg, params, seed, first, n)  # type: ignore[arg-type]

    monkeypatch.setattr(_core, "simulate_paths", spy)
    config.load_site()
    assert calls == [0]


@pytest.mark.parametrize(
    ("message", "key"),
    [
        ("price sigma: -1 must be …", ("scenario", "price", "sigma")),
        ("GBM.mu: 50 is outside ±10", ("scenario", "price", "mu")),
        ("price_usd (given) (row 3): 0 is not …", ("scenario", "price", "file")),
        ("price bootstrap returns (row 2): is not finite", ("scenario", "price", "file")),
        ("price start_usd: 0 must …", ("scenario", "start_price_usd")),
        ("start_price_usd: -1 must …", ("scenario", "start_price_usd")),
        ("power_price_usd_kwh (given) (row 9): …", ("site", "power_series")),
        ("power base_usd_kwh: …", ("site", "power_price_usd_kwh")),
        ("power tranche_weight: weights sum to 2", ("scenario", "network", "tranche_weight")),
        (
            "fleet response_per_day: 0 must lie in (0, 1]",
            ("scenario", "network", "response_per_day"),
        ),
        ("Fleet.start_state: 'x' is not …", ("scenario", "network", "start_state")),
        ("Fleet: tranche_mult has 2 values …", ("scenario", "network")),
        (
            "mix efficiency_jth (row 1): 0 must …",
            ("scenario", "network", "mix", 1, "efficiency_jth"),
        ),
        ("mix hashrate_share: sums to 0", ("scenario", "network", "mix", "hashrate_share")),
        ("shock fraction (row 2): 2 must lie in [0, 1]", ("scenario", "shocks", 2, "fraction")),
        ("shocks[1].days: 0 must be ≥ 1", ("scenario", "shocks", 1, "days")),
        ("start height: -1 is negative", ("scenario", "start_epoch")),
        ("gpu vol_per_day: -1 …", ("scenario", "gpu", "vol_per_day")),
        ("correlation: not positive definite", ("scenario", "correlation")),
        ("something else: …", ("scenario",)),
    ],
)
def test_scenario_messages_map_to_keys(message: str, key: tuple[object, ...]) -> None:
    assert config._scenario_key(message) == key


def test_empty_strategy_name(tmp_path: Path) -> None:
    text = DEFAULT.replace('name = "host"', 'name = " "')
    msg = _err(tmp_path, text)
    line = _line_of(text, 'name = " "')
    assert f"site.toml:{line}: strategy[1].name: is empty" in msg


def test_strategy_class_errors_point_at_the_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hashpivot.exceptions import InvalidValueError

    def refuse(*args: object, **kwargs: object) -> None:
        raise InvalidValueError("strategy 'full_ai': a rule only the class knows")

    monkeypatch.setattr(config, "Static", refuse)
    msg = _err(tmp_path, DEFAULT)
    line = _line_of(DEFAULT, "[[strategy]]")
    assert msg.endswith(
        f"site.toml:{line}: strategy[0]: strategy 'full_ai': a rule only the class knows"
    )


def test_duplicate_quantiles_are_refused_at_their_line(tmp_path: Path) -> None:
    text = DEFAULT.replace("cvar_level = 0.05", "cvar_level = 0.05\nquantiles = [0.5, 0.5]")
    assert "quantiles = [0.5, 0.5]" in text
    msg = _err(tmp_path, text)
    line = _line_of(text, "quantiles = [0.5, 0.5]")
    assert f"site.toml:{line}" in msg, msg
    assert "both give the column npv_q50_usd" in msg, msg


def test_mw_values_accept_shares_and_units_everywhere(tmp_path: Path) -> None:
    """A share of capacity ("40 %", "40 percent", "4000 bp") or a power with its unit means
    the same in a mix, a stage and a switch (a stage's "40 %" had become 0.4 MW)."""
    text = DEFAULT.replace("at_day = 0, mw = 40,", 'at_day = 0, mw = "40 %",').replace(
        'ai_colocation", mw = 50,', 'ai_colocation", mw = "5000 bp",'
    )
    c = config.load_site(_write(tmp_path, text))
    by_name = {s.name: s for s in c.strategies}
    staged = next(s for s in by_name.values() if isinstance(s, Staged))
    rule = next(s for s in by_name.values() if isinstance(s, SwitchRule))
    assert staged.stages[0].mw == pytest.approx(40.0)
    assert rule.mw == pytest.approx(50.0)
    assert config.load_site(_write(tmp_path, text.replace('"40 %"', '"40000 kW"'))).strategies
    msg = _err(tmp_path, text.replace('"40 %"', '"40 apples"'))
    line = _line_of(text, '"40 %"')
    assert f"site.toml:{line}:" in msg
    assert "MW (40" in msg


def test_discount_rate_above_one_and_text_correlations_are_refused(tmp_path: Path) -> None:
    msg = _err(tmp_path, DEFAULT.replace("discount_rate = 0.10", "discount_rate = 10"))
    assert f"site.toml:{_line_of(DEFAULT, 'discount_rate = 0.10')}:" in msg
    assert "must be <= 1" in msg
    assert config.load_site(
        _write(tmp_path, DEFAULT.replace("discount_rate = 0.10", 'discount_rate = "10 %"'))
    ).discount_rate == pytest.approx(0.10)
    corr = '[scenario]\ncorrelation = [["a", 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]'
    text = DEFAULT.replace("[scenario]", corr, 1)
    msg = _err(tmp_path, text)
    assert "row 1, column 1: 'a' is not a number" in msg


def test_power_series_in_mwh_under_a_kwh_column_is_refused(tmp_path: Path) -> None:
    (tmp_path / "p.csv").write_text(
        "date,price_usd_kwh\n" + "\n".join(f"2026-01-{d:02d},45" for d in range(1, 11))
    )
    text = DEFAULT.replace("[site]", '[site]\npower_series = "p.csv"', 1)
    msg = _err(tmp_path, text)
    assert "reaches 45 $/kWh" in msg
    assert "price_usd_mwh" in msg


def test_zoned_hourly_power_is_grouped_by_utc_day(tmp_path: Path) -> None:
    """A Parquet file with a time-zoned hourly column: days are UTC days, as the run's (and
    as a CSV with offsets, parsed to UTC), not the zone's local days."""
    hours = pl.datetime_range(
        dt.datetime(2025, 1, 1), dt.datetime(2025, 1, 2, 23), "1h", time_zone="UTC", eager=True
    )
    price = [0.01 if h.day == 1 else 0.03 for h in hours.to_list()]
    local = hours.dt.convert_time_zone("America/Chicago")
    frame = pl.DataFrame({"time": local, "power_price_usd_kwh": price})
    given, _, _ = _power_series_site(tmp_path, frame, "zoned.parquet")
    assert sorted(set(given)) == pytest.approx([0.01, 0.03])  # no mixed local-day means
