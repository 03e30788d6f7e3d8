//! The network cost curve (ECONOMICS.md §3, CBECI idea).
//!
//! Hardware classes with efficiency `e` J/TH and installed hashrate `H_c` TH/s are sorted by
//! shutdown BTC price `P*_c = 24 · e · k · p / (1000 · b · (1 − f))`; the cumulative hashrate
//! against `P*` is the curve. At BTC price `P`, a class is under water iff `P*_c > P`.
//! Cash cost per BTC of a class is its power cost per BTC (= `P*_c`); all-in adds straight-line
//! depreciation of `capex_usd_th` over `depreciation_years`, per BTC:
//! `capex / (years · 365) / (b · (1 − f))`. Network averages weight classes by hashrate (BTC
//! mined is proportional to hashrate). CBECI-style bounds on the cash cost and the power draw:
//! lower = all hashrate on the most efficient class; upper = all hashrate on the least efficient
//! class still profitable at `P`; best guess = the hashrate-weighted mean efficiency of the
//! profitable classes.

use super::economics::DAYS_PER_YEAR;
use super::{finite, in_range, non_negative, positive, same_len};
use crate::error::{CoreResult, Position};

#[derive(Debug, Clone, Copy)]
pub struct CurveTerms {
    pub btc_per_th_day: f64,
    pub price_usd: f64,
    /// Power price including any hosting fee, $/kWh.
    pub power_price_usd_kwh: f64,
    pub pue: f64,
    pub pool_fee: f64,
    pub depreciation_years: f64,
}

/// Curve rows in curve order (ascending shutdown price; ties keep input order).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Curve {
    /// Input row of each curve row.
    pub row: Vec<i64>,
    pub shutdown_price_usd: Vec<f64>,
    pub breakeven_power_price_usd_kwh: Vec<f64>,
    pub cash_cost_usd_per_btc: Vec<f64>,
    pub all_in_cost_usd_per_btc: Vec<f64>,
    pub cum_hashrate_ths: Vec<f64>,
    pub cum_hashrate_share: Vec<f64>,
    pub under_water: Vec<bool>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Summary {
    pub hashrate_ths: f64,
    pub share_under_water: f64,
    pub avg_cash_cost_usd_per_btc: f64,
    pub avg_all_in_cost_usd_per_btc: f64,
    pub lower_efficiency_jth: f64,
    pub upper_efficiency_jth: f64,
    pub best_guess_efficiency_jth: f64,
    pub lower_power_gw: f64,
    pub upper_power_gw: f64,
    pub best_guess_power_gw: f64,
    pub lower_cash_cost_usd_per_btc: f64,
    pub upper_cash_cost_usd_per_btc: f64,
    pub best_guess_cash_cost_usd_per_btc: f64,
}

pub fn cost_curve(
    efficiency_jth: &[f64],
    hashrate_ths: &[f64],
    capex_usd_th: &[f64],
    t: &CurveTerms,
) -> CoreResult<(Curve, Summary)> {
    let n = efficiency_jth.len();
    same_len(
        n,
        &[
            ("hashrate_ths", hashrate_ths.len()),
            ("capex_usd_th", capex_usd_th.len()),
        ],
    )?;
    for i in 0..n {
        let at = Position::Row(i);
        positive("efficiency_jth", at, efficiency_jth[i])?;
        non_negative("hashrate_ths", at, hashrate_ths[i])?;
        non_negative("capex_usd_th", at, capex_usd_th[i])?;
    }
    let s = Position::Scalar;
    positive("btc_per_th_day", s, t.btc_per_th_day)?;
    non_negative("price_usd", s, t.price_usd)?;
    finite("power_price_usd_kwh", s, t.power_price_usd_kwh)?;
    in_range("pue", s, t.pue, 1.0, f64::INFINITY, true)?;
    in_range("pool_fee", s, t.pool_fee, 0.0, 1.0, true)?;
    positive("depreciation_years", s, t.depreciation_years)?;
    let net_b = t.btc_per_th_day * (1.0 - t.pool_fee);
    let cash = |e: f64| 24.0 * e * t.pue * t.power_price_usd_kwh / (1000.0 * net_b);
    let total: f64 = hashrate_ths.iter().sum();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| cash(efficiency_jth[a]).total_cmp(&cash(efficiency_jth[b])));
    let mut c = Curve::default();
    let mut cum = 0.0;
    let mut sm = Summary {
        hashrate_ths: total,
        ..Summary::default()
    };
    let (mut cash_w, mut all_w, mut prof_h, mut prof_e) = (0.0, 0.0, 0.0, 0.0);
    let mut lower = f64::INFINITY;
    let mut upper = f64::NAN;
    for &i in &order {
        let e = efficiency_jth[i];
        let sp = cash(e);
        let all_in = sp + capex_usd_th[i] / (t.depreciation_years * DAYS_PER_YEAR) / net_b;
        let h = hashrate_ths[i];
        cum += h;
        let under = sp > t.price_usd;
        c.row.push(i as i64);
        c.shutdown_price_usd.push(sp);
        c.breakeven_power_price_usd_kwh
            .push(1000.0 * net_b * t.price_usd / (24.0 * e * t.pue));
        c.cash_cost_usd_per_btc.push(sp);
        c.all_in_cost_usd_per_btc.push(all_in);
        c.cum_hashrate_ths.push(cum);
        c.cum_hashrate_share
            .push(if total > 0.0 { cum / total } else { f64::NAN });
        c.under_water.push(under);
        cash_w += h * sp;
        all_w += h * all_in;
        lower = lower.min(e);
        if under {
            sm.share_under_water += h;
        } else {
            prof_h += h;
            prof_e += h * e;
            upper = if upper.is_nan() { e } else { upper.max(e) };
        }
    }
    let nan_if_empty = |x: f64| if total > 0.0 { x / total } else { f64::NAN };
    sm.share_under_water = nan_if_empty(sm.share_under_water);
    sm.avg_cash_cost_usd_per_btc = nan_if_empty(cash_w);
    sm.avg_all_in_cost_usd_per_btc = nan_if_empty(all_w);
    sm.lower_efficiency_jth = if n > 0 { lower } else { f64::NAN };
    sm.upper_efficiency_jth = upper;
    sm.best_guess_efficiency_jth = if prof_h > 0.0 {
        prof_e / prof_h
    } else {
        f64::NAN
    };
    // Power at the wall: TH/s · J/TH = W; · PUE; / 1e9 → GW.
    let gw = |e: f64| total * e * t.pue / 1e9;
    sm.lower_power_gw = gw(sm.lower_efficiency_jth);
    sm.upper_power_gw = gw(sm.upper_efficiency_jth);
    sm.best_guess_power_gw = gw(sm.best_guess_efficiency_jth);
    sm.lower_cash_cost_usd_per_btc = cash(sm.lower_efficiency_jth);
    sm.upper_cash_cost_usd_per_btc = cash(sm.upper_efficiency_jth);
    sm.best_guess_cash_cost_usd_per_btc = cash(sm.best_guess_efficiency_jth);
    Ok((c, sm))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_class_curve_by_hand() -> CoreResult<()> {
        // b = 5e-7 BTC/TH/day, p = $0.05/kWh, k = 1, f = 0:
        // P* = 24 · e · 0.05 / (1000 · 5e-7) = 2400 · e  → 15 J/TH: $36,000; 30 J/TH: $72,000.
        let t = CurveTerms {
            btc_per_th_day: 5e-7,
            price_usd: 60_000.0,
            power_price_usd_kwh: 0.05,
            pue: 1.0,
            pool_fee: 0.0,
            depreciation_years: 1.0,
        };
        let (c, s) = cost_curve(&[30.0, 15.0], &[300.0, 100.0], &[0.0, 18.25], &t)?;
        assert_eq!(c.row, vec![1, 0]);
        assert!((c.shutdown_price_usd[0] - 36_000.0).abs() < 1e-6);
        assert!((c.shutdown_price_usd[1] - 72_000.0).abs() < 1e-6);
        // all-in for the 15 J/TH class: 18.25 $/TH / 365 days = 0.05 $/TH/day / 5e-7 = $100,000.
        assert!((c.all_in_cost_usd_per_btc[0] - 136_000.0).abs() < 1e-6);
        assert_eq!(c.under_water, vec![false, true]);
        assert!((s.share_under_water - 0.75).abs() < 1e-12);
        // Hashrate-weighted cash cost: (100 · 36,000 + 300 · 72,000) / 400 = $63,000.
        assert!((s.avg_cash_cost_usd_per_btc - 63_000.0).abs() < 1e-6);
        assert_eq!(
            (s.lower_efficiency_jth, s.upper_efficiency_jth),
            (15.0, 15.0)
        );
        // 400 TH/s · 15 J/TH = 6000 W = 6e-6 GW.
        assert!((s.lower_power_gw - 6e-6).abs() < 1e-18);
        // breakeven power price of the 30 J/TH class at $60,000: 1000·5e-7·60000/(24·30) ≈ 0.041667.
        assert!((c.breakeven_power_price_usd_kwh[1] - 30.0 / 720.0).abs() < 1e-12);
        Ok(())
    }
}
