//! Fleet economics (ECONOMICS.md §2–3): per-class earnings and costs, payback along a
//! difficulty path, hourly dispatch and the network cost curve.
//!
//! Every kernel works on plain `f64` slices, one value per machine class (or per hour / per
//! day), and validates its inputs: a non-finite or out-of-domain value is a
//! [`CoreError::InvalidValue`] naming the column and the row. Units are in the names:
//! `_ths` TH/s, `_w` watts, `_usd` US dollars, `_kwh` kilowatt-hours, `_btc` bitcoin.

pub mod curve;
pub mod dispatch;
pub mod economics;
pub mod payback;

use crate::error::{CoreError, CoreResult, Position};

/// 2^32: expected hashes per unit of difficulty (ECONOMICS.md §2).
pub const TWO_POW_32: f64 = 4_294_967_296.0;
/// Seconds in a day.
pub const SECONDS_PER_DAY: f64 = 86_400.0;
/// Target block spacing in seconds (mainnet).
pub const BLOCK_SPACING_S: f64 = 600.0;
/// Hashes per second in one TH/s.
pub const H_PER_TH: f64 = 1e12;

/// Expected BTC per TH/s per day: `b = 1e12 · 86400 · (S + F) / (D · 2^32)`
/// (= 20,116,567.6 · (S + F) / D). `subsidy_btc` and `fees_btc` are per block.
pub fn btc_per_th_day(difficulty: f64, subsidy_btc: f64, fees_btc: f64) -> CoreResult<f64> {
    positive("difficulty", Position::Scalar, difficulty)?;
    non_negative("subsidy_btc", Position::Scalar, subsidy_btc)?;
    non_negative("fees_btc_per_block", Position::Scalar, fees_btc)?;
    Ok(H_PER_TH * SECONDS_PER_DAY * (subsidy_btc + fees_btc) / (difficulty * TWO_POW_32))
}

/// Network hashrate implied by difficulty, in TH/s: `D · 2^32 / 600 / 1e12`.
pub fn network_hashrate_ths(difficulty: f64) -> CoreResult<f64> {
    positive("difficulty", Position::Scalar, difficulty)?;
    Ok(difficulty * TWO_POW_32 / BLOCK_SPACING_S / H_PER_TH)
}

fn bad(what: &'static str, at: Position, v: f64, need: &str) -> CoreError {
    CoreError::InvalidValue {
        what,
        at,
        why: format!("{v} {need}"),
    }
}

/// `v` must be finite.
pub(crate) fn finite(what: &'static str, at: Position, v: f64) -> CoreResult<f64> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(bad(
            what,
            at,
            v,
            "is not a finite number; replace it or drop the row",
        ))
    }
}

/// `v` must be finite and > 0.
pub(crate) fn positive(what: &'static str, at: Position, v: f64) -> CoreResult<f64> {
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        Err(bad(what, at, v, "must be a finite number > 0"))
    }
}

/// `v` must be finite and ≥ 0.
pub(crate) fn non_negative(what: &'static str, at: Position, v: f64) -> CoreResult<f64> {
    if v.is_finite() && v >= 0.0 {
        Ok(v)
    } else {
        Err(bad(what, at, v, "must be a finite number ≥ 0"))
    }
}

/// `v` must be a fraction in `[lo, hi]` (`hi_open` excludes `hi`).
pub(crate) fn in_range(
    what: &'static str,
    at: Position,
    v: f64,
    lo: f64,
    hi: f64,
    hi_open: bool,
) -> CoreResult<f64> {
    let ok = v.is_finite() && v >= lo && if hi_open { v < hi } else { v <= hi };
    if ok {
        Ok(v)
    } else {
        let close = if hi_open { ")" } else { "]" };
        // A lower bound of MIN_POSITIVE means "> 0": say so instead of printing its digits.
        let open = if lo == f64::MIN_POSITIVE {
            "(0".to_string()
        } else {
            format!("[{lo}")
        };
        Err(bad(
            what,
            at,
            v,
            &format!("must lie in {open}, {hi}{close}"),
        ))
    }
}

/// All slices must have length `n`.
pub(crate) fn same_len(n: usize, cols: &[(&'static str, usize)]) -> CoreResult<()> {
    for (name, len) in cols {
        if *len != n {
            return Err(CoreError::InvalidValue {
                what: name,
                at: Position::Scalar,
                why: format!(
                    "has {len} rows but the machine classes have {n}; pass one value per class"
                ),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashprice_constant() {
        // 1e12 · 86400 / 2^32 = 20,116,567.6 (ECONOMICS.md §2), so with S + F = 1 BTC and
        // D = 1 a TH/s earns 20,116,567.6 BTC/day.
        let b = btc_per_th_day(1.0, 1.0, 0.0).unwrap_or(0.0);
        assert!((b - 20_116_567.6).abs() < 0.1);
        // Epoch 464: D = 125,864,590,119,494.27, S = 3.125 BTC, F = 0.
        let b = btc_per_th_day(125_864_590_119_494.27, 3.125, 0.0).unwrap_or(0.0);
        assert!((b - 4.994_595_678_3e-7).abs() < 1e-16, "{b}");
    }

    #[test]
    fn hashrate_from_difficulty() {
        // D · 2^32 / 600 H/s; D = 600 / 2^32 · 1e12 gives exactly 1 TH/s.
        let d = 600.0 / TWO_POW_32 * 1e12;
        let h = network_hashrate_ths(d).unwrap_or(0.0);
        assert!((h - 1.0).abs() < 1e-12);
        assert!(network_hashrate_ths(0.0).is_err());
        assert!(btc_per_th_day(f64::NAN, 3.125, 0.0).is_err());
        assert!(btc_per_th_day(1.0, -1.0, 0.0).is_err());
    }
}
