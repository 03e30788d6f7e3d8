//! Payback and ROI along a daily path of difficulty, BTC price and power price
//! (ECONOMICS.md §3: "never today's yield forever").
//!
//! Per unit and day d: revenue `h · u · b_d · (1 − f) · P_d`, power `W · k · u · 24 / 1000 ·
//! (p_d + q)`, opex `o · 12 / 365`. With `curtail` the unit is switched off on days its revenue
//! does not cover its power (it still pays opex): contribution `max(rev − power, 0) − opex`.
//! Payback is the first day on which the cumulative contribution reaches the purchase price.
//! A class that has not paid back by the end of the path is `NEVER` if its last day's
//! contribution is ≤ 0 (under the path's trend it cannot earn its capital back), otherwise
//! `NOT_BY_HORIZON` (still earning when the path ends: extend the path).

use rayon::prelude::*;

use super::economics::{Classes, Site, DAYS_PER_YEAR};
use super::{finite, non_negative};
use crate::error::{CoreError, CoreResult, Position};

/// Paid back within the path.
pub const PAID_BACK: u8 = 0;
/// Not paid back, still cash-positive on the last day.
pub const NOT_BY_HORIZON: u8 = 1;
/// Not paid back and not cash-positive on the last day.
pub const NEVER: u8 = 2;

/// Daily path, one value per day.
#[derive(Debug, Clone, Copy)]
pub struct DailyPath<'a> {
    /// Expected BTC per TH/s per day, gross of pool fee.
    pub btc_per_th_day: &'a [f64],
    pub btc_price_usd: &'a [f64],
    /// Power price per day; `None` uses each class's site price.
    pub power_price_usd_kwh: Option<&'a [f64]>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Payback {
    pub capex_usd: Vec<f64>,
    /// Days from the start of the path to payback (1 = within the first day); `None` if not.
    pub payback_days: Vec<Option<i64>>,
    pub status: Vec<u8>,
    pub cum_margin_usd: Vec<f64>,
    /// (cumulative contribution − capex) / capex at the end of the path; NaN for zero capex.
    pub roi: Vec<f64>,
    pub btc: Vec<f64>,
    pub last_day_margin_usd: Vec<f64>,
    pub days_running: Vec<i64>,
}

pub fn payback(
    classes: &Classes<'_>,
    site: &Site<'_>,
    unit_price_usd: &[f64],
    path: &DailyPath<'_>,
    curtail: bool,
) -> CoreResult<Payback> {
    classes.validate()?;
    let n = classes.len();
    site.validate(n)?;
    super::same_len(n, &[("price_usd", unit_price_usd.len())])?;
    for (i, v) in unit_price_usd.iter().enumerate() {
        non_negative("price_usd", Position::Row(i), *v)?;
    }
    let days = path.btc_per_th_day.len();
    if days == 0 {
        return Err(CoreError::InvalidValue {
            what: "path",
            at: Position::Scalar,
            why: "has no days; pass a path with at least one row".into(),
        });
    }
    let mut lens = vec![("btc_price_usd", path.btc_price_usd.len())];
    if let Some(p) = path.power_price_usd_kwh {
        lens.push(("power_price_usd_kwh", p.len()));
    }
    for (name, len) in lens {
        if len != days {
            return Err(CoreError::InvalidValue {
                what: name,
                at: Position::Scalar,
                why: format!("has {len} days but the difficulty path has {days}"),
            });
        }
    }
    for d in 0..days {
        let at = Position::Row(d);
        non_negative("btc_per_th_day", at, path.btc_per_th_day[d])?;
        non_negative("btc_price_usd", at, path.btc_price_usd[d])?;
        if let Some(p) = path.power_price_usd_kwh {
            finite("power_price_usd_kwh", at, p[d])?;
        }
    }
    let rows: Vec<_> = (0..n)
        .into_par_iter()
        .map(|i| {
            let (h, w, cnt) = (
                classes.hashrate_ths[i],
                classes.power_w[i],
                classes.count[i],
            );
            let (k, u, f) = (site.pue[i], site.uptime[i], site.pool_fee[i]);
            let kwh_day = w * k * u * 24.0 / 1000.0;
            let opex = site.opex_usd_month[i] * 12.0 / DAYS_PER_YEAR;
            let capex = unit_price_usd[i];
            let mut cum = 0.0;
            let mut btc = 0.0;
            let mut paid: Option<i64> = if capex == 0.0 { Some(0) } else { None };
            let mut last = 0.0;
            let mut running = 0i64;
            for d in 0..days {
                let p = path
                    .power_price_usd_kwh
                    .map_or(site.power_price_usd_kwh[i], |s| s[d])
                    + site.hosting_fee_usd_kwh[i];
                let mined = h * u * path.btc_per_th_day[d] * (1.0 - f);
                let operating = mined * path.btc_price_usd[d] - kwh_day * p;
                let on = !curtail || operating > 0.0;
                last = if on { operating } else { 0.0 } - opex;
                if on {
                    btc += mined;
                    running += 1;
                }
                cum += last;
                if paid.is_none() && cum >= capex {
                    paid = Some(d as i64 + 1);
                }
            }
            let status = match paid {
                Some(_) => PAID_BACK,
                None if last > 0.0 => NOT_BY_HORIZON,
                None => NEVER,
            };
            let roi = if capex > 0.0 {
                (cum - capex) / capex
            } else {
                f64::NAN
            };
            (
                cnt * capex,
                paid,
                status,
                cnt * cum,
                roi,
                cnt * btc,
                cnt * last,
                running,
            )
        })
        .collect();
    let mut out = Payback::default();
    for r in rows {
        out.capex_usd.push(r.0);
        out.payback_days.push(r.1);
        out.status.push(r.2);
        out.cum_margin_usd.push(r.3);
        out.roi.push(r.4);
        out.btc.push(r.5);
        out.last_day_margin_usd.push(r.6);
        out.days_running.push(r.7);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site1<'a>(zero: &'a [f64], one: &'a [f64], price: &'a [f64]) -> Site<'a> {
        Site {
            power_price_usd_kwh: price,
            pue: one,
            uptime: one,
            pool_fee: zero,
            opex_usd_month: zero,
            hosting_fee_usd_kwh: zero,
        }
    }

    #[test]
    fn payback_by_hand() -> CoreResult<()> {
        // 100 TH/s, 1000 W (24 kWh/day at $0.05 = $1.20/day), b = 1e-6 BTC/TH/day,
        // P = $50,000 → revenue $5/day, margin $3.80/day; capex $19 → paid back on day 5.
        let classes = Classes {
            hashrate_ths: &[100.0],
            power_w: &[1000.0],
            count: &[2.0],
        };
        let (z, o, p) = ([0.0], [1.0], [0.05]);
        let site = site1(&z, &o, &p);
        let b = [1e-6; 10];
        let px = [50_000.0; 10];
        let path = DailyPath {
            btc_per_th_day: &b,
            btc_price_usd: &px,
            power_price_usd_kwh: None,
        };
        let r = payback(&classes, &site, &[19.0], &path, true)?;
        assert_eq!(r.payback_days[0], Some(5));
        assert_eq!(r.status[0], PAID_BACK);
        assert!((r.cum_margin_usd[0] - 2.0 * 38.0).abs() < 1e-9);
        assert!((r.roi[0] - (38.0 - 19.0) / 19.0).abs() < 1e-12);
        assert!((r.capex_usd[0] - 38.0).abs() < 1e-12);
        // Capex $100 is not reached in 10 days while still earning: not by horizon.
        let r = payback(&classes, &site, &[100.0], &path, true)?;
        assert_eq!((r.payback_days[0], r.status[0]), (None, NOT_BY_HORIZON));
        // Difficulty doubling every day: revenue 5, 2.5, 1.25 (< 1.20 power at day 3 → off).
        let b: Vec<f64> = (0..10).map(|d| 1e-6 / 2f64.powi(d)).collect();
        let path = DailyPath {
            btc_per_th_day: &b,
            btc_price_usd: &px,
            power_price_usd_kwh: None,
        };
        let r = payback(&classes, &site, &[100.0], &path, true)?;
        assert_eq!((r.payback_days[0], r.status[0]), (None, NEVER));
        assert_eq!(r.days_running[0], 3);
        assert!((r.cum_margin_usd[0] - 2.0 * (3.8 + 1.3 + 0.05)).abs() < 1e-9);
        // Without curtailment the losing days count.
        let r = payback(&classes, &site, &[100.0], &path, false)?;
        assert_eq!(r.days_running[0], 10);
        assert!(r.cum_margin_usd[0] < 2.0 * (3.8 + 1.3 + 0.05));
        Ok(())
    }
}
