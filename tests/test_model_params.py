"""Parameters of the builtin revenue models are range-checked (``__post_init__``), in Python
and in site files (ConfigError at the line of the key)."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

import pytest

from hashpivot import config
from hashpivot.builtin_plugins.ai_colocation import AiColocation
from hashpivot.builtin_plugins.asic_hosting import AsicHosting
from hashpivot.builtin_plugins.gpu_cloud import GpuCloud
from hashpivot.builtin_plugins.power_sale import PowerSale
from hashpivot.builtin_plugins.self_mining import SelfMining
from hashpivot.exceptions import ConfigError, DtypeError, HashpivotError, InvalidValueError

MODELS: list[type[Any]] = [SelfMining, AsicHosting, AiColocation, GpuCloud, PowerSale]

#: One out-of-range value per field of every builtin model (the test below checks that every
#: field is listed, so a new parameter without a check fails here).
BAD: dict[type[Any], dict[str, object]] = {
    SelfMining: {
        "efficiency_jth": 0.0,
        "overhead_k": 0.9,
        "uptime": 1.5,
        "pool_fee": 1.0,
        "opex_usd_mw_month": -1.0,
        "capex_usd_per_mw": -1.0,
        "shutdown_when_unprofitable": 1,
        "hedge_share": -0.1,
        "hedge_strike_usd_ph_day": -5.0,
    },
    AsicHosting: {
        "hosting_rate_usd_kwh": -0.07,
        "overhead_k": 105.0,
        "uptime": -0.1,
        "occupancy": 95,
        "uptime_sla": 2.0,
        "sla_credit_share": 5,
        "curtail_pass_through": "yes",
        "opex_usd_mw_month": -2000.0,
        "capex_usd_per_mw": float("nan"),
    },
    AiColocation: {
        "rent_usd_kw_month": -130.0,
        "pue": 0.5,
        "tenor_years": 0.0,
        "escalator": 3.0,
        "conversion_capex_usd_per_mw": -2_000_000.0,
        "lead_time_days": -500,
        "utilisation": 85,
        "take_or_pay": 9,
        "default_prob_year": 2,
        "power_pass_through": None,
        "opex_usd_mw_month": float("inf"),
    },
    GpuCloud: {
        "kw_per_gpu": 0.0,
        "pue": 4.0,
        "capex_usd_per_gpu": -1.0,
        "conversion_capex_usd_per_mw": -1.0,
        "lead_time_days": 270.5,
        "utilisation": 5,
        "rent_multiplier": -1.0,
        "rent_decay_per_year": 1.5,
        "idle_power_share": 30,
        "depreciation_years": 0.0,
        "opex_usd_mw_month": -8000.0,
    },
    PowerSale: {
        "resale_share": 90,
        "dr_credit_usd_mw_day": -30.0,
        "opex_usd_mw_month": -500.0,
    },
}

CASES = [(cls, field, value) for cls, fields in BAD.items() for field, value in fields.items()]


def _show(v: object) -> str:
    if isinstance(v, float) and math.isfinite(v) and v.is_integer():
        return str(int(v))
    return repr(v) if not isinstance(v, int | float) or isinstance(v, bool) else str(v)


@pytest.mark.parametrize("cls", MODELS)
def test_every_field_is_checked(cls: type[Any]) -> None:
    fields = {f.name for f in dataclasses.fields(cls) if f.name != "name"}
    assert set(BAD[cls]) == fields
    cls()  # the defaults are valid
    for field, value in BAD[cls].items():
        with pytest.raises(HashpivotError):
            cls(**{field: value})


@pytest.mark.parametrize(("cls", "field", "value"), CASES)
def test_out_of_range_field_is_refused(cls: type[Any], field: str, value: object) -> None:
    with pytest.raises((InvalidValueError, DtypeError)) as ei:
        cls(**{field: value})
    msg = str(ei.value)
    assert msg.startswith(f"{cls.__name__}.{field}: "), msg
    assert _show(value) in msg, msg
    # dataclasses.replace goes through the same check
    with pytest.raises(HashpivotError):
        dataclasses.replace(cls(), **{field: value})


@pytest.mark.parametrize(
    ("cls", "field", "value", "fix"),
    [
        (AsicHosting, "occupancy", 95, 'write 0.95 or "95 %"'),
        (AiColocation, "default_prob_year", 2, 'write 0.02 or "2 %"'),
        (AiColocation, "take_or_pay", 9, 'write 0.09 or "9 %"'),
        (GpuCloud, "utilisation", 5, 'write 0.05 or "5 %"'),
        (SelfMining, "pool_fee", 1.5, 'write 0.015 or "1.5 %"'),
        (AiColocation, "escalator", 3, 'write 0.03 or "3 %"'),
        (SelfMining, "pool_fee", 1.0, "below 1"),
        (AsicHosting, "occupancy", -0.5, "between 0 and 1"),
        (AiColocation, "conversion_capex_usd_per_mw", -2e6, "-2000000 is negative"),
        (AiColocation, "lead_time_days", -500, "whole number of days in [0, 36525]"),
        (AiColocation, "lead_time_days", 40_000, "whole number of days in [0, 36525]"),
        (SelfMining, "overhead_k", 0.95, "write 1.05"),
    ],
)
def test_messages_say_what_to_write(cls: type[Any], field: str, value: object, fix: str) -> None:
    with pytest.raises(InvalidValueError) as ei:
        cls(**{field: value})
    assert fix in str(ei.value)


@pytest.mark.parametrize(
    ("cls", "field", "value"),
    [
        (AsicHosting, "occupancy", "95"),
        (AiColocation, "lead_time_days", 540.0),
        (AiColocation, "lead_time_days", True),
        (AiColocation, "power_pass_through", 1),
        (SelfMining, "uptime", None),
        (SelfMining, "name", ""),
    ],
)
def test_wrong_types_are_dtype_errors(cls: type[Any], field: str, value: object) -> None:
    with pytest.raises(DtypeError, match=rf"^{cls.__name__}\.{field}: "):
        cls(**{field: value})


@pytest.mark.parametrize(
    ("cls", "field", "ok", "bad"),
    [
        (SelfMining, "uptime", 0.0, -1e-9),
        (SelfMining, "uptime", 1.0, 1.000001),
        (SelfMining, "pool_fee", 0.999, 1.0),
        (SelfMining, "hedge_share", 1.0, 1.01),
        (SelfMining, "hedge_strike_usd_ph_day", 0.0, -0.01),
        (SelfMining, "efficiency_jth", 12.5, -12.5),
        (SelfMining, "overhead_k", 1.0, 0.999),
        (SelfMining, "overhead_k", 3.0, 3.01),
        (SelfMining, "capex_usd_per_mw", 0, -1),
        (AsicHosting, "occupancy", 1.0, 1.5),
        (AsicHosting, "hosting_rate_usd_kwh", 0.0, -0.01),
        (AiColocation, "escalator", -0.5, -1.0),
        (AiColocation, "escalator", 1.0, 1.5),
        (AiColocation, "lead_time_days", 0, -1),
        (AiColocation, "lead_time_days", 36_525, 36_526),
        (AiColocation, "default_prob_year", 1.0, 1.02),
        (AiColocation, "take_or_pay", 0.0, -0.9),
        (AiColocation, "tenor_years", 0.5, 0.0),
        (GpuCloud, "rent_decay_per_year", 1.0, 1.1),
        (GpuCloud, "idle_power_share", 0.0, -0.3),
        (GpuCloud, "utilisation", 1.0, 70),
        (GpuCloud, "depreciation_years", 0.1, -5.0),
        (PowerSale, "resale_share", 0.0, 1.1),
        (PowerSale, "dr_credit_usd_mw_day", 0.0, -30.0),
    ],
)
def test_bounds(cls: type[Any], field: str, ok: object, bad: object) -> None:
    assert getattr(cls(**{field: ok}), field) == ok
    with pytest.raises(InvalidValueError, match=rf"^{cls.__name__}\.{field}: "):
        cls(**{field: bad})


# --------------------------------------------------------------------------- site files

DEFAULT = config.default_site_path().read_text(encoding="utf-8")


def _line_of(text: str, needle: str) -> int:
    for i, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return i
    raise AssertionError(f"{needle!r} not in text")


def _load_err(tmp_path: Path, text: str) -> str:
    p = tmp_path / "site.toml"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as ei:
        config.load_site(p)
    return str(ei.value)


@pytest.mark.parametrize(
    ("old", "new", "key", "fragment"),
    [
        ("occupancy = 0.95", 'occupancy = "95"', "models.asic_hosting.occupancy", "write 0.95"),
        ("occupancy = 0.95", "occupancy = 95", "models.asic_hosting.occupancy", '"95 %"'),
        (
            "conversion_capex_usd_per_mw = 2_000_000",
            "conversion_capex_usd_per_mw = -2_000_000",
            "models.ai_colocation.conversion_capex_usd_per_mw",
            "-2000000 is negative",
        ),
        (
            'lead_time_days = "18 months"',
            "lead_time_days = -500",
            "models.ai_colocation.lead_time_days",
            "-500 must be a whole number of days",
        ),
        ("utilisation = 0.7", "utilisation = 5", "models.gpu_cloud.utilisation", "write 0.05"),
        ("take_or_pay = 0.9", "take_or_pay = 9", "models.ai_colocation.take_or_pay", "0.09"),
        (
            "default_prob_year = 0.02",
            "default_prob_year = 2",
            "models.ai_colocation.default_prob_year",
            "2 is a probability in [0, 1]",
        ),
        ("pool_fee = 0.02 ", "pool_fee = 1.5 ", "models.self_mining.pool_fee", "[0, 1)"),
        ("escalator = 0.03", 'escalator = "-150 %"', "models.ai_colocation.escalator", "(-1, 1]"),
    ],
)
def test_site_file_model_parameter_at_its_line(
    tmp_path: Path, old: str, new: str, key: str, fragment: str
) -> None:
    assert old in DEFAULT
    text = DEFAULT.replace(old, new, 1)
    msg = _load_err(tmp_path, text)
    line = _line_of(text, new)
    assert msg.startswith(f"{tmp_path / 'site.toml'}:{line}: {key}: "), msg
    assert fragment in msg
    # the key path names the field; the message does not repeat "Class.field:"
    assert not any(f"{cls.__name__}." in msg for cls in MODELS)


def test_site_file_variant_reports_its_own_table(tmp_path: Path) -> None:
    text = DEFAULT + '\n[models.ai_cheap]\nbase = "ai_colocation"\ntake_or_pay = 90\n'
    msg = _load_err(tmp_path, text)
    line = len(text.splitlines())
    assert f"site.toml:{line}: models.ai_cheap.take_or_pay: 90 is a share in [0, 1]" in msg


def test_site_file_first_bad_key_of_a_table_is_reported(tmp_path: Path) -> None:
    text = DEFAULT.replace("occupancy = 0.95", "occupancy = 1.2").replace(
        "sla_credit_share = 0.05", "sla_credit_share = 7"
    )
    msg = _load_err(tmp_path, text)
    # the first bad key in file order, at its own line (not the table header's)
    line = _line_of(text, "occupancy = 1.2")
    assert msg.startswith(f"{tmp_path / 'site.toml'}:{line}: models.asic_hosting.occupancy: ")


def test_site_file_valid_edges_load(tmp_path: Path) -> None:
    text = (
        DEFAULT.replace("occupancy = 0.95", 'occupancy = "100 %"')
        .replace("default_prob_year = 0.02", "default_prob_year = 0")
        .replace('lead_time_days = "18 months"', "lead_time_days = 0")
    )
    p = tmp_path / "site.toml"
    p.write_text(text, encoding="utf-8")
    c = config.load_site(p)
    hosting = c.models["asic_hosting"]
    assert isinstance(hosting, AsicHosting)
    assert hosting.occupancy == 1.0
    msg = _load_err(tmp_path, text.replace('occupancy = "100 %"', 'occupancy = "101 %"'))
    assert "models.asic_hosting.occupancy: 1.01 is a share in [0, 1]" in msg
