//! Bitcoin Core's consensus arithmetic, bit for bit (see `shared/spec/CONSENSUS.md`).
//!
//! * [`target`]: 256-bit targets, compact "nBits" encoding with Core's sign/overflow flags,
//!   difficulty as `GetDifficulty` prints it, and block proof (work).
//! * [`params`]: network parameters (mainnet, testnet3, testnet4, signet, regtest, custom).
//! * [`retarget`]: `GetNextWorkRequired` / `CalculateNextWorkRequired` with the testnet
//!   20-minute rule and its walk-back, BIP94, and `PermittedDifficultyTransition`.
//! * [`subsidy`]: block subsidy, halving heights and cumulative issuance.
//! * [`time`]: median time past.

pub mod columns;
pub mod params;
pub mod retarget;
pub mod subsidy;
pub mod target;
pub mod time;

pub use params::{NetworkParams, OverflowMode};
pub use target::{Compact, U256, U512};
