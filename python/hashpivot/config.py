"""Site and scenario files: TOML → typed objects, with errors that name file, line and key.

A site file describes one site (capacity, power, fleet), the revenue models it can run (with
parameter overrides), the scenario to simulate and the strategies to compare. The format,
every key, its unit and its default are documented in ``docs/site-files.md``; the bundled
default is ``hashpivot/data/default_site.toml`` (:func:`default_site_path`).

Numbers take the unit in their key's name (``capacity_mw`` is in MW). A string with a unit is
converted: ``capacity_mw = "100000 kW"``, ``power_price_usd_kwh = "45 USD/MWh"``,
``lead_time_days = "18 months"``, ``discount_rate = "10 %"``. A unit of the wrong kind is an
error. Relative file paths are resolved against the site file's folder.

:func:`load_site` returns a :class:`SiteConfig`; every problem raises
:class:`~hashpivot.exceptions.ConfigError` with ``file:line: key: what is wrong; what to do``.
What a run would refuse later is refused here, at its line: model parameters (the models'
own checks, reported at the key they refuse), the scenario (the simulator's checks with zero
paths, mapped to their key by :func:`_scenario_key`) and staged conversions (replayed).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import difflib
import math
import numbers
import re
import sys
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import polars as pl

from hashpivot import _core, hardware, scenario
from hashpivot._files import first_non_number, not_text
from hashpivot.exceptions import ConfigError, HashpivotError
from hashpivot.plugins import get_revenue_models
from hashpivot.revenue import RevenueModel, SiteContext
from hashpivot.strategy import Stage, Staged, StageError, Static, Strategy, SwitchRule

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

__all__ = [
    "SiteConfig",
    "default_site_path",
    "load_site",
    "parse_quantity",
]

KeyPath = tuple[str | int, ...]

# --------------------------------------------------------------------------- locations


class _Locator:
    """Maps key paths (``("strategy", 2, "mix", "ai_colocation")``) to 1-based lines.

    A small scanner of TOML structure (headers, keys, arrays, inline tables, strings,
    comments); ``tomllib`` does the real parsing, and this only finds where things are.
    A construct it does not follow leaves that key without a line (the nearest enclosing
    key's line is used), never a wrong parse.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines: dict[KeyPath, int] = {}
        self.i = 0
        self.line = 1
        with contextlib.suppress(IndexError, ValueError):
            self._document()

    # -- lookup
    def find(self, path: KeyPath) -> int | None:
        p = tuple(path)
        while p:
            if p in self.lines:
                return self.lines[p]
            p = p[:-1]
        return None

    # -- scanner
    def _peek(self, k: int = 0) -> str:
        j = self.i + k
        return self.text[j] if j < len(self.text) else ""

    def _adv(self, k: int = 1) -> None:
        for _ in range(k):
            if self.i < len(self.text) and self.text[self.i] == "\n":
                self.line += 1
            self.i += 1

    def _ws(self, newlines: bool) -> None:
        while self.i < len(self.text):
            c = self.text[self.i]
            if c in " \t\r" or (newlines and c == "\n"):
                self._adv()
            elif c == "#":
                while self.i < len(self.text) and self.text[self.i] != "\n":
                    self._adv()
            else:
                return

    def _string(self) -> str:
        q = self._peek()
        if self.text.startswith(q * 3, self.i):
            self._adv(3)
            end = self.text.index(q * 3, self.i)
            while self.text.startswith(q, end + 3):
                end += 1
            s = self.text[self.i : end]
            self._adv(end + 3 - self.i)
            return s
        self._adv()
        out = []
        while self._peek() not in (q, "\n", ""):
            if q == '"' and self._peek() == "\\":
                out.append(self._peek(1))
                self._adv(2)
                continue
            out.append(self._peek())
            self._adv()
        self._adv()
        return "".join(out)

    def _key(self) -> list[str]:
        parts: list[str] = []
        while True:
            self._ws(False)
            if self._peek() in ('"', "'"):
                parts.append(self._string())
            else:
                start = self.i
                while self._peek() and (self._peek().isalnum() or self._peek() in "_-"):
                    self._adv()
                if self.i == start:
                    raise ValueError("no key")
                parts.append(self.text[start : self.i])
            self._ws(False)
            if self._peek() == ".":
                self._adv()
                continue
            return parts

    def _resolve(self, keys: list[str], aot: dict[KeyPath, int], new_aot: bool) -> KeyPath:
        out: list[str | int] = []
        for n, k in enumerate(keys):
            out.append(k)
            t = tuple(out)
            last = n == len(keys) - 1
            if last and new_aot:
                aot[t] = aot.get(t, 0) + 1
            if t in aot:
                out.append(aot[t] - 1)
        return tuple(out)

    def _document(self) -> None:
        table: KeyPath = ()
        aot: dict[KeyPath, int] = {}
        while True:
            self._ws(True)
            if self.i >= len(self.text):
                return
            line = self.line
            if self._peek() == "[":
                is_aot = self._peek(1) == "["
                self._adv(2 if is_aot else 1)
                keys = self._key()
                self._adv(2 if is_aot else 1)
                table = self._resolve(keys, aot, is_aot)
                self.lines.setdefault(table, line)
                continue
            keys = self._key()
            path = (*table, *keys)
            self.lines.setdefault(path, line)
            if self._peek() != "=":
                raise ValueError("expected =")
            self._adv()
            self._value(path)

    def _value(self, path: KeyPath) -> None:
        self._ws(False)
        c = self._peek()
        if c in ('"', "'"):
            self._string()
        elif c == "[":
            self._adv()
            idx = 0
            while True:
                self._ws(True)
                if self._peek() == "]":
                    self._adv()
                    return
                self.lines.setdefault((*path, idx), self.line)
                self._value((*path, idx))
                idx += 1
                self._ws(True)
                if self._peek() == ",":
                    self._adv()
        elif c == "{":
            self._adv()
            while True:
                self._ws(False)
                if self._peek() == "}":
                    self._adv()
                    return
                line = self.line
                keys = self._key()
                self.lines.setdefault((*path, *keys), line)
                self._adv()  # '='
                self._value((*path, *keys))
                self._ws(False)
                if self._peek() == ",":
                    self._adv()
        else:
            while self._peek() not in (",", "]", "}", "\n", "#", ""):
                self._adv()


def _show(path: KeyPath) -> str:
    out = ""
    for k in path:
        if isinstance(k, int):
            out += f"[{k}]"
        else:
            out += ("." if out else "") + k
    return out or "(top level)"


@dataclass
class _Ctx:
    file: str
    base_dir: Path
    loc: _Locator

    def error(self, path: KeyPath, problem: str) -> ConfigError:
        line = self.loc.find(path)
        where = f"{self.file}:{line}" if line is not None else self.file
        return ConfigError(f"{where}: {_show(path)}: {problem}")


# --------------------------------------------------------------------------- units

_NUM = r"[-+]?(?:\d[\d_]*\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)"
_QTY = re.compile(rf"^\s*({_NUM})\s*(.*?)\s*$")

#: key suffix → (kind, {unit spelling (lowercase, no spaces): factor to the key's unit}).
_UNITS: dict[str, tuple[str, dict[str, float]]] = {
    "_mw": ("a power", {"w": 1e-6, "kw": 1e-3, "mw": 1.0, "gw": 1e3}),
    "_kw": ("a power", {"w": 1e-3, "kw": 1.0, "mw": 1e3}),
    "_w": ("a power", {"w": 1.0, "kw": 1e3}),
    "_usd_kwh": (
        "an energy price",
        {
            "usd/kwh": 1.0,
            "$/kwh": 1.0,
            "usd/mwh": 1e-3,
            "$/mwh": 1e-3,
            "c/kwh": 1e-2,
            "¢/kwh": 1e-2,
        },
    ),
    "_usd_per_mw": (
        "a cost per MW",
        {"usd/mw": 1.0, "$/mw": 1.0, "usd/kw": 1e3, "$/kw": 1e3, "musd/mw": 1e6, "m$/mw": 1e6},
    ),
    "_usd_kw_month": (
        "a price per kW-month",
        {"usd/kw-month": 1.0, "$/kw-month": 1.0, "usd/kw/month": 1.0, "$/kw/month": 1.0}
        | {"usd/mw-month": 1e-3, "$/mw-month": 1e-3, "usd/mw/month": 1e-3, "$/mw/month": 1e-3},
    ),
    "_usd_mw_month": (
        "a cost per MW-month",
        {"usd/mw-month": 1.0, "$/mw-month": 1.0, "usd/mw/month": 1.0, "$/mw/month": 1.0}
        | {"usd/kw-month": 1e3, "$/kw-month": 1e3, "usd/kw/month": 1e3, "$/kw/month": 1e3},
    ),
    "_usd_mw_day": ("a price per MW-day", {"usd/mw-day": 1.0, "$/mw-day": 1.0}),
    "_usd_per_gpu": ("a price per GPU", {"usd": 1.0, "$": 1.0, "usd/gpu": 1.0, "$/gpu": 1.0}),
    "_usd_hr": ("a price per hour", {"usd/h": 1.0, "$/h": 1.0, "usd/hr": 1.0, "$/hr": 1.0}),
    "_usd_ph_day": ("a hashprice", {"usd/ph/day": 1.0, "$/ph/day": 1.0, "usd/ph-day": 1.0}),
    "_usd_th": ("a price per TH/s", {"usd/th": 1.0, "$/th": 1.0}),
    "_usd": ("an amount of money", {"usd": 1.0, "$": 1.0, "kusd": 1e3, "musd": 1e6}),
    "_btc": ("an amount of bitcoin", {"btc": 1.0, "sat": 1e-8, "sats": 1e-8}),
    "_jth": ("an efficiency", {"j/th": 1.0, "w/(th/s)": 1.0}),
    "_ths": ("a hashrate", {"th/s": 1.0, "ph/s": 1e3, "eh/s": 1e6}),
    "_ehs": ("a hashrate", {"eh/s": 1.0, "ph/s": 1e-3, "zh/s": 1e3}),
    "_days": (
        "a duration",
        {"d": 1.0, "day": 1.0, "days": 1.0, "week": 7.0, "weeks": 7.0}
        | {"month": 365.25 / 12, "months": 365.25 / 12, "y": 365.25, "year": 365.25}
        | {"years": 365.25},
    ),
    "_years": (
        "a duration",
        {"y": 1.0, "year": 1.0, "years": 1.0, "month": 1 / 12, "months": 1 / 12}
        | {"d": 1 / 365.25, "day": 1 / 365.25, "days": 1 / 365.25},
    ),
    "_day": ("a day count", {"d": 1.0, "day": 1.0, "days": 1.0}),
    "_doy": ("a day of year", {"d": 1.0}),
}
_PERCENT = {"%": 0.01, "percent": 0.01, "bp": 1e-4, "bps": 1e-4}


def _unit_of(key: str) -> tuple[str, dict[str, float]] | None:
    for suffix in sorted(_UNITS, key=len, reverse=True):
        if key.endswith(suffix) or key == suffix[1:]:
            return _UNITS[suffix]
    return None


def parse_quantity(key: str, value: object) -> float:
    """Convert ``value`` (a number, or a string ``"<number> <unit>"``) to the unit of ``key``.

    The unit is named by the key's suffix (``_mw``, ``_usd_kwh``, ``_days`` …; see
    ``docs/site-files.md``). Keys without a unit suffix take plain numbers or percentages.

    Raises
    ------
    ValueError
        The value is not a number, or its unit is of another kind than the key's.
    """
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is a boolean; expected a number")
    if isinstance(value, int | float):
        return float(value)
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is a {type(value).__name__}; expected a number")
    m = _QTY.match(value)
    if m is None:
        raise ValueError(f"{value!r} is not a number with an optional unit")
    num = float(m.group(1).replace("_", ""))
    unit = m.group(2).lower().replace(" ", "")
    if unit == "":
        return num
    spec = _unit_of(key)
    if unit in _PERCENT:
        if spec is not None:
            raise ValueError(
                f"{value!r} is not {spec[0]} (a percentage); {key} takes a plain number or "
                f"one of: {_unit_hint(spec[1])}"
            )
        return num * _PERCENT[unit]
    if spec is None:
        raise ValueError(f"{value!r} has unit {m.group(2)!r}, but {key} takes a plain number or %")
    kind, table = spec
    if unit not in table:
        raise ValueError(
            f"{value!r} is not {kind} (unit {m.group(2)!r}); use one of: {_unit_hint(table)}"
        )
    return num * table[unit]


def _unit_hint(table: Mapping[str, float]) -> str:
    """The units a key takes, for messages."""
    return ", ".join(sorted({u for u in table if u.isascii()}))


# --------------------------------------------------------------------------- typed reading

_MISSING: Any = object()
_MAX_YEARS = 50


class _Table:
    """One TOML table being read: typed getters that remember which keys were used."""

    def __init__(self, ctx: _Ctx, data: Mapping[str, Any], path: KeyPath) -> None:
        self.ctx, self.data, self.path = ctx, data, path
        self.used: set[str] = set()

    def has(self, key: str) -> bool:
        return key in self.data

    def err(self, key: str | int | None, problem: str) -> ConfigError:
        return self.ctx.error(self.path if key is None else (*self.path, key), problem)

    def _raw(self, key: str, default: Any, what: str) -> Any:
        self.used.add(key)
        if key in self.data:
            return self.data[key]
        if default is _MISSING:
            raise self.err(None, f"missing key {key!r}; add {key} = <{what}>")
        return default

    def number(
        self,
        key: str,
        default: Any = _MISSING,
        *,
        what: str = "a number",
        gt: float | None = None,
        ge: float | None = None,
        le: float | None = None,
        lt: float | None = None,
    ) -> Any:
        v = self._raw(key, default, what)
        if key not in self.data:
            return v
        try:
            x = parse_quantity(key, v)
        except ValueError as e:
            raise self.err(key, f"{e}; expected {what}") from None
        if not math.isfinite(x):
            raise self.err(key, f"{v!r} is not finite; expected {what}")
        bounds: list[tuple[float | None, str, bool]] = [
            (gt, ">", x > (gt or 0)),
            (ge, ">=", x >= (ge or 0)),
            (le, "<=", x <= (le or 0)),
            (lt, "<", x < (lt or 0)),
        ]
        for b, op, ok in bounds:
            if b is not None and not ok:
                raise self.err(key, f"must be {op} {b:g}, got {v!r}; expected {what}")
        return x

    def mw(self, key: str, cap: float, *, what: str, positive: bool = False) -> float:
        """Megawatts: a number (MW), a power with its unit (``"500 kW"``, ``"0.1 GW"``) or a
        share of the site's ``cap`` MW (``"40 %"``, ``"40 percent"``, ``"4000 bp"``)."""
        v = self._raw(key, _MISSING, what)
        if isinstance(v, str):
            m = _QTY.match(v)
            unit = m.group(2).lower().replace(" ", "") if m else ""
            scale = {
                "": 1.0, "mw": 1.0, "kw": 1e-3, "gw": 1e3, "w": 1e-6,
                "%": cap / 100.0, "percent": cap / 100.0, "pct": cap / 100.0, "bp": cap / 1e4,
            }.get(unit)  # fmt: skip
            if m is None or scale is None:
                raise self.err(
                    key,
                    f'{v!r}: expected {what} — MW (40, "500 kW") or a share of the '
                    f'site\'s {cap:g} MW ("40 %")',
                )
            x = float(m.group(1).replace("_", "")) * scale
        elif isinstance(v, int | float) and not isinstance(v, bool):
            x = float(v)
        else:
            raise self.err(key, f"{v!r} is a {type(v).__name__}; expected {what}")
        if not math.isfinite(x) or x < 0 or (positive and x == 0):
            op = ">" if positive else ">="
            raise self.err(key, f"must be {op} 0 MW, got {v!r}; expected {what}")
        return x

    def integer(self, key: str, default: Any = _MISSING, *, what: str, ge: int = 0) -> Any:
        v = self.number(key, default, what=what, ge=ge)
        if key not in self.data:
            return v
        if isinstance(self.data[key], str) and not self.data[key].strip()[-1:].isdigit():
            return round(v)  # a quantity with a unit ("18 months"): to the nearest whole unit
        if v != int(v):
            raise self.err(key, f"{self.data[key]!r} is not a whole number; expected {what}")
        return int(v)

    def string(self, key: str, default: Any = _MISSING, *, what: str = "a string") -> Any:
        v = self._raw(key, default, what)
        if key not in self.data:
            return v
        if not isinstance(v, str):
            raise self.err(key, f"{v!r} is a {type(v).__name__}; expected {what}")
        return v

    def choice(self, key: str, choices: Sequence[str], default: Any = _MISSING) -> Any:
        what = " or ".join(repr(c) for c in choices)
        v = self.string(key, default, what=what)
        if key in self.data and v not in choices:
            raise self.err(key, f"{v!r} is not one of {what}{_did_you_mean(v, choices)}")
        return v

    def boolean(self, key: str, default: Any = _MISSING) -> Any:
        v = self._raw(key, default, "true or false")
        if key in self.data and not isinstance(v, bool):
            raise self.err(key, f"{v!r} is not a boolean; expected true or false")
        return v

    def table(self, key: str, *, required: bool = False) -> _Table | None:
        self.used.add(key)
        if key not in self.data:
            if required:
                raise self.err(None, f"missing table [{_show((*self.path, key))}]")
            return None
        v = self.data[key]
        if not isinstance(v, dict):
            raise self.err(key, f"is a {type(v).__name__}; expected a table ({key} = {{...}})")
        return _Table(self.ctx, v, (*self.path, key))

    def tables(self, key: str) -> list[_Table]:
        self.used.add(key)
        v = self.data.get(key, [])
        if isinstance(v, dict):
            v = [v]
        if not isinstance(v, list) or not all(isinstance(x, dict) for x in v):
            raise self.err(key, f"expected an array of tables ([[{_show((*self.path, key))}]])")
        return [_Table(self.ctx, x, (*self.path, key, i)) for i, x in enumerate(v)]

    def path_value(self, key: str) -> Path | None:
        v = self.string(key, None, what="a file path")
        if v is None:
            return None
        p = Path(v).expanduser()
        return p if p.is_absolute() else self.ctx.base_dir / p

    def finish(self, allowed: Sequence[str] = ()) -> None:
        known = set(self.used) | set(allowed)
        for k in self.data:
            if k not in known:
                raise self.err(
                    k,
                    f"unknown key{_did_you_mean(k, sorted(known))}; known keys: "
                    f"{', '.join(sorted(known)) or '(none)'}",
                )


def _did_you_mean(word: str, choices: Sequence[str]) -> str:
    m = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {m[0]!r}?)" if m else ""


def _override(t: _Table, obj: Any, *, skip: Sequence[str] = ()) -> Any:
    """``dataclasses.replace(obj, **values)`` for every key of ``t`` that names a field.

    Values are converted by the field's declared type (float, int, bool, str, or None-able
    versions) and by the unit of the key's suffix.
    """
    hints = typing.get_type_hints(type(obj))
    fields = {f.name for f in dataclasses.fields(obj) if f.init} - set(skip) - {"name"}
    changes: dict[str, Any] = {}
    for key in list(t.data):
        if key in t.used:
            continue
        if key not in fields:
            continue
        field = key
        hint = hints[field]
        args = set(typing.get_args(hint)) or {hint}
        args.discard(type(None))
        if typing.get_origin(hint) is Literal:
            changes[field] = t.choice(key, [str(a) for a in typing.get_args(hint)])
        elif typing.get_origin(hint) is tuple or tuple in {typing.get_origin(a) for a in args}:
            raw = t._raw(key, _MISSING, "an array of numbers")
            if not isinstance(raw, list):
                raise t.err(key, f"{raw!r} is not an array; expected an array of numbers")
            vals = []
            for i, x in enumerate(raw):
                try:
                    vals.append(parse_quantity(key, x))
                except ValueError as e:
                    raise t.err(key, f"item {i}: {e}") from None
            changes[field] = tuple(vals)
        elif bool in args:
            changes[field] = t.boolean(key)
        elif int in args and float not in args:
            changes[field] = t.integer(key, what=f"a whole number ({field})", ge=-(2**62))
        elif float in args:
            changes[field] = t.number(key, what=f"a number ({field})")
        elif str in args:
            changes[field] = t.string(key)
        else:
            raise t.err(key, f"{field} cannot be set from a site file (type {hint})")
    try:
        return dataclasses.replace(obj, **changes)
    except (HashpivotError, ValueError, TypeError) as e:
        # The class checks its fields (``__post_init__``): find the key that it rejects
        # alone, in file order, and report it at that key's line; a rule that ties several
        # fields together is reported at the table.
        for key, value in changes.items():
            try:
                dataclasses.replace(obj, **{key: value})
            except (HashpivotError, ValueError, TypeError) as one:
                raise t.err(key, _strip_field(str(one), obj, key)) from None
        raise t.err(None, str(e)) from None


def _strip_field(message: str, obj: Any, field: str) -> str:
    """``message`` without a leading ``Class.field: `` (the key path names the field)."""
    prefix = f"{type(obj).__name__}.{field}: "
    return message[len(prefix) :] if message.startswith(prefix) else message


def _field_names(obj: Any, skip: Sequence[str] = ()) -> list[str]:
    return [f.name for f in dataclasses.fields(obj) if f.init and f.name not in skip]


# --------------------------------------------------------------------------- series


def _read_frame(t: _Table, key: str, path: Path) -> pl.DataFrame:
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            return pl.read_parquet(path)
        if path.suffix.lower() in (".csv", ".txt", ".tsv"):
            why = not_text(path)
            if why:
                raise t.err(key, f"cannot read {str(path)!r}: {why}")
            return pl.read_csv(
                path, try_parse_dates=True, separator="\t" if path.suffix == ".tsv" else ","
            )
    except (OSError, pl.exceptions.PolarsError) as e:
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise t.err(
            key,
            f"cannot read {str(path)!r}: {msg}; check the path (relative paths "
            "are taken from the site file's folder) and that it is CSV or Parquet",
        ) from None
    raise t.err(key, f"{str(path)!r}: unknown file type {path.suffix!r}; use .csv or .parquet")


_TIME_COLS = ("time", "timestamp", "datetime", "date", "hour")


def _shift_years(d: dt.date, years: int) -> dt.date:
    """``d`` moved by whole calendar years (29 February → 28 February in other years)."""
    y = d.year + years
    return d.replace(year=y, day=28) if (d.month, d.day) == (2, 29) else d.replace(year=y)


def _periodic_from(vals: list[float], first: dt.date | None, day0: dt.date, n: int) -> list[float]:
    """``n`` daily values from ``day0`` on of a repeated series.

    * No dates: from its first row, repeated with its own length as the period.
    * Dates spanning at least a year: each day takes the value of its own date when the file
      has it, else of the same calendar day shifted by a multiple of the file's whole years
      into its first whole years (a typical year from 1 January gives every 1 March the
      value of 1 March, leap years included; 29 February falls back to 28 February).
    * Dates spanning less than a year: repeated with its own length as the period, anchored
      at its first date.
    """
    if first is None:
        reps = -(-n // len(vals))
        return (vals * reps)[:n]
    last = first + dt.timedelta(days=len(vals) - 1)
    years = 0
    while _shift_years(first, years + 1) <= last + dt.timedelta(days=1):
        years += 1
    if years == 0 or first.year + years > dt.MAXYEAR - 200:
        offset = (day0 - first).days % len(vals)
        reps = -(-(offset + n) // len(vals))
        return (vals * reps)[offset : offset + n]
    out = []
    for k in range(n):
        d = day0 + dt.timedelta(days=k)
        if not first <= d <= last:
            # whole periods of `years` years back or forward into [first, first + years)
            m = (d.year - first.year) // years
            d = _shift_years(d, -m * years)
            if d < first:
                d = _shift_years(d, years)
            elif d >= _shift_years(first, years):
                d = _shift_years(d, -years)
        out.append(vals[(d - first).days])
    return out


def _daily_series(
    t: _Table, key: str, path: Path, columns: Mapping[str, float], what: str
) -> tuple[list[float], dt.date | None]:
    """A daily series from a CSV/Parquet file: one of ``columns`` (name → factor to the
    target unit); daily means per UTC day when there is a time column (hourly data; every
    calendar day from the first to the last must then be present), else one row per day.
    Returns the values and the date of the first (``None`` without a time column)."""
    df = _read_frame(t, key, path)
    col = next((c for c in columns if c in df.columns), None)
    if col is None:
        raise t.err(
            key,
            f"{str(path)!r} has no column {' or '.join(map(repr, columns))} "
            f"(columns: {', '.join(df.columns)}); name the {what} column so",
        )
    if df.schema[col] == pl.String:  # name the first cell that is not a number
        row = first_non_number(df[col])
        if row is not None:
            raise t.err(
                key, f"{path!s}:{row + 2}: {col} is {df[col][row]!r}, not a number; fix the cell"
            )
        df = df.with_columns(pl.col(col).str.strip_chars().cast(pl.Float64))
    if df.height == 0:
        raise t.err(key, f"{str(path)!r} has no rows under its header; give one value a day")
    if not df.schema[col].is_numeric():
        raise t.err(
            key, f"{str(path)!r}: column {col!r} has dtype {df.schema[col]}; expected numbers"
        )
    tcol = next((c for c in _TIME_COLS if c in df.columns), None)
    s = df.select(pl.col(col).cast(pl.Float64) * columns[col], *([pl.col(tcol)] if tcol else []))
    nulls = s[col].is_null()
    if nulls.any():
        row = int(nulls.arg_true()[0])
        raise t.err(key, f"{path!s}:{row + 2}: {col} is empty; fill or drop the row")
    if tcol is not None:
        tt = s.schema[tcol]
        if tt == pl.String:
            try:
                s = s.with_columns(pl.col(tcol).str.to_datetime(time_zone=None, strict=True))
            except pl.exceptions.PolarsError:
                raise t.err(key, f"{str(path)!r}: column {tcol!r} is not a date/time") from None
        elif not (tt == pl.Date or isinstance(tt, pl.Datetime)):
            raise t.err(key, f"{str(path)!r}: column {tcol!r} has dtype {tt}; expected dates")
        missing = s[tcol].is_null()
        if missing.any():
            row = int(missing.arg_true()[0])
            raise t.err(key, f"{path!s}:{row + 2}: {tcol} is empty; fill or drop the row")
        ts = s.schema[tcol]
        if isinstance(ts, pl.Datetime) and ts.time_zone is not None:
            # days are UTC days, as the run's (a zoned time column is grouped by UTC date)
            s = s.with_columns(pl.col(tcol).dt.convert_time_zone("UTC"))
        s = (
            s.group_by(pl.col(tcol).dt.date(), maintain_order=True)
            .agg(pl.col(col).mean())
            .sort(tcol)
        )
        days = s[tcol]
        gap = days.diff().dt.total_days().fill_null(1) != 1
        if gap.any():
            i = int(gap.arg_true()[0])
            a, b = days[i - 1], days[i]
            raise t.err(
                key,
                f"{str(path)!r} has no rows from {a + dt.timedelta(days=1)} to "
                f"{b - dt.timedelta(days=1)} ({(b - a).days - 1} day(s)); the series is "
                "applied by date, so give every day (hourly data: at least one hour a day)",
            )
    first: dt.date | None = s[tcol][0] if tcol is not None and s.height else None
    vals: list[float] = s[col].to_list()
    if not vals:
        raise t.err(key, f"{str(path)!r} has no rows")
    if any(v < 0 for v in vals):
        raise t.err(key, f"{str(path)!r}: {col} has negative values; expected {what} >= 0")
    if what == "power price" and max(vals) > 10.0:
        i = max(range(len(vals)), key=vals.__getitem__)
        raise t.err(
            key,
            f"{str(path)!r}: {col} reaches {vals[i]:g} $/kWh (day {i + 1}), above the 10 $/kWh "
            "a site price may be; a $/MWh file needs the column price_usd_mwh",
        )
    return vals, first


# --------------------------------------------------------------------------- the config


@dataclass(frozen=True)
class SiteConfig:
    """A loaded site file: everything ``hashpivot compare`` needs.

    Attributes
    ----------
    source
        The file it came from (``None`` when built in code).
    site
        The :class:`~hashpivot.revenue.SiteContext` (capacity, fleet efficiency, fixed power
        price when the contract is ``"fixed"``).
    fleet
        The site's machines (:class:`~hashpivot.hardware.Fleet`).
    power_contract
        ``"index"``: the site pays the simulated daily power price; ``"fixed"``: a flat price.
    scenario
        The :class:`~hashpivot.scenario.Scenario` to simulate.
    paths, years, seed
        Simulation size and seed.
    discount_rate, cvar_level, quantiles
        Evaluation settings (:func:`hashpivot.strategy.evaluate`).
    models
        Revenue models by name, with the file's parameter overrides applied.
    strategies
        The strategies to compare, in file order.
    title
        Report title.
    """

    source: Path | None
    site: SiteContext
    fleet: hardware.Fleet
    power_contract: Literal["index", "fixed"]
    scenario: scenario.Scenario
    paths: int
    years: float
    seed: int
    discount_rate: float
    cvar_level: float
    quantiles: tuple[float, ...]
    models: dict[str, RevenueModel]
    strategies: list[Strategy]
    title: str

    @property
    def fleet_power_mw(self) -> float:
        """IT power of the fleet at nameplate (MW)."""
        f = self.fleet.frame
        return float((f["count"] * f["power_w"]).sum()) / 1e6

    @property
    def fleet_hashrate_ths(self) -> float:
        """Nameplate hashrate of the fleet (TH/s)."""
        f = self.fleet.frame
        return float((f["count"] * f["hashrate_ths"]).sum())

    def with_run(
        self, *, paths: int | None = None, years: float | None = None, seed: int | None = None
    ) -> SiteConfig:
        """A copy with other simulation settings. The file's load-time checks (a price file
        long enough for ``years``, say) are not run again: to have them, pass the overrides to
        :func:`load_site` (``paths=``, ``years=``, ``seed=``), as the command line does."""
        return dataclasses.replace(
            self,
            paths=self.paths if paths is None else paths,
            years=self.years if years is None else years,
            seed=self.seed if seed is None else seed,
        )


def default_site_path() -> Path:
    """The bundled default site file (``hashpivot/data/default_site.toml``)."""
    return Path(str(resources.files("hashpivot") / "data" / "default_site.toml"))


def load_site(
    path: str | Path | None = None,
    *,
    paths: int | None = None,
    years: float | None = None,
    seed: int | None = None,
) -> SiteConfig:
    """Load a site file (default: the bundled ``default_site.toml``).

    ``paths``, ``years`` and ``seed``, when given, replace the file's ``[scenario]`` values
    (command-line overrides) *before* the checks, so that a price file too short for a longer
    ``years``, say, is reported at its ``file:line`` like any other mistake in the file.

    Raises
    ------
    ConfigError
        The file cannot be read, is not valid TOML, or a key is missing, unknown, of the
        wrong type or unit, or out of range (including the ranges of the models' parameters
        and of the scenario the simulator checks, price files too short for ``years``, and
        stages moving more MW than a model holds). The message names ``file:line``, the key,
        and what is expected.
    """
    p = default_site_path() if path is None else Path(path)
    label = p.name if path is None else str(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{label}: cannot read the site file: {e}") from None
    return loads_site(
        text,
        file=label,
        base_dir=p.resolve().parent,
        source=p,
        paths=paths,
        years=years,
        seed=seed,
    )


def loads_site(
    text: str,
    *,
    file: str = "<string>",
    base_dir: Path | None = None,
    source: Path | None = None,
    paths: int | None = None,
    years: float | None = None,
    seed: int | None = None,
) -> SiteConfig:
    """Load a site file from its text (see :func:`load_site`)."""
    run = _run_overrides(paths, years, seed)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        m = re.search(r"at line (\d+)", str(e))
        where = f"{file}:{m.group(1)}" if m else file
        raise ConfigError(f"{where}: not valid TOML: {e}") from None
    ctx = _Ctx(file, base_dir or Path.cwd(), _Locator(text))
    try:
        return _build(_Table(ctx, data, ()), source, run)
    except ConfigError as e:
        if not run:
            raise
        given = ", ".join(f"{k} = {v:g}" if k == "years" else f"{k} = {v}" for k, v in run.items())
        raise ConfigError(f"{e} (checked with {given} from the command line)") from None


def _run_overrides(
    paths: int | None, years: float | None, seed: int | None
) -> dict[str, int | float]:
    """The given run overrides, checked as the file's own values are."""
    run: dict[str, int | float] = {}
    limits = {"paths": (1.0, math.inf), "years": (0.0, float(_MAX_YEARS)), "seed": (0.0, math.inf)}
    whats = {
        "paths": "a whole number of paths >= 1",
        "years": f"a horizon in (0, {_MAX_YEARS}] years",
        "seed": "a whole number >= 0",
    }
    for name, v in (("paths", paths), ("years", years), ("seed", seed)):
        if v is None:
            continue
        whole = name != "years"
        lo, hi = limits[name]
        good = isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v)
        in_range = good and (lo <= v <= hi if whole else lo < v <= hi)
        if not in_range or (whole and not float(v).is_integer()):
            raise ConfigError(f"{name}={v!r}: expected {whats[name]}")
        run[name] = int(v) if whole else float(v)
    return run


# --------------------------------------------------------------------------- sections


def _fleet(site: _Table) -> hardware.Fleet:
    entries = site.tables("fleet")
    file = site.path_value("fleet_file")
    if file is not None and entries:
        raise site.err("fleet_file", "give either fleet_file or [[site.fleet]] entries, not both")
    if file is not None:
        frame = _read_frame(site, "fleet_file", file)
        try:
            return hardware.Fleet(frame)
        except HashpivotError as e:
            raise site.err("fleet_file", f"{file}: {e}") from None
    if not entries:
        raise site.err(
            None,
            'no fleet; add [[site.fleet]] entries (model = "Antminer S21", count = '
            '1000) or fleet_file = "fleet.csv"',
        )
    catalog = hardware.asic_catalog()["model"].to_list()
    rows = []
    for ent in entries:
        model = ent.string("model", what="a hardware model name")
        row: dict[str, Any] = {
            "model": model,
            "count": ent.integer("count", what="a number of machines", ge=0),
            "hashrate_ths": ent.number("hashrate_ths", None, what="TH/s per machine", gt=0),
            "power_w": ent.number("power_w", None, what="W per machine", gt=0),
            "price_usd": ent.number("price_usd", 0.0, what="USD per machine", ge=0),
        }
        if model not in catalog and (row["hashrate_ths"] is None or row["power_w"] is None):
            raise ent.err(
                "model",
                f"{model!r} is not in the hardware catalog"
                f"{_did_you_mean(model, catalog)}; use a catalog name (hashpivot catalog) or "
                "give hashrate_ths and power_w for custom hardware",
            )
        pd = ent._raw("purchase_date", None, "a date")
        if pd is not None and not isinstance(pd, dt.date):
            raise ent.err("purchase_date", f"{pd!r} is not a date; write it as 2024-05-01")
        row["purchase_date"] = pd
        ent.finish()
        rows.append(row)
    schema = {
        "model": pl.String,
        "count": pl.Int64,
        "hashrate_ths": pl.Float64,
        "power_w": pl.Float64,
        "price_usd": pl.Float64,
        "purchase_date": pl.Date,
    }
    try:
        return hardware.Fleet(pl.DataFrame(rows, schema=schema))
    except HashpivotError as e:
        raise site.err("fleet", str(e)) from None


def _models(doc: _Table, pue: float | None) -> dict[str, RevenueModel]:
    registry = get_revenue_models()
    models: dict[str, RevenueModel] = dict(registry.models)
    if pue is not None:
        for name in ("self_mining", "asic_hosting"):
            m = models.get(name)
            if m is not None and dataclasses.is_dataclass(m) and hasattr(m, "overhead_k"):
                models[name] = dataclasses.replace(m, overhead_k=pue)
    sec = doc.table("models")
    if sec is None:
        return models
    for name in list(sec.data):
        t = sec.table(name)
        assert t is not None
        base_name = t.string("base", name, what="the name of an installed revenue model")
        base = models.get(base_name)
        if base is None:
            failed = [f for f in registry.failures if f.model == base_name]
            why = f" (its plugin failed: {failed[0].message})" if failed else ""
            raise t.err(
                "base" if t.has("base") else None,
                f"unknown revenue model {base_name!r}{why}"
                f"{_did_you_mean(base_name, sorted(models))}; "
                f"installed: {', '.join(sorted(models))} (or set base = one of them to define "
                "a variant)",
            )
        if not dataclasses.is_dataclass(base):
            if len(t.data) > ("base" in t.data):
                raise t.err(None, f"model {base_name!r} has no overridable parameters")
            if name != base_name:
                raise t.err(
                    "base",
                    f"model {base_name!r} is not a dataclass, so it cannot be copied under "
                    f"another name; use [models.{base_name}] and refer to it as {base_name!r}",
                )
            models[name] = base
            continue
        m = _override(t, base)
        if name != base_name:
            m = dataclasses.replace(m, name=name)
        t.finish(_field_names(base, skip=("name",)))
        models[name] = m
    return models


def _mix(t: _Table, key: str, models: Mapping[str, RevenueModel], cap: float) -> dict[str, float]:
    raw = t._raw(key, _MISSING, "a table of model = MW")
    if not isinstance(raw, dict) or not raw:
        raise t.err(key, "expected a table of revenue model = MW, e.g. { self_mining = 100 }")
    sub = _Table(t.ctx, raw, (*t.path, key))
    out: dict[str, float] = {}
    for m in raw:
        if m not in models:
            raise sub.err(
                m,
                f"unknown revenue model {m!r}{_did_you_mean(m, sorted(models))}; "
                f"installed: {', '.join(sorted(models))}",
            )
        out[m] = sub.mw(m, cap, what="MW for the model")
    total = sum(out.values())
    if total > cap * (1 + 1e-9):
        raise t.err(key, f"allocates {total:g} MW but the site has {cap:g} MW; lower the mix")
    return out


def _model_name(
    t: _Table, key: str, models: Mapping[str, RevenueModel], default: Any = _MISSING
) -> Any:
    v = t.string(key, default, what="a revenue model name")
    if t.has(key) and v not in models:
        raise t.err(
            key,
            f"unknown revenue model {v!r}{_did_you_mean(v, sorted(models))}; installed: "
            f"{', '.join(sorted(models))}",
        )
    return v


def _strategies(doc: _Table, models: Mapping[str, RevenueModel], cap: float) -> list[Strategy]:
    entries = doc.tables("strategy")
    if not entries:
        raise doc.err(None, "no strategies; add [[strategy]] tables (see docs/site-files.md)")
    out: list[Strategy] = []
    seen: dict[str, int] = {}
    for t in entries:
        name = t.string("name", what="a strategy name")
        if not name.strip():
            raise t.err("name", "is empty; give the strategy a name (it labels the report)")
        if name in seen:
            raise t.err("name", f"strategy name {name!r} is used twice; names must be unique")
        seen[name] = 1
        kinds = [k for k in ("mix", "stages", "switch") if t.has(k)]
        kind = t.choice("kind", ("static", "staged", "switch"), None)
        if kind is None:
            if len(kinds) != 1:
                raise t.err(
                    None,
                    "give exactly one of mix = {...} (static), stages = [...] (staged) "
                    "or switch = {...} (rule-based switching)",
                )
            kind = {"mix": "static", "stages": "staged", "switch": "switch"}[kinds[0]]
        try:
            strat = _one_strategy(t, name, kind, models, cap)
        except ConfigError:
            raise
        except HashpivotError as e:  # a rule of the strategy classes not repeated here
            raise t.err(None, str(e)) from None
        t.finish()
        out.append(strat)
    return out


def _one_strategy(
    t: _Table, name: str, kind: str, models: Mapping[str, RevenueModel], cap: float
) -> Strategy:
    """One ``[[strategy]]`` table of kind ``kind``, checked."""
    strat: Strategy
    if kind == "static":
        strat = Static(name, _mix(t, "mix", models, cap))
    elif kind == "staged":
        start = _mix(t, "start", models, cap)
        stages = []
        raw = t._raw("stages", _MISSING, "an array of stages")
        if not isinstance(raw, list) or not all(isinstance(x, dict) for x in raw):
            raise t.err("stages", "expected an array of {at_day, mw, from, to} tables")
        if not raw:
            raise t.err(
                "stages",
                "is empty; give at least one stage {at_day, mw, from, to}, or use "
                "mix = {...} for a plan that never changes",
            )
        for i, st in enumerate(raw):
            s = _Table(t.ctx, st, (*t.path, "stages", i))
            stages.append(
                Stage(
                    at_day=s.integer("at_day", what="the day of the stage (0 = start)"),
                    mw=s.mw("mw", cap, what="MW moved", positive=True),
                    from_model=_model_name(s, "from", models, None),
                    to_model=_model_name(s, "to", models, None),
                )
            )
            if stages[-1].from_model is not None and stages[-1].from_model == stages[-1].to_model:
                raise s.err("to", f"is {stages[-1].to_model!r}, the model the MW come from")
            s.finish()
        strat = Staged(
            name,
            start,
            stages,
            lead_time_days=t.integer("lead_time_days", 0, what="days"),
            switch_cost_usd_per_mw=t.number("switch_cost_usd_per_mw", 0.0, ge=0),
        )
        try:  # the strategy's own replay of its stages, so the error can name the line
            strat.replay(SiteContext(capacity_mw=cap))
        except StageError as e:
            raise t.ctx.error((*t.path, "stages", e.stage, "mw"), str(e)) from None
    else:
        start = _mix(t, "start", models, cap)
        sw = t.table("switch", required=True)
        assert sw is not None
        below = sw.number("below", None, what="a threshold of the signal")
        above = sw.number("above", None, what="a threshold of the signal")
        if (below is None) == (above is None):
            raise sw.err(None, "give exactly one of below = <x> or above = <x>")
        from_model, to_model = _model_name(sw, "from", models), _model_name(sw, "to", models)
        if from_model == to_model:
            raise sw.err("to", f"is {to_model!r}, the model the MW come from")
        rule = SwitchRule(
            name,
            start,
            from_model=from_model,
            to_model=to_model,
            mw=sw.mw("mw", cap, what="MW to move", positive=True),
            below=below,
            above=above,
            signal=sw.choice("signal", _SIGNALS, "hashprice_usd_ph_day"),
            window_days=sw.integer("window_days", 30, what="days", ge=1),
            lead_time_days=sw.integer("lead_time_days", 0, what="days"),
            switch_cost_usd_per_mw=sw.number("switch_cost_usd_per_mw", 0.0, ge=0),
        )
        sw.finish()
        if rule.mw > start.get(rule.from_model, 0.0) + 1e-9:
            raise sw.err(
                "mw",
                f"moves {rule.mw:g} MW out of {rule.from_model!r}, which starts "
                f"with {start.get(rule.from_model, 0.0):g} MW",
            )
        strat = rule
    return strat


_SIGNALS = tuple(c for c, d in scenario.DAILY_SCHEMA.items() if d == pl.Float64())

#: Labels of the scenario checks (``scenario._to_core`` and the core's validation) → the
#: site-file key they come from (``None``: the table of the price model, see below).
_SCENARIO_LABELS: dict[str, KeyPath] = {
    "years": ("scenario", "years"),
    "start_price_usd": ("scenario", "start_price_usd"),
    "price start_usd": ("scenario", "start_price_usd"),
    "price_usd (given)": ("scenario", "price", "file"),
    "price bootstrap": ("scenario", "price", "file"),
    "price bootstrap returns": ("scenario", "price", "file"),
    "price log_returns": ("scenario", "price", "file"),
    "power_price_usd_kwh (given)": ("site", "power_series"),
    "power_price_usd_kwh (given_hourly)": ("site", "power_series"),
    "power base_usd_kwh": ("site", "power_price_usd_kwh"),
    "power tranches": ("scenario", "network"),
    "power tranche_mult": ("scenario", "network", "tranche_mult"),
    "power tranche_weight": ("scenario", "network", "tranche_weight"),
    "mix": ("scenario", "network", "mix"),
    "Fleet": ("scenario", "network"),
    "correlation": ("scenario", "correlation"),
}
_SCENARIO_PREFIXES: dict[str, KeyPath] = {
    "price": ("scenario", "price"),
    "GBM": ("scenario", "price"),
    "fees": ("scenario", "fees"),
    "Fees": ("scenario", "fees"),
    "power": ("scenario", "power"),
    "Power": ("scenario", "power"),
    "gpu": ("scenario", "gpu"),
    "GpuRent": ("scenario", "gpu"),
    "fleet": ("scenario", "network"),
    "Fleet": ("scenario", "network"),
    "mix": ("scenario", "network", "mix"),
    "start": ("scenario", "start_epoch"),
}


def _scenario_key(message: str) -> KeyPath:
    """The site-file key a scenario check's message is about (``"price sigma: -1 …"`` →
    ``scenario.price.sigma``; ``"shock fraction (row 2): …"`` → ``scenario.shocks[2]
    .fraction``); ``scenario`` when the label is not recognised."""
    label = message.split(": ", 1)[0]
    row_m = re.search(r" \((?:row|height) (\d+)\)$", label)
    row = int(row_m.group(1)) if row_m else None
    bare = label[: row_m.start()] if row_m else label
    if bare in _SCENARIO_LABELS:
        path = _SCENARIO_LABELS[bare]
        if bare.startswith("mix") and row is not None:
            return (*path, row)
        return path
    shock = re.fullmatch(r"shocks\[(\d+)\]\.(\w+)", bare)  # Python side: shocks[2].days
    if shock:
        return ("scenario", "shocks", int(shock.group(1)), shock.group(2))
    if bare.startswith("shock"):  # the core: "shock fraction (row 2)"
        field = bare.split(" ", 1)[1] if " " in bare else ""
        if row is None:
            return ("scenario", "shocks")
        return ("scenario", "shocks", row, field) if field else ("scenario", "shocks", row)
    parts = re.split(r"[ .]", bare, maxsplit=1)
    head, field = parts[0], (parts[1] if len(parts) > 1 else "")
    base = _SCENARIO_PREFIXES.get(head)
    if base is None:
        return ("scenario",)
    if head == "mix" and row is not None:
        return (*base, row, field) if field else (*base, row)
    if head == "start":
        return base
    return (*base, field) if re.fullmatch(r"\w+", field) else base


def _check_scenario(t: _Table, sc: scenario.Scenario, years: float) -> None:
    """Run the scenario checks of ``simulate`` (Python side and the core's validation)
    without simulating a path, so that a bad value fails here with its file and line."""
    try:
        cfg, params = scenario._to_core(sc, scenario._n_days(years))
        _core.simulate_paths(cfg, params, 0, 0, 0)  # 0 paths: validation only
    except HashpivotError as e:
        path = _scenario_key(str(e))
        while len(path) > 1 and path not in t.ctx.loc.lines:
            path = path[:-1]
        raise t.ctx.error(path, str(e)) from None


def _price_paths(
    t: _Table, f: Path, paths: int, years: float, start: scenario.ChainStart
) -> scenario.GivenPaths:
    """``[scenario.price] model = "paths"``: one BTC price path per simulated path from a
    CSV/Parquet file with ``path``, ``date`` (or ``day``) and ``price_usd``, checked here so
    that errors name the file and line."""
    df = _read_frame(t, "file", f)
    keys = [c for c in ("path", "date", "day") if c in df.columns]
    if "price_usd" not in df.columns or "path" not in keys or len(keys) < 2:
        raise t.err(
            "file",
            f"{str(f)!r} has columns {', '.join(df.columns)}; a price paths file needs path, "
            "date (or day) and price_usd",
        )
    g = scenario.GivenPaths(df.select(*keys[:2], "price_usd"), column="price_usd")
    csv = f.suffix.lower() in (".csv", ".txt", ".tsv")
    try:
        checked = scenario._given(
            "price_usd",
            g,
            scenario._n_days(years),
            start.time // 86_400,
            positive=True,
            row_label=(lambda r: f"{f}:{r + 2}") if csv else (lambda r: f"{f} row {r}"),
        )
    except HashpivotError as e:
        raise t.err("file", str(e)) from None
    rows = checked[1] if checked is not None else 0
    if rows < paths:
        raise t.err(
            "file",
            f"{str(f)!r} has {rows} price paths but [scenario] paths = {paths}; give at least "
            "as many paths or lower paths",
        )
    return g


def _scenario(
    doc: _Table,
    power_price: float,
    power_series: tuple[list[float], dt.date | None] | None,
    run: Mapping[str, int | float],
) -> tuple[scenario.Scenario, int, float, int, float, float, tuple[float, ...]]:
    t = doc.table("scenario") or _Table(doc.ctx, {}, ("scenario",))
    paths = t.integer("paths", 10_000, what="a number of paths", ge=1)
    years = t.number("years", 5.0, what="the horizon in years", gt=0, le=_MAX_YEARS)
    seed = t.integer("seed", 0, what="a seed (integer >= 0)")
    paths = int(run.get("paths", paths))
    years = float(run.get("years", years))
    seed = int(run.get("seed", seed))
    discount = t.number(
        "discount_rate", 0.10, what='an annual rate as a fraction (0.10 or "10 %")', gt=-1, le=1
    )
    cvar = t.number("cvar_level", 0.05, what="a tail share in (0, 1]", gt=0, le=1)
    q_raw = t._raw("quantiles", [0.05, 0.25, 0.5, 0.75, 0.95], "an array of quantiles")
    if not isinstance(q_raw, list) or not all(
        isinstance(q, int | float) and not isinstance(q, bool) and 0 <= q <= 1 for q in q_raw
    ):
        raise t.err("quantiles", f"{q_raw!r}: expected an array of numbers in [0, 1]")
    from hashpivot.strategy import quantile_column

    names: dict[str, float] = {}
    for q in q_raw:
        col = quantile_column(q)
        if col in names:
            raise t.err(
                "quantiles",
                f"{names[col]!r} and {q!r} both give the column {col}; list each quantile once",
            )
        names[col] = q
    epoch_raw = t._raw("start_epoch", "latest", '"latest" or an epoch number')
    try:
        if epoch_raw == "latest":
            start = scenario.ChainStart.from_epoch()
        elif isinstance(epoch_raw, int) and not isinstance(epoch_raw, bool):
            start = scenario.ChainStart.from_epoch(epoch_raw)
        else:
            raise t.err("start_epoch", f'{epoch_raw!r}: expected "latest" or an epoch number')
    except HashpivotError as e:
        if isinstance(e, ConfigError):
            raise
        raise t.err("start_epoch", str(e)) from None
    start_price = t.number("start_price_usd", 66_680.0, what="the BTC price in USD", gt=0, le=1e12)
    price: scenario.PriceModel = scenario.GBM()
    pt = t.table("price")
    if pt is not None:
        kind = pt.choice("model", ("gbm", "bootstrap", "series", "paths"), "gbm")
        if kind == "gbm":
            price = _override(pt, scenario.GBM())
            pt.finish(_field_names(price))
        elif kind == "bootstrap":
            f = pt.path_value("file")
            if f is None:
                raise pt.err(None, 'bootstrap needs file = "prices.csv" (columns date, price_usd)')
            frame = _read_frame(pt, "file", f)
            try:
                rets = scenario.log_returns(frame)
            except HashpivotError as e:
                raise pt.err("file", f"{f}: {e}") from None
            price = scenario.Bootstrap(
                rets.to_list(), block_days=pt.integer("block_days", 30, what="days", ge=1)
            )
            pt.finish()
        elif kind == "paths":
            f = pt.path_value("file")
            if f is None:
                raise pt.err(
                    None, 'paths needs file = "price_paths.parquet" (columns path, date, price_usd)'
                )
            price = _price_paths(pt, f, paths, years, start)
            pt.finish()
        else:
            f = pt.path_value("file")
            if f is None:
                raise pt.err(None, 'series needs file = "prices.csv" (column price_usd)')
            price = scenario.GivenPath(
                _daily_series(pt, "file", f, {"price_usd": 1.0}, "BTC price (USD)")[0]
            )
            pt.finish()

    def sub(key: str, obj: Any, skip: Sequence[str] = ()) -> Any:
        st = t.table(key)
        if st is None:
            return obj
        out = _override(st, obj, skip=skip)
        st.finish(_field_names(obj, skip=skip))
        return out

    fees = sub("fees", scenario.Fees(), skip=("given",))
    gpu = sub("gpu", scenario.GpuRent(), skip=("given",))
    power = sub(
        "power",
        scenario.Power(base_usd_kwh=power_price),
        skip=("given", "given_hourly", "base_usd_kwh"),
    )
    if power_series is not None:
        vals, first = power_series
        day0 = dt.datetime.fromtimestamp(start.time, tz=dt.timezone.utc).date()  # the run's day 0
        power = dataclasses.replace(
            power, given=_periodic_from(vals, first, day0, _MAX_YEARS * 366)
        )
    net = t.table("network")
    fleet = scenario.Fleet()
    if net is not None:
        rows = net.tables("mix")
        mix = None
        if rows:
            mix = pl.DataFrame(
                {
                    "efficiency_jth": [r.number("efficiency_jth", what="J/TH", gt=0) for r in rows],
                    "hashrate_share": [
                        r.number("hashrate_share", what="a share of hashrate", ge=0) for r in rows
                    ],
                }
            )
            for r in rows:
                r.finish()
        fleet = _override(net, scenario.Fleet(), skip=("mix",))
        fleet = dataclasses.replace(fleet, mix=mix)
        net.finish(_field_names(fleet, skip=("mix",)))
    shocks = []
    for s in t.tables("shocks"):
        shocks.append(
            scenario.Shock(
                start_day=s.integer("start_day", what="the first day (0 = start)"),
                days=s.integer("days", what="a number of days", ge=1),
                fraction=s.number("fraction", what="a share of hashrate in [0, 1]", ge=0, le=1),
            )
        )
        s.finish()
    corr = t._raw("correlation", None, "a 4×4 matrix")
    if corr is not None and (
        not isinstance(corr, list)
        or len(corr) != 4
        or not all(isinstance(r, list) and len(r) == 4 for r in corr)
    ):
        raise t.err(
            "correlation", "expected a 4×4 matrix [[...], ...] of (price, fees, power, GPU rent)"
        )
    for i, row in enumerate(corr or []):
        for j, x in enumerate(row):
            if isinstance(x, bool) or not isinstance(x, int | float):
                raise t.err(
                    "correlation",
                    f"row {i + 1}, column {j + 1}: {x!r} is not a number; expected correlations "
                    "in [-1, 1]",
                )
    t.finish()
    sc = scenario.Scenario(
        price=price,
        start_price_usd=start_price,
        fees=fees,
        power=power,
        gpu=gpu,
        fleet=fleet,
        shocks=tuple(shocks),
        start=start,
    )
    if corr:
        sc = dataclasses.replace(sc, correlation=tuple(tuple(float(x) for x in r) for r in corr))
    _check_scenario(t, sc, years)
    return sc, paths, years, seed, discount, cvar, tuple(float(q) for q in q_raw)


def _build(doc: _Table, source: Path | None, run: Mapping[str, int | float]) -> SiteConfig:
    site_t = doc.table("site", required=True)
    assert site_t is not None
    name = site_t.string("name", "site", what="a site name")
    if not name.strip():
        raise site_t.err("name", "is empty; give the site a name (it titles the report)")
    cap = site_t.number("capacity_mw", what="the grid connection in MW", gt=0)
    pue = site_t.number("pue", None, what="wall power / IT power (>= 1)", ge=1, le=3)
    power_price = site_t.number(
        "power_price_usd_kwh", what="the site's power price in USD/kWh", ge=0, le=10
    )
    contract = site_t.choice("power_contract", ("index", "fixed"), "index")
    series_path = site_t.path_value("power_series")
    fleet = _fleet(site_t)
    site_t.finish()
    power_series: tuple[list[float], dt.date | None] | None = None
    if series_path is not None:
        if contract == "fixed":
            raise site_t.err("power_series", 'a power series needs power_contract = "index"')
        # repeated (a typical year, say) up to the longest allowed horizon, by date when
        # the file has dates (_periodic_from)
        power_series = _daily_series(
            site_t,
            "power_series",
            series_path,
            {"power_price_usd_kwh": 1.0, "price_usd_kwh": 1.0, "price_usd_mwh": 1e-3},
            "power price",
        )

    f = fleet.frame
    ths = float((f["count"] * f["hashrate_ths"]).sum())
    watts = float((f["count"] * f["power_w"]).sum())
    if ths <= 0:
        raise site_t.err("fleet", "the fleet has no hashrate (all counts are 0)")
    site = SiteContext(
        capacity_mw=cap,
        efficiency_jth=watts / ths,
        power_price_usd_kwh=power_price if contract == "fixed" else None,
        name=name,
    )
    models = _models(doc, pue)
    strategies = _strategies(doc, models, cap)
    sc, paths, years, seed, discount, cvar, quantiles = _scenario(
        doc, power_price, power_series, run
    )
    report = doc.table("report")
    title = name
    if report is not None:
        title = report.string("title", name, what="a report title")
        report.finish()
    doc.finish()
    return SiteConfig(
        source=source,
        site=site,
        fleet=fleet,
        power_contract=contract,
        scenario=sc,
        paths=paths,
        years=years,
        seed=seed,
        discount_rate=discount,
        cvar_level=cvar,
        quantiles=quantiles,
        models=models,
        strategies=strategies,
        title=title,
    )
