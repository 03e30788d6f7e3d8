"""Strategies: how a site's MW are allocated among revenue models over time, and their value.

Three kinds (ECONOMICS.md §4):

* :class:`Static` — a fixed mix of MW per model for the whole horizon (fixed);
* :class:`Staged` — a planned conversion: at given days, MW move from one model to another,
  the same on every path (fixed: decided in advance);
* :class:`SwitchRule` — a state-contingent rule, e.g. "move 40 MW from self-mining to AI
  colocation when the 30-day mean hashprice falls below $45/PH/day" (flexible: it reacts to
  each path).

Moves carry a strategy-level ``switch_cost_usd_per_mw`` (decommissioning, moving machines;
on the trigger day) and ``lead_time_days`` (the MW sit idle between leaving one model and
joining the other). These come *on top of* the models' own capex and lead times (an AI hall's
conversion capex and build time are parameters of :class:`~hashpivot.builtin_plugins.
ai_colocation.AiColocation`).

:func:`evaluate` runs every strategy over every path and day of a scenario and returns polars
frames: per path NPV, IRR, payback; per strategy mean, quantiles, P(loss), CVaR; and the value
of flexibility (best flexible minus best fixed strategy, by mean NPV).
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections import Counter
from collections.abc import Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import polars as pl

from hashpivot import _core
from hashpivot.exceptions import DtypeError, InvalidValueError
from hashpivot.plugins import PluginFailure, RevenueModels, get_revenue_models
from hashpivot.revenue import (
    DAYS_PER_MONTH,
    DAYS_PER_YEAR,
    MAX_TRANCHES,
    LinearRevenueModel,
    PreparedScenario,
    RevenueModel,
    SiteContext,
    allocation_series,
    prepare_scenario,
    validate_cash_flows,
    with_service_age,
)
from hashpivot.scenario import quantile_tag

__all__ = [
    "Allocation",
    "Evaluation",
    "Stage",
    "Staged",
    "Static",
    "Steps",
    "Strategy",
    "SwitchRule",
    "evaluate",
    "quantile_column",
]

SWITCHING = "switching"
_EPS_MW = 1e-9


Day = int | pl.Series
"""A day index (0 = first day), or per path (Int64 Series in path order; null = never)."""


@dataclass
class Steps:
    """A model's MW over time: ``start_mw`` from day 0 plus signed steps ``(mw, day)``."""

    start_mw: float
    steps: list[tuple[float, Day]] = field(default_factory=list)
    key: Hashable = None

    def monotone(self) -> bool:
        """All steps add, or all steps remove."""
        signs = {x > 0 for x, _ in self.steps}
        return len(signs) <= 1

    def materialize(self, scenario: PreparedScenario) -> pl.Series:
        """The row-aligned Float64 ``mw`` Series."""
        mw = allocation_series(self.start_mw, scenario)
        day = scenario.frame["day"]
        for x, d in self.steps:
            mw = mw + (day >= _row_day(d, scenario)).cast(pl.Float64) * x
        return mw.alias("mw")


def _row_day(d: Day, scenario: PreparedScenario) -> int | pl.Series:
    if isinstance(d, int):
        return d
    never = scenario.n_days + 1
    rows = pl.int_range(0, scenario.frame.height, eager=True) // scenario.n_days
    return d.fill_null(never).gather(rows)


@dataclass
class Allocation:
    """A strategy's MW per model as :class:`Steps`, plus its own switching costs.

    ``switch_capex`` lists ``(usd, day)`` spent by the strategy itself (not by a model).
    """

    mw: dict[str, Steps]
    switch_capex: list[tuple[float, Day]] = field(default_factory=list)


class Strategy(Protocol):
    """What :func:`evaluate` needs from a strategy."""

    @property
    def name(self) -> str:
        """The strategy's unique name (a row of the decision table)."""
        ...

    @property
    def flexible(self) -> bool:
        """True when the allocation reacts to the path (a rule), False for fixed plans."""
        ...

    def models(self) -> set[str]:
        """Names of the revenue models the strategy uses."""
        ...

    def allocate(self, site: SiteContext, scenario: PreparedScenario) -> Allocation:
        """The MW per model on every scenario row."""
        ...


def _check_mix(name: str, mix: Mapping[str, float], site: SiteContext) -> None:
    for m, v in mix.items():
        if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
            raise InvalidValueError(
                f"strategy {name!r}: MW for model {m!r} must be a finite number >= 0, got {v!r}"
            )
    total = sum(mix.values())
    if total > site.capacity_mw + _EPS_MW:
        raise InvalidValueError(
            f"strategy {name!r} allocates {total:g} MW but site {site.name!r} has "
            f"{site.capacity_mw:g} MW; lower the mix or raise SiteContext.capacity_mw"
        )


def _check_move(who: str, from_model: str | None, to_model: str | None) -> None:
    """A move goes somewhere else: from a model to itself is a mistake, not a no-op."""
    if from_model is not None and from_model == to_model:
        raise InvalidValueError(
            f"{who}: moves MW from {from_model!r} to itself; name the model the MW go to "
            "(to_model), or drop the move"
        )


def _is_number(v: Any) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def _check_name(name: Any) -> str:
    if not isinstance(name, str):
        raise DtypeError(
            f"strategy name must be a str, got {name!r} ({type(name).__name__}); name each "
            'strategy, e.g. Static("all_mining", {"self_mining": 100.0})'
        )
    return name


#: The largest day a strategy may name (~27,000 years: far past any horizon, and far from
#: the 64-bit overflows of day arithmetic).
MAX_DAY = 10_000_000


def _check_days(who: str, field_name: str, v: Any, minimum: int = 0) -> int:
    """A day count: an int (or an integral float such as ``30.0``) >= ``minimum``.

    ``who`` names the position (``strategy 'x'`` or ``strategy 'x' stage 2``)."""
    if not _is_number(v):
        raise DtypeError(
            f"{who}: {field_name} must be a whole number of days (an int), got {v!r} "
            f"({type(v).__name__}); pass e.g. {field_name}={max(minimum, 30)}"
        )
    if isinstance(v, numbers.Integral):
        days = int(v)
    else:
        f = float(v)
        if not (math.isfinite(f) and f.is_integer()):
            hint = f", e.g. {field_name}={max(minimum, round(f))}" if math.isfinite(f) else ""
            raise InvalidValueError(
                f"{who}: {field_name} must be a whole number of days >= {minimum}, got {v!r}; "
                f"the model works in whole days: round it{hint}"
            )
        days = int(f)
    if days < minimum:
        fix = (
            "days count forward (a negative wait would run MW in two places at once); use 0 "
            "for no wait"
            if minimum == 0
            else f"use {minimum} or more"
        )
        raise InvalidValueError(
            f"{who}: {field_name} must be a whole number of days >= {minimum}, got {v!r}; {fix}"
        )
    if days > MAX_DAY:
        raise InvalidValueError(
            f"{who}: {field_name} is {days} days, more than {MAX_DAY:,} (~27,000 years); a "
            "move past the horizon never happens: use a day within a few horizons"
        )
    return days


def _check_day(who: str, v: Any, n_paths: int) -> Day:
    """A day of an :class:`Allocation` returned by a strategy: a whole number of days >= 0,
    or an integer Series of one day per path (null = never; integral floats are accepted)."""
    if not isinstance(v, pl.Series):
        return _check_days(who, "day", v)
    if v.len() != n_paths:
        raise InvalidValueError(
            f"{who}: a per-path day Series needs one value per path ({n_paths}), got "
            f"{v.len()}; return days in path order"
        )
    if v.dtype == pl.Null:  # all null: never, on every path
        days = v.cast(pl.Int64)
    elif v.dtype.is_integer():
        if v.dtype == pl.UInt64 and v.max() is not None and v.max() >= 2**63:  # type: ignore[operator]
            i = int(v.arg_max() or 0)
            raise InvalidValueError(f"{who}: day of path {i} is {v[i]}; use null for never")
        days = v.cast(pl.Int64)
    elif v.dtype.is_float():
        whole = v.is_finite() & (v == v.floor()) & (v.abs() < 2.0**62)
        bad = v.is_not_null() & ~whole.fill_null(False)
        if bad.any():
            i = int(bad.arg_true()[0])
            raise InvalidValueError(
                f"{who}: day of path {i} is {v[i]!r}; days must be whole numbers (the model "
                "works in whole days): round them, or use null for never"
            )
        days = v.cast(pl.Int64)
    else:
        raise DtypeError(
            f"{who}: a per-path day Series must hold integers, got {v.dtype}; return an Int64 "
            "Series (null = never)"
        )
    neg = (days < 0).fill_null(False)
    if neg.any():
        i = int(neg.arg_true()[0])
        raise InvalidValueError(
            f"{who}: day of path {i} is {days[i]}; days count from 0 (the first day), use null "
            "for never"
        )
    far = (days > MAX_DAY).fill_null(False)
    if far.any():
        i = int(far.arg_true()[0])
        raise InvalidValueError(
            f"{who}: day of path {i} is {days[i]}, more than {MAX_DAY:,}; use null for never"
        )
    out: pl.Series = days
    return out


def _check_pair(where: str, pair: Any, amount: str, n_paths: int) -> tuple[float, Day]:
    """An ``(amount, day)`` pair of an :class:`Allocation`: a step ``(mw, day)`` or a
    switching outlay ``(usd, day)``."""
    if not (isinstance(pair, tuple | list) and len(pair) == 2):
        raise DtypeError(f"{where}: expected a pair ({amount}, day), got {pair!r}")
    x, d = pair
    if not _is_number(x) or not math.isfinite(float(x)):
        raise InvalidValueError(f"{where}: {amount} must be a finite number, got {x!r}")
    return float(x), _check_day(where, d, n_paths)


def _check_allocation(
    name: str, alloc: Any, n_paths: int, site: SiteContext, known: Collection[str]
) -> Allocation:
    """What a strategy's ``allocate`` returned, checked (custom strategies included) so that
    a mistake is named here instead of failing deep inside the evaluation: the types, whole
    days, registered model names, no model below 0 MW and the total within the site's
    capacity on any day of any path. Returns it with days as ints or Int64 Series (a copy of
    the same classes)."""
    who = f"strategy {name!r}: allocate()"
    if not isinstance(alloc, Allocation):
        raise DtypeError(
            f"{who} returned {type(alloc).__name__}; return a hashpivot.strategy.Allocation"
        )
    if not isinstance(alloc.mw, Mapping):
        raise DtypeError(f"{who}: Allocation.mw must be a dict of model name -> Steps")
    if not isinstance(alloc.switch_capex, list | tuple):
        raise DtypeError(f"{who}: Allocation.switch_capex must be a list of (usd, day) pairs")
    mw: dict[str, Steps] = {}
    for model, st in alloc.mw.items():
        at = f"{who} model {model!r}"
        if not isinstance(model, str):
            raise DtypeError(f"{at}: Allocation.mw keys must be model names (str)")
        if model not in known:
            raise InvalidValueError(
                f"{at}: no revenue model of that name is registered ({', '.join(sorted(known))})"
            )
        if not isinstance(st, Steps) or not isinstance(st.steps, list | tuple):
            raise DtypeError(f"{at}: Allocation.mw values must be Steps, got {type(st).__name__}")
        start = _check_number(at, "start_mw", st.start_mw, "MW", positive=False)
        steps = [_check_pair(f"{at} step {i}", p, "mw", n_paths) for i, p in enumerate(st.steps)]
        mw[model] = dataclasses.replace(st, start_mw=start, steps=steps)
    capex = [
        _check_pair(f"{who} switch_capex {i}", p, "usd", n_paths)
        for i, p in enumerate(alloc.switch_capex)
    ]
    _check_levels(who, mw, site)
    return dataclasses.replace(alloc, mw=mw, switch_capex=capex)


def _check_levels(who: str, mw: dict[str, Steps], site: SiteContext) -> None:
    """No model below 0 MW and at most ``site.capacity_mw`` in all, after the steps of every
    day on which some step happens (the MW only change on those days), on every path."""
    never = 2**62

    def taken(d: Day, at: Day) -> bool | pl.Series:  # has the step on day d happened by `at`?
        if isinstance(d, int) and isinstance(at, int):
            return d <= at
        ds = d if isinstance(d, pl.Series) else pl.Series([d])
        ats = at if isinstance(at, pl.Series) else pl.Series([at])
        return (ds.is_not_null() & (ds <= ats.fill_null(never))).fill_null(False)

    def first(bad: bool | pl.Series, at: Day) -> str | None:
        if isinstance(bad, pl.Series):
            if not bad.any():
                return None
            p = int(bad.arg_true()[0])
            day = at[p] if isinstance(at, pl.Series) else at
            return f"on day {day} of path {p}" if day is not None else f"on path {p}"
        return f"on day {at}" if bad else None

    days: list[Day] = [0]
    days.extend(d for st in mw.values() for _, d in st.steps)
    for at in days:
        total: float | pl.Series = 0.0
        for model, st in mw.items():
            level: float | pl.Series = st.start_mw
            for x, d in st.steps:
                on = taken(d, at)
                level = level + (on.cast(pl.Float64) * x if isinstance(on, pl.Series) else x * on)
            where = first(level < -_EPS_MW, at)
            if where:
                raise InvalidValueError(
                    f"{who}: model {model!r} would hold less than 0 MW {where}; a step removes "
                    "more MW than the model holds then"
                )
            total = total + level
        where = first(total > site.capacity_mw + _EPS_MW, at)
        if where:
            raise InvalidValueError(
                f"{who}: the models would hold more than the site's {site.capacity_mw:g} MW "
                f"{where}; lower the allocation or raise SiteContext.capacity_mw"
            )


def _check_number(who: str, field_name: str, v: Any, what: str, *, positive: bool) -> float:
    """A finite number >= 0 (``positive``: > 0)."""
    if not _is_number(v):
        raise DtypeError(
            f"{who}: {field_name} must be a number ({what}), got {v!r} ({type(v).__name__}); "
            "pass a float"
        )
    f = float(v)
    if not (math.isfinite(f) and (f > 0 if positive else f >= 0)):
        op = ">" if positive else ">="
        raise InvalidValueError(
            f"{who}: {field_name} must be a finite number {op} 0 ({what}), got {v!r}"
        )
    return f


def _check_model(who: str, field_name: str, v: Any, optional: bool) -> str | None:
    if v is None and optional:
        return None
    if not isinstance(v, str):
        alt = " or None" if optional else ""
        raise DtypeError(
            f"{who}: {field_name} must be a revenue model name (str){alt}, got {v!r} "
            f'({type(v).__name__}); e.g. "self_mining"'
        )
    return v


def _check_mix_types(strategy: str, where: str, mix: Any) -> dict[str, float]:
    """Model name → MW, each a finite number >= 0; returned as a new dict of floats."""
    if not isinstance(mix, Mapping):
        raise DtypeError(
            f"strategy {strategy!r}: {where} must be a mapping of model name to MW, got "
            f'{type(mix).__name__}; pass a dict such as {{"self_mining": 100.0}}'
        )
    out: dict[str, float] = {}
    for m, v in mix.items():
        if not isinstance(m, str):
            raise DtypeError(
                f"strategy {strategy!r}: {where} key {m!r} ({type(m).__name__}) must be a "
                'revenue model name (str), e.g. "self_mining"'
            )
        if not _is_number(v):
            raise DtypeError(
                f"strategy {strategy!r}: {where}[{m!r}] = {v!r} is a {type(v).__name__}; MW must "
                f"be a number, e.g. {{{m!r}: 100.0}}"
            )
        try:
            f = float(v)
        except OverflowError:
            f = math.inf
        if not (math.isfinite(f) and f >= 0):
            shown = repr(v) if len(repr(v)) <= 40 else f"{repr(v)[:20]}… ({len(repr(v))} digits)"
            raise InvalidValueError(
                f"strategy {strategy!r}: MW for model {m!r} in {where} must be a finite number "
                f">= 0, got {shown}"
            )
        out[m] = f
    return out


@dataclass(frozen=True)
class Static:
    """A fixed mix: ``mix`` maps model name → MW, for every day and path."""

    name: str
    mix: Mapping[str, float]

    def __post_init__(self) -> None:
        name = _check_name(self.name)
        object.__setattr__(self, "mix", _check_mix_types(name, "mix", self.mix))

    @property
    def flexible(self) -> bool:
        return False

    def models(self) -> set[str]:
        return {m for m, v in self.mix.items() if v > 0}

    def allocate(self, site: SiteContext, scenario: PreparedScenario) -> Allocation:
        _check_mix(self.name, self.mix, site)
        return Allocation(
            mw={m: Steps(float(v), key=("const", float(v))) for m, v in self.mix.items() if v > 0}
        )


@dataclass(frozen=True)
class Stage:
    """Move ``mw`` MW from ``from_model`` to ``to_model`` on day ``at_day`` (0 = first day).

    ``from_model=None`` takes unallocated capacity; ``to_model=None`` leaves the MW idle.
    :class:`Staged` checks its stages when it is built (``at_day`` a whole number of days
    >= 0, ``mw`` a finite number > 0, the models names or None); the error names the strategy
    and the stage.
    """

    at_day: int
    mw: float
    from_model: str | None
    to_model: str | None


@dataclass(frozen=True)
class Staged:
    """A planned conversion: start from ``start`` (model → MW) and apply ``stages`` in order."""

    name: str
    start: Mapping[str, float]
    stages: Sequence[Stage]
    lead_time_days: int = 0
    switch_cost_usd_per_mw: float = 0.0

    def __post_init__(self) -> None:
        name = _check_name(self.name)
        who = f"strategy {name!r}"
        object.__setattr__(self, "start", _check_mix_types(name, "start", self.start))
        if not isinstance(self.stages, Iterable) or isinstance(self.stages, (str, Mapping)):
            raise DtypeError(
                f"strategy {name!r}: stages must be a list of Stage(at_day, mw, from_model, "
                f"to_model), got {type(self.stages).__name__}; wrap a single stage in [...]"
            )
        stages = []
        for i, st in enumerate(self.stages):
            at = f"strategy {name!r} stage {i}"
            if not isinstance(st, Stage):
                raise DtypeError(
                    f"{at}: expected a Stage(at_day, mw, from_model, to_model), got {st!r} "
                    f"({type(st).__name__})"
                )
            stages.append(
                Stage(
                    at_day=_check_days(at, "at_day", st.at_day),
                    mw=_check_number(at, "mw", st.mw, "MW moved", positive=True),
                    from_model=_check_model(at, "from_model", st.from_model, True),
                    to_model=_check_model(at, "to_model", st.to_model, True),
                )
            )
            _check_move(at, st.from_model, st.to_model)
        object.__setattr__(self, "stages", tuple(stages))
        object.__setattr__(
            self, "lead_time_days", _check_days(who, "lead_time_days", self.lead_time_days)
        )
        cost = _check_number(
            who, "switch_cost_usd_per_mw", self.switch_cost_usd_per_mw, "USD/MW", positive=False
        )
        object.__setattr__(self, "switch_cost_usd_per_mw", cost)

    @property
    def flexible(self) -> bool:
        return False

    def models(self) -> set[str]:
        out = {m for m, v in self.start.items() if v > 0}
        for s in self.stages:
            out |= {m for m in (s.from_model, s.to_model) if m is not None}
        return out

    def replay(
        self, site: SiteContext
    ) -> tuple[dict[str, list[tuple[float, Day]]], list[tuple[float, Day]]]:
        """The stages in ``at_day`` order (ties in the given order): per model its MW steps
        ``(±mw, day)``, and the switch costs. A stage that moves more MW out of a model than it
        holds then, or takes the allocation above ``site.capacity_mw``, raises
        :class:`StageError` (its ``stage`` is the index in ``stages``). The site-file loader
        runs the same replay to name the line."""
        _check_mix(self.name, self.start, site)
        level = dict(self.start)
        steps: dict[str, list[tuple[float, Day]]] = {}
        cost: list[tuple[float, Day]] = []
        for i, st in sorted(enumerate(self.stages), key=lambda x: x[1].at_day):
            if st.from_model is not None:
                have = level.get(st.from_model, 0.0)
                if have + _EPS_MW < st.mw:
                    raise StageError(
                        i,
                        f"strategy {self.name!r} stage {i} moves {st.mw:g} MW out of "
                        f"{st.from_model!r}, which holds {have:g} MW on day {st.at_day}; lower "
                        f"mw (at most {have:g}) or move MW into {st.from_model!r} earlier",
                    )
                # within the tolerance a model is emptied exactly (0.1 + 0.1 + 0.1 ≠ 0.3)
                level[st.from_model] = max(0.0, have - st.mw)
                steps.setdefault(st.from_model, []).append((-st.mw, st.at_day))
            if st.to_model is not None:
                level[st.to_model] = level.get(st.to_model, 0.0) + st.mw
                steps.setdefault(st.to_model, []).append((st.mw, st.at_day + self.lead_time_days))
            total = sum(level.values())
            if total > site.capacity_mw + _EPS_MW:
                raise StageError(
                    i,
                    f"strategy {self.name!r} stage {i} brings the allocation to {total:g} MW on "
                    f"day {st.at_day} but the site has {site.capacity_mw:g} MW; lower mw or take "
                    "the MW from a model (from_model / from = ...)",
                )
            if self.switch_cost_usd_per_mw:
                cost.append((st.mw * self.switch_cost_usd_per_mw, st.at_day))
        return steps, cost

    def allocate(self, site: SiteContext, scenario: PreparedScenario) -> Allocation:
        steps, cost = self.replay(site)
        mw = {}
        for m in self.models():
            c = float(self.start.get(m, 0.0))
            st_m = steps.get(m, [])
            mw[m] = Steps(c, st_m, key=("staged", c, tuple((x, int(d)) for x, d in st_m)))  # type: ignore[arg-type]
        return Allocation(mw=mw, switch_capex=cost)


class StageError(InvalidValueError):
    """A stage of a :class:`Staged` strategy that cannot be carried out; ``stage`` is its
    index in ``Staged.stages``."""

    def __init__(self, stage: int, message: str) -> None:
        super().__init__(message)
        self.stage = stage


@dataclass(frozen=True)
class SwitchRule:
    """Move ``mw`` MW from ``from_model`` to ``to_model`` on each path the first day the
    ``window_days`` rolling mean of ``signal`` is below ``below`` (or above ``above``).

    The switch happens at most once per path and is irreversible (a conversion). The moved
    MW are idle for ``lead_time_days`` and cost ``switch_cost_usd_per_mw`` on the trigger day.

    Checked when built: ``window_days`` a whole number >= 1, ``lead_time_days`` a whole
    number >= 0 (integral floats such as ``30.0`` become ints), ``mw`` > 0, exactly one of
    ``below``/``above`` (a finite number); errors name the strategy and the field.
    """

    name: str
    start: Mapping[str, float]
    from_model: str
    to_model: str
    mw: float
    below: float | None = None
    above: float | None = None
    signal: str = "hashprice_usd_ph_day"
    window_days: int = 30
    lead_time_days: int = 0
    switch_cost_usd_per_mw: float = 0.0

    def __post_init__(self) -> None:
        name = _check_name(self.name)
        who = f"strategy {name!r}"
        object.__setattr__(self, "start", _check_mix_types(name, "start", self.start))
        _check_model(who, "from_model", self.from_model, False)
        _check_model(who, "to_model", self.to_model, False)
        _check_move(who, self.from_model, self.to_model)
        object.__setattr__(self, "mw", _check_number(who, "mw", self.mw, "MW moved", positive=True))
        for key in ("below", "above"):
            v = getattr(self, key)
            if v is None:
                continue
            if not _is_number(v):
                raise DtypeError(
                    f"strategy {name!r}: {key} must be a number (a threshold of the signal), "
                    f"got {v!r} ({type(v).__name__}); pass e.g. {key}=45.0"
                )
            if not math.isfinite(v):
                raise InvalidValueError(
                    f"strategy {name!r}: {key} must be a finite threshold, got {v!r}"
                )
            object.__setattr__(self, key, float(v))
        if (self.below is None) == (self.above is None):
            raise InvalidValueError(f"strategy {name!r}: give exactly one of below= or above=")
        if not isinstance(self.signal, str):
            raise DtypeError(
                f"strategy {name!r}: signal must be a scenario column name (str), got "
                f'{self.signal!r}; e.g. signal="hashprice_usd_ph_day"'
            )
        object.__setattr__(
            self, "window_days", _check_days(who, "window_days", self.window_days, minimum=1)
        )
        object.__setattr__(
            self, "lead_time_days", _check_days(who, "lead_time_days", self.lead_time_days)
        )
        cost = _check_number(
            who, "switch_cost_usd_per_mw", self.switch_cost_usd_per_mw, "USD/MW", positive=False
        )
        object.__setattr__(self, "switch_cost_usd_per_mw", cost)

    @property
    def flexible(self) -> bool:
        return True

    def models(self) -> set[str]:
        return {m for m, v in self.start.items() if v > 0} | {self.from_model, self.to_model}

    def trigger_day(self, scenario: PreparedScenario) -> pl.Series:
        """Per path (in path order) the first day the rule fires; null where it never does."""
        frame = scenario.frame
        if self.signal not in frame.columns or not frame.schema[self.signal].is_numeric():
            floats = ", ".join(c for c, t in frame.schema.items() if t.is_float())
            raise InvalidValueError(
                f"strategy {self.name!r}: signal {self.signal!r} is not a numeric scenario "
                f"column; use one of {floats}"
            )
        w = self.window_days
        sig = frame[self.signal].cast(pl.Float64)
        if sig.null_count() == 0:
            # One pass per path in Rust; the mean is the window's direct sum / w, exactly
            # as the reference (`_reference.rolling_trigger`) defines it.
            thr = self.below if self.below is not None else self.above
            assert thr is not None
            got = _core.first_crossing(
                sig.rechunk(),
                scenario.n_paths,
                scenario.n_days,
                w,
                float(thr),
                self.below is not None,
            )
            return pl.Series("trigger_day", got, dtype=pl.Int64)
        # With nulls: a rolling mean over all rows; windows that cross into the previous path
        # end before day w-1 of a path, and those days are masked (path-major layout).
        roll = sig.rolling_mean(w)
        valid = frame["day"] >= (w - 1)
        hit = valid & ((roll < self.below) if self.below is not None else (roll > self.above))
        idx = hit.arg_true().cast(pl.Int64)
        p = idx // scenario.n_days
        first = (p != p.shift(1)).fill_null(True)
        out = pl.Series("trigger_day", [None] * scenario.n_paths, dtype=pl.Int64)
        if idx.len():
            out = out.scatter(p.filter(first), (idx.filter(first) % scenario.n_days))
        return out

    def allocate(self, site: SiteContext, scenario: PreparedScenario) -> Allocation:
        _check_mix(self.name, self.start, site)
        have = self.start.get(self.from_model, 0.0)
        if have + _EPS_MW < self.mw or self.mw <= 0:
            raise InvalidValueError(
                f"strategy {self.name!r} moves {self.mw:g} MW out of {self.from_model!r}, which "
                f"starts with {have:g} MW; mw must be > 0 and at most the start allocation"
            )
        trig = self.trigger_day(scenario)
        key = ("rule", self.signal, self.window_days, self.below, self.above, self.mw)
        mw: dict[str, Steps] = {}
        for m in self.models():
            base = float(self.start.get(m, 0.0))
            st: list[tuple[float, Day]] = []
            k: tuple[Any, ...] = ("const", base)
            if m == self.from_model:
                st.append((-self.mw, trig))
                k = (*key, "out", base)
            if m == self.to_model:
                st.append((self.mw, trig + self.lead_time_days))
                k = (*key, "in", self.lead_time_days, base)
            mw[m] = Steps(base, st, key=k)
        cost: list[tuple[float, Day]] = []
        if self.switch_cost_usd_per_mw:
            cost.append((self.mw * self.switch_cost_usd_per_mw, trig))
        return Allocation(mw=mw, switch_capex=cost)


@dataclass
class Evaluation:
    """The result of :func:`evaluate`; every table is a polars DataFrame.

    Attributes
    ----------
    per_path
        ``strategy`` (String), ``path`` (Int64), ``npv_usd``, ``irr`` (annual; null unless the
        flows start negative and change sign exactly once, with the root in −99 %…1000 %),
        ``payback_years`` (null when cumulative cash never stays ≥ 0 within the horizon),
        ``revenue_usd``, ``opex_usd``, ``capex_usd`` (undiscounted totals) — Float64.
    summary
        One row per strategy: ``strategy``, ``flexible`` (Boolean), ``mean_npv_usd``,
        ``std_npv_usd``, one column per quantile (named by :func:`quantile_column`:
        ``npv_q05_usd``, ``npv_q02_5_usd``, ...), ``p_loss`` (share of paths with NPV < 0),
        ``cvar_usd`` (mean NPV of the worst ``cvar_level`` share of paths), ``median_irr``,
        ``median_payback_years``, ``share_paid_back``. The NPV statistics (mean to CVaR) are
        null for a strategy whose NPV is not finite on some path; it is then never ranked.
    by_model
        ``strategy``, ``model``, ``mean_npv_usd``, ``mean_revenue_usd``, ``mean_opex_usd``,
        ``mean_capex_usd`` (mean over paths).
    flexibility
        One row: ``best_fixed``, ``best_fixed_mean_npv_usd``, ``best_flexible``,
        ``best_flexible_mean_npv_usd``, ``value_of_flexibility_usd`` (nulls when a kind is
        missing; strategies with a null mean NPV are not candidates).
    failures
        ``strategy``, ``model``, ``plugin``, ``distribution``, ``stage``, ``message``: plugins
        that failed; strategies using a failed model are left out of the other tables.
    """

    per_path: pl.DataFrame
    summary: pl.DataFrame
    by_model: pl.DataFrame
    flexibility: pl.DataFrame
    failures: pl.DataFrame
    discount_rate: float = 0.0
    plugin_failures: list[PluginFailure] = field(default_factory=list)


@dataclass
class _Agg:
    """Per-path aggregates of one model run (linear, so strategies add them up)."""

    npv: pl.Series
    revenue: pl.Series
    opex: pl.Series
    capex: pl.Series
    periods: pl.Series  # period-major: row k·n_paths + p = net flow of path p in period k


def _period_ends(n_days: int) -> list[int]:
    """Last day index of each 1/12-year period (30.44 days) covering ``n_days``."""
    k = math.ceil(n_days / DAYS_PER_MONTH)
    ends = [min(n_days, math.floor((i + 1) * DAYS_PER_MONTH + 1e-9)) - 1 for i in range(k)]
    return sorted(set(e for e in ends if e >= 0))


class _Sums:
    """Running sums of a model's daily flows, per path, before any day (``n``: the
    discounted net flow, ``r`` revenue, ``o`` opex, ``c`` capex if the model has any), from
    :class:`hashpivot._core.FlowSums`: the flow columns are kept with a table of every path's
    sums at the period boundaries, so the sums before day ``d`` cost a walk of at most one
    period. No column of running sums over all rows is built."""

    def __init__(self, flows: Any, cols: list[str], n_paths: int, n_periods: int) -> None:
        self.flows = flows
        self.cols = cols
        table = pl.DataFrame(
            [pl.Series(a).alias(c) for c, a in zip(cols, flows.table(), strict=True)]
        )  # boundary-major: (n_periods + 1) × n_paths rows
        #: C(period start) and C(period end), period-major (k · n_paths + p)
        self.at_period_start = table.head(n_periods * n_paths)
        self.at_period_end = table.slice(n_paths)
        #: C(path end), one row per path
        self.at_end = table.tail(n_paths)

    def at(self, days: pl.Series) -> pl.DataFrame:
        """C(day) per path (``days`` holds one day in ``0..=n_days`` a path, or several
        paths' worth stacked query by query): the sums over days ``[0, day)``."""
        got = self.flows.at(days.cast(pl.Int64))
        return pl.DataFrame([pl.Series(a).alias(c) for c, a in zip(self.cols, got, strict=True)])


class _Aggregator:
    """Per-path aggregates from running sums (:class:`_Sums`).

    The sum of a path's flows over days ``[i, j)`` is ``C(j) - C(i)`` with ``C`` the path's
    running sum: a path's total, its sum from an activation day on, or a 1/12-year period sum
    each cost one lookup per path.
    """

    def __init__(self, scenario: PreparedScenario, discount_rate: float) -> None:
        self.sc = scenario
        n_days = scenario.n_days
        d = pl.int_range(0, n_days, eager=True).cast(pl.Float64)
        self.disc_day = pl.select(pl.lit(1.0 + discount_rate).pow(-d / DAYS_PER_YEAR)).to_series()
        ends = _period_ends(n_days)
        self.ends = ends
        self.starts = [0] + [e + 1 for e in ends[:-1]]
        self.bounds = [*self.starts, n_days]  # every period's first day, then the horizon
        period_of_day = []
        for k, (a, b) in enumerate(zip(self.starts, ends, strict=False)):
            period_of_day += [k] * (b - a + 1)
        self.period_of_day = pl.Series(period_of_day, dtype=pl.Int64)
        self.zero = pl.Series([0.0] * scenario.n_paths)
        k = len(ends)
        self.n_periods = k
        rep_p = (
            pl.int_range(0, k * scenario.n_paths, eager=True, dtype=pl.Int64) // scenario.n_paths
        )
        self.start_k = pl.Series(self.starts, dtype=pl.Int64).gather(rep_p)
        self.end1_k = pl.Series(ends, dtype=pl.Int64).gather(rep_p) + 1
        self.zero_k = pl.Series([0.0] * (k * scenario.n_paths))

    def sums(self, rev: pl.Series, opex: pl.Series, capex: pl.Series | None = None) -> _Sums:
        cols_in = [rev, opex] + ([capex] if capex is not None else [])
        for c in cols_in:  # the callers checked them: finite numbers, no nulls
            if c.null_count():
                raise InvalidValueError(f"cash-flow column {c.name!r} has nulls")
        f64 = [c.cast(pl.Float64) for c in cols_in]
        flows = _core.FlowSums(
            f64[0],
            f64[1],
            f64[2] if capex is not None else None,
            self.disc_day,
            self.sc.n_paths,
            self.sc.n_days,
            self.bounds,
        )
        return _Sums(flows, ["n", "r", "o", "c"][: len(f64) + 1], self.sc.n_paths, self.n_periods)

    def _days(self, day: Day) -> pl.Series:
        """The day index of every path, clipped to ``0..=n_days`` (null = never = n_days)."""
        n_days = self.sc.n_days
        out: pl.Series
        if isinstance(day, int):
            out = pl.repeat(min(max(day, 0), n_days), self.sc.n_paths, eager=True, dtype=pl.Int64)
        else:
            out = day.cast(pl.Int64).fill_null(n_days).clip(0, n_days)
        return out

    def term(self, sums: _Sums, amount: float, start: Day) -> _Agg:
        """Aggregates of ``amount`` times the flows from day ``start`` (per path) on."""
        lo = self._days(start)
        c_lo = sums.at(lo)
        tot = sums.at_end - c_lo
        # Period sums from `start` on: C(period end) − C(max(start, period start)), zero for
        # periods that end before it. Only the period holding `start` needs C(lo) itself, so
        # no gather over every period is needed: C(lo) is repeated and selected.
        off_k = pl.concat([lo] * self.n_periods)
        before = off_k <= self.start_k
        after = off_k >= self.end1_k
        c_lo_k = pl.concat([c_lo] * self.n_periods)
        cols = [c for c in ("r", "o", "c") if c in sums.cols]
        per = pl.DataFrame(
            {
                "before": before,
                "after": after,
                **{f"s_{c}": sums.at_period_start[c] for c in cols},
                **{f"e_{c}": sums.at_period_end[c] for c in cols},
                **{f"l_{c}": c_lo_k[c] for c in cols},
            }
        ).select(
            pl.when(pl.col("after"))
            .then(0.0)
            .otherwise(
                pl.col(f"e_{c}")
                - pl.when(pl.col("before")).then(pl.col(f"s_{c}")).otherwise(pl.col(f"l_{c}"))
            )
            .alias(c)
            for c in cols
        )
        net = per["r"] - per["o"]
        if "c" in per.columns:
            net = net - per["c"]
        return _Agg(
            npv=tot["n"] * amount,
            revenue=tot["r"] * amount,
            opex=tot["o"] * amount,
            capex=tot["c"] * amount if "c" in tot.columns else self.zero,
            periods=net * amount,
        )

    def point(self, usd: float, day: Day) -> _Agg:
        """Aggregates of a capital outlay of ``usd`` on ``day`` (per path; null = never)."""
        n_days = self.sc.n_days
        if isinstance(day, int):
            d = pl.Series([day] * self.sc.n_paths, dtype=pl.Int64)
        else:
            d = day.cast(pl.Int64)
        on = (d.is_not_null() & (d >= 0) & (d < n_days)).fill_null(False)
        di = pl.select(pl.when(on).then(d).otherwise(0)).to_series()
        amount = on.cast(pl.Float64) * usd
        k = self.period_of_day.gather(di)
        idx = k * self.sc.n_paths + pl.int_range(0, self.sc.n_paths, eager=True, dtype=pl.Int64)
        return _Agg(
            npv=-amount * self.disc_day.gather(di),
            revenue=self.zero,
            opex=self.zero,
            capex=amount,
            periods=self.zero_k.clone().scatter(idx, -amount),
        )

    def steps(self, sums: _Sums, steps: Steps, lead: int, capex_per_mw: float) -> _Agg:
        """Aggregates of a linear model holding ``steps`` MW (see ``LinearRevenueModel``)."""
        total = self.term(sums, steps.start_mw, lead) if steps.start_mw else None
        for x, d in steps.steps:
            if x > 0:
                act: Day = d + lead
            elif isinstance(d, int):
                act = max(d, lead)
            else:
                act = d.clip(lower_bound=lead)  # null (never) stays null
            total = _add(total, self.term(sums, x, act))
        if capex_per_mw:
            if steps.start_mw:
                total = _add(total, self.point(steps.start_mw * capex_per_mw, 0))
            for x, d in steps.steps:
                if x > 0:
                    total = _add(total, self.point(x * capex_per_mw, d))
                elif steps.start_mw:
                    # MW removed on day 0 were never bought: day 0 buys what is held after
                    # the day's steps, as `added_mw` counts a path's first day
                    day0: Day | None = (
                        (0 if d == 0 else None)
                        if isinstance(d, int)
                        else pl.select(pl.when(d == 0).then(0)).to_series()
                    )
                    if day0 is not None:
                        total = _add(total, self.point(x * capex_per_mw, day0))
        if total is None:
            total = self.term(sums, 0.0, 0)
        return total

    def full(self, rev: pl.Series, opex: pl.Series, capex: pl.Series) -> _Agg:
        """Aggregates of a model's complete cash-flow columns."""
        return self.term(self.sums(rev, opex, capex), 1.0, 0)


def _add(a: _Agg | None, b: _Agg) -> _Agg:
    if a is None:
        return b
    return _Agg(
        npv=a.npv + b.npv,
        revenue=a.revenue + b.revenue,
        opex=a.opex + b.opex,
        capex=a.capex + b.capex,
        periods=a.periods + b.periods,
    )


def _irr(periods: list[pl.Series], iterations: int = 44) -> pl.Series:
    """Annual IRR per path by bisection on ``[-0.99, 10]`` (Rust: ``_core.irr_bisect``, rows
    in parallel; equal bit for bit to the polars version kept as
    ``hashpivot._reference.irr_bisect_series``).

    Null unless the flows are an investment (they start negative) that changes sign exactly
    once — then the IRR exists and is unique (Descartes' rule of signs) — and the root lies in
    the bracket. With several sign changes the NPV polynomial can have several roots, and a
    stream that starts positive has an IRR that is a borrowing cost, not a return.
    ``periods[k]`` holds every path's flow in period k (all strategies stacked)."""
    out = pl.Series("irr", _core.irr_bisect([p.cast(pl.Float64) for p in periods], iterations))
    return out


def _payback_years(periods: list[pl.Series]) -> pl.Series:
    """End (in years) of the first 1/12-year period from which the cumulative net cash is
    >= 0 at every period end; 0 when it is never negative (nothing to pay back); null if it
    is negative at the horizon."""
    n = periods[0].len()
    cum = pl.Series([0.0] * n)
    last_neg = pl.Series([-1] * n, dtype=pl.Int64)
    for k, cf in enumerate(periods):
        cum = cum + cf
        last_neg = pl.Series([k] * n, dtype=pl.Int64).zip_with(cum < 0, last_neg)
    # never below 0 (nothing to pay back, e.g. no capex): paid back from the start
    yrs = pl.Series([0.0] * n).zip_with(last_neg < 0, (last_neg + 2).cast(pl.Float64) / 12.0)
    out: pl.Series = yrs.zip_with(cum >= 0, pl.Series([None] * n, dtype=pl.Float64))
    return out.alias("payback")


def _split_periods(aggs: list[_Agg], n_paths: int, n_periods: int) -> list[pl.Series]:
    """Period k of every strategy, stacked: ``out[k][s·n_paths + p]``."""
    return [
        pl.concat([a.periods.slice(k * n_paths, n_paths) for a in aggs]) for k in range(n_periods)
    ]


def _resolve_models(models: Any) -> RevenueModels:
    if models is None:
        return get_revenue_models()
    if isinstance(models, RevenueModels):
        return models
    if isinstance(models, Mapping):
        items: list[tuple[str, Any]] = [(f"models[{k!r}]", m) for k, m in models.items()]
    elif isinstance(models, Iterable) and not isinstance(models, str):
        items = [(f"models[{i}]", m) for i, m in enumerate(models)]
    else:
        raise DtypeError(
            f"evaluate(models=...): expected a list or dict of revenue models, got "
            f"{type(models).__name__}; pass e.g. models=[SelfMining()] or None for the "
            "registered plugins"
        )
    out = RevenueModels()
    for where, m in items:
        name = getattr(m, "name", None)
        if not isinstance(name, str) or not callable(getattr(m, "cash_flows", None)):
            raise DtypeError(
                f"evaluate(models=...): {where} ({type(m).__name__}) is not a RevenueModel: it "
                "needs a str 'name' and a 'cash_flows(site, scenario, mw)' method"
            )
        if isinstance(models, Mapping) and where != f"models[{name!r}]":
            raise InvalidValueError(
                f"evaluate(models=...): {where} is a model named {name!r}; strategies refer to "
                "models by their name, so key each model by it (or pass a list)"
            )
        if name in out.models:
            raise InvalidValueError(
                f"evaluate(models=...): two models are named {name!r}; the second would replace "
                "the first — give each a unique name (e.g. dataclasses.replace(m, name='x'))"
            )
        out.models[m.name] = m
        out.plugin_of[m.name] = "(passed to evaluate)"
        out.distribution_of[m.name] = "(not installed)"
    return out


def quantile_column(q: float) -> str:
    """The summary column of NPV quantile ``q`` (in [0, 1]).

    The percentage, rounded to 6 decimals: whole percents keep two digits
    (``0.05`` → ``npv_q05_usd``, ``1.0`` → ``npv_q100_usd``); others put the decimals after an
    underscore (``0.025`` → ``npv_q02_5_usd``, ``0.999`` → ``npv_q99_9_usd``,
    ``0.0001`` → ``npv_q00_01_usd``).
    """
    return f"npv_{quantile_tag(q)}_usd"


def _check_quantiles(quantiles: Any) -> list[tuple[float, str]]:
    """``(q, column)`` per quantile: numbers in [0, 1] whose column names differ."""
    if isinstance(quantiles, (str, bytes)) or not isinstance(quantiles, Iterable):
        raise DtypeError(
            f"evaluate(quantiles=...): expected a sequence of numbers in [0, 1], got "
            f"{quantiles!r} ({type(quantiles).__name__}); e.g. quantiles=(0.05, 0.5, 0.95)"
        )
    out: list[tuple[float, str]] = []
    seen: dict[str, float] = {}
    for i, q in enumerate(quantiles):
        if not _is_number(q):
            raise DtypeError(
                f"evaluate(quantiles=...): quantiles[{i}] = {q!r} is a {type(q).__name__}; "
                "expected a number in [0, 1], e.g. 0.05"
            )
        f = float(q)
        if not 0.0 <= f <= 1.0:
            raise InvalidValueError(
                f"evaluate(quantiles=...): quantiles[{i}] = {q!r} is outside [0, 1]; give "
                "shares of paths, e.g. 0.05 for the 5th percentile"
            )
        name = quantile_column(f)
        if name in seen:
            raise InvalidValueError(
                f"evaluate(quantiles=...): quantiles {seen[name]!r} and {q!r} (quantiles[{i}]) "
                f"both name column {name!r} (twice); drop one (levels are told apart to 1e-8)"
            )
        seen[name] = q
        out.append((f, name))
    return out


def _number_arg(arg: str, v: Any, what: str) -> float:
    if not _is_number(v):
        raise DtypeError(
            f"evaluate({arg}={v!r}): expected a number ({what}), got a {type(v).__name__}"
        )
    return float(v)


def _check_strategies(strategies: Any) -> list[Strategy]:
    if isinstance(strategies, (str, bytes, Mapping)) or not isinstance(strategies, Iterable):
        raise DtypeError(
            f"evaluate(strategies=...): expected a list of strategies, got "
            f"{type(strategies).__name__}; wrap a single strategy in [...]"
        )
    out = list(strategies)
    for i, st in enumerate(out):
        ok = isinstance(getattr(st, "name", None), str) and all(
            callable(getattr(st, m, None)) for m in ("models", "allocate")
        )
        if not ok or not hasattr(st, "flexible"):
            raise DtypeError(
                f"evaluate(strategies=...): strategies[{i}] is a {type(st).__name__} ({st!r}); "
                "expected a Static, Staged, SwitchRule or an object with a str name, flexible, "
                "models() and allocate(site, scenario)"
            )
    return out


def evaluate(
    site: SiteContext,
    scenario_result: Any,
    strategies: Iterable[Strategy],
    *,
    discount_rate: float = 0.10,
    quantiles: Sequence[float] = (0.05, 0.25, 0.5, 0.75, 0.95),
    cvar_level: float = 0.05,
    models: Mapping[str, RevenueModel] | Iterable[RevenueModel] | None = None,
    strict: bool = False,
    fast: bool = True,
) -> Evaluation:
    """Evaluate strategies over every path of a scenario.

    Parameters
    ----------
    site
        The site (capacity, fleet efficiency, optional fixed power price).
    scenario_result
        The daily scenario frame of :func:`hashpivot.scenario.simulate` (or an object with a
        ``daily`` frame); see :func:`hashpivot.revenue.prepare_scenario`.
    strategies
        :class:`Static`, :class:`Staged`, :class:`SwitchRule` or any :class:`Strategy`.
    discount_rate
        Annual discount rate for NPV; daily flows are discounted by ``(1+r)^(-day/365.25)``.
    quantiles
        NPV quantiles for the summary: numbers in [0, 1]; the columns are named by
        :func:`quantile_column`, and two levels that give the same name are rejected.
    cvar_level
        Tail share for CVaR (expected NPV of the worst ``cvar_level`` of paths), in (0, 1].
    models
        Revenue models to use (a list, or a dict whose values are models); default: every
        model the plugins register.
    strict
        Raise :class:`PluginError` on the first failing model instead of recording it.
    fast
        Value step-shaped allocations of :class:`~hashpivot.revenue.LinearRevenueModel`
        models from one pass per model (default). ``False`` calls every model's
        ``cash_flows`` once per distinct allocation instead; the numbers agree.

    Returns
    -------
    Evaluation
        Frames ``per_path``, ``summary``, ``by_model``, ``flexibility``, ``failures``.

    Raises
    ------
    DtypeError
        An argument of the wrong type (``site`` not a :class:`SiteContext`, a rate given as a
        string, a strategy or model that is not one); the message names the argument.
    InvalidValueError
        A rate, tail share or quantile out of range, repeated strategy names or quantile
        columns, an allocation above the site's capacity, or NaN/±inf in the scenario frame.
    PluginError
        With ``strict=True``: the first model that raised or returned invalid cash flows
        (NaN/±inf, an ``mw`` column other than the allocation, the wrong schema).
    """
    if not isinstance(site, SiteContext):
        raise DtypeError(
            f"evaluate(site=...): expected a hashpivot.revenue.SiteContext, got "
            f"{type(site).__name__}; pass SiteContext(capacity_mw=..., efficiency_jth=...)"
        )
    strategies = _check_strategies(strategies)
    names = [s.name for s in strategies]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise InvalidValueError(f"strategy names must be unique; repeated: {', '.join(dupes)}")
    if not strategies:
        raise InvalidValueError("evaluate() needs at least one strategy")
    cvar_level = _number_arg("cvar_level", cvar_level, "a tail share in (0, 1], e.g. 0.05")
    if not (0.0 < cvar_level <= 1.0):
        raise InvalidValueError(
            f"evaluate(cvar_level=...) must be in (0, 1], got {cvar_level}; e.g. 0.05 for the "
            "worst 5 % of paths"
        )
    discount_rate = _number_arg("discount_rate", discount_rate, "an annual rate, e.g. 0.10")
    if not (math.isfinite(discount_rate) and discount_rate > -1.0):
        raise InvalidValueError(
            f"evaluate(discount_rate=...) must be a finite number > -1, got {discount_rate}; "
            "e.g. 0.10 for 10 % a year"
        )
    q_names = _check_quantiles(quantiles)
    registry = _resolve_models(models)
    sc = prepare_scenario(scenario_result)
    agg = _Aggregator(sc, discount_rate)
    frame = sc.frame

    failures: list[tuple[str, PluginFailure]] = []
    failed_models: dict[str, PluginFailure] = {}
    for f in registry.failures:
        if f.model:
            failed_models.setdefault(f.model, f)
    cache: dict[tuple[str, Hashable], _Agg | PluginFailure] = {}
    unit_cache: dict[tuple[str, Hashable], _Unit | PluginFailure] = {}
    results: dict[str, tuple[_Agg, dict[str, _Agg]]] = {}
    # First every allocation and its one-pass parts, counting how many parts use each set of
    # running sums, so that each set is dropped after its last use (one set per model and
    # clock start holds two 8-byte columns of the whole scenario).
    plans: list[tuple[Strategy, Allocation, dict[str, list[_Part] | None]]] = []
    uses: Counter[tuple[str, Hashable]] = Counter()
    for strat in strategies:
        unknown = sorted(m for m in strat.models() if m not in registry)
        if unknown:
            failed = [failed_models[m] for m in unknown if m in failed_models]
            if failed:
                for f in failed:
                    failures.append((strat.name, f))
                if strict:
                    raise failed[0].as_error()
                continue
            raise InvalidValueError(
                f"strategy {strat.name!r} uses unknown revenue model(s) {', '.join(unknown)}; "
                f"registered: {', '.join(sorted(registry))}"
            )
        alloc = _check_allocation(
            strat.name, strat.allocate(site, sc), sc.n_paths, site, registry.keys()
        )
        one_pass: dict[str, list[_Part] | None] = {}
        for mname, steps in alloc.mw.items():
            model = registry[mname]
            one_pass[mname] = _tranches(model, steps) if fast and _linear(model) else None
            for _, _, ckey in one_pass[mname] or ():
                uses[(mname, ckey)] += 1
        plans.append((strat, alloc, one_pass))  # alive until the end: `cache` keys by id(steps)

    for strat, alloc, one_pass in plans:
        total: _Agg | None = None
        parts: dict[str, _Agg] = {}
        broken = False
        for mname, steps in alloc.mw.items():
            got: _Agg | PluginFailure
            tranches = one_pass[mname]
            if tranches is not None:
                got_sum: _Agg | None = None
                for part, start, ckey in tranches:
                    ukey = (mname, ckey)
                    unit = unit_cache.get(ukey)
                    if unit is None:
                        unit = _unit_sums(registry, mname, site, sc, agg, start)
                        unit_cache[ukey] = unit
                    uses[ukey] -= 1
                    if not uses[ukey]:
                        del unit_cache[ukey]
                    if isinstance(unit, PluginFailure):
                        got = unit
                        break
                    got_sum = _add(
                        got_sum, agg.steps(unit.sums, part, unit.lead, unit.capex_per_mw)
                    )
                else:
                    assert got_sum is not None
                    got = got_sum
            else:
                key = (mname, steps.key if steps.key is not None else ("id", id(steps)))
                cached = cache.get(key)
                if cached is None:
                    cached = _run_model(registry, mname, site, sc, steps.materialize(sc), agg)
                    cache[key] = cached
                got = cached
            if isinstance(got, PluginFailure):
                failures.append((strat.name, got))
                if strict:
                    raise got.as_error()
                broken = True
                continue
            parts[mname] = got
            total = _add(total, got)
        for usd, day in alloc.switch_capex:
            parts[SWITCHING] = _add(parts.get(SWITCHING), agg.point(usd, day))
            total = _add(total, agg.point(usd, day))
        if broken:
            continue
        if total is None:
            total = agg.point(0.0, 0)
        results[strat.name] = (total, parts)

    paths = frame["path"].gather_every(sc.n_days)
    per_path_frames = []
    by_model_rows = []
    names_ok = list(results)
    empty = pl.Series([], dtype=pl.Float64)
    irr_all = pay_all = empty
    if names_ok:  # every strategy may have failed: then the tables are empty
        stacked = _split_periods([results[n][0] for n in names_ok], sc.n_paths, agg.n_periods)
        irr_all = _irr(stacked)
        pay_all = _payback_years(stacked)
    for i, sname in enumerate(names_ok):
        total, parts = results[sname]
        per_path_frames.append(
            pl.DataFrame(
                {
                    "strategy": pl.repeat(sname, sc.n_paths, eager=True, dtype=pl.String),
                    "path": paths,
                    "npv_usd": total.npv,
                    "irr": irr_all.slice(i * sc.n_paths, sc.n_paths),
                    "payback_years": pay_all.slice(i * sc.n_paths, sc.n_paths),
                    "revenue_usd": total.revenue,
                    "opex_usd": total.opex,
                    "capex_usd": total.capex,
                }
            )
        )
        for mname, a in parts.items():
            by_model_rows.append(
                {
                    "strategy": sname,
                    "model": mname,
                    "mean_npv_usd": a.npv.mean(),
                    "mean_revenue_usd": a.revenue.mean(),
                    "mean_opex_usd": a.opex.mean(),
                    "mean_capex_usd": a.capex.mean(),
                }
            )
    per_path_schema = {
        "strategy": pl.String,
        "path": pl.Int64,
        "npv_usd": pl.Float64,
        "irr": pl.Float64,
        "payback_years": pl.Float64,
        "revenue_usd": pl.Float64,
        "opex_usd": pl.Float64,
        "capex_usd": pl.Float64,
    }
    per_path = (
        pl.concat(per_path_frames) if per_path_frames else pl.DataFrame(schema=per_path_schema)
    )
    flexible = {s.name: bool(s.flexible) for s in strategies}
    summary = _summary(per_path, flexible, [q for q, _ in q_names], cvar_level)
    by_model = pl.DataFrame(
        by_model_rows,
        schema={
            "strategy": pl.String,
            "model": pl.String,
            "mean_npv_usd": pl.Float64,
            "mean_revenue_usd": pl.Float64,
            "mean_opex_usd": pl.Float64,
            "mean_capex_usd": pl.Float64,
        },
    )
    failures_frame = pl.DataFrame(
        [
            {
                "strategy": s,
                "model": f.model,
                "plugin": f.plugin,
                "distribution": f.distribution,
                "stage": f.stage,
                "message": f.message,
            }
            for s, f in failures
        ],
        schema={
            k: pl.String
            for k in ("strategy", "model", "plugin", "distribution", "stage", "message")
        },
    )
    return Evaluation(
        per_path=per_path,
        summary=summary,
        by_model=by_model,
        flexibility=_flexibility(summary),
        failures=failures_frame,
        discount_rate=discount_rate,
        plugin_failures=list(registry.failures),
    )


def _linear(model: object) -> bool:
    """The one-pass valuation from ``unit_flows`` applies: a :class:`LinearRevenueModel`
    whose ``cash_flows`` is the base class's (a subclass that overrides ``cash_flows`` adds
    flows ``unit_flows`` does not know, so it is valued by calling it)."""
    return (
        isinstance(model, LinearRevenueModel)
        and type(model).cash_flows is LinearRevenueModel.cash_flows
    )


@dataclass
class _Unit:
    """A linear model's per-MW cumulative sums, its lead time and capex per added MW."""

    sums: _Sums
    lead: int
    capex_per_mw: float


#: One part of a model's steps valued on one clock: ``(steps, clock start, cache key)``.
_Part = tuple[Steps, Day, Hashable]


def _tranches(model: object, steps: Steps) -> list[_Part] | None:
    """``steps`` as parts valued on one clock each, ``(part, clock start, cache key)``, for
    the one-pass valuation; None when it does not apply (steps that both add and remove, or
    more tranches than :data:`~hashpivot.revenue.MAX_TRANCHES`, MW held from the start
    counting as one: ``cash_flows`` values them).

    A model without a service clock, or steps that only remove MW held from day 0, is one
    part on the day-0 clock. With a service clock every addition is its own tranche
    (``hashpivot.revenue.service_tranches``): MW held from the start on the day-0 clock, each
    adding step on its own day (per path for per-path steps; a path where it never happens
    gets the horizon). Keys are by content, so strategies whose additions fall on the same
    days share one pass per day."""
    if not steps.monotone():
        return None
    if not getattr(model, "service_clock", False) or not any(x > 0 for x, _ in steps.steps):
        return [(steps, 0, ("day", 0))]
    parts: list[_Part] = []
    if steps.start_mw > 0:
        parts.append((Steps(steps.start_mw), 0, ("day", 0)))
    for x, d in steps.steps:
        if isinstance(d, int):
            parts.append((Steps(0.0, [(x, d)]), d, ("day", d)))
        else:
            start = d.cast(pl.Int64)
            key = ("path", tuple(start.fill_null(-1).to_list()))
            parts.append((Steps(0.0, [(x, d)]), start, key))
    return parts if len(parts) <= MAX_TRANCHES else None


def _unit_sums(
    registry: RevenueModels,
    name: str,
    site: SiteContext,
    sc: PreparedScenario,
    agg: _Aggregator,
    start: Day = 0,
) -> _Unit | PluginFailure:
    model = registry[name]
    assert isinstance(model, LinearRevenueModel)
    plugin = registry.plugin_of.get(name, "?")
    dist = registry.distribution_of.get(name, "(not installed)")
    frame = sc.frame
    if model.service_clock:
        frame = with_service_age(frame, start)
    try:
        unit = model.full_unit_flows(site, frame, columns=("revenue_usd", "opex_usd"))
        lead = model.lead_days
        cpm = model.checked_capex_per_mw(site)
    except Exception as exc:
        return PluginFailure(plugin, dist, "unit_flows", f"{type(exc).__name__}: {exc}", name)
    return _Unit(agg.sums(unit["revenue_usd"], unit["opex_usd"]), lead, cpm)


def _run_model(
    registry: RevenueModels,
    name: str,
    site: SiteContext,
    sc: PreparedScenario,
    mw: pl.Series,
    agg: _Aggregator,
) -> _Agg | PluginFailure:
    model = registry[name]
    plugin = registry.plugin_of.get(name, "?")
    dist = registry.distribution_of.get(name, "(not installed)")
    try:
        out = model.cash_flows(site, sc.frame, mw.alias("mw"))
    except Exception as exc:
        return PluginFailure(plugin, dist, "cash_flows", f"{type(exc).__name__}: {exc}", name)
    try:
        cf = validate_cash_flows(out, sc, name, mw=mw)
    except Exception as exc:
        return PluginFailure(plugin, dist, "schema", str(exc), name)
    return agg.full(cf["revenue_usd"], cf["opex_usd"], cf["capex_usd"])


def _summary(
    per_path: pl.DataFrame,
    flexible: Mapping[str, bool],
    quantiles: Sequence[float],
    cvar_level: float,
) -> pl.DataFrame:
    q_cols = [
        pl.col("npv_usd").quantile(q, interpolation="linear").alias(quantile_column(q))
        for q in quantiles
    ]
    # ⌈n·level⌉ paths, with the float error of n·level forgiven (100 × 0.07 is 7.000…1,
    # which would average 8 paths)
    k = pl.max_horizontal(pl.lit(1), (pl.len() * cvar_level - 1e-9).ceil().cast(pl.Int64))
    npv_stats = ["mean_npv_usd", "std_npv_usd", *(quantile_column(q) for q in quantiles)]
    npv_stats += ["p_loss", "cvar_usd"]
    out = (
        per_path.group_by("strategy", maintain_order=True)
        .agg(
            pl.col("npv_usd").mean().alias("mean_npv_usd"),
            pl.col("npv_usd").std().alias("std_npv_usd"),
            *q_cols,
            (pl.col("npv_usd") < 0).mean().alias("p_loss"),
            pl.col("npv_usd").sort().head(k).mean().alias("cvar_usd"),
            pl.col("irr").median().alias("median_irr"),
            pl.col("irr").is_not_null().mean().alias("share_irr_defined"),
            # the median path: one that never pays back counts as beyond the horizon (+inf),
            # so the median is null when most paths never pay back
            pl.col("payback_years").fill_null(float("inf")).median().alias("median_payback_years"),
            pl.col("payback_years").is_not_null().mean().alias("share_paid_back"),
            (~pl.col("npv_usd").is_finite()).any().alias("_undefined"),
        )
        # Defence in depth (inputs and cash flows are checked for NaN/inf first): a strategy
        # with a non-finite NPV on any path has no NPV statistics, so it is never ranked.
        .with_columns(
            pl.when(pl.col("_undefined")).then(None).otherwise(pl.col(c)).alias(c)
            for c in npv_stats
        )
        .with_columns(
            pl.col("strategy")
            .replace_strict(dict(flexible), return_dtype=pl.Boolean)
            .alias("flexible")
        )
        .with_columns(
            pl.when(pl.col("median_payback_years").is_finite())
            .then(pl.col("median_payback_years"))
            .alias("median_payback_years")
        )
        .drop("_undefined")
    )
    return out.select("strategy", "flexible", pl.exclude("strategy", "flexible"))


def _flexibility(summary: pl.DataFrame) -> pl.DataFrame:
    def best(flag: bool) -> tuple[str | None, float | None]:
        mean = pl.col("mean_npv_usd")
        sub = summary.filter(
            (pl.col("flexible") == flag) & mean.is_not_null() & mean.is_finite()
        ).sort("mean_npv_usd", descending=True)
        if sub.height == 0:
            return None, None
        return sub["strategy"][0], sub["mean_npv_usd"][0]

    fx, fx_v = best(False)
    fl, fl_v = best(True)
    value = fl_v - fx_v if fx_v is not None and fl_v is not None else None
    return pl.DataFrame(
        {
            "best_fixed": [fx],
            "best_fixed_mean_npv_usd": [fx_v],
            "best_flexible": [fl],
            "best_flexible_mean_npv_usd": [fl_v],
            "value_of_flexibility_usd": [value],
        },
        schema={
            "best_fixed": pl.String,
            "best_fixed_mean_npv_usd": pl.Float64,
            "best_flexible": pl.String,
            "best_flexible_mean_npv_usd": pl.Float64,
            "value_of_flexibility_usd": pl.Float64,
        },
    )
