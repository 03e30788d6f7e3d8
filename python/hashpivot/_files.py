"""Checks of input files shared by the readers (site files, fleet files, CLI inputs)."""

from __future__ import annotations

from pathlib import Path

import polars as pl


def not_text(path: Path) -> str | None:
    """Why ``path`` is not a text (CSV) file, judged from its first 64 KiB — NUL bytes or
    bytes that are not UTF-8 — else None. Readers refuse such files before parsing them,
    so that an error message never echoes binary bytes as column names."""
    try:
        with path.open("rb") as f:
            head = f.read(65_536)
    except OSError:
        return None  # the reader's own error says what is wrong
    if b"\x00" in head:
        return "it holds NUL bytes: it is a binary file, not CSV text"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as e:
        if e.start < len(head) - 3:  # not a multi-byte character cut at the 64 KiB mark
            return f"byte {e.start} is not UTF-8 text: it is not a CSV file (or not UTF-8)"
    return None


def first_non_number(col: pl.Series) -> int | None:
    """The first row of a String column (a CSV column of numbers with text in it) whose cell
    is not a number, else None; empty cells (null) are left to the caller's null check."""
    text = col.str.strip_chars()
    bad = (text.cast(pl.Float64, strict=False).is_null() & text.is_not_null()).arg_true()
    return int(bad[0]) if len(bad) else None
