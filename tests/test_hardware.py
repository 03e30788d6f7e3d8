"""Hardware catalogs and Fleet validation."""

from __future__ import annotations

import csv
import datetime as dt
import re
from pathlib import Path

import polars as pl
import pytest

from hashpivot import hardware
from hashpivot.exceptions import DtypeError, InvalidValueError, SchemaError
from hashpivot.hardware import Fleet

# ECONOMICS.md §5, typed in by hand: model → (year, TH/s, W, J/TH).
SPEC_TABLE = {
    "Antminer S9": (2016, 13.5, 1323, 98),
    "Antminer S17 Pro": (2019, 53, 2094, 39.5),
    "Antminer S19": (2020, 95, 3250, 34.2),
    "Antminer S19 Pro": (2020, 110, 3250, 29.5),
    "Antminer S19j Pro": (2021, 100, 3050, 30.5),
    "Antminer S19 XP": (2022, 140, 3010, 21.5),
    "Antminer S19k Pro": (2023, 120, 2760, 23),
    "Antminer S21": (2024, 200, 3500, 17.5),
    "Antminer S21 Pro": (2024, 234, 3510, 15),
    "Antminer S21 XP": (2024, 270, 3645, 13.5),
    "Whatsminer M30S++": (2020, 112, 3472, 31),
    "Whatsminer M50S": (2022, 126, 3276, 26),
    "Whatsminer M60S": (2023, 186, 3441, 18.5),
    "Avalon A1466": (2023, 150, 3230, 21.5),
}


def test_asic_catalog_schema_and_sources() -> None:
    cat = hardware.asic_catalog()
    assert cat.schema == pl.Schema(
        {
            "model": pl.String,
            "maker": pl.String,
            "release_year": pl.Int64,
            "hashrate_ths": pl.Float64,
            "power_w": pl.Float64,
            "efficiency_jth": pl.Float64,
            "cooling": pl.String,
            "source": pl.String,
        }
    )
    assert cat["model"].is_unique().all()
    assert cat.null_count().sum_horizontal()[0] == 0
    assert (cat["source"].str.len_chars() > 10).all()
    assert set(cat["cooling"]) <= {"air", "hydro", "immersion"}
    # Stated J/TH agrees with W / (TH/s) to within rounding (0.5 %).
    ratio = cat["power_w"] / cat["hashrate_ths"] / cat["efficiency_jth"]
    assert ((ratio - 1).abs() < 0.005).all(), cat.filter((ratio - 1).abs() >= 0.005)


def test_asic_catalog_matches_spec_table() -> None:
    cat = hardware.asic_catalog()
    for model, (year, ths, w, jth) in SPEC_TABLE.items():
        row = hardware.catalog_model(model)
        assert (row["release_year"], row["hashrate_ths"], row["power_w"]) == (year, ths, w), model
        assert row["efficiency_jth"] == pytest.approx(jth, rel=0.005), model
        assert "ECONOMICS.md §5" in row["source"]
    assert cat.height > len(SPEC_TABLE)


def test_gpu_catalog() -> None:
    gpu = hardware.gpu_catalog()
    assert gpu["model"].is_unique().all()
    assert gpu.null_count().sum_horizontal()[0] == 0
    by = {r["model"]: r for r in gpu.iter_rows(named=True)}
    # ECONOMICS.md §5: board power (W) and memory (GB).
    assert by["A100 SXM 80GB"]["board_power_w"] == 400
    assert (by["H100 SXM"]["board_power_w"], by["H100 SXM"]["memory_gb"]) == (700, 80)
    assert (by["H200 SXM"]["board_power_w"], by["H200 SXM"]["memory_gb"]) == (700, 141)
    assert (by["B200"]["board_power_w"], by["B200"]["memory_gb"]) == (1000, 192)
    assert by["MI300X"]["board_power_w"] == 750
    assert gpu.schema["board_power_w"] == pl.Float64


def test_catalog_against_reference_compilation(shared_data: Path) -> None:
    """Our nameplate rows agree with f2pool's 2020 device list (reference only, not bundled)."""
    path = shared_data / "hardware" / "f2pool_mining_devices_2020-03.csv"
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = {r["Device"].strip(): r for r in csv.DictReader(fh)}
    checked = 0
    for model in ("Antminer S19 Pro", "Antminer S19", "Antminer S17 Pro", "Whatsminer M20S"):
        ref = rows[model]
        ours = hardware.catalog_model(model)
        assert ours["hashrate_ths"] == pytest.approx(float(ref["Hashrate (T)"]), rel=0.05)
        assert ours["power_w"] == pytest.approx(float(ref["Power Consumption (W)"]), rel=0.05)
        checked += 1
    assert checked == 4


def test_fleet_from_catalog_and_custom() -> None:
    f = Fleet.from_catalog(
        {"Antminer S21 XP": 10, "Antminer S19j Pro": 5},
        price_usd={"Antminer S21 XP": 5000.0},
        purchase_date=dt.date(2025, 1, 1),
        site="tx",
    )
    df = f.frame
    assert list(df.schema) == list(hardware.FLEET_SCHEMA)
    assert df["class_id"].to_list() == ["Antminer S21 XP@tx", "Antminer S19j Pro@tx"]
    assert df["price_usd"].to_list() == [5000.0, 0.0]
    assert df["efficiency_jth"][0] == pytest.approx(3645 / 270)
    assert len(f) == 2
    assert f.sites == ["tx"]
    assert "15 units" in repr(f)
    custom = Fleet(
        pl.DataFrame(
            {
                "model": ["my rig", "Antminer S21", "Antminer S21"],
                "hashrate_ths": [100.0, None, None],
                "power_w": [2000.0, None, None],
                "count": [3, 1, 2],
            }
        )
    )
    assert custom.frame["hashrate_ths"].to_list() == [100.0, 200.0, 200.0]
    assert custom.frame["class_id"].to_list() == [
        "my rig@default",
        "Antminer S21@default#1",
        "Antminer S21@default#2",
    ]
    both = f + custom
    assert len(both) == 5
    assert both.frame["class_id"].is_unique().all()
    assert len(both.filter(site="tx")) == 2


def test_fleet_validation_errors() -> None:
    with pytest.raises(SchemaError, match="'model'"):
        Fleet(pl.DataFrame({"hashrate_ths": [1.0]}))
    with pytest.raises(InvalidValueError, match=r"rows \[0\].*not\s+in the ASIC catalog"):
        Fleet(pl.DataFrame({"model": ["unknown box"]}))
    with pytest.raises(InvalidValueError, match=r"'hashrate_ths' at rows \[1\]"):
        Fleet(
            pl.DataFrame({"model": ["a", "b"], "hashrate_ths": [1.0, -2.0], "power_w": [1.0, 1.0]})
        )
    with pytest.raises(InvalidValueError, match=r"'count' at rows \[0\]"):
        Fleet(pl.DataFrame({"model": ["Antminer S9"], "count": [-1]}))
    with pytest.raises(InvalidValueError, match="whole number"):
        Fleet(pl.DataFrame({"model": ["Antminer S9"], "count": [1.5]}))
    with pytest.raises(DtypeError, match="price_usd"):
        Fleet(pl.DataFrame({"model": ["Antminer S9"], "price_usd": ["cheap"]}))
    with pytest.raises(InvalidValueError, match="class_id"):
        Fleet(pl.DataFrame({"model": ["Antminer S9"] * 2, "class_id": ["x", "x"]}))
    with pytest.raises(DtypeError):
        Fleet({"model": ["Antminer S9"]})  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError, match="not in the ASIC catalog"):
        hardware.catalog_model("Antminer S99")


def test_network_mix_is_illustrative_and_normalised() -> None:
    mix = hardware.network_mix(2026)
    assert mix["hashrate_share"].sum() == pytest.approx(1.0)
    assert mix["release_year"].max() <= 2026
    # Bucket shares follow ILLUSTRATIVE_ERA_SHARES (all buckets populated in 2026).
    by = mix.group_by("age_bucket").agg(pl.col("hashrate_share").sum())
    got = dict(zip(by["age_bucket"], by["hashrate_share"], strict=True))
    for k, v in hardware.ILLUSTRATIVE_ERA_SHARES.items():
        assert got[k] == pytest.approx(v)
    old = hardware.network_mix(2019)
    assert old["release_year"].max() <= 2019
    with pytest.raises(InvalidValueError):
        hardware.network_mix(2010)


def test_fleet_purchase_date_text_is_parsed_or_named() -> None:
    from hashpivot.hardware import Fleet

    ok = Fleet(
        pl.DataFrame({"model": ["Antminer S21"], "count": [2], "purchase_date": ["2024-05-01"]})
    )
    assert ok.frame["purchase_date"][0] == dt.date(2024, 5, 1)
    frame = pl.DataFrame(
        {
            "model": ["Antminer S21", "Antminer S21"],
            "count": [1, 1],
            "purchase_date": ["2024-05-01", "soon"],
        }
    )
    with pytest.raises(InvalidValueError, match=r"row 1\): purchase_date 'soon' is not a date"):
        Fleet(frame)


def test_fleet_from_file_names_the_file_and_line(tmp_path: Path) -> None:
    """A CSV row with an empty count is line 3 of the file (header on line 1), and the
    message says the value is empty; Parquet rows are named by index."""
    from hashpivot.exceptions import DataFormatError

    f = tmp_path / "fleet.csv"
    f.write_text("model,count\nAntminer S21,10\nAntminer S19j Pro,\n", encoding="utf-8")
    with pytest.raises(InvalidValueError) as e:
        Fleet.from_file(f)
    assert f"column 'count' at {f}:3 must be an integer ≥ 0 (units) (a value is empty)" in str(
        e.value
    )
    pq = tmp_path / "fleet.parquet"
    pl.DataFrame({"model": ["Antminer S21", "Antminer S21"], "count": [1, -2]}).write_parquet(pq)
    with pytest.raises(InvalidValueError, match=f"at {re.escape(str(pq))} row 1 must be"):
        Fleet.from_file(pq)
    ok = tmp_path / "ok.csv"
    ok.write_text("model,count\nAntminer S21,3\n", encoding="utf-8")
    assert Fleet.from_file(ok).frame["count"].to_list() == [3]
    with pytest.raises(DataFormatError, match="no such file"):
        Fleet.from_file(tmp_path / "missing.csv")
