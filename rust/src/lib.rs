//! hashpivot-core: consensus-exact Bitcoin arithmetic and the numeric kernels behind the
//! `hashpivot` Python package.
//!
//! The core is pure Rust working on slices and plain structs; `cargo test` exercises it
//! without Python. The only code that knows about Python lives in [`py`] behind the
//! `python` feature.

pub mod chain;
pub mod consensus;
pub mod error;
pub mod fleet;
pub mod sim;

#[cfg(feature = "python")]
mod py;

pub use error::{CoreError, CoreResult};
