//! The Python bindings: the only module that knows about Python.
//!
//! Each submodule extracts arguments, calls the pure core inside `py.detach` (GIL released)
//! and maps [`crate::CoreError`] to `hashpivot.exceptions` through one `From` impl.

mod chain;
mod consensus;
mod convert;
mod errors;
mod fleet;
mod sim;

use pyo3::prelude::*;

/// hashpivot._core: private compiled kernels. Use the documented `hashpivot.*` modules.
#[pymodule(gil_used = false)]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    consensus::register(m)?;
    chain::register(m)?;
    fleet::register(m)?;
    sim::register(m)?;
    Ok(())
}
