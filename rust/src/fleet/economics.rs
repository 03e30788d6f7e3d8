//! Per machine class economics at one market state (ECONOMICS.md §3).
//!
//! For class `c` with `n` units of hashrate `h` TH/s and power `W` watts, at expected
//! `b` BTC per TH/s per day and BTC price `P` USD, site terms PUE `k`, uptime `u`, pool fee
//! `f`, power price `p` $/kWh, hosting fee `q` $/kWh and other opex `o` $/unit/month:
//!
//! * BTC per day = n · h · u · b · (1 − f)
//! * revenue $/day = BTC per day · P
//! * energy kWh/day = n · W · k · u · 24 / 1000; power cost $/day = energy · (p + q)
//! * opex $/day = n · o · 12 / 365
//! * breakeven power price p* = 1000 · b · P · (1 − f) / (24 · e · k) − q   [$/kWh], e = W/h
//! * shutdown BTC price P* = 24 · e · k · (p + q) / (1000 · b · (1 − f))   [$/BTC]
//! * cash cost per BTC = (power + opex) / BTC; all-in adds depreciation and interest.

use super::{finite, in_range, non_negative, positive, same_len};
use crate::error::{CoreError, CoreResult, Position};

/// Days per year used by depreciation, interest and opex conversions.
pub const DAYS_PER_YEAR: f64 = 365.0;

/// Machine classes, one value per class (per unit where it says so).
#[derive(Debug, Clone, Copy)]
pub struct Classes<'a> {
    /// Hashrate per unit, TH/s.
    pub hashrate_ths: &'a [f64],
    /// Power per unit at the plug, W.
    pub power_w: &'a [f64],
    /// Number of units (may be fractional for network mixes).
    pub count: &'a [f64],
}

impl Classes<'_> {
    pub fn len(&self) -> usize {
        self.hashrate_ths.len()
    }
    pub fn is_empty(&self) -> bool {
        self.hashrate_ths.is_empty()
    }
    /// Check lengths and domains; errors name the row.
    pub fn validate(&self) -> CoreResult<()> {
        let n = self.len();
        same_len(
            n,
            &[("power_w", self.power_w.len()), ("count", self.count.len())],
        )?;
        for i in 0..n {
            let at = Position::Row(i);
            positive("hashrate_ths", at, self.hashrate_ths[i])?;
            positive("power_w", at, self.power_w[i])?;
            non_negative("count", at, self.count[i])?;
        }
        Ok(())
    }
}

/// Site terms, one value per class (the Python layer broadcasts scalars and per-site maps).
#[derive(Debug, Clone, Copy)]
pub struct Site<'a> {
    pub power_price_usd_kwh: &'a [f64],
    pub pue: &'a [f64],
    pub uptime: &'a [f64],
    pub pool_fee: &'a [f64],
    pub opex_usd_month: &'a [f64],
    pub hosting_fee_usd_kwh: &'a [f64],
}

impl Site<'_> {
    pub fn validate(&self, n: usize) -> CoreResult<()> {
        same_len(
            n,
            &[
                ("power_price_usd_kwh", self.power_price_usd_kwh.len()),
                ("pue", self.pue.len()),
                ("uptime", self.uptime.len()),
                ("pool_fee", self.pool_fee.len()),
                ("opex_usd_month", self.opex_usd_month.len()),
                ("hosting_fee_usd_kwh", self.hosting_fee_usd_kwh.len()),
            ],
        )?;
        for i in 0..n {
            let at = Position::Row(i);
            // Power prices may be negative (wholesale markets); they must be finite.
            finite("power_price_usd_kwh", at, self.power_price_usd_kwh[i])?;
            in_range("pue", at, self.pue[i], 1.0, f64::INFINITY, true)?;
            in_range("uptime", at, self.uptime[i], 0.0, 1.0, false)?;
            in_range("pool_fee", at, self.pool_fee[i], 0.0, 1.0, true)?;
            non_negative("opex_usd_month", at, self.opex_usd_month[i])?;
            finite("hosting_fee_usd_kwh", at, self.hosting_fee_usd_kwh[i])?;
        }
        Ok(())
    }
}

/// How capital cost is written off.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Depreciation {
    /// (cost − salvage) / life, evenly per day, for `life_years`.
    StraightLine,
    /// Declining balance at `rate` per year on the opening book value of each year, spread
    /// evenly over that year's days; the last year of the life writes the book down to salvage.
    Declining { rate: f64 },
}

/// Capital terms shared by all classes.
#[derive(Debug, Clone, Copy)]
pub struct Finance {
    pub method: Depreciation,
    pub life_years: f64,
    pub salvage_fraction: f64,
    /// Annual interest rate charged on the book value (a proxy for financed capital).
    pub interest_rate: f64,
}

impl Finance {
    pub fn validate(&self) -> CoreResult<()> {
        positive("depreciation_years", Position::Scalar, self.life_years)?;
        in_range(
            "salvage_fraction",
            Position::Scalar,
            self.salvage_fraction,
            0.0,
            1.0,
            false,
        )?;
        non_negative("interest_rate", Position::Scalar, self.interest_rate)?;
        if let Depreciation::Declining { rate } = self.method {
            in_range("declining_rate", Position::Scalar, rate, 0.0, 1.0, false)?;
            if rate == 0.0 {
                return Err(CoreError::InvalidValue {
                    what: "declining_rate",
                    at: Position::Scalar,
                    why: "0 writes nothing off; pass a rate in (0, 1], e.g. 2 / depreciation_years"
                        .into(),
                });
            }
        }
        Ok(())
    }

    /// (depreciation $/day, book value $) of one unit bought for `cost` at age `age_days`.
    pub fn schedule(&self, cost: f64, age_days: f64) -> (f64, f64) {
        let salvage = cost * self.salvage_fraction;
        let age = age_days.max(0.0);
        let life_days = self.life_years * DAYS_PER_YEAR;
        match self.method {
            Depreciation::StraightLine => {
                if age < life_days {
                    let per_day = (cost - salvage) / life_days;
                    (per_day, cost - per_day * age)
                } else {
                    (0.0, salvage)
                }
            }
            Depreciation::Declining { rate } => {
                let years = self.life_years.ceil() as u64;
                let year = (age / DAYS_PER_YEAR).floor() as u64;
                if year >= years {
                    return (0.0, salvage);
                }
                let mut book = cost;
                let mut dep_year = 0.0;
                for k in 0..=year {
                    dep_year = if k + 1 == years {
                        book - salvage
                    } else {
                        (book * rate).min(book - salvage).max(0.0)
                    };
                    if k < year {
                        book -= dep_year;
                    }
                }
                let into_year = age - year as f64 * DAYS_PER_YEAR;
                let per_day = dep_year / DAYS_PER_YEAR;
                (per_day, book - per_day * into_year)
            }
        }
    }
}

/// Result columns, one value per class; flows are per `hours`-long period (24 = per day).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Economics {
    pub hashrate_ths: Vec<f64>,
    pub hashrate_share: Vec<f64>,
    pub btc: Vec<f64>,
    pub revenue_usd: Vec<f64>,
    pub energy_kwh: Vec<f64>,
    pub power_cost_usd: Vec<f64>,
    pub opex_usd: Vec<f64>,
    pub depreciation_usd: Vec<f64>,
    pub interest_usd: Vec<f64>,
    pub margin_usd: Vec<f64>,
    pub all_in_margin_usd: Vec<f64>,
    pub breakeven_power_price_usd_kwh: Vec<f64>,
    pub shutdown_price_usd: Vec<f64>,
    pub cash_cost_usd_per_btc: Vec<f64>,
    pub all_in_cost_usd_per_btc: Vec<f64>,
    pub book_value_usd: Vec<f64>,
}

/// Market state: expected BTC per TH/s per day (gross of pool fee), BTC price, network TH/s.
#[derive(Debug, Clone, Copy)]
pub struct Market {
    pub btc_per_th_day: f64,
    pub price_usd: f64,
    pub network_hashrate_ths: f64,
}

impl Market {
    pub fn validate(&self) -> CoreResult<()> {
        non_negative("btc_per_th_day", Position::Scalar, self.btc_per_th_day)?;
        non_negative("price_usd", Position::Scalar, self.price_usd)?;
        positive(
            "network_hashrate_ths",
            Position::Scalar,
            self.network_hashrate_ths,
        )?;
        Ok(())
    }
}

fn div_or_nan(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        a / b
    } else {
        f64::NAN
    }
}

/// Per-class economics. `price_usd` is the purchase price per unit and `age_days` the age of
/// the units at the valuation date (both drive depreciation and interest).
#[allow(clippy::too_many_arguments)]
pub fn economics(
    classes: &Classes<'_>,
    site: &Site<'_>,
    market: &Market,
    unit_price_usd: &[f64],
    age_days: &[f64],
    finance: &Finance,
    hours: f64,
) -> CoreResult<Economics> {
    classes.validate()?;
    let n = classes.len();
    site.validate(n)?;
    market.validate()?;
    finance.validate()?;
    same_len(
        n,
        &[
            ("price_usd", unit_price_usd.len()),
            ("age_days", age_days.len()),
        ],
    )?;
    for i in 0..n {
        non_negative("price_usd", Position::Row(i), unit_price_usd[i])?;
        finite("age_days", Position::Row(i), age_days[i])?;
    }
    positive("hours", Position::Scalar, hours)?;
    let days = hours / 24.0;
    let b = market.btc_per_th_day;
    let p_btc = market.price_usd;
    let mut out = Economics::default();
    for i in 0..n {
        let (h, w, cnt) = (
            classes.hashrate_ths[i],
            classes.power_w[i],
            classes.count[i],
        );
        let (k, u, f) = (site.pue[i], site.uptime[i], site.pool_fee[i]);
        let price_kwh = site.power_price_usd_kwh[i] + site.hosting_fee_usd_kwh[i];
        let e = w / h;
        let btc = cnt * h * u * b * (1.0 - f) * days;
        let revenue = btc * p_btc;
        let energy = cnt * w * k * u * hours / 1000.0;
        let power = energy * price_kwh;
        let opex = cnt * site.opex_usd_month[i] * 12.0 / DAYS_PER_YEAR * days;
        let (dep_day, book) = finance.schedule(unit_price_usd[i], age_days[i]);
        let dep = cnt * dep_day * days;
        let interest = cnt * book * finance.interest_rate / DAYS_PER_YEAR * days;
        out.hashrate_ths.push(cnt * h);
        out.hashrate_share
            .push(cnt * h * u / market.network_hashrate_ths);
        out.btc.push(btc);
        out.revenue_usd.push(revenue);
        out.energy_kwh.push(energy);
        out.power_cost_usd.push(power);
        out.opex_usd.push(opex);
        out.depreciation_usd.push(dep);
        out.interest_usd.push(interest);
        out.margin_usd.push(revenue - power - opex);
        out.all_in_margin_usd
            .push(revenue - power - opex - dep - interest);
        out.breakeven_power_price_usd_kwh
            .push(1000.0 * b * p_btc * (1.0 - f) / (24.0 * e * k) - site.hosting_fee_usd_kwh[i]);
        out.shutdown_price_usd
            .push(div_or_nan(24.0 * e * k * price_kwh, 1000.0 * b * (1.0 - f)));
        out.cash_cost_usd_per_btc
            .push(div_or_nan(power + opex, btc));
        out.all_in_cost_usd_per_btc
            .push(div_or_nan(power + opex + dep + interest, btc));
        out.book_value_usd.push(cnt * book);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(h: f64, w: f64) -> ([f64; 1], [f64; 1], [f64; 1]) {
        ([h], [w], [1.0])
    }

    #[test]
    fn s19j_pro_by_hand() -> CoreResult<()> {
        // S19j Pro: 100 TH/s, 3050 W (30.5 J/TH). b = 5e-7 BTC/TH/day, P = $60,000,
        // p = $0.05/kWh, k = 1, u = 1, f = 0.
        let (h, w, c) = one(100.0, 3050.0);
        let classes = Classes {
            hashrate_ths: &h,
            power_w: &w,
            count: &c,
        };
        let site = Site {
            power_price_usd_kwh: &[0.05],
            pue: &[1.0],
            uptime: &[1.0],
            pool_fee: &[0.0],
            opex_usd_month: &[0.0],
            hosting_fee_usd_kwh: &[0.0],
        };
        let m = Market {
            btc_per_th_day: 5e-7,
            price_usd: 60_000.0,
            network_hashrate_ths: 1e9,
        };
        let fin = Finance {
            method: Depreciation::StraightLine,
            life_years: 1.0,
            salvage_fraction: 0.0,
            interest_rate: 0.0,
        };
        let e = economics(&classes, &site, &m, &[3650.0], &[0.0], &fin, 24.0)?;
        // BTC/day = 100 TH/s · 5e-7 BTC/TH/day = 5e-5 BTC; revenue = $3.00/day.
        assert!((e.btc[0] - 5e-5).abs() < 1e-18);
        assert!((e.revenue_usd[0] - 3.0).abs() < 1e-12);
        // energy = 3050 W · 24 h / 1000 = 73.2 kWh/day; cost = $3.66/day.
        assert!((e.energy_kwh[0] - 73.2).abs() < 1e-12);
        assert!((e.power_cost_usd[0] - 3.66).abs() < 1e-12);
        // p* = 1000 · 5e-7 · 60000 / (24 · 30.5) = 0.040983607 $/kWh.
        assert!((e.breakeven_power_price_usd_kwh[0] - 0.040_983_606_557).abs() < 1e-12);
        // P* = 24 · 30.5 · 0.05 / (1000 · 5e-7) = $73,200 per BTC.
        assert!((e.shutdown_price_usd[0] - 73_200.0).abs() < 1e-8);
        // cash cost per BTC = 3.66 / 5e-5 = $73,200; depreciation $10/day → all-in $273,200.
        assert!((e.cash_cost_usd_per_btc[0] - 73_200.0).abs() < 1e-8);
        assert!((e.depreciation_usd[0] - 10.0).abs() < 1e-12);
        assert!((e.all_in_cost_usd_per_btc[0] - 273_200.0).abs() < 1e-6);
        assert!((e.hashrate_share[0] - 1e-7).abs() < 1e-20);
        Ok(())
    }

    #[test]
    fn declining_balance_schedule() {
        // cost 1000, 3-year life, rate 0.5, no salvage: year 0 → 500, year 1 → 250, year 2
        // (last) writes off the remaining 250.
        let fin = Finance {
            method: Depreciation::Declining { rate: 0.5 },
            life_years: 3.0,
            salvage_fraction: 0.0,
            interest_rate: 0.0,
        };
        let (d0, b0) = fin.schedule(1000.0, 0.0);
        assert!((d0 - 500.0 / 365.0).abs() < 1e-12 && (b0 - 1000.0).abs() < 1e-12);
        let (d1, b1) = fin.schedule(1000.0, 365.0);
        assert!((d1 - 250.0 / 365.0).abs() < 1e-12 && (b1 - 500.0).abs() < 1e-9);
        let (d2, b2) = fin.schedule(1000.0, 730.0 + 365.0 / 2.0);
        assert!((d2 - 250.0 / 365.0).abs() < 1e-12 && (b2 - 125.0).abs() < 1e-9);
        assert_eq!(fin.schedule(1000.0, 1095.0), (0.0, 0.0));
        // Straight line with 10 % salvage over 2 years: 900 / 730 per day.
        let sl = Finance {
            method: Depreciation::StraightLine,
            salvage_fraction: 0.1,
            life_years: 2.0,
            ..fin
        };
        let (d, b) = sl.schedule(1000.0, 365.0);
        assert!((d - 900.0 / 730.0).abs() < 1e-12 && (b - 550.0).abs() < 1e-9);
        assert_eq!(sl.schedule(1000.0, 800.0), (0.0, 100.0));
    }

    #[test]
    fn bad_inputs_name_the_row() {
        let classes = Classes {
            hashrate_ths: &[1.0, -1.0],
            power_w: &[1.0, 1.0],
            count: &[1.0, 1.0],
        };
        let err = classes
            .validate()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("hashrate_ths (row 1)"), "{err}");
        let classes = Classes {
            hashrate_ths: &[1.0],
            power_w: &[1.0, 1.0],
            count: &[1.0],
        };
        assert!(classes.validate().is_err());
    }
}
