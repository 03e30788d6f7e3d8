"""The ``hashpivot`` command line.

Each command has an ``_add_<name>(sub)`` function that declares its parser and a
``_cmd_<name>(args) -> int`` that runs it. :func:`main` maps failures to the documented exit
codes (see ``docs/cli.md`` and :data:`EXIT_CODES`), so every command inherits them.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import logging
import math
import os
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn

import polars as pl
from tqdm import tqdm

from hashpivot import consensus, history
from hashpivot._files import not_text
from hashpivot._folders import chunk_dir_extra
from hashpivot.exceptions import DataFormatError, HashpivotError, InvalidValueError, OutputError

__all__ = ["EXIT_CODES", "main"]

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_FINDING = 3
EXIT_OUTPUT = 4
EXIT_INTERNAL = 70
EXIT_INTERRUPTED = 130

#: Exit code → meaning (also printed by ``hashpivot --help`` and listed in docs/cli.md).
EXIT_CODES: dict[int, str] = {
    EXIT_OK: "ok",
    EXIT_USAGE: "usage error or bad input (one line on stderr, no traceback)",
    EXIT_FINDING: "completed with a finding (invalid chain, plugin failures)",
    EXIT_OUTPUT: "--output could not be written (nothing partial is left behind)",
    EXIT_INTERNAL: "internal error, a bug (HASHPIVOT_DEBUG=1 shows the traceback)",
    EXIT_INTERRUPTED: "interrupted (Ctrl-C)",
}

_FMT = argparse.RawDescriptionHelpFormatter


class _OutputError(Exception):
    """An ``--output`` directory could not be written (exit 4)."""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``hashpivot: error: <message>`` and exit 2."""

    def error(self, message: str) -> NoReturn:
        hint = f" (see '{self.prog} --help')"
        self.exit(EXIT_USAGE, f"hashpivot: error: {message}{hint}\n")


# ============================================================================ shared helpers


def _config(precision: int | None = None) -> pl.Config:
    return pl.Config(
        tbl_rows=-1,
        tbl_cols=-1,
        thousands_separator=True,
        tbl_width_chars=160,
        tbl_hide_dataframe_shape=True,
        fmt_str_lengths=60,
        float_precision=precision,
    )


def _say(args: argparse.Namespace, *parts: object) -> None:
    """Human-readable stdout (silent with --json or --quiet)."""
    if not getattr(args, "json", False) and not getattr(args, "quiet", False):
        print(*parts)


def _note(args: argparse.Namespace, msg: str) -> None:
    """An informational note on stderr (silent with --quiet)."""
    if not getattr(args, "quiet", False):
        print(f"hashpivot: {msg}", file=sys.stderr)


def _table(
    args: argparse.Namespace, title: str, df: pl.DataFrame, precision: int | None = None
) -> None:
    if getattr(args, "json", False) or getattr(args, "quiet", False):
        return
    years = [c for c, t in df.schema.items() if c.endswith("year") and t.is_integer()]
    if years:  # no thousands separator in years
        df = df.with_columns(pl.col(years).cast(pl.String))
    with _config(precision):
        print(title)
        print(df)


def _emit_json(args: argparse.Namespace, records: pl.DataFrame | list[dict[str, Any]]) -> None:
    """With --json: the main table as a JSON array of records, alone on stdout."""
    if not getattr(args, "json", False):
        return
    if isinstance(records, pl.DataFrame):
        sys.stdout.write(records.write_json())
        sys.stdout.write("\n")
    else:
        sys.stdout.write(json.dumps(records, default=str, allow_nan=False))
        sys.stdout.write("\n")


def _csv_ready(df: pl.DataFrame) -> pl.DataFrame:
    """CSV cannot hold nested columns: lists become ``;``-joined strings."""
    fix = [
        pl.col(c).cast(pl.List(pl.String)).list.join(";").alias(c)
        for c, t in df.schema.items()
        if isinstance(t, pl.List)
    ]
    return df.with_columns(fix) if fix else df


def _write_frames(out: Path | None, frames: dict[str, pl.DataFrame], csv: bool = True) -> None:
    """Write ``name.parquet`` (and ``name.csv``) into the staging directory ``out``."""
    if out is None:
        return
    try:
        for name, df in frames.items():
            df.write_parquet(out / f"{name}.parquet")
            if csv:
                _csv_ready(df).write_csv(out / f"{name}.csv")
    except OSError as e:
        raise _OutputError(f"{out}: {e.strerror or e}") from e


@contextlib.contextmanager
def _output_dir(target: str | None, owned: Sequence[str] = ()) -> Iterator[Path | None]:
    """Stage ``--output`` files in a temp dir next to ``target``; publish only on success.

    A new ``target`` appears in one ``os.rename``; into an existing directory each entry is
    moved with ``os.replace`` (entries of the same name are replaced, other files are kept).
    ``owned`` names every entry the command may write: those this run did not write are
    removed, so the folder never mixes two runs' outputs. A folder entry (``daily/``) is only
    replaced or removed when it holds nothing but chunk files; anything else is refused before
    any work and nothing is touched. On any error the staging directory is removed: no partial
    output is left behind.
    """
    if target is None:
        yield None
        return
    dest = Path(target)
    if dest.exists() and not dest.is_dir():
        raise _OutputError(f"--output {dest}: exists and is not a directory")
    _check_owned_dirs(dest, owned)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=f".{dest.name}.tmp-", dir=dest.parent))
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(stage, 0o777 & ~umask)  # mkdtemp makes 0700; publish with normal modes
    except OSError as e:
        blocker = next((a for a in dest.parents if a.exists() and not a.is_dir()), None)
        why = f"{blocker} is not a directory" if blocker else (e.strerror or str(e))
        raise _OutputError(f"--output {dest}: cannot create it: {why}") from e
    try:
        yield stage
        try:
            _publish(stage, dest, owned)
        except OSError as e:
            raise _OutputError(f"--output {dest}: {e.strerror or e}") from e
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _check_owned_dirs(dest: Path, names: Iterable[str]) -> None:
    """Refuse (exit 4) when an entry the command would replace or remove is a folder holding
    anything but an earlier run's chunk files (``name/chunk=NNNNN/part.parquet``)."""
    if not dest.is_dir():
        return
    for name in sorted(names):
        entry = dest / name
        if entry.is_dir() and not entry.is_symlink():
            extra = chunk_dir_extra(entry)
            if extra is not None:
                raise _OutputError(
                    f"--output {dest}: {name}/{extra} was not written by hashpivot, and "
                    f"{name}/ would be replaced; move it out or pass another --output"
                )


def _publish(stage: Path, dest: Path, owned: Sequence[str] = ()) -> None:
    if not dest.exists():
        os.rename(stage, dest)
        return
    new = {e.name for e in stage.iterdir()}
    _check_owned_dirs(dest, {*new, *owned})  # again: files may have been added meanwhile
    for entry in sorted(stage.iterdir()):
        target = dest / entry.name
        if entry.is_dir() and target.exists():
            trash = Path(tempfile.mkdtemp(prefix=f".{entry.name}.old-", dir=dest))
            os.replace(target, trash / entry.name)
            os.replace(entry, target)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            os.replace(entry, target)
    for name in owned:  # this run's other layout or frames it did not produce this time
        stale = dest / name
        if name in new or not (stale.exists() or stale.is_symlink()):
            continue
        if stale.is_dir() and not stale.is_symlink():
            shutil.rmtree(stale)
        else:
            stale.unlink()


def _read_frame(path: str, what: str) -> pl.DataFrame:
    """Read a CSV or Parquet input file; any failure is bad input (exit 2)."""
    p = Path(path)
    if p.is_dir():
        raise DataFormatError(f"{what} {p}: is a folder; pass the file inside it")
    if not p.is_file():
        raise DataFormatError(f"{what} {p}: no such file; check the path")
    why = None if p.suffix.lower() in (".parquet", ".pq") else not_text(p)
    if why:
        raise DataFormatError(f"{what} {p}: {why}")
    try:
        if p.suffix.lower() in (".parquet", ".pq"):
            return pl.read_parquet(p)
        return pl.read_csv(p, try_parse_dates=True)
    except (pl.exceptions.PolarsError, OSError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise DataFormatError(
            f"{what} {p}: cannot be read as {'Parquet' if p.suffix == '.parquet' else 'CSV'}: "
            f"{first}"
        ) from e


def _years(s: str) -> float:
    """``--years``: a positive horizon, at most the site files' limit (50 years)."""
    from hashpivot.config import _MAX_YEARS

    v = _positive(float)(s)
    if v > _MAX_YEARS:
        raise argparse.ArgumentTypeError(f"{s!r} is more than {_MAX_YEARS} years")
    return float(v)


def _common(*, output: bool = True, json_: bool = True) -> argparse.ArgumentParser:
    """Options shared by the commands (added as an argparse parent)."""
    c = _Parser(add_help=False)
    g = c.add_argument_group("common options")
    if json_:
        g.add_argument(
            "--json",
            action="store_true",
            help="print the main table as a JSON array of records on stdout (nothing else)",
        )
    if output:
        g.add_argument(
            "--output",
            metavar="DIR",
            help="write the frames as Parquet and CSV into DIR (atomically)",
        )
    g.add_argument("-q", "--quiet", action="store_true", help="no tables, notes or progress bars")
    return c


def _positive(kind: type[float] | type[int]) -> Any:
    def conv(s: str) -> float | int:
        try:
            v = kind(s)
        except ValueError:
            if kind is int:
                try:
                    float(s)
                except ValueError:
                    pass
                else:
                    raise argparse.ArgumentTypeError(
                        f"{s!r} is not a whole number; write it in digits (1000000, not 1e6)"
                    ) from None
            raise argparse.ArgumentTypeError(f"{s!r} is not a number") from None
        if not math.isfinite(v):
            raise argparse.ArgumentTypeError(f"{s!r} is not a finite number")
        if not v > 0:
            raise argparse.ArgumentTypeError(f"{s!r} must be > 0")
        return v

    conv.__name__ = "positive " + kind.__name__
    return conv


def _seed(s: str) -> int:
    """``--seed``: a whole number in [0, 2^64 − 1] (the generators' seed)."""
    try:
        v = int(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{s!r} is not a whole number") from None
    if not 0 <= v < 2**64:
        raise argparse.ArgumentTypeError(f"{s!r} must be a whole number in [0, 2^64 − 1]")
    return v


def _nonneg(s: str) -> float:
    try:
        v = float(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{s!r} is not a number") from None
    if not (math.isfinite(v) and v >= 0):
        raise argparse.ArgumentTypeError(f"{s!r} must be ≥ 0")
    return v


def _power_price(s: str) -> float:
    """``--power-price``: USD/kWh, negative allowed (paid to consume), at most 10 in size
    (the site files' bound; a $/MWh figure by mistake is 1000× too large)."""
    try:
        v = float(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{s!r} is not a number") from None
    if not math.isfinite(v):
        raise argparse.ArgumentTypeError(f"{s!r} must be a finite number")
    if abs(v) > 10.0:
        raise argparse.ArgumentTypeError(
            f"{s!r} is beyond ±10 USD/kWh; give USD per kWh (a $/MWh price divided by 1000)"
        )
    return v


def _fraction(s: str) -> float:
    v = _nonneg(s)
    if v >= 1:
        raise argparse.ArgumentTypeError(f"{s!r} must be in [0, 1)")
    return v


def _share(s: str) -> float:
    """A share in [0, 1] (uptime)."""
    v = _nonneg(s)
    if v > 1:
        raise argparse.ArgumentTypeError(f"{s!r} must be in [0, 1] (0.95 for 95 %)")
    return v


def _pue(s: str) -> float:
    """Wall power / IT power in [1, 3]."""
    v = _nonneg(s)
    if not 1.0 <= v <= 3.0:
        raise argparse.ArgumentTypeError(f"{s!r} must be in [1, 3] (1.05 for 5 % overhead)")
    return v


# ============================================================================ schedule / run

FAMOUS_BLOCKS: tuple[tuple[int, str], ...] = (
    (0, "genesis"),
    (32_256, "first difficulty change"),
    (210_000, "1st halving"),
    (420_000, "2nd halving"),
    (630_000, "3rd halving"),
    (840_000, "4th halving"),
    (935_424, "Feb 2026 retarget (−11 %)"),
)


def famous_blocks_table() -> pl.DataFrame:
    """Difficulty, target and subsidy of a few famous mainnet blocks, from bundled history."""
    rows = []
    for height, label in FAMOUS_BLOCKS:
        epoch = history.epoch_of_height(height)
        bits = int(epoch["bits"])  # type: ignore[call-overload]
        rows.append(
            {
                "height": height,
                "block": label,
                "bits": f"0x{bits:08x}",
                "difficulty": consensus.bits_to_difficulty(bits),
                "difficulty_change_pct": None
                if epoch["difficulty_change"] is None
                else round(float(epoch["difficulty_change"]) * 100, 2),  # type: ignore[arg-type]
                "subsidy_btc": consensus.block_subsidy(height) / 1e8,
            }
        )
    return pl.DataFrame(rows)


def _cmd_schedule(args: argparse.Namespace) -> int:
    network = consensus.network_params(args.network)
    sched = consensus.halving_schedule(network=network)
    if not args.all:
        sched = sched.head(args.eras)
    if args.json:
        _emit_json(args, sched)
        return 0
    if args.quiet:
        return 0
    with pl.Config(
        tbl_rows=-1,
        tbl_cols=-1,
        thousands_separator=True,
        tbl_width_chars=140,
        tbl_hide_dataframe_shape=True,
    ):
        print(f"Subsidy schedule — {network.name}")
        print(sched)
        print(
            f"Total issuance: {consensus.total_issuance(network=network):,} sat "
            f"({consensus.total_issuance(network=network) / 1e8:,.8f} BTC)"
        )
        if network.name == "mainnet" and not args.no_famous:
            print("\nFamous blocks (difficulty as Bitcoin Core's GetDifficulty)")
            print(famous_blocks_table())
    return 0


def _add_schedule(sub: Any) -> None:
    s = sub.add_parser(
        "schedule",
        help="subsidy eras, halving heights and famous blocks' difficulty",
        description="Print the block-subsidy schedule and, on mainnet, famous blocks.",
        epilog=(
            "examples:\n  hashpivot schedule\n  hashpivot schedule --network regtest --all\n"
            "  hashpivot schedule --all --json\n\n"
            "--json prints the eras shown (era, start_height, end_height, subsidy_sat,\n"
            "subsidy_btc, era_issuance_sat, cumulative_issuance_sat) and nothing else."
        ),
        formatter_class=_FMT,
        parents=[_common(output=False)],
    )
    s.add_argument(
        "--network", default="mainnet", help="mainnet, testnet3, testnet4, signet, regtest"
    )
    s.add_argument(
        "--eras", type=_positive(int), default=8, help="number of eras to show (default 8)"
    )
    s.add_argument("--all", action="store_true", help="show all 34 eras")
    s.add_argument("--no-famous", action="store_true", help="omit the famous-blocks table")
    s.set_defaults(func=_cmd_schedule)


def _add_run(sub: Any) -> None:
    _add_compare(sub, "run")


# ============================================================================ compare


def _cmd_compare(args: argparse.Namespace) -> int:
    from hashpivot import report
    from hashpivot.compare import compare
    from hashpivot.config import load_site

    t0 = time.perf_counter()
    cfg = load_site(args.site, paths=args.paths, years=args.years, seed=args.seed)
    if args.output is not None and args.no_report:
        raise InvalidValueError("--output and --no-report: pick one")
    dest = Path(args.output if args.output is not None else "hashpivot-report")
    if not args.no_report:
        report.check_target(dest)  # fail before minutes of work, not after
    bar = tqdm(
        total=100,
        desc="compare",
        bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}",
        file=sys.stderr,
        disable=True if args.quiet else None,
        leave=False,
    )
    with bar:

        def progress(stage: str, fraction: float) -> None:
            bar.set_description_str(f"compare: {stage}")
            bar.update(round(fraction * 100) - bar.n)

        result = compare(cfg, progress=progress)
        files = None
        if not args.no_report:
            progress("writing the report", 0.9)
            files = report.write_report(result, dest)
    elapsed = time.perf_counter() - t0
    _emit_json(args, result.decision)
    src = cfg.source.name if cfg.source is not None else "(in code)"
    _say(
        args,
        f"{cfg.title} — {cfg.paths:,} paths × {cfg.years:g} years, seed {cfg.seed} ({src})",
    )
    if not (args.json or args.quiet):
        with _config(), pl.Config(tbl_hide_column_data_types=True, tbl_hide_dataframe_shape=True):
            print(report.format_decision(result))
    fl = result.evaluation.flexibility.row(0, named=True)
    if result.best is not None:
        _say(args, f"best by mean NPV: {result.best}")
    if fl["value_of_flexibility_usd"] is not None:
        _say(
            args,
            f"value of flexibility: {report.usd(fl['value_of_flexibility_usd'])} "
            f"(best flexible {fl['best_flexible']} − best fixed {fl['best_fixed']})",
        )
    for n in result.notes:
        _note(args, n)
    if files is not None:
        for w in files.warnings:
            _note(args, w)
        _say(args, f"report: {files.html}")
    _say(args, f"took {elapsed:.1f} s")
    if result.evaluation.failures.height or result.evaluation.plugin_failures:
        for r in result.evaluation.failures.iter_rows(named=True):
            _note(args, f"strategy {r['strategy']}: model {r['model']} failed: {r['message']}")
        for f in result.evaluation.plugin_failures:
            _note(args, f"plugin failed: {_one_line(f.as_error())}")
        return EXIT_FINDING
    return EXIT_OK


def _add_compare(sub: Any, name: str = "compare") -> None:
    main_job = name == "compare"
    c = sub.add_parser(
        name,
        parents=[_common(output=False)],
        help="the main job: simulate a site, evaluate every strategy, rank them, write a report"
        if main_job
        else "the main job on the bundled default site (same as: hashpivot compare)",
        description=(
            "Simulate the site's futures (price, fees, power, hashrate, difficulty), evaluate "
            "every strategy of the site file on every path, print the ranked decision table and "
            "write a report folder (report.html, PNG charts, Parquet frames). "
            + (
                "Without SITE it runs the bundled default site (hashpivot/data/default_site.toml)."
                if main_job
                else "It runs the bundled default site (hashpivot/data/default_site.toml); use "
                "'hashpivot compare SITE' for your own."
            )
        ),
        epilog=(
            "examples:\n"
            "  hashpivot compare                         # the bundled 100 MW Texas site\n"
            "  hashpivot compare mysite.toml --output reports/mysite\n"
            "  hashpivot compare mysite.toml --paths 2000 --years 3 --seed 7\n"
            "  hashpivot compare mysite.toml --json --no-report | jq '.[0].strategy'\n\n"
            "site files: docs/site-files.md; start from the bundled default, printed by\n"
            "  python -c 'import hashpivot.config as c; print(c.default_site_path().read_text())'\n"
            "\nexit 3 when a revenue-model plugin failed (the other strategies are still ranked)"
        ),
        formatter_class=_FMT,
    )
    if main_job:
        c.add_argument("site", nargs="?", help="site file (TOML); default: the bundled default")
    else:
        c.set_defaults(site=None)
    c.add_argument("--paths", type=_positive(int), help="override the file's number of paths")
    c.add_argument("--years", type=_years, help="override the file's horizon (years, ≤ 50)")
    c.add_argument("--seed", type=_seed, help="override the file's seed")
    c.add_argument(
        "--output",
        metavar="DIR",
        help="report folder (default ./hashpivot-report; an earlier report there is replaced "
        "if it holds only the files it wrote; any other non-empty folder is refused)",
    )
    c.add_argument("--no-report", action="store_true", help="print the table only; write nothing")
    c.set_defaults(func=_cmd_compare)


# ============================================================================ simulate

#: Daily rows above which ``simulate --output`` writes the daily frame as partitioned Parquet
#: (the ``simulate_to_parquet`` layout) instead of one ``daily.parquet`` plus ``daily.csv``.
DAILY_INLINE_ROWS = 1_000_000
#: Target daily rows per simulation chunk (bounds memory and paces the progress bar).
CHUNK_ROWS = 250_000
_FAN_COLUMNS = ("price_usd", "difficulty", "hashprice_usd_ph_day")


def _checkpoint_days(n_days: int) -> list[int]:
    """Day indices summarised: the last day of each whole simulated year, and the last day."""
    days = [365 * k - 1 for k in range(1, n_days // 365 + 1)]
    if not days or days[-1] != n_days - 1:
        days.append(n_days - 1)
    return days


def _fan(checkpoints: pl.DataFrame, start: dt.datetime) -> pl.DataFrame:
    from hashpivot.scenario import quantile_fan

    parts = []
    for col in _FAN_COLUMNS:
        f = quantile_fan(checkpoints, col)
        parts.append(f.select(pl.lit(col).alias("variable"), pl.all()))
    fan = pl.concat(parts)
    day = ((pl.col("date") - pl.lit(start)).dt.total_days() + 1).cast(pl.Int64)
    return fan.select(
        "variable",
        pl.col("date").dt.date(),
        day.alias("days"),
        (day.cast(pl.Float64) / 365.0).round(3).alias("years"),
        pl.exclude("variable", "date"),
    )


def _cmd_simulate(args: argparse.Namespace) -> int:
    from hashpivot import scenario as sc

    if not 0 <= args.seed < 2**64:
        raise InvalidValueError(f"--seed: {args.seed} must be an integer in [0, 2^64)")
    n_days = sc._n_days(args.years)
    start = sc.ChainStart.from_epoch()
    scen = sc.Scenario(
        price=sc.GBM(mu=args.mu, sigma=args.sigma),
        start_price_usd=args.start_price,
        start=start,
    )
    paths: int = args.paths
    chunk = max(1, min(paths, CHUNK_ROWS // n_days))
    inline = paths * n_days <= DAILY_INLINE_ROWS
    days = _checkpoint_days(n_days)
    kept: list[pl.DataFrame] = []
    dailies: list[pl.DataFrame] = []
    rts: list[pl.DataFrame] = []
    frames_out = ("fan", "retargets", "retarget_dates", "daily")
    owned = ["daily", *(f"{f}.{ext}" for f in frames_out for ext in ("parquet", "csv"))]
    with _output_dir(args.output, owned) as out:
        bar = tqdm(
            total=paths,
            unit="path",
            desc="simulate",
            file=sys.stderr,
            disable=True if args.quiet else None,
            leave=False,
        )
        with bar:
            for k, first in enumerate(range(0, paths, chunk)):
                count = min(chunk, paths - first)
                # Same rows as simulate_with_retargets / simulate_to_parquet: paths are
                # seeded by (seed, path index), so chunking does not change any number.
                daily, rt = sc._run(scen, args.years, args.seed, first, count, n_days=n_days)
                first_date = daily["date"].min()
                marks = [first_date + dt.timedelta(days=d) for d in days]  # type: ignore[operator]
                kept.append(daily.filter(pl.col("date").is_in(marks)))
                rts.append(rt)
                if out is not None and inline:
                    dailies.append(daily)
                elif out is not None:
                    part = out / "daily" / f"chunk={k:05d}"
                    try:
                        part.mkdir(parents=True)
                        daily.write_parquet(part / "part.parquet")
                    except OSError as e:
                        raise _OutputError(f"{out}: {e.strerror or e}") from e
                del daily
                bar.update(count)
        checkpoints = pl.concat(kept)
        retargets = pl.concat(rts)
        t0 = dt.datetime.fromtimestamp(start.time, dt.timezone.utc)
        assert isinstance(first_date, dt.datetime)
        fan = _fan(checkpoints, first_date)
        dates = sc.retarget_dates(retargets) if retargets.height else pl.DataFrame()
        if out is not None:
            frames = {"fan": fan, "retargets": retargets}
            if dates.height:
                frames["retarget_dates"] = dates
            if inline:
                frames["daily"] = pl.concat(dailies)
            _write_frames(out, frames)
    _emit_json(args, fan)
    _say(
        args,
        f"Simulated {paths:,} paths × {n_days:,} days (seed {args.seed}) from epoch "
        f"{start.height // 2016 + 1} (tip height {start.height:,}, "
        f"{t0:%Y-%m-%d}); GBM mu={args.mu}, sigma={args.sigma}, "
        f"start price ${args.start_price:,.0f}",
    )
    for col in _FAN_COLUMNS:
        view = fan.filter(pl.col("variable") == col).drop("variable")
        unit = ""
        if col == "difficulty":  # display in units of 10^12 to keep the table readable
            view = view.with_columns(pl.col("mean", "^q\\d+(_\\d+)?$") / 1e12)
            unit = " (×10^12)"
        _table(args, f"\n{col}{unit}: mean and quantiles across paths at year ends", view, 2)
    if dates.height:
        per_path = retargets.group_by("path").len()
        _say(
            args,
            f"\nRetargets: {retargets.height:,} in all, "
            f"{float(per_path['len'].mean()):.1f} per path on average "  # type: ignore[arg-type]
            f"(epochs {dates['epoch'].min()!r}–{dates['epoch'].max()!r})",
        )
        show = (
            dates.head(8)
            .with_columns((pl.col("^change_q\\d+(_\\d+)?$") * 100).round(2).name.suffix("_pct"))
            .drop("^change_q\\d+(_\\d+)?$")
        )
        _table(args, "First retargets (date and change quantiles across paths)", show)
    if args.output is not None:
        _note(args, f"wrote {args.output}")
    return EXIT_OK


def _add_simulate(sub: Any) -> None:
    s = sub.add_parser(
        "simulate",
        parents=[_common()],
        help="Monte Carlo paths of price, difficulty and hashprice",
        description=(
            "Simulate daily paths (GBM BTC price, fees, power, fleet response, consensus-exact\n"
            "difficulty) from the latest bundled difficulty epoch and summarise them: quantile\n"
            "fans of price, difficulty and hashprice at each year end, and retarget dates.\n"
            "Every driver except the BTC price uses the illustrative defaults of\n"
            "hashpivot.scenario (docs/scenario.md)."
        ),
        epilog=(
            "examples:\n"
            "  hashpivot simulate --paths 1000 --years 2\n"
            "  hashpivot simulate --paths 200 --years 1 --sigma 0.8 --mu 0.1 --seed 7 --json\n"
            "  hashpivot simulate --paths 10000 --years 5 --output runs/base\n\n"
            "--json prints the fan (variable, date, days, years, mean, q05 … q95)."
        ),
        formatter_class=_FMT,
    )
    s.add_argument("--paths", type=_positive(int), default=1000, help="paths (default 1000)")
    s.add_argument("--years", type=_years, default=5.0, help="years of 365 days (default 5, ≤ 50)")
    s.add_argument("--seed", type=_seed, default=0, help="random seed (default 0)")
    s.add_argument(
        "--start-price",
        type=_positive(float),
        default=67_000.0,
        help="BTC price on day 0, USD (default 67,000: hashpivot.scenario's default)",
    )
    s.add_argument("--sigma", type=_nonneg, default=0.6, help="GBM yearly volatility (default 0.6)")
    s.add_argument("--mu", type=float, default=0.0, help="GBM yearly drift (default 0)")
    s.set_defaults(func=_cmd_simulate)


# ============================================================================ fleet


def _latest_epoch() -> dict[str, Any]:
    return history.difficulty_epochs().row(-1, named=True)


def _cmd_fleet(args: argparse.Namespace) -> int:
    from hashpivot import fleet as fl
    from hashpivot.hardware import Fleet, catalog_model

    models: list[str] = args.model or []
    counts: list[int] = args.count or []
    if args.fleet and models:
        raise InvalidValueError("fleet: give either --fleet FILE or --model/--count, not both")
    if args.fleet:
        fleet = Fleet.from_file(args.fleet)
    elif models:
        if counts and len(counts) != len(models):
            raise InvalidValueError(
                f"--model/--count: {len(models)} models but {len(counts)} counts; give one "
                "--count after each --model (or none for 1 unit each)"
            )
        counts = counts or [1] * len(models)
        frame = pl.DataFrame(
            {"model": models, "count": counts}, schema={"model": pl.String, "count": pl.Int64}
        )
        for m in models:
            catalog_model(m)  # a clear error naming the known models
        fleet = Fleet(frame)
    else:
        raise InvalidValueError(
            'fleet: no machines; pass --model "Antminer S21" --count 100 (repeatable) or '
            "--fleet FILE (CSV/Parquet with a model column)"
        )
    last = _latest_epoch()
    difficulty = args.difficulty if args.difficulty is not None else float(last["difficulty"])
    height = args.height if args.height is not None else int(last["last_height"]) + 1
    econ = fl.economics(
        fleet,
        difficulty=difficulty,
        price_usd=args.btc_price,
        power_price_usd_kwh=args.power_price,
        height=height,
        fees_btc_per_block=args.fees_btc,
        pool_fee=args.pool_fee,
        pue=args.pue,
        uptime=args.uptime,
    )
    main = econ.select(
        "class_id",
        "model",
        "count",
        "efficiency_jth",
        "hashrate_ths",
        "btc_day",
        "revenue_usd_day",
        "power_cost_usd_day",
        "margin_usd_day",
        "breakeven_power_price_usd_kwh",
        "shutdown_price_usd",
        "cash_cost_usd_per_btc",
        "under_water",
    )
    totals = main.select(
        pl.col("count").sum().alias("units"),
        pl.col("hashrate_ths").sum(),  # already the class total (count × unit)
        pl.col("btc_day").sum(),
        pl.col("revenue_usd_day").sum(),
        pl.col("power_cost_usd_day").sum(),
        pl.col("margin_usd_day").sum(),
    )
    with _output_dir(args.output) as out:
        _write_frames(out, {"economics": econ, "totals": totals})
    _emit_json(args, main)
    _say(
        args,
        f"Fleet economics per class and day at difficulty {difficulty:,.0f} (height "
        f"{height:,}, subsidy {consensus.block_subsidy(height) / 1e8:g} BTC), BTC "
        f"${args.btc_price:,.0f}, power ${args.power_price}/kWh, fees {args.fees_btc} "
        f"BTC/block, pool fee {args.pool_fee:.1%}, PUE {args.pue}",
    )
    simple = main["class_id"].equals(main["model"] + "@default", check_names=False)
    # BTC to the satoshi (one S21 earns ~0.00011 BTC a day: 4 decimals would show 0.0001)
    sat = pl.col("btc_day").round(8).cast(pl.String)
    shown = main.with_columns(sat)
    _table(args, "", shown.drop("class_id") if simple else shown, 4)
    _table(args, "\nTotals per day", totals.with_columns(sat), 4)
    return EXIT_OK


def _add_fleet(sub: Any) -> None:
    s = sub.add_parser(
        "fleet",
        parents=[_common()],
        help="per-machine economics and breakevens at given prices",
        description=(
            "Per machine class, per day: BTC mined, revenue, power cost, margin, the breakeven\n"
            "power price (revenue = power cost) and the shutdown BTC price (hashpivot.fleet).\n"
            "Difficulty and subsidy default to the block after the bundled history."
        ),
        epilog=(
            "examples:\n"
            '  hashpivot fleet --model "Antminer S21" --count 100\n'
            '  hashpivot fleet --model "Antminer S21 XP" --count 50 --model "Antminer S19j Pro" '
            "--count 200 \\\n      --btc-price 90000 --power-price 0.06 --pool-fee 0.02 --pue 1.1\n"
            "  hashpivot fleet --fleet my_fleet.csv --json\n\n"
            "A --fleet file (CSV or Parquet) has a model column and optionally count,\n"
            "hashrate_ths, power_w, price_usd, purchase_date, site (docs/fleet.md)."
        ),
        formatter_class=_FMT,
    )
    s.add_argument(
        "--model", action="append", help="catalog model name (repeatable; see `hashpivot catalog`)"
    )
    s.add_argument(
        "--count", action="append", type=_positive(int), help="units of the preceding --model"
    )
    s.add_argument("--fleet", metavar="FILE", help="fleet file, CSV or Parquet")
    s.add_argument(
        "--btc-price", type=_nonneg, default=66_680.0, help="BTC price, USD (default 66,680)"
    )
    s.add_argument(
        "--power-price",
        type=_power_price,
        default=0.045,
        help="power price, USD/kWh (default 0.045; negative prices, paid to consume, are allowed)",
    )
    s.add_argument(
        "--difficulty",
        type=_positive(float),
        help="network difficulty (default: the latest bundled epoch's)",
    )
    s.add_argument(
        "--height",
        type=int,
        help="block height for the subsidy (default: the block after the bundled history)",
    )
    s.add_argument("--fees-btc", type=_nonneg, default=0.0, help="fees per block, BTC (default 0)")
    s.add_argument("--pool-fee", type=_fraction, default=0.0, help="pool fee, 0–1 (default 0)")
    s.add_argument("--pue", type=_pue, default=1.0, help="PUE, 1–3 (default 1.0)")
    s.add_argument("--uptime", type=_share, default=1.0, help="uptime, 0–1 (default 1.0)")
    s.set_defaults(func=_cmd_fleet)


# ============================================================================ retarget


def _estimate_from_epochs(epochs: pl.DataFrame, trend: int) -> pl.DataFrame:
    """Next-retarget estimate from an epoch table (no per-block times needed).

    The table's last epoch is taken as complete, so the next retarget is at its
    ``last_height + 1``. With the last epoch's ``timespan_s`` known, the change is the
    consensus rule's (``1,209,600 / timespan``, clamped to ×¼ … ×4); otherwise it is the
    geometric mean of the last ``trend`` epochs' changes. The date is the time of the last
    block, extrapolated at 600 s/block from the last known block time where it is unknown.
    """
    last = epochs.row(-1, named=True)
    interval = 2016
    height = int(last["last_height"])
    d = float(last["difficulty"])
    span = last.get("timespan_s")
    if span is not None and span > 0:
        factor = max(0.25, min(4.0, 1_209_600 / float(span)))
        mean = float(span) / (interval - 1)
        method = "consensus rule on the last epoch's timespan"
    else:
        changes = epochs["difficulty_change"].drop_nulls().tail(trend)
        if changes.len() == 0:
            raise InvalidValueError("retarget: the history has no difficulty changes to trend")
        factor = math.exp(float((changes + 1.0).log().mean()))
        factor = max(0.25, min(4.0, factor))
        mean = 600.0 / factor
        method = f"trend: geometric mean of the last {changes.len()} epochs' changes"
    t_est = _time_at(epochs, height)
    if t_est is not None and epochs["last_time"][-1] is None:
        method += "; date extrapolated at 600 s/block from the last known block time"
    return pl.DataFrame(
        {
            "height": [height],
            "epoch": [height // interval],
            "blocks_in_epoch": [interval - 1],
            "progress_pct": [(interval - 1) / interval * 100.0],
            "remaining_blocks": [1],
            "next_retarget_height": [height + 1],
            "mean_block_time_s": [mean],
            "expected_change_pct": [(factor - 1.0) * 100.0],
            "difficulty": [d],
            "expected_difficulty": [d * factor],
            "estimated_retarget_time": [t_est],
            "method": [method],
        },
        schema_overrides={"estimated_retarget_time": pl.Datetime("us", "UTC")},
    )


def _time_at(epochs: pl.DataFrame, height: int) -> dt.datetime | None:
    """Time of block ``height``: known, or extrapolated at 600 s/block from the latest known
    first/last block time of the table (None when the table has no times at all)."""
    known = pl.concat(
        [
            epochs.select(pl.col("first_height").alias("h"), pl.col("first_time").alias("t")),
            epochs.select(pl.col("last_height").alias("h"), pl.col("last_time").alias("t")),
        ]
    ).filter(pl.col("t").is_not_null() & (pl.col("h") <= height))
    if known.height == 0:
        return None
    h, t = known.sort("h").row(-1)
    out: dt.datetime = t + dt.timedelta(seconds=600 * (height - int(h)))
    return out


def _cmd_retarget(args: argparse.Namespace) -> int:
    from hashpivot import chain, network

    if args.headers:
        frame = chain.read_headers(
            args.headers, network=args.network, start_height=args.start_height
        )
        now = None
        if args.now:
            try:
                now = dt.datetime.fromisoformat(args.now)
            except ValueError:
                raise InvalidValueError(
                    f"--now: {args.now!r} is not an ISO date-time like 2026-07-01T12:00:00Z"
                ) from None
        est = network.next_retarget_estimate(frame, now=now, network=args.network)
        est = est.with_columns(
            pl.lit(f"mempool.space estimator on {len(frame):,} headers").alias("method")
        )
        source = args.headers
    else:
        if args.now:
            raise InvalidValueError("--now: only meaningful with --headers")
        if args.start_height is not None:
            raise InvalidValueError("--start-height: only meaningful with --headers")
        epochs = history.difficulty_epochs()
        est = _estimate_from_epochs(epochs, args.trend_epochs)
        source = "bundled difficulty history"
    with _output_dir(args.output) as out:
        _write_frames(out, {"retarget": est})
    _emit_json(args, est)
    row = est.row(0, named=True)
    _say(args, f"Next retarget — from {source}")
    when = row["estimated_retarget_time"]
    interval = row["next_retarget_height"] - (row["height"] - row["blocks_in_epoch"])
    _say(
        args,
        f"  tip height {row['height']:,} (epoch {row['epoch']}), "
        f"{row['blocks_in_epoch']:,}/{interval:,} blocks in ({row['progress_pct']:.1f} %), "
        f"{row['remaining_blocks']:,} to go\n"
        f"  next retarget at height {row['next_retarget_height']:,}"
        + (f", around {when:%Y-%m-%d %H:%M} UTC" if when is not None else "")
        + f"\n  expected change {row['expected_change_pct']:+.2f} %: difficulty "
        f"{row['difficulty']:,.0f} → {row['expected_difficulty']:,.0f}\n"
        f"  mean block time {row['mean_block_time_s']:.1f} s; method: {row['method']}",
    )
    return EXIT_OK


def _add_retarget(sub: Any) -> None:
    s = sub.add_parser(
        "retarget",
        parents=[_common()],
        help="next difficulty-retarget estimate",
        description=(
            "Estimate the next difficulty adjustment. With --headers FILE: mempool.space's\n"
            "estimator on the headers' tip (hashpivot.network.next_retarget_estimate). Without:\n"
            "from the bundled epoch table, which ends with a complete epoch but has no block\n"
            "times for recent epochs, so the change is the trend of the last --trend-epochs\n"
            "changes (see docs/cli.md)."
        ),
        epilog=(
            "examples:\n"
            "  hashpivot retarget\n"
            "  hashpivot retarget --headers headers.bin --start-height 822528\n"
            "  hashpivot retarget --headers headers.bin --now 2026-07-01T12:00:00+00:00 --json"
        ),
        formatter_class=_FMT,
    )
    s.add_argument("--headers", metavar="FILE", help="header file (raw 80-byte, blk*.dat, hex)")
    s.add_argument("--network", default="mainnet", help="network of the headers")
    s.add_argument(
        "--start-height", type=int, help="height of the first header (unless it is genesis)"
    )
    s.add_argument("--now", help="measure to this ISO time instead of the tip's time")
    s.add_argument(
        "--trend-epochs",
        type=_positive(int),
        default=6,
        help="epochs in the trend of the bundled estimate (default 6)",
    )
    s.set_defaults(func=_cmd_retarget)


# ============================================================================ history


def _read_epochs(path: str) -> pl.DataFrame:
    """An epoch table from CSV/Parquet: ``epoch, first_height, difficulty`` at least;
    ``last_height`` and ``first_time``/``last_time`` (Unix seconds or date-times) optional."""
    df = _read_frame(path, "--file")
    missing = [c for c in ("epoch", "first_height", "difficulty") if c not in df.columns]
    if missing:
        raise DataFormatError(
            f"--file {path}: missing columns {missing} (has {df.columns}); an epoch table "
            "needs epoch, first_height and difficulty (like hashpivot/data/difficulty_epochs.csv)"
        )
    utc = pl.Datetime("us", "UTC")
    csv = Path(path).suffix.lower() not in (".parquet", ".pq")

    def where(row: int) -> str:
        return f"{path}:{row + 2}" if csv else f"{path} (row {row})"

    def num(c: str, dtype: pl.DataType) -> pl.Expr:
        return pl.col(c).cast(dtype, strict=False)

    cols: list[pl.Expr] = [
        num("epoch", pl.Int64()),
        num("first_height", pl.Int64()),
        (
            num("last_height", pl.Int64())
            if "last_height" in df.columns
            else (num("first_height", pl.Int64()) + 2015)
        ).alias("last_height"),
    ]
    for c in ("first_time", "last_time"):
        if c not in df.columns:
            cols.append(pl.lit(None, dtype=utc).alias(c))
        elif df.schema[c].is_integer():
            cols.append(pl.from_epoch(c, time_unit="s").cast(utc).alias(c))
        elif isinstance(df.schema[c], pl.Datetime):
            tz = getattr(df.schema[c], "time_zone", None)
            e = pl.col(c) if tz else pl.col(c).dt.replace_time_zone("UTC")
            cols.append(e.cast(utc).alias(c))
        else:
            cols.append(
                pl.col(c).cast(pl.String).str.to_datetime(time_zone="UTC", strict=False).cast(utc)
            )
    cols.append(
        num("timespan_s", pl.Int64()) if "timespan_s" in df.columns
        else pl.lit(None, pl.Int64).alias("timespan_s")
    )  # fmt: skip
    cols.append(num("difficulty", pl.Float64()))
    try:
        out = df.select(*cols)
    except pl.exceptions.PolarsError as e:
        raise DataFormatError(f"--file {path}: {str(e).splitlines()[0]}") from e
    # A value that was there but did not convert, or a required value missing: name the line.
    for c in out.columns:
        src = df[c] if c in df.columns else None
        if src is None:
            continue
        lost = (out[c].is_null() & src.is_not_null()).arg_true()
        if lost.len():
            r = int(lost[0])
            raise DataFormatError(
                f"--file {where(r)}: {c} {src[r]!r} is not a valid "
                f"{'date-time' if c.endswith('_time') else 'number'}"
            )
    for c in ("epoch", "first_height", "difficulty"):
        empty = out[c].is_null().arg_true()
        if empty.len():
            raise DataFormatError(
                f"--file {where(int(empty[0]))}: {c} is empty; fill or drop the row"
            )
    d = pl.col("difficulty")
    bad = out.with_row_index("row").filter(~((d > 0) & d.is_finite()))
    if bad.height:
        raise DataFormatError(
            f"--file {where(int(bad['row'][0]))}: difficulty {bad['difficulty'][0]} must be a "
            "finite number > 0"
        )
    dup = out.with_row_index("row").filter(~pl.col("epoch").is_first_distinct())
    if dup.height:
        raise DataFormatError(
            f"--file {where(int(dup['row'][0]))}: epoch {dup['epoch'][0]} appears twice; keep "
            "one row per epoch"
        )
    out = out.sort("epoch")
    return out.with_columns(
        (pl.col("difficulty") / pl.col("difficulty").shift(1) - 1.0).alias("difficulty_change")
    )


def _with_dates(epochs: pl.DataFrame) -> pl.DataFrame:
    """``date`` = the epoch's first block time, extrapolated at 600 s/block from the last
    known time where the history has none (``date_estimated`` true)."""
    known = epochs.filter(pl.col("first_time").is_not_null())
    if known.height == 0:
        return epochs.with_columns(
            pl.lit(None, pl.Datetime("us", "UTC")).alias("date"),
            pl.lit(True).alias("date_estimated"),
        )
    k = known.row(-1, named=True)
    est = pl.lit(k["first_time"]) + pl.duration(
        seconds=(pl.col("first_height") - k["first_height"]) * 600
    )
    return epochs.with_columns(
        pl.coalesce(pl.col("first_time"), est).alias("date"),
        pl.col("first_time").is_null().alias("date_estimated"),
    )


def _cmd_history(args: argparse.Namespace) -> int:
    epochs = _read_epochs(args.file) if args.file else history.difficulty_epochs()
    if epochs.height == 0:
        raise DataFormatError(f"--file {args.file}: no epochs")
    ep = _with_dates(epochs).with_columns(
        (pl.col("difficulty_change") * 100).round(2).alias("change_pct")
    )
    show = ["epoch", "first_height", "date", "date_estimated", "difficulty", "change_pct"]
    last = ep.select(show).tail(args.last)
    moves = ep.filter(pl.col("change_pct").is_not_null())
    drops = moves.sort("change_pct").head(args.top).select(show)
    rises = moves.sort("change_pct", descending=True).head(args.top).select(show)
    years = (
        ep.filter(pl.col("date").is_not_null())
        .group_by(pl.col("date").dt.year().alias("year"))
        .agg(
            pl.len().alias("epochs"),
            pl.col("difficulty").first().alias("first_difficulty"),
            pl.col("difficulty").last().alias("last_difficulty"),
            pl.col("change_pct").max().alias("max_rise_pct"),
            pl.col("change_pct").min().alias("max_drop_pct"),
            pl.col("date_estimated").any().alias("dates_estimated"),
        )
        .sort("year")
        .with_columns(
            ((pl.col("last_difficulty") / pl.col("last_difficulty").shift(1) - 1) * 100)
            .round(1)
            .alias("year_change_pct")
        )
    )
    with _output_dir(args.output) as out:
        _write_frames(
            out,
            {
                "epochs": ep,
                "biggest_drops": drops,
                "biggest_rises": rises,
                "per_year": years,
            },
        )
    _emit_json(args, last)
    src = args.file or "bundled history"
    _say(
        args,
        f"Difficulty epochs {ep['epoch'].min()!r}–{ep['epoch'].max()!r} from {src} "
        "(date: first block; estimated at 600 s/block where unknown)",
    )
    _table(args, f"\nLast {last.height} epochs", last, 2)
    _table(args, f"\nBiggest drops (top {drops.height})", drops, 2)
    _table(args, f"\nBiggest rises (top {rises.height})", rises, 2)
    _table(args, "\nPer year (difficulty at the first and last epoch starting in it)", years, 2)
    return EXIT_OK


def _add_history(sub: Any) -> None:
    s = sub.add_parser(
        "history",
        parents=[_common()],
        help="summaries of the bundled (or a given) difficulty history",
        description=(
            "Summaries of difficulty epochs: the last N epochs, the biggest drops and rises,\n"
            "and a per-year summary. --json prints the last-N table."
        ),
        epilog=(
            "examples:\n"
            "  hashpivot history\n"
            "  hashpivot history --last 20 --top 10\n"
            "  hashpivot history --file epochs.csv --output out/history"
        ),
        formatter_class=_FMT,
    )
    s.add_argument(
        "--file",
        metavar="FILE",
        help="epoch table (CSV/Parquet: epoch, first_height, difficulty[, first_time, …])",
    )
    s.add_argument("--last", type=_positive(int), default=10, help="epochs to list (default 10)")
    s.add_argument("--top", type=_positive(int), default=5, help="drops/rises to list (default 5)")
    s.set_defaults(func=_cmd_history)


# ============================================================================ chain validate


def _cmd_chain_validate(args: argparse.Namespace) -> int:
    from hashpivot import chain

    checkpoint: Any = "auto" if args.checkpoint == "auto" else None
    rep = chain.validate(
        args.file,
        network=args.network,
        mode="report",
        start_height=args.start_height,
        format=args.format,
        checkpoint=checkpoint,
    )
    if rep.height == 0:
        raise DataFormatError(
            f"{args.file}: no headers to validate (the file is empty); pass a file of 80-byte "
            "headers, blk*.dat files, hex (--format hex) or a CSV of header fields"
        )
    bad = rep.filter(pl.col("status") != "ok").select("height", "hash", "status", "detail")
    valid = bad.height == 0
    summary: dict[str, Any] = {
        "file": args.file,
        "network": args.network,
        "headers": rep.height,
        "first_height": None if rep.height == 0 else int(rep["height"][0]),
        "last_height": None if rep.height == 0 else int(rep["height"][-1]),
        "valid": valid,
        "invalid_headers": bad.height,
        "full_context_headers": int(rep["full_context"].sum()) if rep.height else 0,
        "failures": bad.head(100).select("height", "status", "detail").to_dicts(),
    }
    with _output_dir(args.output) as out:
        _write_frames(out, {"report": rep})
    _emit_json(args, [summary])
    if valid:
        _say(
            args,
            f"{args.file}: VALID — {rep.height:,} headers (heights "
            f"{summary['first_height']}–{summary['last_height']}) on {args.network}; "
            f"{summary['full_context_headers']:,} checked with full context",
        )
        return EXIT_OK
    _say(
        args,
        f"{args.file}: INVALID — {bad.height:,} of {rep.height:,} headers fail "
        f"(first at height {bad['height'][0]}: {bad['status'][0]})",
    )
    _table(args, "", bad.head(20))
    return EXIT_FINDING


def _add_chain(sub: Any) -> None:
    c = sub.add_parser(
        "chain",
        help="block-header chains (validate)",
        description="Block-header chain tools.",
        epilog="examples:\n  hashpivot chain validate headers.bin",
        formatter_class=_FMT,
    )
    csub = c.add_subparsers(dest="chain_command", required=True, metavar="{validate}")
    v = csub.add_parser(
        "validate",
        parents=[_common()],
        help="check headers against Bitcoin Core's header rules",
        description=(
            "Check every header (linkage, proof of work, required bits, median time past,\n"
            "BIP94 timewarp) with hashpivot.chain.validate in report mode. Exit 0 when the\n"
            "chain is valid, 3 when any header fails."
        ),
        epilog=(
            "examples:\n"
            "  hashpivot chain validate mainnet_headers_000000_010236.bin\n"
            "  hashpivot chain validate part.bin --start-height 822528 --json\n"
            "  hashpivot chain validate ~/.bitcoin/blocks --output out/check\n\n"
            "--json prints [{file, network, headers, first_height, last_height, valid,\n"
            "invalid_headers, full_context_headers, failures: [{height, status, detail}]}]."
        ),
        formatter_class=_FMT,
    )
    v.add_argument("file", metavar="FILE", help="raw 80-byte headers, blk*.dat / blocks dir, hex")
    v.add_argument(
        "--network", default="mainnet", help="mainnet, testnet3, testnet4, signet, regtest"
    )
    v.add_argument(
        "--start-height", type=int, help="height of the first header (unless it is genesis)"
    )
    v.add_argument(
        "--format", default="auto", choices=["auto", "raw", "blk", "hex"], help="input format"
    )
    v.add_argument(
        "--checkpoint",
        default="auto",
        choices=["auto", "none"],
        help="auto: bundled mainnet epoch boundaries anchor a mid-chain run; none: no context",
    )
    v.set_defaults(func=_cmd_chain_validate)


# ============================================================================ catalog


def _cmd_catalog(args: argparse.Namespace) -> int:
    from hashpivot import hardware

    df = hardware.gpu_catalog() if args.gpu else hardware.asic_catalog()
    kind = "GPU" if args.gpu else "ASIC"
    if args.maker:
        df = df.filter(pl.col("maker").str.to_lowercase() == args.maker.lower())
    if args.search:
        df = df.filter(
            pl.col("model").str.to_lowercase().str.contains(args.search.lower(), literal=True)
        )
    if args.since is not None:
        df = df.filter(pl.col("release_year") >= args.since)
    if args.cooling:
        if args.gpu:
            raise InvalidValueError("--cooling: applies to the ASIC catalog, not --gpu")
        df = df.filter(pl.col("cooling") == args.cooling)
    if args.max_efficiency is not None:
        if args.gpu:
            raise InvalidValueError("--max-efficiency: applies to the ASIC catalog, not --gpu")
        df = df.filter(pl.col("efficiency_jth") <= args.max_efficiency)
    sort = args.sort or ("board_power_w" if args.gpu else "efficiency_jth")
    if sort not in df.columns:
        raise InvalidValueError(
            f"--sort: {sort!r} is not a column of the {kind} catalog; use one of "
            f"{', '.join(df.columns)}"
        )
    df = df.sort(sort, descending=args.desc, nulls_last=True)
    with _output_dir(args.output) as out:
        _write_frames(out, {"gpu_catalog" if args.gpu else "asic_catalog": df})
    _emit_json(args, df)
    _table(
        args,
        f"{kind} catalog: {df.height} models, sorted by {sort}",
        df if args.sources else df.drop("source"),
    )
    return EXIT_OK


def _add_catalog(sub: Any) -> None:
    s = sub.add_parser(
        "catalog",
        parents=[_common()],
        help="bundled ASIC (or --gpu) hardware catalog",
        description="The bundled hardware catalogs (nameplate specs), filtered and sorted.",
        epilog=(
            "examples:\n"
            "  hashpivot catalog\n"
            "  hashpivot catalog --maker Bitmain --since 2023 --sort hashrate_ths --desc\n"
            "  hashpivot catalog --cooling hydro --max-efficiency 16\n"
            "  hashpivot catalog --gpu --sort memory_gb --desc --json"
        ),
        formatter_class=_FMT,
    )
    s.add_argument("--gpu", action="store_true", help="the GPU catalog instead of ASICs")
    s.add_argument("--sort", help="column to sort by (default efficiency_jth / board_power_w)")
    s.add_argument("--desc", action="store_true", help="sort descending")
    s.add_argument("--maker", help="only this maker (case-insensitive)")
    s.add_argument("--search", help="only models whose name contains this text")
    s.add_argument("--since", type=int, help="only models released in or after this year")
    s.add_argument("--cooling", choices=["air", "hydro"], help="ASIC cooling")
    s.add_argument("--max-efficiency", type=_positive(float), help="ASICs at or below this J/TH")
    s.add_argument("--sources", action="store_true", help="show the source column")
    s.set_defaults(func=_cmd_catalog)


# ============================================================================ plugins


def _cmd_plugins(args: argparse.Namespace) -> int:
    from hashpivot import plugins

    pm = plugins.plugin_manager()
    models = plugins.get_revenue_models(pm)
    rows = []
    for p in plugins.list_plugins(pm):
        rows.append(
            {
                "name": p["name"],
                "distribution": p["distribution"],
                "version": p["version"],
                "hooks": p["hooks"],
                "revenue_models": sorted(
                    m for m, pl_ in models.plugin_of.items() if pl_ == p["name"]
                ),
            }
        )
    schema: dict[str, Any] = {
        "name": pl.String,
        "distribution": pl.String,
        "version": pl.String,
        "hooks": pl.List(pl.String),
        "revenue_models": pl.List(pl.String),
    }
    table = pl.DataFrame(rows, schema=schema)
    model_table = pl.DataFrame(
        {
            "model": list(models),
            "plugin": [models.plugin_of[m] for m in models],
            "distribution": [models.distribution_of[m] for m in models],
        },
        schema={"model": pl.String, "plugin": pl.String, "distribution": pl.String},
    )
    failures = pl.DataFrame(
        [
            {
                "plugin": f.plugin,
                "distribution": f.distribution,
                "stage": f.stage,
                "model": f.model,
                "message": f.message,
            }
            for f in models.failures
        ],
        schema={
            "plugin": pl.String,
            "distribution": pl.String,
            "stage": pl.String,
            "model": pl.String,
            "message": pl.String,
        },
    )
    with _output_dir(args.output) as out:
        frames = {"plugins": table, "revenue_models": model_table}
        if failures.height:
            frames["failures"] = failures
        _write_frames(out, frames)
    _emit_json(args, table)
    _table(args, f"Plugins ({table.height})", table)
    _table(args, f"\nRevenue models ({model_table.height})", model_table)
    for f in models.failures:
        print(f"hashpivot: plugin failure: {_one_line(f.as_error())}", file=sys.stderr)
    return EXIT_FINDING if models.failures else EXIT_OK


def _add_plugins(sub: Any) -> None:
    s = sub.add_parser(
        "plugins",
        parents=[_common()],
        help="installed plugins and their revenue models",
        description=(
            "The registered plugins (builtins and entry points), their hooks and revenue\n"
            "models. Exit 3 when a plugin failed to load or register (listed on stderr).\n"
            "The HASHPIVOT_*_PLUGINS environment switches apply (docs/writing-plugins.md)."
        ),
        epilog=(
            "examples:\n"
            "  hashpivot plugins\n"
            "  HASHPIVOT_DISABLE_PLUGIN_AUTOLOAD=1 hashpivot plugins --json"
        ),
        formatter_class=_FMT,
    )
    s.set_defaults(func=_cmd_plugins)


# ============================================================================ parser and main


def _exit_codes_text() -> str:
    return "exit codes:\n" + "\n".join(f"  {k:>3}  {v}" for k, v in EXIT_CODES.items())


def _parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="hashpivot",
        description="Bitcoin mining economics with a consensus-exact core.",
        epilog=(
            "examples:\n"
            "  hashpivot compare                 # the main job on the bundled default site\n"
            "  hashpivot compare mysite.toml --output reports/mysite\n"
            "  hashpivot schedule\n"
            "  hashpivot simulate --paths 1000 --years 2\n"
            '  hashpivot fleet --model "Antminer S21" --count 100 --power-price 0.05\n'
            "  hashpivot chain validate headers.bin\n"
            "  hashpivot <command> --help\n\n" + _exit_codes_text()
        ),
        formatter_class=_FMT,
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="<command>")
    _add_compare(sub)
    _add_run(sub)
    _add_schedule(sub)
    _add_simulate(sub)
    _add_fleet(sub)
    _add_retarget(sub)
    _add_history(sub)
    _add_chain(sub)
    _add_catalog(sub)
    _add_plugins(sub)
    return p


def _one_line(e: BaseException) -> str:
    text = " ".join(str(e).split())
    return text or type(e).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code (:data:`EXIT_CODES`)."""
    # The commands print plugin failures themselves, one line each; without a handler the
    # plugin manager's log warnings would reach stderr a second time (logging's last resort).
    plog = logging.getLogger("hashpivot.plugins")
    if not any(isinstance(h, logging.NullHandler) for h in plog.handlers):
        plog.addHandler(logging.NullHandler())
    try:
        args = _parser().parse_args(argv)
    except SystemExit as e:  # --help (0) and usage errors (2), already printed
        return e.code if isinstance(e.code, int) else EXIT_USAGE
    try:
        return int(args.func(args))
    except BrokenPipeError:  # stdout closed early (`| head`): stop quietly
        with contextlib.suppress(OSError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except KeyboardInterrupt:
        print("hashpivot: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (_OutputError, OutputError) as e:
        print(f"hashpivot: error: cannot write output: {_one_line(e)}", file=sys.stderr)
        return EXIT_OUTPUT
    except HashpivotError as e:
        print(f"hashpivot: error: {_one_line(e)}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as e:  # unreadable input files and the like
        print(f"hashpivot: error: {_one_line(e)}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as e:
        if os.environ.get("HASHPIVOT_DEBUG", "") not in ("", "0"):
            traceback.print_exc()
        print(
            f"hashpivot: internal error: {type(e).__name__}: {_one_line(e)} — this is a bug; "
            "rerun with HASHPIVOT_DEBUG=1 to see the traceback and please report it",
            file=sys.stderr,
        )
        return EXIT_INTERNAL
