"""Block-header chains as polars frames: read, validate, stream, write.

The heavy work (parsing, double-SHA256, the consensus checks) runs in Rust with the GIL
released; each call returns one Arrow table that becomes a polars DataFrame without per-row
Python objects.

The chain frame (one row per block, ``docs/chain.md`` has the full schema):

=================== ========================= ===========================================
column              dtype                     meaning
=================== ========================= ===========================================
height              Int64                     block height
hash                String                    block hash, display (big-endian) hex
prev_hash           String                    previous block hash, display hex
version             Int32                     header version (signed, as Core)
merkle_root         String                    merkle root, display hex
time                Datetime("us", "UTC")     header timestamp
time_unix           Int64                     header timestamp, Unix seconds
bits                UInt32                    compact target
nonce               UInt32                    nonce
difficulty          Float64                   Core's ``GetDifficulty`` of ``bits``
chainwork           String                    cumulative work, 64 lowercase hex digits (exact,
                                              as Core's RPC prints it); null if no anchor
chainwork_f64       Float64                   the same as Core's ``getdouble()``
epoch               Int64                     ``height // interval``
median_time_past    Datetime("us", "UTC")     MTP of the block (itself + 10 ancestors);
                                              null where ancestors are unknown
=================== ========================= ===========================================

``validate(..., mode="report")`` adds ``status`` (``"ok"`` or the rule that failed, in Core's
words: ``bad-prevblk``, ``high-hash``, ``bad-diffbits``, ``time-too-old``,
``time-timewarp-attack``, ``bad-genesis``, ``checkpoint-mismatch``, ``hash-mismatch``),
``detail`` (expected vs found) and ``full_context`` (every rule could be checked).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping, Sequence
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal, TypeAlias, cast

import polars as pl

from hashpivot import _core
from hashpivot._core import ChainContext, NetworkParams, RawHeaders
from hashpivot.consensus import NetworkLike, network_params
from hashpivot.exceptions import (
    DataFormatError,
    DtypeError,
    InvalidValueError,
    OutputError,
    SchemaError,
)

__all__ = [
    "CHAIN_COLUMNS",
    "ChainContext",
    "RawHeaders",
    "bundled_checkpoints",
    "chain_context",
    "iter_headers",
    "load_headers",
    "read_headers",
    "validate",
    "write_parquet",
]

PathLike: TypeAlias = str | os.PathLike[str]
Source: TypeAlias = (
    PathLike | bytes | bytearray | memoryview | pl.Series | RawHeaders | Sequence[PathLike]
)
Checkpoint: TypeAlias = Literal["auto"] | ChainContext | pl.DataFrame | Mapping[str, object] | None
Mode = Literal["raise", "report"]
Format = Literal["auto", "raw", "blk", "hex"]

CHAIN_COLUMNS: tuple[str, ...] = (
    "height",
    "hash",
    "prev_hash",
    "version",
    "merkle_root",
    "time",
    "time_unix",
    "bits",
    "nonce",
    "difficulty",
    "chainwork",
    "chainwork_f64",
    "epoch",
    "median_time_past",
)

_MAGICS = {
    bytes.fromhex("f9beb4d9"): "mainnet",
    bytes.fromhex("0b110907"): "testnet3",
    bytes.fromhex("1c163f28"): "testnet4",
    bytes.fromhex("0a03cf40"): "signet",
    bytes.fromhex("fabfb5da"): "regtest",
}
_BLK_NAME = re.compile(r"^blk\d+\.dat$")
_HEX_TEXT = re.compile(r"^(0x)?[0-9a-fA-F\s]+$")
_BOUNDARY_CSV = "epoch_boundary_headers.csv"


# ----------------------------------------------------------------------------- checkpoints


@lru_cache(maxsize=1)
def _bundled() -> pl.DataFrame:
    raw = (resources.files("hashpivot") / "data" / _BOUNDARY_CSV).read_bytes()
    df = pl.read_csv(
        raw,
        schema_overrides={
            "bits_hex": pl.String,
            "chainwork_hex": pl.String,
            "hash": pl.String,
            "time": pl.Int64,
        },
    )
    return df.select(
        pl.col("height").cast(pl.Int64),
        pl.col("hash"),
        pl.col("time").alias("time_unix"),
        pl.col("bits_hex").str.to_integer(base=16).cast(pl.UInt32).alias("bits"),
        pl.col("chainwork_hex").alias("chainwork"),
    )


def bundled_checkpoints() -> pl.DataFrame:
    """Mainnet checkpoints shipped with the package: the first and last header of every
    difficulty epoch 0–412 and the first of epochs 413–436, with cumulative chainwork.

    Columns: ``height`` (Int64), ``hash`` (display hex), ``time_unix`` (Int64), ``bits``
    (UInt32), ``chainwork`` (64 hex digits). Used as the context of mainnet runs that start
    mid-chain when ``checkpoint="auto"``.
    """
    return _bundled().clone()


def _col(df: pl.DataFrame, *names: str) -> str | None:
    return next((n for n in names if n in df.columns), None)


def chain_context(
    checkpoint: ChainContext | pl.DataFrame | Mapping[str, object],
    *,
    heights: tuple[int, int] | None = None,
) -> ChainContext:
    """Turn trusted headers into the context of a validation.

    ``checkpoint`` is a frame (or one row as a mapping) with ``height``, a time
    (``time_unix``, or ``time`` as Unix seconds or datetime), ``bits`` (int) or ``bits_hex``,
    and optionally ``hash`` (display hex) and ``chainwork`` / ``chainwork_hex`` (hex). A
    chain frame from :func:`read_headers` qualifies. ``heights=(lo, hi)`` keeps only rows in
    that range.
    """
    if isinstance(checkpoint, ChainContext):
        return checkpoint
    if isinstance(checkpoint, Mapping):
        checkpoint = pl.DataFrame([dict(checkpoint)])
    if not isinstance(checkpoint, pl.DataFrame):
        raise DtypeError(
            f"checkpoint: {type(checkpoint).__name__} is not a checkpoint; pass a polars "
            "DataFrame (e.g. a chain frame), a mapping for one header, a ChainContext, "
            '"auto" or None'
        )
    df = checkpoint
    tcol = _col(df, "time_unix", "time")
    bcol = _col(df, "bits", "bits_hex")
    if "height" not in df.columns or tcol is None or bcol is None:
        raise SchemaError(
            f"checkpoint: columns {df.columns} lack height, a time (time_unix or time) and "
            "bits (bits or bits_hex); pass a chain frame or the epoch_boundary_headers.csv layout"
        )
    t = pl.col(tcol)
    if df.schema[tcol].is_temporal():
        t = t.dt.epoch("s")
    b = pl.col(bcol)
    if df.schema[bcol] == pl.String:
        b = b.str.strip_prefix("0x").str.to_integer(base=16)
    hcol = _col(df, "hash")
    ccol = _col(df, "chainwork", "chainwork_hex")
    for c, ok in (
        ("height", df.schema["height"].is_integer()),
        (tcol, df.schema[tcol].is_integer() or df.schema[tcol].is_temporal()),
        (bcol, df.schema[bcol].is_integer() or df.schema[bcol] == pl.String),
    ):
        if not ok:
            raise DtypeError(
                f"checkpoint: column {c!r} is {df.schema[c]}; expected integers (times also "
                "Datetime, bits also hex strings)"
            )
    sel = df.select(
        pl.col("height").cast(pl.Int64),
        t.cast(pl.Int64).alias("t"),
        b.cast(pl.UInt32).alias("b"),
        (pl.col(hcol) if hcol else pl.lit(None, pl.String)).alias("h"),
        (pl.col(ccol) if ccol else pl.lit(None, pl.String)).alias("c"),
    )
    if heights is not None:
        sel = sel.filter(pl.col("height").is_between(heights[0], heights[1]))
    if any(sel[c].null_count() for c in ("height", "t", "b")):
        raise SchemaError("checkpoint: height, time and bits must not be null")
    negative = (sel["height"] < 0).arg_true()
    if len(negative):
        row = int(negative[0])
        raise InvalidValueError(
            f"checkpoint (row {row}): height {sel['height'][row]} is negative; heights count from 0"
        )
    return ChainContext(
        sel["height"].to_list(),
        sel["t"].to_list(),
        sel["b"].to_list(),
        sel["h"].to_list(),
        sel["c"].to_list(),
    )


def _resolve_context(
    checkpoint: Checkpoint, params: NetworkParams, start: int, n: int
) -> ChainContext | None:
    lo = start - params.interval - 11
    hi = start + max(n, 1) - 1
    if checkpoint is None:
        return None
    if isinstance(checkpoint, str):
        if checkpoint != "auto":
            raise InvalidValueError(
                f'checkpoint: {checkpoint!r} is not "auto"; pass "auto", None, a frame, a '
                "mapping or a ChainContext"
            )
        if params.name != "mainnet" or start == 0:
            return None
        return chain_context(_bundled(), heights=(lo, hi))
    if isinstance(checkpoint, ChainContext):
        return checkpoint
    return chain_context(checkpoint, heights=(lo, hi))


# ----------------------------------------------------------------------------- sources


def _xor_for(path: Path, xor_key: bytes | str | None) -> bytes | None:
    if xor_key is None:
        return None
    if isinstance(xor_key, bytes | bytearray):
        return bytes(xor_key)
    if xor_key != "auto":
        raise InvalidValueError(f'xor_key: {xor_key!r} is not "auto", None or bytes')
    key_file = path.parent / "xor.dat"
    return key_file.read_bytes() if key_file.is_file() else None


def _looks_blk(path: Path, key: bytes | None) -> bool:
    if _BLK_NAME.match(path.name):
        return True
    with open(path, "rb") as f:
        head = bytearray(f.read(4))
    if key:
        for i in range(len(head)):
            head[i] ^= key[i % len(key)]
    return bytes(head) in _MAGICS


def load_headers(
    source: Source,
    *,
    network: NetworkLike = "mainnet",
    format: Format = "auto",
    xor_key: bytes | str | None = "auto",
) -> RawHeaders:
    """Read raw headers (in chain order) from any supported source, without building a frame.

    * a path to a file of consecutive 80-byte headers (``format="raw"``);
    * a path to a Bitcoin Core ``blk*.dat`` file, a list of them, or a ``blocks/`` directory
      (``format="blk"``): network magic checked, transactions skipped, the ``xor.dat``
      beside the files applied (``xor_key="auto"``; pass bytes or None to override), blocks
      put in chain order (most-work chain; stale blocks dropped);
    * ``bytes`` of consecutive 80-byte headers;
    * a ``str`` of hex (one or more headers, whitespace ignored) when it is not an existing
      path;
    * a polars Series of hex strings or 80-byte binary values, one header per row.
    """
    params = network_params(network)
    if isinstance(source, RawHeaders):
        return source
    if isinstance(source, bytes | bytearray | memoryview):
        return RawHeaders.from_bytes(bytes(source), "bytes")
    if isinstance(source, pl.Series):
        return _core.headers_from_arrow(source, source.name or "column")
    if isinstance(source, str) and not os.path.exists(source):
        if format in ("auto", "hex") and len(source) >= 160 and _HEX_TEXT.match(source):
            return _core.headers_from_hex(source, "hex text")
        raise DataFormatError(
            f"source: {source[:80]!r} is neither an existing file nor hex headers "
            "(160 hex digits each); check the path"
        )
    if isinstance(source, Sequence) and not isinstance(source, str):
        paths = [Path(p) for p in cast(Sequence[PathLike], source)]
        return _read_blk(paths, params, xor_key)
    path = Path(source)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if _BLK_NAME.match(p.name))
        if not files:
            raise DataFormatError(f"{path}: the directory holds no blk*.dat files")
        return _read_blk(files, params, xor_key)
    if not path.is_file():
        raise DataFormatError(f"{path}: no such file; check the path")
    if format == "hex":
        return _core.headers_from_hex(path.read_text(), str(path))
    if format == "blk" or (format == "auto" and _looks_blk(path, _xor_for(path, xor_key))):
        return _read_blk([path], params, xor_key)
    if format == "auto":
        _refuse_csv_text(path)
    return _core.read_raw_file(path)


def _refuse_csv_text(path: Path) -> None:
    """A file whose first line is printable text with a comma is CSV, not raw headers (raw
    headers start with a version whose low byte is not printable in practice, blk files with
    a network magic): say so instead of reading it as truncated binary."""
    with path.open("rb") as fh:
        first_line = fh.read(512).split(b"\n", 1)[0]
    printable = all(32 <= b < 127 or b in (9, 13) for b in first_line)
    if b"," in first_line and printable:
        how = (
            "read it with chain.read_headers, chain.validate or iter_headers(..., "
            'format="auto"), which take a CSV of header fields'
            if path.suffix.lower() == ".csv"
            else "name it *.csv"
        )
        raise DataFormatError(
            f"{path}: looks like CSV text, not raw 80-byte headers; {how} (header fields: "
            "height, version, prev_hash, merkle_root, time or time_unix, bits or bits_hex, "
            "nonce), or pass format hex for one hex header per line"
        )


def _read_blk(paths: list[Path], params: NetworkParams, xor_key: bytes | str | None) -> RawHeaders:
    if not paths:
        raise DataFormatError("source: an empty list of block files")
    key = _xor_for(paths[0], xor_key)
    raw, _genesis = _core.read_blk_files(paths, params.name, key)
    return raw


def _start(raw: RawHeaders, start_height: int | None, what: str) -> int:
    if start_height is not None:
        if isinstance(start_height, bool) or not isinstance(start_height, int):
            raise DtypeError(
                f"start_height: {start_height!r} ({type(start_height).__name__}) is not an int"
            )
        if start_height < 0:
            raise InvalidValueError(f"start_height: {start_height} is negative")
        if start_height >= 2**63:
            raise InvalidValueError(
                f"start_height: {start_height} is past the largest height (2^63 − 1; real "
                "chains are below 2^32)"
            )
        return start_height
    if len(raw) == 0 or raw.starts_at_genesis():
        return 0
    raise InvalidValueError(
        f"start_height: needed for {what}: its first header is not a genesis block; pass "
        "start_height=<height of the first header>"
    )


def _frame(table: Any) -> pl.DataFrame:
    return pl.DataFrame(table)


# ----------------------------------------------------------------------------- public API


def read_headers(
    source: Source,
    *,
    network: NetworkLike = "mainnet",
    start_height: int | None = None,
    format: Format = "auto",
    checkpoint: Checkpoint = "auto",
    xor_key: bytes | str | None = "auto",
) -> pl.DataFrame:
    """Read block headers into a chain frame (one row per block; schema in the module doc).

    ``start_height`` is the height of the first header; it may be omitted when the source
    starts at a genesis block. ``checkpoint`` supplies trusted earlier headers (see
    :func:`chain_context`): with ``"auto"`` a mainnet run that starts mid-chain takes the
    bundled epoch-boundary headers, which anchor ``chainwork`` and the median time past
    where they reach. Without an anchor ``chainwork`` is null.

    Reading does not check consensus rules; use :func:`validate` for that.
    """
    params = network_params(network)
    csv = _csv_frame(source, format)
    if csv is not None:
        raw, start, _ = _from_csv_or_frame(csv, start_height, _name(source))
    else:
        raw = load_headers(source, network=params, format=format, xor_key=xor_key)
        start = _start(raw, start_height, _name(source))
    ctx = _resolve_context(checkpoint, params, start, len(raw))
    table, _ = _core.chain_frame(raw, start, params, ctx, None, "none")
    return _frame(table)


def _name(source: object) -> str:
    if isinstance(source, str | os.PathLike) and os.path.exists(source):
        return os.fspath(source)
    return type(source).__name__


def validate(
    frame_or_source: pl.DataFrame | Source,
    *,
    network: NetworkLike = "mainnet",
    checkpoint: Checkpoint = "auto",
    mode: Mode = "raise",
    start_height: int | None = None,
    format: Format = "auto",
    xor_key: bytes | str | None = "auto",
) -> pl.DataFrame:
    """Check headers against Bitcoin Core's header rules and return the chain frame.

    Rules, per header: linkage (``prev_hash`` = hash of the previous header), proof of work
    (hash ≤ target of valid bits), the required bits (``GetNextWorkRequired``: retarget,
    testnet 20-minute rule, BIP94 base), ``time`` > median time past of the previous 11
    blocks, and on BIP94 networks the timewarp rule. A frame is re-serialised from its
    columns and its ``hash`` column must match.

    A run that starts mid-chain needs context: ``checkpoint`` (trusted earlier headers, e.g.
    the epoch's first header, or a whole earlier frame; ``"auto"`` uses the bundled mainnet
    epoch boundaries). Rules that lack context are skipped for the affected rows
    (``full_context`` is false there in report mode).

    ``mode="raise"`` raises :class:`~hashpivot.exceptions.ConsensusRuleError` at the lowest
    failing height, naming the rule and expected vs found. ``mode="report"`` returns the frame
    with ``status``, ``detail`` and ``full_context`` columns instead.
    """
    if mode not in ("raise", "report"):
        raise InvalidValueError(f'mode: {mode!r} is not "raise" or "report"')
    params = network_params(network)
    expected: pl.Series | None = None
    csv = _csv_frame(frame_or_source, format)
    if isinstance(frame_or_source, pl.DataFrame):
        raw, start, expected = _from_frame(frame_or_source)
    elif csv is not None:
        raw, start, expected = _from_csv_or_frame(csv, start_height, _name(frame_or_source))
    else:
        raw = load_headers(frame_or_source, network=params, format=format, xor_key=xor_key)
        start = _start(raw, start_height, _name(frame_or_source))
    ctx = _resolve_context(checkpoint, params, start, len(raw))
    table, _ = _core.chain_frame(raw, start, params, ctx, expected, mode)
    return _frame(table)


def _csv_frame(source: object, format: Format) -> pl.DataFrame | None:
    """A ``.csv`` path (with ``format="auto"``) read as a frame of header fields, else None."""
    if format != "auto" or not isinstance(source, str | os.PathLike):
        return None
    p = Path(source)
    if p.suffix.lower() != ".csv" or not p.is_file():
        return None
    text_cols = ("hash", "prev_hash", "merkle_root", "bits_hex", "chainwork_hex")
    try:
        df = pl.read_csv(
            p, schema_overrides={c: pl.String for c in text_cols}, try_parse_dates=True
        )
    except (OSError, pl.exceptions.PolarsError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise DataFormatError(f"{p}: cannot be read as a CSV of header fields ({first})") from None
    # blank lines (e.g. at the end) are not headers; an empty field of a header is an error
    df = df.filter(~pl.all_horizontal(pl.all().is_null()))
    fields = ("height", "version", "prev_hash", "merkle_root", "time", "time_unix", "bits")
    for c in (*fields, "nonce"):
        if c in df.columns and df[c].null_count():
            r = int(df[c].is_null().arg_true()[0])
            raise DataFormatError(f"{p}:{r + 2}: {c} is empty; fill it or drop the row")
    # whole numbers where the CSV reader fell back to text (a stray letter in one row)
    for c in ("height", "version", "time_unix", "nonce", "bits"):
        if c in df.columns and df.schema[c] == pl.String:
            parsed = df[c].str.strip_chars().cast(pl.Int64, strict=False)
            if parsed.null_count():
                row = int(parsed.is_null().arg_true()[0])
                raise DataFormatError(
                    f"{p}:{row + 2}: {c} {df[c][row]!r} is not a whole number; fix the value"
                )
            df = df.with_columns(parsed.alias(c))
    if "time" in df.columns and df.schema["time"] == pl.String:
        # Unix seconds with a stray value (name its row), else text that is not a date-time
        parsed = df["time"].str.strip_chars().cast(pl.Int64, strict=False)
        r = int(parsed.is_null().arg_true()[0]) if parsed.null_count() < df.height else 0
        raise DataFormatError(
            f"{p}:{r + 2}: time {df['time'][r]!r} is neither Unix seconds nor an ISO "
            "date-time (e.g. 2009-01-03T18:15:05Z); fix the value"
        )
    for c in ("hash", "prev_hash", "merkle_root"):
        if c in df.columns:
            ok = df[c].str.strip_chars().str.contains(r"^[0-9a-fA-F]{64}$")
            if not ok.all():
                r = int((~ok).arg_true()[0])
                raise DataFormatError(
                    f"{p}:{r + 2}: {c} {df[c][r]!r} is not 64 hex digits; fix the value"
                )
    if "time" in df.columns and isinstance(df.schema["time"], pl.Datetime):
        t = pl.col("time")
        if df.schema["time"].time_zone is None:
            t = t.dt.replace_time_zone("UTC")
        df = df.with_columns(t.dt.epoch("s").alias("time"))
    if "bits" not in df.columns and "bits_hex" in df.columns:
        txt = pl.col("bits_hex").str.strip_chars().str.strip_prefix("0x")
        df = df.with_columns(txt.str.to_integer(base=16, strict=False).alias("__bits"))
        bad = df.select(
            (pl.col("__bits").is_null() | (pl.col("__bits") > 0xFFFF_FFFF)).arg_true()
        ).to_series()
        if bad.len():
            r = int(bad[0])
            raise DataFormatError(
                f"{p}:{r + 2}: bits_hex {df['bits_hex'][r]!r} is not 8 hex digits (e.g. "
                "1d00ffff); fix the value"
            )
        df = df.with_columns(pl.col("__bits").cast(pl.UInt32).alias("bits")).drop("__bits")
    return df


def _from_csv_or_frame(
    df: pl.DataFrame, start_height: int | None, name: str
) -> tuple[RawHeaders, int, pl.Series | None]:
    raw, start, expected = _from_frame(df)
    if start_height is not None and len(raw) and start_height != start:
        raise InvalidValueError(
            f"start_height: {start_height} but {name} says its first header is at height "
            f"{start}; leave start_height out for a CSV of headers"
        )
    return raw, start, expected


def _from_frame(df: pl.DataFrame) -> tuple[RawHeaders, int, pl.Series | None]:
    if "bits" not in df.columns and "bits_hex" in df.columns:
        df = df.with_columns(
            pl.col("bits_hex").str.to_integer(base=16, strict=False).cast(pl.UInt32).alias("bits")
        )
    need = ("height", "prev_hash", "version", "merkle_root", "bits", "nonce")
    missing = [c for c in need if c not in df.columns]
    tcol = _col(df, "time_unix", "time")
    if missing or tcol is None:
        raise SchemaError(
            f"frame: missing columns {missing + ([] if tcol else ['time_unix'])}; pass a chain "
            "frame from read_headers"
        )
    if df.height == 0:
        return RawHeaders.from_bytes(b"", "frame"), 0, None
    heights = df["height"]
    start = int(heights[0])
    if not heights.cast(pl.Int64).equals(
        pl.int_range(start, start + df.height, eager=True, dtype=pl.Int64), check_names=False
    ):
        raise SchemaError(
            "frame: heights are not consecutive ascending; sort by height and drop gaps first"
        )
    t = df[tcol]
    if t.dtype.is_temporal():
        t = t.dt.epoch("s")
    raw = _core.headers_from_columns(
        df["version"], df["prev_hash"], df["merkle_root"], t, df["bits"], df["nonce"]
    )
    expected = df["hash"] if "hash" in df.columns else None
    return raw, start, expected


def iter_headers(
    source: Source,
    *,
    network: NetworkLike = "mainnet",
    start_height: int | None = None,
    chunk_size: int = 100_000,
    format: Format = "auto",
    checkpoint: Checkpoint = "auto",
    mode: Mode | None = None,
    xor_key: bytes | str | None = "auto",
) -> Iterator[pl.DataFrame]:
    """Stream a large source as chain frames of at most ``chunk_size`` rows.

    Raw header files are read ``chunk_size`` headers at a time, so memory stays bounded; the
    context a chunk needs (hashes, times and bits of the previous period, chainwork) is
    carried from one chunk to the next, so chunked results equal :func:`read_headers` /
    :func:`validate` on the whole source. ``mode`` of None reads; "raise"/"report" validate.
    """
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise InvalidValueError(f"chunk_size: {chunk_size!r} must be an int ≥ 1 (headers)")
    params = network_params(network)
    check = "none" if mode is None else mode
    if check not in ("none", "raise", "report"):
        raise InvalidValueError(f'mode: {mode!r} is not None, "raise" or "report"')
    csv = _csv_frame(source, format)
    if csv is not None:
        raw, start, expected = _from_csv_or_frame(csv, start_height, _name(source))
        ctx = _resolve_context(checkpoint, params, start, len(raw))
        for a in range(0, len(raw), chunk_size):
            # validating: each chunk's rows of the file's hash column, as validate() checks
            exp = (
                expected.slice(a, chunk_size) if expected is not None and check != "none" else None
            )
            table, ctx = _core.chain_frame(
                raw.slice(a, a + chunk_size), start + a, params, ctx, exp, check
            )
            yield _frame(table)
        return
    is_raw_file = (
        isinstance(source, str | os.PathLike)
        and Path(source).is_file()
        and format in ("auto", "raw")
        and not _looks_blk(Path(source), _xor_for(Path(source), xor_key))
    )
    if is_raw_file:
        if format == "auto":
            _refuse_csv_text(Path(source))  # type: ignore[arg-type]
        yield from _iter_raw_file(
            Path(source),  # type: ignore[arg-type]
            params,
            start_height,
            chunk_size,
            checkpoint,
            check,
        )
        return
    raw = load_headers(source, network=params, format=format, xor_key=xor_key)
    start = _start(raw, start_height, _name(source))
    ctx = _resolve_context(checkpoint, params, start, len(raw))
    for a in range(0, len(raw), chunk_size):
        part = raw.slice(a, a + chunk_size)
        table, ctx = _core.chain_frame(part, start + a, params, ctx, None, check)
        yield _frame(table)


def _iter_raw_file(
    path: Path,
    params: NetworkParams,
    start_height: int | None,
    chunk_size: int,
    checkpoint: Checkpoint,
    check: str,
) -> Iterator[pl.DataFrame]:
    size = path.stat().st_size
    if size % 80:
        # Let the reader produce the precise error (offset of the truncated header).
        _core.read_raw_file(path)
    with open(path, "rb") as f:
        first = True
        height = 0
        ctx: ChainContext | None = None
        offset = 0
        while True:
            buf = f.read(chunk_size * 80)
            if not buf:
                break
            part = RawHeaders.from_bytes(buf, f"{path} (byte offset {offset})")
            if first:
                height = _start(part, start_height, str(path))
                ctx = _resolve_context(checkpoint, params, height, size // 80)
                first = False
            table, ctx = _core.chain_frame(part, height, params, ctx, None, check)
            yield _frame(table)
            height += len(part)
            offset += len(buf)


def write_parquet(frame: pl.DataFrame, path: PathLike) -> Path:
    """Write a frame to Parquet atomically (temporary file in the same folder, then
    ``os.replace``), so readers never see a partial file. Returns the path.

    Raises :class:`~hashpivot.exceptions.OutputError` when the file cannot be written (its
    folder missing, the path a folder, no permission, disk full), naming the path."""
    if not isinstance(frame, pl.DataFrame):
        raise DtypeError(f"frame: {type(frame).__name__} is not a polars DataFrame")
    target = Path(path)
    if target.is_dir():
        raise OutputError(f"{target}: is a folder; pass a file path such as {target / 'x.parquet'}")
    if not target.parent.is_dir():
        raise OutputError(f"{target}: folder {target.parent} does not exist; create it first")
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        frame.write_parquet(tmp)
        os.replace(tmp, target)
    except OSError as e:
        raise OutputError(f"{target}: cannot write it: {e.strerror or e}") from e
    finally:
        if tmp.exists():
            tmp.unlink()
    return target
