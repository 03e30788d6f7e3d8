//! proptest invariants of the consensus core (run by plain `cargo test`, no Python).

use hashpivot_core::consensus::params::NetworkParams;
use hashpivot_core::consensus::retarget::calculate_next_work_required;
use hashpivot_core::consensus::subsidy::{block_subsidy, issuance_through, total_issuance};
use hashpivot_core::consensus::target::{decode, encode, U256};
use proptest::prelude::*;

fn u256() -> impl Strategy<Value = U256> {
    any::<[u64; 4]>().prop_map(U256::from_limbs)
}

proptest! {
    #[test]
    fn encode_truncates_and_is_canonical(v in u256()) {
        let bits = encode(v, false);
        let d = decode(bits);
        prop_assert!(!d.negative && !d.overflow);
        prop_assert!(d.value <= v);
        prop_assert_eq!(encode(d.value, false), bits);
        // at least 16 significant bits are kept
        if v.bit_len() > 24 {
            prop_assert!(d.value.bit_len() == v.bit_len());
        }
    }

    #[test]
    fn retarget_is_monotone_in_span(mant in 0x008000u32..0x7fffff, size in 4u32..=0x1d,
                                    a in -10_000_000i64..20_000_000, b in -10_000_000i64..20_000_000) {
        let bits = (size << 24) | mant;
        let p = NetworkParams::mainnet();
        if decode(bits).value > p.pow_limit { return Ok(()); }
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        let t_lo = decode(calculate_next_work_required(bits, lo, bits, 0, &p).unwrap_or(0)).value;
        let t_hi = decode(calculate_next_work_required(bits, hi, bits, 0, &p).unwrap_or(0)).value;
        prop_assert!(t_lo <= t_hi);
        let old = decode(bits).value;
        prop_assert!(t_hi <= (old * U256::from(4u8)).min(p.pow_limit));
        prop_assert!(t_lo >= decode(encode(old / U256::from(4u8), false)).value);
    }

    #[test]
    fn on_schedule_is_identity(mant in 0x008000u32..0x7fffff, size in 4u32..=0x1c) {
        let bits = (size << 24) | mant;
        let p = NetworkParams::mainnet();
        prop_assert_eq!(calculate_next_work_required(bits, 1_209_600, bits, 0, &p).ok(), Some(bits));
    }

    #[test]
    fn issuance_is_cumulative_subsidy(h in 0i64..8_000_000) {
        let step = issuance_through(h + 1, 210_000).unwrap_or(-1) - issuance_through(h, 210_000).unwrap_or(-1);
        prop_assert_eq!(step, block_subsidy(h + 1, 210_000).unwrap_or(-2));
        prop_assert!(issuance_through(h, 210_000).unwrap_or(i64::MAX) <= total_issuance(210_000).unwrap_or(0));
    }
}
