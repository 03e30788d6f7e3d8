"""Result folders: recognising a chunked run's files, and replacing a folder atomically
(used by ``simulate_to_parquet``, ``simulate --output`` and reports)."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from hashpivot.exceptions import OutputError


def replace_folder(stage: Path, dest: Path, recheck: Callable[[Path], None]) -> None:
    """Put the finished folder ``stage`` in place of ``dest`` (both in the same parent).

    An existing ``dest`` is first moved aside and passed to ``recheck`` (it may have changed
    since the caller checked it; if ``recheck`` raises, it is put back and the error
    propagates), then ``stage`` takes its name in one rename and the old folder is deleted.
    A reader sees the old folder or the new one, never a mix."""
    old: Path | None = None
    if dest.exists() or dest.is_symlink():
        old = Path(tempfile.mkdtemp(prefix=f".{dest.name}.old-", dir=dest.parent))
        try:
            os.replace(dest, old / "r")
        except OSError as e:
            old.rmdir()
            raise OutputError(f"{dest}: cannot move the earlier folder aside: {e}") from e
        try:
            recheck(old / "r")
        except BaseException:
            os.replace(old / "r", dest)
            old.rmdir()
            raise
    try:
        os.replace(stage, dest)
    except OSError:
        if old is not None:
            os.replace(old / "r", dest)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


_CHUNK_FILE = re.compile(r"chunk=\d{5}/part\.parquet")


def chunk_dir_extra(folder: Path) -> str | None:
    """The first file under ``folder`` (a relative path, sorted) other than a chunk file
    ``chunk=NNNNN/part.parquet`` that hashpivot writes, or a symbolic link; ``None`` if there
    is none."""
    for root, subdirs, names in os.walk(folder):
        subdirs.sort()
        rel_root = Path(root).relative_to(folder)
        links = [d for d in subdirs if os.path.islink(Path(root, d))]
        for name in sorted(names + links):
            rel = (rel_root / name).as_posix()
            if not _CHUNK_FILE.fullmatch(rel) or Path(root, name).is_symlink():
                return rel
    return None


def chunk_layout_extra(folder: Path, dirs: Sequence[str]) -> str | None:
    """The first entry of ``folder`` (a relative path, sorted) that is not part of a chunked
    run written here: ``<dir>/chunk=NNNNN/part.parquet`` for ``dir`` in ``dirs``. ``None``
    when the folder holds nothing else (an earlier run, or nothing), so that replacing it
    deletes only what hashpivot wrote."""
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name not in dirs or entry.is_symlink() or not entry.is_dir():
            return entry.name
        extra = chunk_dir_extra(entry)
        if extra is not None:
            return f"{entry.name}/{extra}"
    return None
