"""The one error path of hashpivot.

Every failure a user can cause raises a subclass of :class:`HashpivotError`. Each message
names the input, the position (row, height, or ``file:line``) and what to do about it.
Leaves also subclass the builtin that fits (``ValueError``, ``TypeError``, ``OSError``), so
code that catches builtins keeps working.

The Rust core raises these same classes (``rust/src/py/errors.rs`` imports them from here).
"""

from __future__ import annotations

__all__ = [
    "ArithmeticOverflowError",
    "ConfigError",
    "ConsensusRuleError",
    "DataFormatError",
    "DtypeError",
    "HashpivotError",
    "InvalidBitsError",
    "InvalidTargetError",
    "InvalidValueError",
    "OutputError",
    "PluginError",
    "SchemaError",
]


class HashpivotError(Exception):
    """Base class of every error hashpivot raises on purpose."""


class InvalidValueError(HashpivotError, ValueError):
    """A value outside the domain of a function (negative height, bad network name, ...)."""


class InvalidBitsError(InvalidValueError):
    """Compact bits that Bitcoin Core rejects: sign bit set, overflow, zero or above powLimit."""


class InvalidTargetError(InvalidValueError):
    """A 256-bit target that cannot be used (zero, negative, wider than 256 bits)."""


class ArithmeticOverflowError(InvalidValueError):
    """Arithmetic that would exceed its width (Core would wrap); see ``NetworkParams.overflow``."""


class DtypeError(HashpivotError, TypeError):
    """A column or argument of the wrong type."""


class SchemaError(HashpivotError, ValueError):
    """A frame whose columns do not match the documented schema."""


class ConsensusRuleError(HashpivotError, ValueError):
    """A header that breaks a consensus rule (linkage, proof of work, bits, timestamps)."""


class DataFormatError(HashpivotError, ValueError):
    """Input bytes or text that are not in the expected format (truncated, bad magic, bad hex)."""


class ConfigError(HashpivotError, ValueError):
    """A site or scenario file that cannot be used; the message names file, line and key."""


class PluginError(HashpivotError):
    """A plugin that failed to load, raised, or returned the wrong schema."""


class OutputError(HashpivotError, OSError):
    """Results that cannot be written where asked (the folder exists with other files, its
    parent is missing, the disk is full); nothing partial is left behind."""
