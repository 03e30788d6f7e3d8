"""Run every ``benches/bench_*.py`` in its own process and write ``benches/results.md``.

Usage: ``python benches/run.py [NAME ...]`` (names filter the scripts, e.g. ``consensus``).
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    scripts = sorted(HERE.glob("bench_*.py"))
    if argv:
        scripts = [s for s in scripts if any(a in s.stem for a in argv)]
    sections = []
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
        sections.append(out.strip())
    cpu = platform.processor() or platform.machine()
    header = (
        "# Benchmark results\n\n"
        f"Written by `make bench` on {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC; "
        f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}. "
        "Ratios compare implementations measured side by side in the same run; absolute times "
        "on this shared machine are indicative only.\n"
    )
    target = HERE / "results.md"
    tmp = target.with_suffix(".md.tmp")
    tmp.write_text(header + "\n" + "\n\n".join(sections) + "\n")
    os.replace(tmp, target)
    print(f"wrote {target}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
