//! The single mapping from core errors to `hashpivot.exceptions` classes.

use pyo3::prelude::*;

use crate::error::CoreError;

pyo3::import_exception!(hashpivot.exceptions, InvalidBitsError);
pyo3::import_exception!(hashpivot.exceptions, InvalidTargetError);
pyo3::import_exception!(hashpivot.exceptions, InvalidValueError);
pyo3::import_exception!(hashpivot.exceptions, ArithmeticOverflowError);
pyo3::import_exception!(hashpivot.exceptions, ConsensusRuleError);
pyo3::import_exception!(hashpivot.exceptions, DataFormatError);
pyo3::import_exception!(hashpivot.exceptions, DtypeError);

impl From<CoreError> for PyErr {
    fn from(e: CoreError) -> PyErr {
        let msg = e.to_string();
        match e {
            CoreError::InvalidBits { .. } | CoreError::BitsOutOfRange { .. } => {
                InvalidBitsError::new_err(msg)
            }
            CoreError::InvalidTarget { .. } => InvalidTargetError::new_err(msg),
            CoreError::InvalidValue { .. } => InvalidValueError::new_err(msg),
            CoreError::Overflow { .. } => ArithmeticOverflowError::new_err(msg),
            CoreError::RuleViolation { .. } => ConsensusRuleError::new_err(msg),
            CoreError::Format { .. } => DataFormatError::new_err(msg),
        }
    }
}

/// A wrong Arrow/polars dtype for an argument.
pub fn dtype_error(arg: &str, found: &str, expected: &str) -> PyErr {
    DtypeError::new_err(format!(
        "{arg}: dtype {found} is not supported; expected {expected}"
    ))
}
