//! Difficulty retargeting exactly as Bitcoin Core's `src/pow.cpp` (CONSENSUS.md §4).

use super::params::{NetworkParams, OverflowMode};
use super::target::{decode, encode, U256, U512};
use crate::error::{CoreError, CoreResult, Position};

/// Read access to the headers of one chain by height: what `GetNextWorkRequired` needs.
pub trait ChainView {
    /// Bits of the block at `height`, if the view holds it.
    fn bits_at(&self, height: i64) -> Option<u32>;
    /// Timestamp (Unix seconds) of the block at `height`, if the view holds it.
    fn time_at(&self, height: i64) -> Option<i64>;
}

/// A consecutive run of headers held as columns, starting at `start_height`.
#[derive(Debug, Clone, Copy)]
pub struct SliceChain<'a> {
    pub start_height: i64,
    pub times: &'a [i64],
    pub bits: &'a [u32],
}

impl ChainView for SliceChain<'_> {
    fn bits_at(&self, height: i64) -> Option<u32> {
        let i = usize::try_from(height.checked_sub(self.start_height)?).ok()?;
        self.bits.get(i).copied()
    }
    fn time_at(&self, height: i64) -> Option<i64> {
        let i = usize::try_from(height.checked_sub(self.start_height)?).ok()?;
        self.times.get(i).copied()
    }
}

fn missing(height: i64, what: &str) -> CoreError {
    CoreError::InvalidValue {
        what: "chain context",
        at: Position::Height(height),
        why: format!(
            "the {what} of block {height} is needed and not in the given headers; pass the headers from the start of the difficulty period (or a checkpoint)"
        ),
    }
}

/// `CalculateNextWorkRequired` (CONSENSUS.md §4.2).
///
/// * `last_bits`/`last_time`: the last block of the ending period;
/// * `first_bits`/`first_time`: the first block of that period (`first_bits` is used only
///   under BIP94);
/// * arithmetic: multiply the target by the clamped span, floor-divide by the timespan, cap
///   at `powLimit`, encode (truncating). The product never wraps on the built-in networks;
///   custom networks follow `params.overflow`.
pub fn calculate_next_work_required(
    last_bits: u32,
    last_time: i64,
    first_bits: u32,
    first_time: i64,
    params: &NetworkParams,
) -> CoreResult<u32> {
    if params.no_retargeting {
        return Ok(last_bits);
    }
    let timespan = params.pow_target_timespan;
    let span = last_time
        .saturating_sub(first_time)
        .clamp(timespan / 4, timespan * 4);
    let base = if params.enforce_bip94 {
        first_bits
    } else {
        last_bits
    };
    // Core ignores the flags here (SetCompact's value is used as is).
    let t = decode(base).value;
    let span_u = span as u64; // in [timespan/4, 4·timespan] ⊂ [1, u32::MAX]
    let t = match params.overflow {
        OverflowMode::Wrap => t.wrapping_mul(U256::from(span_u)) / U256::from(timespan as u64),
        OverflowMode::Checked => t
            .checked_mul(U256::from(span_u))
            .ok_or_else(|| CoreError::Overflow {
                what: "retarget",
                at: Position::Scalar,
                why: format!(
                    "target 0x{base:08x} × span {span} s exceeds 256 bits under network {:?}; Core would wrap. Use overflow=\"wide\" for the intended result or \"wrap\" to emulate Core",
                    params.name
                ),
            })?
            / U256::from(timespan as u64),
        OverflowMode::Wide => {
            let w = U512::from(t) * U512::from(span_u) / U512::from(timespan as u64);
            let limit = U512::from(params.pow_limit);
            if w > limit {
                params.pow_limit
            } else {
                U256::from_limbs_slice(&w.as_limbs()[..4])
            }
        }
    };
    let t = if t > params.pow_limit {
        params.pow_limit
    } else {
        t
    };
    Ok(encode(t, false))
}

/// `GetNextWorkRequired` (CONSENSUS.md §4.1): the bits required of the block at
/// `last_height + 1`, whose timestamp is `new_time` (used only by the testnet 20-minute rule).
pub fn next_work_required(
    chain: &impl ChainView,
    last_height: i64,
    new_time: Option<i64>,
    params: &NetworkParams,
) -> CoreResult<u32> {
    let interval = params.interval();
    let last_bits = chain
        .bits_at(last_height)
        .ok_or_else(|| missing(last_height, "bits"))?;
    if (last_height + 1) % interval != 0 {
        if params.allow_min_difficulty_blocks {
            let limit_bits = params.pow_limit_bits();
            let last_time = chain
                .time_at(last_height)
                .ok_or_else(|| missing(last_height, "time"))?;
            if let Some(nt) = new_time {
                if nt > last_time + 2 * params.pow_target_spacing {
                    return Ok(limit_bits);
                }
            } else {
                return Err(CoreError::InvalidValue {
                    what: "new_time",
                    at: Position::Height(last_height + 1),
                    why: format!(
                        "network {:?} applies the 20-minute rule, so the new block's time is needed",
                        params.name
                    ),
                });
            }
            let mut h = last_height;
            let mut b = last_bits;
            while h > 0 && h % interval != 0 && b == limit_bits {
                h -= 1;
                b = chain.bits_at(h).ok_or_else(|| missing(h, "bits"))?;
            }
            return Ok(b);
        }
        return Ok(last_bits);
    }
    let first_h = last_height - (interval - 1);
    if first_h < 0 {
        return Err(CoreError::InvalidValue {
            what: "height",
            at: Position::Height(last_height),
            why: "a retarget needs a full period before it".into(),
        });
    }
    let first_time = chain
        .time_at(first_h)
        .ok_or_else(|| missing(first_h, "time"))?;
    let last_time = chain
        .time_at(last_height)
        .ok_or_else(|| missing(last_height, "time"))?;
    let first_bits = if params.enforce_bip94 {
        chain
            .bits_at(first_h)
            .ok_or_else(|| missing(first_h, "bits"))?
    } else {
        last_bits
    };
    calculate_next_work_required(last_bits, last_time, first_bits, first_time, params)
}

/// `PermittedDifficultyTransition` (CONSENSUS.md §4.7), the header pre-sync check.
pub fn permitted_difficulty_transition(
    params: &NetworkParams,
    height: i64,
    old_bits: u32,
    new_bits: u32,
) -> bool {
    if params.allow_min_difficulty_blocks {
        return true;
    }
    if height % params.interval() == 0 {
        let ts = params.pow_target_timespan as u64;
        let old = decode(old_bits).value;
        let bound = |span: u64| {
            let mut t = old.wrapping_mul(U256::from(span)) / U256::from(ts);
            if t > params.pow_limit {
                t = params.pow_limit;
            }
            decode(encode(t, false)).value
        };
        let hi = bound(4 * ts);
        let lo = bound(ts / 4);
        let new = decode(new_bits).value;
        lo <= new && new <= hi
    } else {
        old_bits == new_bits
    }
}

/// The BIP94 timewarp rule (CONSENSUS.md §4.5): at a period boundary the new block may be at
/// most 600 s earlier than its parent. Returns whether `new_time` passes.
pub fn bip94_timewarp_ok(
    params: &NetworkParams,
    height: i64,
    new_time: i64,
    prev_time: i64,
) -> bool {
    if !params.enforce_bip94 || height == 0 || height % params.interval() != 0 {
        return true;
    }
    new_time >= prev_time - 600
}

#[cfg(test)]
mod tests {
    use super::*;

    fn main() -> NetworkParams {
        NetworkParams::mainnet()
    }

    #[test]
    fn calculate_vectors() {
        // CONSENSUS.md §12.1 (last bits, first time, last time, expected).
        let m = main();
        let rows: &[(u32, i64, i64, u32)] = &[
            (0x1d00ffff, 1261130161, 1262152739, 0x1d00d86a),
            (0x1d00ffff, 1231006505, 1233061996, 0x1d00ffff),
            (0x1c05a3f4, 1279008237, 1279297671, 0x1c0168fd),
            (0x1c387f6f, 1263163443, 1269211443, 0x1d00e1fd),
            (0x1704ed7f, 1695114421, 1696319769, 0x1704e90f), // spec §12.1 row 5 misprints 1696359369; 0x651BC919 (verify_vectors.py)
            (0x17034219, 0, 1209600, 0x17034219),
            (0x17034219, 1000, 0, 0x1700d086),
            (0x17034219, 0, 1_000_000_000, 0x170d0864),
            (0x1d00ffff, 0, 1_000_000_000, 0x1d00ffff),
            (0x1d00ffff, 0, 604800, 0x1c7fff80),
        ];
        for &(lb, ft, lt, e) in rows {
            assert_eq!(
                calculate_next_work_required(lb, lt, lb, ft, &m).ok(),
                Some(e),
                "{lb:08x}"
            );
        }
        let s = NetworkParams::signet();
        let srows: &[(u32, i64, i64, u32)] = &[
            (0x1e0377ae, 1598918400, 1599332177, 0x1e012fa7),
            (0x1e012fa7, 1599332844, 1600591200, 0x1e013be4),
            (0x1e0377ae, 0, 4838400, 0x1e0377ae),
        ];
        for &(lb, ft, lt, e) in srows {
            assert_eq!(
                calculate_next_work_required(lb, lt, lb, ft, &s).ok(),
                Some(e)
            );
        }
        let r = NetworkParams::regtest();
        assert_eq!(
            calculate_next_work_required(0x207fffff, 1, 0x207fffff, 0, &r).ok(),
            Some(0x207fffff)
        );
    }

    #[test]
    fn bip94_base() {
        let span = 1_209_600;
        assert_eq!(
            calculate_next_work_required(0x1d00ffff, span, 0x1c00ffff, 0, &main()).ok(),
            Some(0x1d00ffff)
        );
        assert_eq!(
            calculate_next_work_required(
                0x1d00ffff,
                span,
                0x1c00ffff,
                0,
                &NetworkParams::testnet4()
            )
            .ok(),
            Some(0x1c00ffff)
        );
        // testnet3 storm
        assert_eq!(
            calculate_next_work_required(
                0x1d00ffff,
                302_400,
                0x1b0404cb,
                0,
                &NetworkParams::testnet3()
            )
            .ok(),
            Some(0x1c3fffc0)
        );
    }

    struct Synthetic {
        bits: Vec<u32>,
    }
    impl ChainView for Synthetic {
        fn bits_at(&self, h: i64) -> Option<u32> {
            self.bits.get(h as usize).copied()
        }
        fn time_at(&self, h: i64) -> Option<i64> {
            (h >= 0 && (h as usize) < self.bits.len()).then_some(1_700_000_000 + 600 * h)
        }
    }

    #[test]
    fn testnet_rules() {
        // CONSENSUS.md §12.6 rows 1–4.
        let mut bits = vec![0x1c00ffffu32; 10090];
        bits[10089] = 0x1d00ffff;
        bits[10088] = 0x1d00ffff;
        let c = Synthetic { bits };
        let tip_t = 1_700_000_000 + 600 * 10089;
        let t3 = NetworkParams::testnet3();
        assert_eq!(
            next_work_required(&c, 10089, Some(tip_t + 1201), &t3).ok(),
            Some(0x1d00ffff)
        );
        assert_eq!(
            next_work_required(&c, 10089, Some(tip_t + 1200), &t3).ok(),
            Some(0x1c00ffff)
        );
        assert_eq!(
            next_work_required(&c, 10089, Some(tip_t + 100_000), &main()).ok(),
            Some(0x1d00ffff)
        );
        let mut bits = vec![0x1c00ffffu32; 10083];
        for b in &mut bits[10080..=10082] {
            *b = 0x1d00ffff;
        }
        let c = Synthetic { bits };
        let tip_t = 1_700_000_000 + 600 * 10082;
        assert_eq!(
            next_work_required(&c, 10082, Some(tip_t + 60), &t3).ok(),
            Some(0x1d00ffff)
        );
    }

    #[test]
    fn timewarp() {
        let t4 = NetworkParams::testnet4();
        let p = 1_000_000;
        assert!(bip94_timewarp_ok(&t4, 4032, p - 600, p));
        assert!(!bip94_timewarp_ok(&t4, 4032, p - 601, p));
        assert!(bip94_timewarp_ok(&t4, 4033, p - 601, p));
        let mut r = NetworkParams::regtest();
        r.enforce_bip94 = true;
        assert!(!bip94_timewarp_ok(&r, 288, p - 601, p));
    }

    #[test]
    fn permitted() {
        let m = main();
        assert!(permitted_difficulty_transition(
            &m, 32256, 0x1d00ffff, 0x1d00d86a
        ));
        assert!(permitted_difficulty_transition(
            &m, 2016, 0x1d00ffff, 0x1d00ffff
        ));
        assert!(permitted_difficulty_transition(
            &m, 68544, 0x1c05a3f4, 0x1c0168fd
        ));
        assert!(!permitted_difficulty_transition(
            &m, 68544, 0x1c05a3f4, 0x1c0168fc
        ));
        assert!(permitted_difficulty_transition(
            &m, 46368, 0x1c387f6f, 0x1d00e1fd
        ));
        assert!(!permitted_difficulty_transition(
            &m, 46368, 0x1c387f6f, 0x1d00e1fe
        ));
        assert!(permitted_difficulty_transition(
            &m, 46367, 0x1c387f6f, 0x1c387f6f
        ));
        assert!(!permitted_difficulty_transition(
            &m, 46367, 0x1c387f6f, 0x1c387f70
        ));
        assert!(permitted_difficulty_transition(
            &NetworkParams::testnet3(),
            5,
            0x1c387f6f,
            0x1d00ffff
        ));
    }

    #[test]
    fn overflow_modes() {
        let mut r = NetworkParams::regtest();
        r.no_retargeting = false;
        r.overflow = OverflowMode::Checked;
        // regtest limit × 4·timespan overflows 256 bits.
        assert!(calculate_next_work_required(0x207fffff, 4 * 86400, 0x207fffff, 0, &r).is_err());
        r.overflow = OverflowMode::Wide;
        assert_eq!(
            calculate_next_work_required(0x207fffff, 4 * 86400, 0x207fffff, 0, &r).ok(),
            Some(0x207fffff)
        );
        r.overflow = OverflowMode::Wrap;
        let wrapped = calculate_next_work_required(0x207fffff, 4 * 86400, 0x207fffff, 0, &r);
        assert!(matches!(wrapped, Ok(b) if b != 0x207fffff));
    }
}
