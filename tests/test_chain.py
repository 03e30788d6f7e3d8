"""hashpivot.chain on real mainnet header runs, tampered inputs, every reader and streaming."""

from __future__ import annotations

import itertools
import os
import random
import re
import struct
from pathlib import Path

import polars as pl
import pytest

from hashpivot import chain, consensus
from hashpivot._reference import sha256d
from hashpivot.exceptions import ConsensusRuleError, DataFormatError, InvalidValueError
from hashpivot.testing import easy_params, mine_header, synthetic_chain

RUNS = {
    "mainnet_headers_000000_010236": 0,
    "mainnet_headers_586657_589289": 586_657,
    "mainnet_headers_822528_830592": 822_528,
}


def _csv(shared_data: Path, stem: str) -> pl.DataFrame:
    return pl.read_csv(
        shared_data / "headers" / f"{stem}.csv",
        schema_overrides={"bits_hex": pl.String, "hash": pl.String, "prev_hash": pl.String},
    )


@pytest.fixture(scope="module")
def boundaries(shared_data: Path) -> pl.DataFrame:
    return pl.read_csv(
        shared_data / "headers" / "epoch_boundary_headers.csv",
        schema_overrides={"bits_hex": pl.String, "chainwork_hex": pl.String},
    )


# ----------------------------------------------------------------------------- real runs


@pytest.mark.parametrize("stem", sorted(RUNS))
def test_real_runs_read_equal_csv(shared_data: Path, stem: str) -> None:
    start = RUNS[stem]
    df = chain.read_headers(
        shared_data / "headers" / f"{stem}.bin", start_height=start if start else None
    )
    ref = _csv(shared_data, stem)
    assert df.columns == list(chain.CHAIN_COLUMNS)
    assert df.height == ref.height
    assert df["height"].to_list() == ref["height"].to_list()
    assert df["hash"].to_list() == ref["hash"].to_list()
    assert df["prev_hash"].to_list() == ref["prev_hash"].to_list()
    assert df["merkle_root"].to_list() == ref["merkle_root"].to_list()
    assert df["time_unix"].to_list() == ref["time"].to_list()
    assert df["version"].to_list() == ref["version"].to_list()
    assert df["nonce"].to_list() == ref["nonce"].to_list()
    assert [f"{b:08x}" for b in df["bits"]] == ref["bits_hex"].to_list()
    assert df.schema["time"] == pl.Datetime("us", "UTC")
    assert df.schema["median_time_past"] == pl.Datetime("us", "UTC")
    assert (df["epoch"] == df["height"] // 2016).all()


@pytest.mark.parametrize("stem", sorted(RUNS))
def test_real_runs_validate_and_chainwork(
    shared_data: Path, boundaries: pl.DataFrame, stem: str
) -> None:
    start = RUNS[stem]
    src = shared_data / "headers" / f"{stem}.bin"
    # Context from the shared CSV: chainwork starts from its value at the run's first heights.
    df = chain.validate(src, start_height=start, checkpoint=boundaries)
    assert df["chainwork"].null_count() == 0
    joined = df.join(boundaries.select("height", "chainwork_hex", "hash"), on="height", how="inner")
    assert joined.height >= 2
    assert joined["chainwork"].to_list() == joined["chainwork_hex"].to_list()
    assert joined["hash"].to_list() == joined["hash_right"].to_list()
    # Bundled checkpoints ("auto") give the same frame.
    auto = chain.validate(src, start_height=start)
    assert auto.equals(df)
    rep = chain.validate(src, start_height=start, checkpoint=boundaries, mode="report")
    assert (rep["status"] == "ok").all()
    if start == 0:
        assert rep["full_context"].all()
        assert df["chainwork"][0] == "0" * 55 + "100010001"


def test_genesis_chainwork_without_checkpoint(shared_data: Path) -> None:
    df = chain.read_headers(
        shared_data / "headers" / "mainnet_headers_000000_010236.bin", checkpoint=None
    )
    assert df["chainwork"][1] == "0" * 55 + "200020002"
    assert df["chainwork_f64"][1] == float(0x200020002)
    assert df["difficulty"][0] == 1.0


def test_mid_chain_without_context_skips_only_what_it_must(shared_data: Path) -> None:
    src = shared_data / "headers" / "mainnet_headers_586657_589289.bin"
    rep = chain.validate(src, start_height=586_657, checkpoint=None, mode="report")
    assert (rep["status"] == "ok").all()
    assert rep["chainwork"].null_count() == rep.height  # no anchor → null, not a guess
    incomplete = rep.filter(~pl.col("full_context"))["height"].to_list()
    # Row 0: linkage and bits; rows 0..10: median time past; the retarget at 588,672 needs
    # the time of 586,656, the period's first block. Nothing else.
    assert incomplete == [*range(586_657, 586_668), 588_672]
    # With the epoch's first header as context, the bits of the first row are checked too.
    first = chain.bundled_checkpoints().filter(pl.col("height") == 586_656)
    rep2 = chain.validate(src, start_height=586_657, checkpoint=first, mode="report")
    assert rep2["full_context"][0] is False  # MTP still lacks 10 earlier times
    assert rep2.filter(pl.col("height") == 588_672)["full_context"][0] is True
    assert rep2["chainwork"].null_count() == 0


def test_822528_rederives_four_retargets(shared_data: Path) -> None:
    src = shared_data / "headers" / "mainnet_headers_822528_830592.bin"
    rep = chain.validate(src, start_height=822_528, checkpoint=None, mode="report")
    assert (rep["status"] == "ok").all()
    boundaries_in_run = [824_544, 826_560, 828_576, 830_592]
    rows = rep.filter(pl.col("height").is_in(boundaries_in_run))
    assert rows["full_context"].all()
    # Re-derive each with the retarget rule from the frame's own rows.
    for h in boundaries_in_run:
        last = rep.filter(pl.col("height") == h - 1).row(0, named=True)
        first = rep.filter(pl.col("height") == h - 2016).row(0, named=True)
        want = consensus.calculate_next_bits(
            last["bits"], last["time_unix"], first["time_unix"], first_bits=first["bits"]
        )
        got = rep.filter(pl.col("height") == h)["bits"][0]
        assert got == want
        assert got != last["bits"]  # a real change
    # Tampering with one retarget's bits (at the frame level) is caught by that rule.
    bad = rep.drop("status", "detail", "full_context").with_columns(
        pl.when(pl.col("height") == 826_560)
        .then(pl.col("bits") + 1)
        .otherwise(pl.col("bits"))
        .alias("bits")
    )
    with pytest.raises(ConsensusRuleError, match=r"hash-mismatch at height 826560"):
        chain.validate(bad)


def test_frame_round_trip_validates(shared_data: Path) -> None:
    src = shared_data / "headers" / "mainnet_headers_822528_830592.bin"
    df = chain.read_headers(src, start_height=822_528)
    again = chain.validate(df)
    assert again.equals(df)


# ----------------------------------------------------------------------------- tampering


def _raw(shared_data: Path, stem: str = "mainnet_headers_000000_010236") -> bytes:
    return (shared_data / "headers" / f"{stem}.bin").read_bytes()


def test_flipped_nonce(shared_data: Path) -> None:
    data = bytearray(_raw(shared_data))
    data[5000 * 80 + 76] ^= 0x01
    with pytest.raises(ConsensusRuleError, match=r"^high-hash at height 5000: hash [0-9a-f]{64}"):
        chain.validate(bytes(data))
    rep = chain.validate(bytes(data), mode="report")
    bad = rep.filter(pl.col("status") != "ok")
    assert bad["height"].to_list() == [5000, 5001]
    assert bad["status"].to_list() == ["high-hash", "bad-prevblk"]


def test_broken_link(shared_data: Path) -> None:
    data = _raw(shared_data)
    cut = data[: 5000 * 80] + data[5001 * 80 :]
    with pytest.raises(ConsensusRuleError, match=r"^bad-prevblk at height 5000: prev_hash"):
        chain.validate(cut)


def test_truncated_file(shared_data: Path, tmp_path: Path) -> None:
    p = tmp_path / "cut.bin"
    p.write_bytes(_raw(shared_data)[:-7])
    with pytest.raises(DataFormatError, match=r"\(byte offset 818880\).*truncated.*only 73 bytes"):
        chain.read_headers(p)
    with pytest.raises(DataFormatError, match=r"byte offset 818880"):
        list(chain.iter_headers(p, chunk_size=1000))


def _synthetic(n: int = 400, seed: int = 3) -> tuple[bytes, object]:
    p = easy_params()
    return synthetic_chain(n, p, seed).to_bytes(), p


def _retamper(data: bytes, k: int, params: object, **fields: int) -> bytes:
    """Replace fields of header k, re-mine it and drop what follows (so only k breaks)."""
    raw = bytearray(data[k * 80 : k * 80 + 80])
    offs = {"time": 68, "bits": 72}
    for name, v in fields.items():
        raw[offs[name] : offs[name] + 4] = struct.pack("<I", v)
    mined = mine_header(bytes(raw), params)  # type: ignore[arg-type]
    return data[: k * 80] + mined


def test_wrong_bits() -> None:
    data, p = _synthetic()
    df = chain.read_headers(data, network=p)  # type: ignore[arg-type]
    k = 250
    assert k % 144 != 0
    good = int(df["bits"][k])
    wrong = good - 1  # a slightly harder target: still valid bits, mined for real
    bad = _retamper(data, k, p, bits=wrong)
    with pytest.raises(
        ConsensusRuleError,
        match=rf"^bad-diffbits at height {k}: bits 0x{wrong:08x} differ from the required "
        rf"0x{good:08x}",
    ):
        chain.validate(bad, network=p)  # type: ignore[arg-type]


def test_time_not_after_mtp() -> None:
    data, p = _synthetic()
    df = chain.read_headers(data, network=p)  # type: ignore[arg-type]
    k = 300
    mtp_prev = int(df["median_time_past"][k - 1].timestamp())
    bad = _retamper(data, k, p, time=mtp_prev)
    with pytest.raises(
        ConsensusRuleError,
        match=rf"^time-too-old at height {k}: time {mtp_prev} is not after the median time "
        rf"past {mtp_prev}",
    ):
        chain.validate(bad, network=p)  # type: ignore[arg-type]
    ok = _retamper(data, k, p, time=mtp_prev + 1)
    assert chain.validate(ok, network=p).height == k + 1  # type: ignore[arg-type]


def test_bip94_timewarp() -> None:
    p = easy_params(bip94=True)
    data = synthetic_chain(300, p, 11).to_bytes()
    df = chain.read_headers(data, network=p)
    k = 288
    prev = int(df["time_unix"][k - 1])
    mtp_prev = int(df["median_time_past"][k - 1].timestamp())
    t = prev - 601
    assert t > mtp_prev, "the MTP rule must not be what fails"
    # Bits at a boundary depend on time only through the retarget of the *previous* period.
    bad = _retamper(data, k, p, time=t)
    with pytest.raises(ConsensusRuleError, match=rf"^time-timewarp-attack at height {k}"):
        chain.validate(bad, network=p)
    # The same header is fine without BIP94.
    p2 = easy_params(bip94=False)
    assert chain.validate(bad, network=p2).height == k + 1


def test_wrong_magic(shared_data: Path, tmp_path: Path) -> None:
    data = _raw(shared_data)[: 50 * 80]
    blk = tmp_path / "blk00000.dat"
    blk.write_bytes(
        _blk_bytes([data[i * 80 : i * 80 + 80] for i in range(50)], b"\xf9\xbe\xb4\xd9")
    )
    with pytest.raises(
        DataFormatError,
        match=r"blk00000.dat \(byte offset 0\): wrong magic f9beb4d9, expected "
        r"0b110907; these are mainnet blocks",
    ):
        chain.read_headers(blk, network="testnet3")
    blk.write_bytes(_blk_bytes([data[:80]], b"\xde\xad\xbe\xef"))
    with pytest.raises(DataFormatError, match=r"byte offset 0\): wrong magic deadbeef"):
        chain.read_headers(blk)


def test_frame_edit_is_hash_mismatch(shared_data: Path) -> None:
    df = chain.read_headers(_raw(shared_data)[: 100 * 80])
    bad = df.with_columns(
        pl.when(pl.col("height") == 42).then(pl.col("nonce") + 1).otherwise(pl.col("nonce"))
    )
    with pytest.raises(ConsensusRuleError, match=r"^hash-mismatch at height 42"):
        chain.validate(bad)


def test_wrong_network_genesis(shared_data: Path) -> None:
    with pytest.raises(ConsensusRuleError, match=r"^bad-genesis at height 0"):
        chain.validate(_raw(shared_data)[:800], network="testnet4")


# ----------------------------------------------------------------------------- readers


def _blk_bytes(headers: list[bytes], magic: bytes, rng: random.Random | None = None) -> bytes:
    rng = rng or random.Random(0)
    out = bytearray()
    for h in headers:
        body = h + bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300)))
        out += magic + struct.pack("<I", len(body)) + body
    return bytes(out)


def test_blk_files_with_xor_out_of_order_and_stale(shared_data: Path, tmp_path: Path) -> None:
    raw = _raw(shared_data)[: 300 * 80]
    hdrs = [raw[i * 80 : i * 80 + 80] for i in range(300)]
    rng = random.Random(5)
    order = list(range(300))
    # Blocks arrive out of order (headers-first sync), plus a stale sibling of block 120.
    for _ in range(40):
        i, j = rng.randrange(1, 300), rng.randrange(1, 300)
        order[i], order[j] = order[j], order[i]
    stale = bytearray(hdrs[120])
    stale[36] ^= 0xFF  # another merkle root: a different block with the same parent
    blocks = [hdrs[i] for i in order] + [bytes(stale)]
    d = tmp_path / "blocks"
    d.mkdir()
    key = bytes(rng.randrange(256) for _ in range(8))
    plain = _blk_bytes(blocks[:150], b"\xf9\xbe\xb4\xd9", rng)
    plain2 = _blk_bytes(blocks[150:], b"\xf9\xbe\xb4\xd9", rng)
    for name, content in (("blk00000.dat", plain), ("blk00001.dat", plain2)):
        (d / name).write_bytes(bytes(b ^ key[i % 8] for i, b in enumerate(content)))
    # Core pre-allocates the newest file's tail as plain zeros on disk (not obfuscated)
    with open(d / "blk00001.dat", "ab") as f:
        f.write(bytes(4096))
    (d / "xor.dat").write_bytes(key)
    df = chain.read_headers(d)
    want = chain.read_headers(raw)
    assert df.equals(want)
    one = chain.read_headers(d / "blk00000.dat", xor_key=key, start_height=None)
    assert one["height"][0] == 0
    # Without the key the magic is wrong, and the message says what to do.
    with pytest.raises(DataFormatError, match="wrong magic"):
        chain.read_headers([d / "blk00000.dat"], xor_key=None)


def test_hex_sources(shared_data: Path) -> None:
    raw = _raw(shared_data)[: 20 * 80]
    want = chain.read_headers(raw)
    hexes = [raw[i * 80 : i * 80 + 80].hex() for i in range(20)]
    assert chain.read_headers(pl.Series("h", hexes)).equals(want)
    assert chain.read_headers(
        pl.Series("b", [bytes.fromhex(h) for h in hexes], dtype=pl.Binary)
    ).equals(want)
    assert chain.read_headers("\n".join(hexes)).equals(want)
    with pytest.raises(DataFormatError, match=r"\(row 1\).*160 hex digits"):
        chain.read_headers(pl.Series("h", [hexes[0], hexes[1][:-2]]))
    with pytest.raises(DataFormatError, match="neither an existing file nor hex"):
        chain.read_headers("/no/such/file.bin")


def test_start_height_required_mid_chain(shared_data: Path) -> None:
    with pytest.raises(InvalidValueError, match="start_height: needed"):
        chain.read_headers(shared_data / "headers" / "mainnet_headers_822528_830592.bin")


def test_iter_headers_equals_whole(shared_data: Path) -> None:
    src = shared_data / "headers" / "mainnet_headers_822528_830592.bin"
    whole = chain.validate(src, start_height=822_528, mode="report")
    parts = list(chain.iter_headers(src, start_height=822_528, chunk_size=1000, mode="report"))
    assert len(parts) == 9
    assert pl.concat(parts).equals(whole)
    g = shared_data / "headers" / "mainnet_headers_000000_010236.bin"
    parts = list(chain.iter_headers(g, chunk_size=777))
    assert pl.concat(parts).equals(chain.read_headers(g))
    # Non-file sources stream too.
    parts = list(chain.iter_headers(g.read_bytes()[: 3000 * 80], chunk_size=1000))
    assert [p.height for p in parts] == [1000, 1000, 1000]


def test_write_parquet_atomic(shared_data: Path, tmp_path: Path) -> None:
    df = chain.read_headers(_raw(shared_data)[: 500 * 80])
    out = chain.write_parquet(df, tmp_path / "c.parquet")
    assert pl.read_parquet(out).equals(df)
    assert sorted(os.listdir(tmp_path)) == ["c.parquet"]


def test_raw_hash_matches_hashlib(shared_data: Path) -> None:
    raw = _raw(shared_data)[: 64 * 80]
    df = chain.read_headers(raw)
    assert df["hash"].to_list() == [
        sha256d(raw[i * 80 : i * 80 + 80])[::-1].hex() for i in range(64)
    ]


GENESIS_HEX = (
    "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd7a7b12"
    "b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c"
)


def test_csv_of_header_fields_in_every_reader(tmp_path: Path) -> None:
    """read_headers, validate and iter_headers read a .csv of header fields alike: bits as
    hex (0x allowed), time as Unix seconds or ISO text."""
    fr = chain.read_headers(GENESIS_HEX)
    p = tmp_path / "h.csv"
    fr.select(
        "height", "version", "prev_hash", "merkle_root", "time", "nonce",
        pl.format("0x{}", pl.col("bits").map_elements(lambda b: f"{b:08x}", return_dtype=pl.String))
        .alias("bits_hex"),
    ).write_csv(p)  # fmt: skip
    want = fr["hash"].to_list()
    assert chain.read_headers(p)["hash"].to_list() == want
    assert chain.validate(p)["hash"].to_list() == want
    assert [h for f in chain.iter_headers(p) for h in f["hash"]] == want


def test_csv_with_bad_bits_hex_names_the_line(tmp_path: Path) -> None:
    p = tmp_path / "h.csv"
    fr = chain.read_headers(GENESIS_HEX).select(
        "height", "version", "prev_hash", "merkle_root", "time_unix", "nonce",
        pl.lit("zz").alias("bits_hex"),
    )  # fmt: skip
    fr.write_csv(p)
    with pytest.raises(DataFormatError, match=r"h\.csv:2: bits_hex 'zz'"):
        chain.read_headers(p)


def test_iter_headers_refuses_csv_text_under_another_name(tmp_path: Path) -> None:
    p = tmp_path / "h.dat"
    p.write_text("height,version\n" + "0,1\n" * 40)
    with pytest.raises(DataFormatError, match="looks like CSV text"):
        list(chain.iter_headers(p, start_height=0))


def test_csv_blank_lines_are_skipped_and_empty_fields_named(tmp_path: Path) -> None:
    fr = chain.read_headers(GENESIS_HEX).select(
        "height", "version", "prev_hash", "merkle_root", "time_unix", "bits", "nonce"
    )
    p = tmp_path / "h.csv"
    p.write_text(fr.write_csv() + "\n\n")
    assert (
        chain.read_headers(p)["hash"].to_list() == chain.read_headers(GENESIS_HEX)["hash"].to_list()
    )
    p.write_text(fr.with_columns(pl.lit(None, pl.Int64).alias("nonce")).write_csv())
    with pytest.raises(DataFormatError, match=r"h\.csv:2: nonce is empty"):
        chain.read_headers(p)


def test_streamed_csv_validation_checks_the_hash_column(shared_data: Path, tmp_path: Path) -> None:
    """iter_headers on a header CSV checks each row's hash as validate() does: an edited hash
    is a hash-mismatch in mode "raise" and a failing row in "report"."""
    from hashpivot.exceptions import ConsensusRuleError

    src = shared_data / "headers" / "mainnet_headers_000000_010236.csv"
    lines = src.read_text(encoding="utf-8").splitlines()[:51]  # header + heights 0–49
    cols = lines[0].split(",")
    row = lines[6].split(",")  # height 5
    row[cols.index("hash")] = "0" * 64
    lines[6] = ",".join(row)
    bad = tmp_path / "edited.csv"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ConsensusRuleError, match="height 5"):
        chain.validate(bad)
    with pytest.raises(ConsensusRuleError, match="height 5"):
        list(chain.iter_headers(bad, mode="raise", chunk_size=7))
    report = pl.concat(chain.iter_headers(bad, mode="report", chunk_size=7))
    assert report.filter(pl.col("height") == 5)["status"][0] != "ok"
    assert (report.filter(pl.col("height") != 5)["status"] == "ok").all()


@pytest.mark.parametrize(
    ("column", "value", "fragment"),
    [
        ("height", "7x", "height '7x' is not a whole number"),
        ("version", "v1", "version 'v1' is not a whole number"),
        ("nonce", "abc", "nonce 'abc' is not a whole number"),
        ("prev_hash", "zz", "prev_hash 'zz' is not 64 hex digits"),
    ],
)
def test_bad_values_in_a_header_csv_name_file_and_line(
    shared_data: Path, tmp_path: Path, column: str, value: str, fragment: str
) -> None:
    from hashpivot.exceptions import DataFormatError

    src = shared_data / "headers" / "mainnet_headers_000000_010236.csv"
    lines = src.read_text(encoding="utf-8").splitlines()[:11]
    cols = lines[0].split(",")
    if column not in cols:
        pytest.skip(f"{column} not in the bundled CSV")
    row = lines[5].split(",")  # file line 6
    row[cols.index(column)] = value
    lines[5] = ",".join(row)
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    for fn in (chain.read_headers, chain.validate):
        with pytest.raises(DataFormatError, match=f"bad.csv:6: {re.escape(fragment)}"):
            fn(bad)


def test_heights_near_the_i64_limit_are_refused_not_a_panic() -> None:
    from hashpivot.exceptions import InvalidValueError

    for start in (2**63 - 1, 2**62 - 1):
        with pytest.raises(InvalidValueError, match="largest height"):
            chain.read_headers(b"\x00" * 160, start_height=start)


def test_a_run_inside_a_checkpointed_period_has_chainwork_from_its_first_row(
    shared_data: Path, tmp_path: Path
) -> None:
    """Mainnet blocks of one period share its bits, so the period's first header (a bundled
    checkpoint) anchors chainwork for a run that starts anywhere in the period: a file cut at
    587,000 (period 291 starts at 586,656) gives the same chainwork as the whole run, and so
    does a stream of small chunks, from its first chunk on."""
    src = shared_data / "headers" / "mainnet_headers_586657_589289.bin"
    whole = chain.read_headers(src, start_height=586_657)
    assert whole["chainwork"].null_count() == 0
    cut = tmp_path / "cut.bin"
    cut.write_bytes(src.read_bytes()[(587_000 - 586_657) * 80 :])
    part = chain.read_headers(cut, start_height=587_000)
    want = whole.filter(pl.col("height") >= 587_000)
    assert part["chainwork"].null_count() == 0
    assert part["chainwork"].to_list() == want["chainwork"].to_list()
    assert part["chainwork_f64"].to_list() == want["chainwork_f64"].to_list()
    chunks = list(chain.iter_headers(cut, start_height=587_000, chunk_size=500))
    assert chunks[0]["chainwork"].null_count() == 0
    assert pl.concat(chunks)["chainwork"].to_list() == want["chainwork"].to_list()
    # without checkpoints there is still no anchor: null, not a guess
    assert (
        chain.read_headers(cut, start_height=587_000, checkpoint=None)["chainwork"].null_count()
        == part.height
    )


def test_raw_headers_slice_follows_pythons_slice_rules(shared_data: Path) -> None:
    """``RawHeaders.slice`` (the object ``load_headers`` returns) takes negative and
    out-of-range indices as a Python slice does (a negative start was a raw OverflowError)."""
    raw = chain.load_headers(shared_data / "headers" / "mainnet_headers_000000_010236.bin")
    data = raw.slice(0, 7).to_bytes()
    small = raw.slice(0, 7)
    headers = [data[i * 80 : (i + 1) * 80] for i in range(7)]
    rng = random.Random(3)
    cases = [(-5, 7), (-100, 3), (2, -1), (5, 2), (0, 100), (-1, 100)]
    cases += [(rng.randint(-20, 20), rng.randint(-20, 20)) for _ in range(200)]
    for a, b in cases:
        assert small.slice(a, b).to_bytes() == b"".join(headers[a:b]), (a, b)


def test_pooled_columns_hold_no_stale_values() -> None:
    """The frame's columns come from the buffer pool: a second chain of the same length read
    into memory the first one used has exactly its own values (every row rewritten)."""
    n = 150_000  # columns of ≥ 1 MiB: pooled mappings
    params = easy_params()
    first = chain.read_headers(synthetic_chain(n, params, seed=1), network=params)
    del first
    raw = synthetic_chain(n, params, seed=2).to_bytes()
    df = chain.read_headers(raw, network=params)
    fields = [struct.unpack_from("<i32s32sIII", raw, 80 * i) for i in range(n)]
    assert df["version"].to_list() == [f[0] for f in fields]
    assert df["time_unix"].to_list() == [f[3] for f in fields]
    assert df["bits"].to_list() == [f[4] for f in fields]
    assert df["nonce"].to_list() == [f[5] for f in fields]
    assert df["height"].to_list() == list(range(n))
    assert df["epoch"].to_list() == [h // params.interval for h in range(n)]
    assert (df["time"].dt.epoch("s") == df["time_unix"]).all()
    for i in random.Random(5).sample(range(n), 200):
        assert df["hash"][i] == sha256d(raw[80 * i : 80 * i + 80])[::-1].hex()
        assert df["prev_hash"][i] == fields[i][1][::-1].hex()
    cw = [int(x, 16) for x in df["chainwork"].to_list()]
    assert all(b > a for a, b in itertools.pairwise(cw))
    assert df["chainwork_f64"].to_list() == pytest.approx([float(x) for x in cw], rel=1e-15)
