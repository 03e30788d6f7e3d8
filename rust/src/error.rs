//! The one error type of the core. The Python bindings map each variant to a class in
//! `hashpivot.exceptions` (see `py/errors.rs`); nothing in the core panics on user input.

use thiserror::Error;

/// Result alias used throughout the core.
pub type CoreResult<T> = Result<T, CoreError>;

/// Every failure a caller can cause, with the position (row or height) where it applies.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CoreError {
    /// Compact bits that Core rejects: sign bit set, overflow, zero, or above the proof-of-work limit.
    #[error("{what}{at}: bits 0x{bits:08x} {why}; {fix}")]
    InvalidBits {
        what: &'static str,
        at: Position,
        bits: u32,
        why: &'static str,
        fix: &'static str,
    },
    /// A value that cannot be compact bits at all (negative, or wider than 32 bits).
    #[error("{what}{at}: {value} is outside the 32-bit range of compact bits [0, 0xffffffff]")]
    BitsOutOfRange {
        what: &'static str,
        at: Position,
        value: i128,
    },
    /// A 256-bit target that cannot be used (zero, or wider than 256 bits).
    #[error("{what}{at}: {why}")]
    InvalidTarget {
        what: &'static str,
        at: Position,
        why: String,
    },
    /// A height (or other count) out of the domain of the function.
    #[error("{what}{at}: {why}")]
    InvalidValue {
        what: &'static str,
        at: Position,
        why: String,
    },
    /// Arithmetic that Core would silently wrap, refused under `overflow = "checked"`.
    #[error("{what}{at}: {why}")]
    Overflow {
        what: &'static str,
        at: Position,
        why: String,
    },
    /// A consensus rule broken by a header (used by chain validation).
    #[error("{rule} at height {height}: {detail}")]
    RuleViolation {
        rule: &'static str,
        height: i64,
        detail: String,
    },
    /// Bytes that are not what the reader expects (truncated files, bad magic, bad hex).
    #[error("{source_name}{at}: {why}")]
    Format {
        source_name: String,
        at: Position,
        why: String,
    },
}

/// Where in the input an error happened. Renders as "" (scalar), " (row 12)" or
/// " (height 840000)".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Position {
    #[default]
    Scalar,
    Row(usize),
    Height(i64),
    Offset(u64),
}

impl std::fmt::Display for Position {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Position::Scalar => Ok(()),
            Position::Row(r) => write!(f, " (row {r})"),
            Position::Height(h) => write!(f, " (height {h})"),
            Position::Offset(o) => write!(f, " (byte offset {o})"),
        }
    }
}

impl CoreError {
    /// Re-attach a row index to an error raised by a scalar kernel inside a vectorised loop.
    #[must_use]
    pub fn at_row(self, row: usize) -> Self {
        self.at(Position::Row(row))
    }

    /// Replace the position of an error.
    #[must_use]
    pub fn at(mut self, pos: Position) -> Self {
        match &mut self {
            CoreError::InvalidBits { at, .. }
            | CoreError::BitsOutOfRange { at, .. }
            | CoreError::InvalidTarget { at, .. }
            | CoreError::InvalidValue { at, .. }
            | CoreError::Overflow { at, .. }
            | CoreError::Format { at, .. } => *at = pos,
            CoreError::RuleViolation { .. } => {}
        }
        self
    }
}
