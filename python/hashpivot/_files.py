"""Checks of input files shared by the readers (site files, fleet files, CLI inputs)."""

from __future__ import annotations

from pathlib import Path


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
