//! 256-bit targets, the compact "nBits" encoding, difficulty and work (CONSENSUS.md §2, §3, §6, §7).

use crate::error::{CoreError, CoreResult, Position};

/// Unsigned 256-bit integer (ruint), used with Core's wrapping semantics where Core wraps.
pub type U256 = ruint::aliases::U256;
/// 512-bit integer for the widened retarget product of custom networks.
pub type U512 = ruint::aliases::U512;

/// A decoded compact value: Core's `SetCompact` result with its two flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compact {
    /// The (possibly wrapped) magnitude. Never use it when `overflow` is set.
    pub value: U256,
    /// The sign flag was set on a non-zero mantissa.
    pub negative: bool,
    /// The value does not fit in 256 bits.
    pub overflow: bool,
}

/// The "difficulty-1" target `0xffff · 2^208` (= `decode(0x1d00ffff)`).
pub fn difficulty_one_target() -> U256 {
    U256::from(0xffffu64) << 208usize
}

/// Core's `arith_uint256::SetCompact` (CONSENSUS.md §3.1), flags computed on the shifted word.
pub fn decode(bits: u32) -> Compact {
    let size = bits >> 24;
    let mut word = bits & 0x007f_ffff;
    let value = if size <= 3 {
        word >>= 8 * (3 - size);
        U256::from(word)
    } else {
        // Wrapping shift: bits past 2^256 are dropped (the overflow flag reports it).
        U256::from(word) << (8 * (size as usize - 3))
    };
    let negative = word != 0 && (bits & 0x0080_0000) != 0;
    let overflow =
        word != 0 && (size > 34 || (word > 0xff && size > 33) || (word > 0xffff && size > 32));
    Compact {
        value,
        negative,
        overflow,
    }
}

/// Core's `arith_uint256::GetCompact` (CONSENSUS.md §3.2): truncating, with sign avoidance.
pub fn encode(value: U256, negative: bool) -> u32 {
    let mut size = value.bit_len().div_ceil(8) as u32;
    let mut mant: u32 = if size <= 3 {
        (value.as_limbs()[0] << (8 * (3 - size))) as u32
    } else {
        let shifted = value >> (8 * (size as usize - 3));
        shifted.as_limbs()[0] as u32
    };
    if mant & 0x0080_0000 != 0 {
        mant >>= 8;
        size += 1;
    }
    let mut c = (size << 24) | mant;
    if negative && (mant & 0x007f_ffff) != 0 {
        c |= 0x0080_0000;
    }
    c
}

/// Whether `bits` is in canonical form (`encode(decode(bits)) == bits`).
pub fn is_canonical(bits: u32) -> bool {
    let d = decode(bits);
    !d.overflow && encode(d.value, d.negative) == bits
}

/// Core's `DeriveTarget` (CONSENSUS.md §3.3): the target of valid bits, or why they are invalid.
pub fn derive_target(bits: u32, pow_limit: &U256) -> CoreResult<U256> {
    let d = decode(bits);
    let why = if d.negative {
        Some("have the sign bit (0x00800000) set on a non-zero mantissa")
    } else if d.overflow {
        Some("overflow 256 bits")
    } else if d.value.is_zero() {
        Some("decode to a zero target")
    } else if d.value > *pow_limit {
        Some("decode to a target above the network's proof-of-work limit")
    } else {
        None
    };
    match why {
        Some(why) => Err(CoreError::InvalidBits {
            what: "bits",
            at: Position::Scalar,
            bits,
            why,
            fix: "use bits as found in a block header (e.g. 0x1d00ffff)",
        }),
        None => Ok(d.value),
    }
}

/// Core's `CheckProofOfWork`: `hash ≤ target` for valid bits. `hash_le` is the double-SHA256
/// output in internal (little-endian) byte order.
pub fn check_proof_of_work(hash_le: &[u8; 32], bits: u32, pow_limit: &U256) -> bool {
    match derive_target(bits, pow_limit) {
        Ok(t) => U256::from_le_bytes(*hash_le) <= t,
        Err(_) => false,
    }
}

/// Decode bits for arithmetic, rejecting negative/overflowing/zero values (no powLimit check).
pub fn target_of_bits(bits: u32) -> CoreResult<U256> {
    let d = decode(bits);
    let why = if d.negative {
        Some("have the sign bit (0x00800000) set on a non-zero mantissa")
    } else if d.overflow {
        Some("overflow 256 bits")
    } else if d.value.is_zero() {
        Some("decode to a zero target")
    } else {
        None
    };
    match why {
        Some(why) => Err(CoreError::InvalidBits {
            what: "bits",
            at: Position::Scalar,
            bits,
            why,
            fix: "use bits as found in a block header (e.g. 0x1d00ffff)",
        }),
        None => Ok(d.value),
    }
}

/// Core's `GetDifficulty(bits)` (CONSENSUS.md §6), in Core's operation order.
///
/// The 24-bit mantissa mask includes the sign bit, exactly as Core does. A zero mantissa
/// would divide by zero in C++; here it is an error.
pub fn bits_to_difficulty(bits: u32) -> CoreResult<f64> {
    let mant = bits & 0x00ff_ffff;
    if mant == 0 {
        return Err(CoreError::InvalidBits {
            what: "bits",
            at: Position::Scalar,
            bits,
            why: "have a zero mantissa (difficulty would be infinite)",
            fix: "use bits as found in a block header (e.g. 0x1d00ffff)",
        });
    }
    let mut shift = (bits >> 24) & 0xff;
    let mut d = 65535.0f64 / f64::from(mant);
    while shift < 29 {
        d *= 256.0;
        shift += 1;
    }
    while shift > 29 {
        d /= 256.0;
        shift -= 1;
    }
    Ok(d)
}

/// Difficulty of an arbitrary 256-bit target: `T1 / target`, correctly rounded to f64.
///
/// For a canonical compact target this equals [`bits_to_difficulty`] (both are the
/// correctly rounded quotient).
pub fn target_to_difficulty(target: &U256) -> CoreResult<f64> {
    if target.is_zero() {
        return Err(CoreError::InvalidTarget {
            what: "target",
            at: Position::Scalar,
            why: "is zero; difficulty is undefined for a zero target".into(),
        });
    }
    ratio_to_f64(&difficulty_one_target(), target)
}

/// `num / den` correctly rounded to the nearest f64 (ties to even), for 256-bit operands.
fn ratio_to_f64(num: &U256, den: &U256) -> CoreResult<f64> {
    // Scale the numerator so the integer quotient has at least 64 significant bits, keep a
    // sticky bit for the remainder, then round once.
    let num_w = U512::from(*num);
    let den_w = U512::from(*den);
    let nb = num.bit_len() as i64;
    let db = den.bit_len() as i64;
    // quotient bits ≈ nb - db + k; we want ≥ 66.
    let k = (66 - (nb - db)).max(0) as usize;
    let (q, r) = (num_w << k).div_rem(den_w);
    let mut q = q;
    if !r.is_zero() {
        q |= U512::from(1u8);
    }
    Ok(u512_to_f64_rounded(&q) * 2f64.powi(-(k as i32)))
}

/// Convert to f64 with a single round-to-nearest-even, using a sticky bit.
fn u512_to_f64_rounded(q: &U512) -> f64 {
    let bl = q.bit_len();
    if bl <= 64 {
        return q.as_limbs()[0] as f64; // u64 -> f64 is correctly rounded
    }
    let shift = bl - 64;
    let top = (*q >> shift).as_limbs()[0];
    let rest_nonzero = !(*q & ((U512::from(1u8) << shift) - U512::from(1u8))).is_zero();
    let top = top | u64::from(rest_nonzero); // sticky: bit 0 is far below f64 precision
    (top as f64) * 2f64.powi(shift as i32)
}

/// Core's `GetBitsProof` (CONSENSUS.md §7): `floor(2^256 / (target + 1))`, 0 for invalid bits.
pub fn bits_proof(bits: u32) -> U256 {
    if let Some(p) = bits_proof_u128(bits) {
        return p;
    }
    let d = decode(bits);
    if d.negative || d.overflow || d.value.is_zero() {
        return U256::ZERO;
    }
    target_proof(&d.value)
}

/// [`bits_proof`] in 128-bit arithmetic for the bits whose target is `m · 2^s` with a
/// positive mantissa `m < 2^23` and `136 ≤ s ≤ 232` (size bytes 20…32: every bits value of
/// mainnet, testnet and regtest); `None` for the others, which take the 256-bit division.
///
/// With `N = 256 − s ≤ 120`, `q = ⌊2^N / m⌋` and `r = 2^N − q·m`: `2^256 / (m·2^s + 1)` lies
/// below `2^N / m` by `2^N / (m·(m·2^s + 1)) < 1` (as `2^N < 2^s`), so the proof is `q` or
/// `q − 1`; it is `q` exactly when `q·(m·2^s + 1) ≤ 2^256`, i.e. `q ≤ r·2^s`, which holds
/// for every `r ≥ 1` (`q ≤ 2^N < 2^s`) and fails for `r = 0`. A proptest checks it against
/// the 256-bit division.
fn bits_proof_u128(bits: u32) -> Option<U256> {
    let size = bits >> 24;
    let m = bits & 0x00ff_ffff; // sign bit included: a set sign bit takes the general path
    if !(20..=32).contains(&size) || m == 0 || m & 0x0080_0000 != 0 {
        return None;
    }
    let n = 256 - 8 * (size - 3); // 24 ..= 120
    let num = 1u128 << n;
    let m = u128::from(m);
    let (q, r) = (num / m, num % m);
    Some(U256::from(if r == 0 { q - 1 } else { q }))
}

/// Work of a target: `floor(2^256 / (target + 1))`, computed as `(~t / (t + 1)) + 1`.
/// Returns 0 for a zero target (Core's convention for invalid bits).
pub fn target_proof(target: &U256) -> U256 {
    if target.is_zero() {
        return U256::ZERO;
    }
    if *target == U256::MAX {
        return U256::from(1u8); // 2^256 / 2^256
    }
    (!*target / (*target + U256::from(1u8))) + U256::from(1u8)
}

/// Core's `arith_uint256::getdouble()`: limbs of 32 bits accumulated in f64, least significant first.
pub fn u256_getdouble(v: &U256) -> f64 {
    let mut ret = 0.0f64;
    let mut fact = 1.0f64;
    for limb in v.as_limbs() {
        for half in [limb & 0xffff_ffff, limb >> 32] {
            ret += fact * half as f64;
            fact *= 4_294_967_296.0;
        }
    }
    ret
}

/// `bits` as an 8-digit hex string, the way Core's RPC prints them.
pub fn bits_hex(bits: u32) -> String {
    format!("{bits:08x}")
}

/// A 256-bit value as 64 lowercase hex digits (Core's RPC `target`/`chainwork` form).
pub fn u256_hex(v: &U256) -> String {
    let bytes = v.to_be_bytes::<32>();
    let mut s = String::with_capacity(64);
    for b in bytes {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// `s` without surrounding space and an optional `0x`, if it is 1..=`max` hex digits; else "".
fn hex_digits(s: &str, max: usize) -> &str {
    let t = s.trim();
    let t = t
        .strip_prefix("0x")
        .or_else(|| t.strip_prefix("0X"))
        .unwrap_or(t);
    if t.is_empty() || t.len() > max || !t.bytes().all(|b| b.is_ascii_hexdigit()) {
        return "";
    }
    t
}

/// Parse up to 64 hex digits (optional `0x`) into a U256.
pub fn parse_u256_hex(s: &str) -> CoreResult<U256> {
    let t = hex_digits(s, 64);
    if t.is_empty() {
        return Err(CoreError::InvalidValue {
            what: "256-bit hex value",
            at: Position::Scalar,
            why: format!("{s:?} is not 1 to 64 hex digits"),
        });
    }
    U256::from_str_radix(t, 16).map_err(|e| CoreError::InvalidValue {
        what: "256-bit hex value",
        at: Position::Scalar,
        why: format!("{s:?}: {e}"),
    })
}

/// Parse compact bits written as hex (`"1d00ffff"` or `"0x1d00ffff"`).
pub fn parse_bits_hex(s: &str) -> CoreResult<u32> {
    let t = hex_digits(s, 8);
    if t.is_empty() {
        return Err(CoreError::InvalidValue {
            what: "bits",
            at: Position::Scalar,
            why: format!("{s:?} is not 1 to 8 hex digits (expected e.g. \"1d00ffff\")"),
        });
    }
    u32::from_str_radix(t, 16).map_err(|e| CoreError::InvalidValue {
        what: "bits",
        at: Position::Scalar,
        why: format!("{s:?}: {e}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The general 256-bit computation of [`bits_proof`].
    fn proof_by_division(bits: u32) -> U256 {
        let d = decode(bits);
        if d.negative || d.overflow || d.value.is_zero() {
            return U256::ZERO;
        }
        target_proof(&d.value)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]
        #[test]
        fn u128_proof_equals_the_256_bit_division(size in 18u32..=34, m in 1u32..0x0080_0000) {
            let bits = (size << 24) | m;
            let fast = bits_proof_u128(bits);
            prop_assert_eq!(fast.is_some(), (20..=32).contains(&size));
            prop_assert_eq!(bits_proof(bits), proof_by_division(bits), "bits {:08x}", bits);
        }

        #[test]
        fn bits_proof_equals_the_256_bit_division_for_any_bits(bits in any::<u32>()) {
            prop_assert_eq!(bits_proof(bits), proof_by_division(bits), "bits {:08x}", bits);
        }
    }

    #[test]
    fn u128_proof_at_powers_of_two_and_the_edges() {
        // r = 0 (m a power of two) is the case where the proof is q − 1.
        for size in 20..=32u32 {
            for m in (0..23)
                .map(|k| 1u32 << k)
                .chain([3, 0xff_ff, 0x7f_ff_ff, 0x00_ff_ff])
            {
                let bits = (size << 24) | m;
                assert_eq!(
                    bits_proof_u128(bits),
                    Some(proof_by_division(bits)),
                    "{bits:08x}"
                );
            }
        }
        for bits in [
            0x1d00_ffff,
            0x1703_4219,
            0x207f_ffff,
            0x1c00_8000,
            0x1480_0001,
            0x1400_0000,
        ] {
            assert_eq!(bits_proof(bits), proof_by_division(bits), "{bits:08x}");
        }
    }

    fn h(s: &str) -> U256 {
        parse_u256_hex(s).unwrap_or_default()
    }

    #[test]
    fn set_compact_table() {
        // CONSENSUS.md §12.4 rows 1–12, 14–20.
        let rows: &[(u32, &str, bool, bool, u32)] = &[
            (0x00000000, "0", false, false, 0x00000000),
            (0x00123456, "0", false, false, 0x00000000),
            (0x01003456, "0", false, false, 0x00000000),
            (0x02000056, "0", false, false, 0x00000000),
            (0x03000000, "0", false, false, 0x00000000),
            (0x04000000, "0", false, false, 0x00000000),
            (0x00923456, "0", false, false, 0x00000000),
            (0x01803456, "0", false, false, 0x00000000),
            (0x02800056, "0", false, false, 0x00000000),
            (0x03800000, "0", false, false, 0x00000000),
            (0x04800000, "0", false, false, 0x00000000),
            (0x01123456, "12", false, false, 0x01120000),
            (0x01fedcba, "7e", true, false, 0x01fe0000),
            (0x02123456, "1234", false, false, 0x02123400),
            (0x03123456, "123456", false, false, 0x03123456),
            (0x04123456, "12345600", false, false, 0x04123456),
            (0x04923456, "12345600", true, false, 0x04923456),
            (0x05009234, "92340000", false, false, 0x05009234),
            (
                0x20123456,
                "1234560000000000000000000000000000000000000000000000000000000000",
                false,
                false,
                0x20123456,
            ),
        ];
        for &(bits, val, neg, ovf, re) in rows {
            let d = decode(bits);
            assert_eq!(d.value, h(val), "value of {bits:08x}");
            assert_eq!((d.negative, d.overflow), (neg, ovf), "flags of {bits:08x}");
            assert_eq!(encode(d.value, d.negative), re, "re-encode of {bits:08x}");
        }
        assert_eq!(encode(U256::from(0x80u32), false), 0x02008000);
        assert!(decode(0xff123456).overflow);
    }

    #[test]
    fn extra_edges() {
        assert_eq!(decode(0x22000001).value, U256::from(1u8) << 248usize);
        assert!(!decode(0x22000001).overflow);
        assert!(decode(0x23000001).overflow);
        assert!(!decode(0x220000ff).overflow);
        assert!(decode(0x22000100).overflow);
        assert!(!decode(0x2100ffff).overflow);
        assert!(decode(0x21010000).overflow);
        let d = decode(0x20ffffff);
        assert!(d.negative && !d.overflow);
        assert_eq!(d.value, U256::from(0x7fffffu32) << 232usize);
        let main_limit = (U256::from(1u8) << 224usize) - U256::from(1u8);
        assert_eq!(encode(main_limit, false), 0x1d00ffff);
        assert_eq!(encode(U256::MAX >> 1usize, false), 0x207fffff);
        assert_eq!(
            encode(U256::from(0x377aeu32) << 216usize, false),
            0x1e0377ae
        );
        assert_eq!(encode(decode(0x04000080).value, false), 0x03008000);
        assert_eq!(encode(decode(0x1d0000ff).value, false), 0x1c00ff00);
        assert!(!is_canonical(0x04000080));
        assert!(is_canonical(0x1d00ffff));
        assert_eq!(
            decode(0x17034219).value,
            h("0000000000000000000342190000000000000000000000000000000000000000")
        );
    }

    #[test]
    fn pow_check() {
        let lim = (U256::from(1u8) << 224usize) - U256::from(1u8);
        let one = {
            let mut b = [0u8; 32];
            b[0] = 1;
            b
        };
        assert!(!check_proof_of_work(&one, 0x1d80ffff, &lim));
        assert!(!check_proof_of_work(&one, 0xff7fffff, &lim));
        assert!(!check_proof_of_work(&one, 0x1d01ffff, &lim));
        let big = (lim << 1usize).to_le_bytes::<32>();
        assert!(!check_proof_of_work(&big, 0x1d00ffff, &lim));
        assert!(!check_proof_of_work(&[0u8; 32], 0x00000000, &lim));
        assert!(check_proof_of_work(&one, 0x1d00ffff, &lim));
        let t = difficulty_one_target();
        assert!(check_proof_of_work(
            &t.to_le_bytes::<32>(),
            0x1d00ffff,
            &lim
        ));
        let t1 = (t + U256::from(1u8)).to_le_bytes::<32>();
        assert!(!check_proof_of_work(&t1, 0x1d00ffff, &lim));
        assert!(derive_target(0x1d010000, &lim).is_err());
    }

    #[test]
    fn difficulty_vectors() {
        let close = |b: u32, e: f64| {
            let d = bits_to_difficulty(b).unwrap_or(f64::NAN);
            assert!((d - e).abs() < 1e-5 * e.max(1.0), "{b:08x}: {d} vs {e}");
        };
        close(0x1f111111, 0.000001);
        close(0x1ef88f6f, 0.000016);
        close(0x1df88f6f, 0.004023);
        close(0x1cf88f6f, 1.029916);
        close(0x12345678, 5913134931067755359633408.0);
        let exact = |b: u32, e: f64| assert_eq!(bits_to_difficulty(b).ok(), Some(e), "{b:08x}");
        exact(0x1d00ffff, 1.0);
        exact(0x1c00ffff, 256.0);
        exact(0x1b00ffff, 65536.0);
        exact(0x1a00f3a2, 17628585.065897066);
        exact(0x17034219, 86388558925171.02);
        exact(0x207fffff, 4.6565423739069247e-10);
        exact(0x1d00d86a, 1.1828995343128408);
        for b in [
            0x1d00ffffu32,
            0x17034219,
            0x1a00f3a2,
            0x207fffff,
            0x1d00d86a,
            0x12345678,
        ] {
            assert_eq!(
                target_to_difficulty(&decode(b).value).ok(),
                bits_to_difficulty(b).ok(),
                "{b:08x}"
            );
        }
        assert!(bits_to_difficulty(0x1d000000).is_err());
    }

    #[test]
    fn proof_vectors() {
        assert_eq!(bits_proof(0x1d00ffff), U256::from(0x100010001u64));
        assert_eq!(bits_proof(0x207fffff), U256::from(2u8));
        assert_eq!(bits_proof(0x1e0377ae), U256::from(0x49d414u64));
        assert_eq!(bits_proof(0x1d00d86a), U256::from(0x12ed3afd2u64));
        assert_eq!(bits_proof(0x17034219), h("4e9235f043634662e0cb"));
        assert_eq!(bits_proof(0x2100ffff), U256::from(1u8));
        assert_eq!(bits_proof(0x1d80ffff), U256::ZERO);
        assert_eq!(bits_proof(0xff7fffff), U256::ZERO);
        assert_eq!(bits_proof(0x00000000), U256::ZERO);
        assert_eq!(target_proof(&U256::MAX), U256::from(1u8));
    }
}
