//! Synthetic header chains mined under easy custom parameters, for tests and benchmarks.
//!
//! Timestamps follow a seeded random walk around the target spacing (with occasional
//! out-of-order times that still respect the median-time-past rule), bits come from the
//! consensus retarget rule, and each nonce is ground until the proof of work holds. The
//! generator is sequential (each header commits to its parent's hash) and deterministic:
//! the same `(n, params, seed)` always gives the same bytes.

use super::header::{block_hash, Header, Midstate, HEADER_LEN};
use crate::consensus::params::NetworkParams;
use crate::consensus::retarget::{next_work_required, SliceChain};
use crate::consensus::target::{derive_target, U256};
use crate::consensus::time::median_time_past;
use crate::error::{CoreError, CoreResult, Position};

/// SplitMix64: a tiny, well-known seeded generator (enough for test data).
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

const MAX_VERSION_TWEAKS: u32 = 4;

/// Grind the nonce (then the version's low bits) until the header meets its bits' target.
pub fn mine(header: &mut Header, params: &NetworkParams) -> CoreResult<()> {
    let target = derive_target(header.bits, &params.pow_limit)?;
    let work_estimate = U256::MAX / (target + U256::from(1u8));
    if work_estimate > U256::from(1u64 << 28) {
        return Err(CoreError::InvalidValue {
            what: "bits",
            at: Position::Scalar,
            why: format!(
                "0x{:08x} needs about {work_estimate} hashes per block; synthetic chains need easy parameters (a pow_limit near 2^255, e.g. NetworkParams.custom(\"regtest\", no_retargeting=False, overflow=\"wide\"))",
                header.bits
            ),
        });
    }
    for _ in 0..MAX_VERSION_TWEAKS {
        let raw = header.serialize();
        let mid = Midstate::of(&raw);
        let mut tail = [0u8; 16];
        tail.copy_from_slice(&raw[64..]);
        let start = header.nonce;
        for k in 0..=u32::MAX {
            let nonce = start.wrapping_add(k);
            tail[12..16].copy_from_slice(&nonce.to_le_bytes());
            if U256::from_le_bytes(mid.finish(&tail)) <= target {
                header.nonce = nonce;
                return Ok(());
            }
        }
        header.version ^= 1 << 13;
    }
    Err(CoreError::InvalidValue {
        what: "bits",
        at: Position::Scalar,
        why: "no nonce found".into(),
    })
}

/// The most headers [`synthetic_chain`] makes (8 GB of headers).
pub const MAX_SYNTHETIC: usize = 100_000_000;

/// Mine `n` consecutive headers from a synthetic genesis under `params`.
pub fn synthetic_chain(n: usize, params: &NetworkParams, seed: u64) -> CoreResult<Vec<u8>> {
    params.validate()?;
    if n > MAX_SYNTHETIC {
        return Err(crate::error::CoreError::InvalidValue {
            what: "n",
            at: crate::error::Position::Scalar,
            why: format!("{n} headers; a synthetic chain has at most {MAX_SYNTHETIC}"),
        });
    }
    let mut rng = SplitMix64::new(seed ^ 0x6861_7368_7069_766f);
    let spacing = params.pow_target_spacing as f64;
    let interval = params.interval();
    let mut out = Vec::with_capacity(n * HEADER_LEN);
    let mut times: Vec<i64> = Vec::with_capacity(n);
    let mut bits: Vec<u32> = Vec::with_capacity(n);
    let mut prev = [0u8; 32];
    let limit = params.pow_limit;
    // Speed factor per period: < 1 means blocks come faster than the target spacing.
    let mut speed = 1.0f64;
    for i in 0..n {
        let h = i as i64;
        if h % interval == 0 {
            // Drift the pace; push it back when the difficulty climbs too high to mine cheaply.
            let hard = bits
                .last()
                .and_then(|b| derive_target(*b, &limit).ok())
                .is_some_and(|t| t < (limit >> 4usize));
            speed = if hard {
                1.6
            } else {
                0.6 + 0.8 * rng.next_f64()
            };
        }
        let time = if i == 0 {
            params.genesis_time
        } else {
            let last = times[i - 1];
            // Exponential inter-arrival, occasionally negative (miners' clocks disagree).
            let u = rng.next_f64().max(1e-12);
            let mut dt = (-u.ln() * spacing * speed) as i64;
            if rng.next_u64().is_multiple_of(16) {
                dt = -((rng.next_u64() % 1200) as i64);
            }
            let mtp = median_time_past(&times[i.saturating_sub(11)..]).unwrap_or(last);
            let mut t = (last + dt).max(mtp + 1);
            if params.enforce_bip94 && h % interval == 0 {
                t = t.max(last - 600); // BIP94 timewarp rule
            }
            t
        };
        let b = if i == 0 {
            params.genesis_bits
        } else {
            let view = SliceChain {
                start_height: 0,
                times: &times,
                bits: &bits,
            };
            next_work_required(&view, h - 1, Some(time), params)?
        };
        let mut merkle = [0u8; 32];
        for k in 0..4 {
            merkle[k * 8..k * 8 + 8].copy_from_slice(&rng.next_u64().to_le_bytes());
        }
        let mut hd = Header {
            version: 0x2000_0000 | ((rng.next_u64() & 0xfff) as i32),
            prev,
            merkle,
            time: u32::try_from(time).map_err(|_| CoreError::InvalidValue {
                what: "genesis_time",
                at: Position::Height(h),
                why: format!("time {time} does not fit a header's 32-bit field"),
            })?,
            bits: b,
            nonce: rng.next_u64() as u32,
        };
        mine(&mut hd, params).map_err(|e| e.at(Position::Height(h)))?;
        let raw = hd.serialize();
        prev = block_hash(&raw);
        out.extend_from_slice(&raw);
        times.push(time);
        bits.push(b);
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::panic)]
mod tests {
    use super::*;
    use crate::chain::validate::{build, Check, Context};
    use crate::consensus::params::OverflowMode;

    pub fn easy() -> NetworkParams {
        let mut p = NetworkParams::regtest();
        p.no_retargeting = false;
        p.allow_min_difficulty_blocks = false;
        p.overflow = OverflowMode::Wide;
        p.genesis_hash = String::new();
        p
    }

    #[test]
    fn synthetic_validates_and_retargets() {
        let p = easy();
        let data = synthetic_chain(1500, &p, 7).ok().unwrap_or_default();
        assert_eq!(data.len(), 1500 * 80);
        let again = synthetic_chain(1500, &p, 7).ok().unwrap_or_default();
        assert_eq!(data, again, "deterministic");
        let cols = build(&data, 0, &p, &Context::default(), None, Check::Raise);
        let cols = match cols {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        };
        let distinct: std::collections::BTreeSet<u32> = cols.bits.iter().copied().collect();
        assert!(distinct.len() > 3, "retargets happen: {distinct:?}");
    }
}
