"""Replacing a result folder atomically (used by ``simulate_to_parquet`` and reports)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
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
