"""Run every ``benches/bench_*.py`` in its own process and write ``benches/results.md``.

Usage: ``python benches/run.py [NAME ...]`` (names filter the scripts, e.g. ``consensus``).
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


_MARK = re.compile(r"^<!-- (bench_\w+) -->$", re.M)


def _sections(text: str) -> dict[str, str]:
    """The sections of an earlier results.md by script, from the ``<!-- bench_x -->`` marks."""
    parts = _MARK.split(text)
    return {parts[i]: parts[i + 1].strip() for i in range(1, len(parts) - 1, 2)}


def main(argv: list[str]) -> int:
    all_scripts = sorted(HERE.glob("bench_*.py"))
    scripts = all_scripts
    if argv:
        scripts = [s for s in scripts if any(a in s.stem for a in argv)]
    target = HERE / "results.md"
    # A filtered run replaces its own sections and keeps the others from the earlier file.
    sections = _sections(target.read_text()) if argv and target.exists() else {}
    failed = 0
    for s in scripts:
        print(f"== {s.stem}", flush=True)
        proc = subprocess.Popen(
            [sys.executable, str(s)], stdout=subprocess.PIPE, text=True, cwd=HERE.parent
        )
        out, _ = proc.communicate()
        if proc.returncode != 0:
            failed += 1
            out = f"## {s.stem}\n\nFAILED (exit code {proc.returncode})\n"
        print(out, flush=True)
        stamp = f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC"
        sections[s.stem] = out.strip() + f"\n\n<sub>{s.stem}, run {stamp}</sub>"
    cpu = platform.processor() or platform.machine()
    header = (
        "# Benchmark results\n\n"
        f"Written by `make bench` (`benches/run.py`); {os.cpu_count()} CPUs ({cpu}), Python "
        f"{platform.python_version()}. Ratios compare implementations measured side by side in "
        "the same run; absolute times on this shared machine are indicative only. Each section "
        "ends with the time it was run (`python benches/run.py NAME` reruns one section).\n"
    )
    body = "\n\n".join(
        f"<!-- {s.stem} -->\n{sections[s.stem]}" for s in all_scripts if s.stem in sections
    )
    tmp = target.with_suffix(".md.tmp")
    tmp.write_text(header + "\n" + body + "\n")
    os.replace(tmp, target)
    print(f"wrote {target}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
