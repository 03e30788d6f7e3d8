"""Parameter checks of the builtin revenue models (called from their ``__post_init__``).

Each check reads one field of a model and raises
:class:`~hashpivot.exceptions.DtypeError` (not a number, not a whole number, not a boolean)
or :class:`~hashpivot.exceptions.InvalidValueError` (out of range) with a message
``Model.field: value …; what to write instead``. Site files (``hashpivot.config``) report
the same message at the ``FILE:LINE`` of the key; they strip the ``Model.field: `` prefix,
which the key path already names.

The rules (documented in ``docs/site-files.md``):

* shares and probabilities lie in [0, 1] (a pool fee in [0, 1)); a value in (1, 100] is
  taken for a percentage written as a number and the message says how to write it;
* prices, costs, credits and multipliers are ≥ 0; physical sizes and lives are > 0; both
  at most 1e15 (beyond any real value; larger ones overflow the run's sums);
* wall power / IT power (PUE, overhead) lies in [1, 3], like ``[site] pue``;
* day counts are whole numbers in [0, 36,525] (100 years);
* annual rates lie in (−1, 1] (the lower bound keeps ``(1 + r)^years`` defined, the upper
  one catches "3" meant as 3 %);
* switches are booleans; the model's name is a non-empty string.
"""

from __future__ import annotations

import math
from numbers import Integral, Real

from hashpivot.exceptions import DtypeError, InvalidValueError

MAX_DAYS = 36_525
MAX_PUE = 3.0
#: The largest price, cost, credit, multiplier or size a parameter may take: far above any
#: real value (a quadrillion), far below where the daily sums over a run leave ``float``.
MAX_AMOUNT = 1e15


def _label(obj: object, field: str) -> str:
    return f"{type(obj).__name__}.{field}"


def _show(v: float) -> str:
    """``95`` for 95.0, ``-2000000`` for -2e6, ``0.95`` for 0.95."""
    if float(v).is_integer() and abs(v) < 1e15:
        return str(int(v))
    return repr(float(v))


def _real(obj: object, field: str, expected: str) -> float:
    v = getattr(obj, field)
    if isinstance(v, bool) or not isinstance(v, Real):
        raise DtypeError(
            f"{_label(obj, field)}: {v!r} is a {type(v).__name__}; expected {expected}"
        )
    x = float(v)
    if not math.isfinite(x):
        raise InvalidValueError(
            f"{_label(obj, field)}: {v!r} is not a finite number; expected {expected}"
        )
    return x


def share(obj: object, field: str, what: str = "a share", *, below_one: bool = False) -> None:
    """``field`` in [0, 1] (``below_one``: [0, 1)); 95 is explained as 95 %."""
    hi = "1)" if below_one else "1]"
    x = _real(obj, field, f"{what} in [0, {hi}")
    if 0.0 <= x < 1.0 or (x == 1.0 and not below_one):
        return
    head = f"{_label(obj, field)}: {_show(x)} is {what} in [0, {hi}"
    if x == 1.0:
        raise InvalidValueError(f"{head}; it must be below 1 (100 %)")
    raise InvalidValueError(f"{head}; {_percent_hint(x, 'write a number between 0 and 1')}")


def _percent_hint(x: float, otherwise: str) -> str:
    """How to write ``x`` if it was meant as a percentage."""
    if 2.0 <= x <= 100.0:  # "95" for 95 %
        return f'write {x / 100:g} or "{_show(x)} %"'
    if 1.0 < x < 2.0:  # "1.5" may be 1.5 % or 150 %: say which is which
        return f'for {_show(x)} % write {x / 100:g} or "{_show(x)} %"'
    return f'{otherwise} (0.05 or "5 %" for 5 %)'


def non_negative(obj: object, field: str, what: str) -> None:
    """``field`` ≥ 0 (a price, cost, credit or multiplier)."""
    x = _real(obj, field, f"{what} (a number >= 0)")
    if x < 0.0:
        raise InvalidValueError(
            f"{_label(obj, field)}: {_show(x)} is negative; {what} must be >= 0 (give it "
            "without a minus sign, or 0)"
        )
    _not_huge(obj, field, x, what)


def _not_huge(obj: object, field: str, x: float, what: str) -> None:
    if x > MAX_AMOUNT:
        raise InvalidValueError(
            f"{_label(obj, field)}: {_show(x)} is more than {MAX_AMOUNT:g}, {what} far beyond "
            "any real value; check the unit (USD, not micro-units)"
        )


def positive(obj: object, field: str, what: str) -> None:
    """``field`` > 0 (a physical size or a life)."""
    x = _real(obj, field, f"{what} (a number > 0)")
    if not x > 0.0:
        raise InvalidValueError(f"{_label(obj, field)}: {_show(x)} must be > 0 ({what})")
    _not_huge(obj, field, x, what)


def optional_positive(obj: object, field: str, what: str) -> None:
    """``field`` is None or > 0."""
    if getattr(obj, field) is not None:
        positive(obj, field, what)


def optional_non_negative(obj: object, field: str, what: str) -> None:
    """``field`` is None or ≥ 0."""
    if getattr(obj, field) is not None:
        non_negative(obj, field, what)


def overhead(obj: object, field: str) -> None:
    """Wall power / IT power in [1, 3] (1.05 = 5 % cooling and losses)."""
    what = "wall power / IT power"
    x = _real(obj, field, f"{what} in [1, {MAX_PUE:g}]")
    if not 1.0 <= x <= MAX_PUE:
        raise InvalidValueError(
            f"{_label(obj, field)}: {_show(x)} is {what}, which lies in [1, {MAX_PUE:g}]; "
            "write 1.05 for 5 % cooling and losses"
        )


def days(obj: object, field: str) -> None:
    """A whole number of days in [0, 36,525]."""
    v = getattr(obj, field)
    expected = f"a whole number of days in [0, {MAX_DAYS}]"
    if isinstance(v, bool) or not isinstance(v, Integral):
        fix = ""
        if isinstance(v, Real) and math.isfinite(float(v)):
            fix = f" (write {round(float(v))})"
        raise DtypeError(
            f"{_label(obj, field)}: {v!r} is a {type(v).__name__}; expected {expected}{fix}"
        )
    if not 0 <= int(v) <= MAX_DAYS:
        raise InvalidValueError(f"{_label(obj, field)}: {int(v)} must be {expected}")


def rate(obj: object, field: str, what: str = "an annual rate") -> None:
    """An annual rate in (−1, 1]: 0.03 is 3 % a year."""
    x = _real(obj, field, f"{what} in (-1, 1]")
    if not -1.0 < x <= 1.0:
        fix = _percent_hint(x, "write a rate above -1 and at most 1")
        raise InvalidValueError(f"{_label(obj, field)}: {_show(x)} is {what} in (-1, 1]; {fix}")


def flag(obj: object, field: str) -> None:
    """A boolean switch."""
    v = getattr(obj, field)
    if not isinstance(v, bool):
        raise DtypeError(
            f"{_label(obj, field)}: {v!r} is a {type(v).__name__}; expected True or False"
        )


def name(obj: object, field: str = "name") -> None:
    """The model's name: a non-empty string."""
    v = getattr(obj, field)
    if not isinstance(v, str) or not v.strip():
        raise DtypeError(
            f"{_label(obj, field)}: {v!r} is not a model name; expected a non-empty string"
        )
