//! The scenario engine: Monte Carlo paths of BTC price, fees, power price, GPU rent, the
//! installed fleet's response, block arrivals and the exact consensus retarget.
//!
//! * [`config`] — the plain-struct scenario specification and its validation;
//! * [`rng`] — per-(seed, path, stream) random number streams (thread-count independent);
//! * [`drivers`] — price (GBM with jumps, block bootstrap, given), fees, power, GPU rent,
//!   correlated through a Cholesky factor;
//! * [`network`] — installed hashrate by efficiency class and power-price tranche, switch-off
//!   with hysteresis, arrivals with lead time and a deployment cap, retirement, shocks;
//! * [`chain`] — block arrivals given hashrate and target, retargets via
//!   [`crate::consensus::retarget::calculate_next_work_required`], halvings by height;
//! * [`poisson`] — the daily block count: `rand_distr`'s Poisson sampler, set up lazily;
//! * [`vexp`] — `exp` over whole columns in vectorisable form;
//! * `lockstep` (x86-64) — four paths' days together, one AVX lane per path;
//! * [`engine`] — runs paths in parallel (rayon) into preallocated columns.
//!
//! The design notes are in `docs/design-sim.md`; the public API is `hashpivot.scenario`.

pub mod chain;
pub mod config;
pub mod drivers;
pub mod engine;
#[cfg(target_arch = "x86_64")]
mod lockstep;
pub mod network;
pub mod normal;
pub mod poisson;
pub mod rng;
pub mod summary;
pub mod vexp;

pub use config::*;
pub use engine::{simulate, simulate_daily, SimOutput};
