//! Exogenous drivers: BTC price, fees per block, power price, GPU rent. Day 0 carries the
//! start values; every later day draws one correlated normal vector `z = L·ε` (L the
//! Cholesky factor of the correlation matrix, ε four independent standard normals, always
//! drawn so that the stream position never depends on which drivers are given).

use std::f64::consts::PI;

use rand::{Rng, RngExt};
use rand_distr::{Distribution, Poisson};

use super::config::{GivenSeries, PriceModel, SimConfig};
use super::normal::standard_normal;
use super::rng::on_copy;
use super::vexp::exp_in_place;
use crate::error::CoreResult;

/// Year fraction of one simulated day.
pub const DT_YEARS: f64 = 1.0 / 365.0;

/// A path's driver columns (one value per day), written by [`Drivers::fill`].
pub struct DriverCols<'a> {
    pub price_usd: &'a mut [f64],
    pub fees_btc: &'a mut [f64],
    pub power_usd_kwh: &'a mut [f64],
    pub gpu_usd_hr: &'a mut [f64],
}

/// The deterministic part of the drivers for one day, shared by every path (computed once
/// per run): the seasonal power level and the GPU rent trend.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct DayTrend {
    pub power_level_usd_kwh: f64,
    pub gpu_trend_usd_hr: f64,
}

/// The per-day trends of a run starting at Unix day `first_unix_day`.
#[must_use]
pub fn day_trends(cfg: &SimConfig, first_unix_day: i64) -> Vec<DayTrend> {
    let p = &cfg.power;
    let g = &cfg.gpu;
    (0..cfg.n_days)
        .map(|day| {
            let doy = ((first_unix_day + day as i64) as f64).rem_euclid(365.25);
            let season = 1.0 + p.season_amp * (2.0 * PI * (doy - p.season_peak_doy) / 365.25).cos();
            let gens = (day as f64 / g.generation_days).floor();
            DayTrend {
                power_level_usd_kwh: p.base_usd_kwh * season,
                gpu_trend_usd_hr: g.start_usd_hr
                    * (1.0 - g.generation_step).powf(gens)
                    * (-g.decay_per_year * day as f64 * DT_YEARS).exp(),
            }
        })
        .collect()
}

/// Per-path driver state.
#[derive(Debug, Clone)]
pub struct Drivers<'a> {
    cfg: &'a SimConfig,
    /// The path's index (the row it reads of per-path given series).
    path: u32,
    chol: [[f64; 4]; 4],
    log_price: f64,
    start_price: f64,
    /// mean and sd of the bootstrap returns (to standardise the price shock for correlation).
    boot_mean: f64,
    boot_sd: f64,
    boot_start: usize,
    log_fee: f64,
    log_fee_mean: f64,
    power_dev: f64,
    gpu_noise: f64,
    jump: Option<Poisson<f64>>,
    /// GBM: the daily log drift `(mu − λκ − σ²/2)·dt` and the daily volatility `σ·√dt`.
    gbm_drift: f64,
    gbm_vol: f64,
}

fn mean_sd(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / n.max(1.0);
    (m, var.sqrt())
}

impl<'a> Drivers<'a> {
    pub fn new(cfg: &'a SimConfig, chol: [[f64; 4]; 4], path: u32) -> CoreResult<Self> {
        let (start_price, boot_mean, boot_sd) = match &cfg.price {
            PriceModel::Gbm { start_usd, .. } => (*start_usd, 0.0, 1.0),
            PriceModel::Bootstrap {
                start_usd,
                log_returns,
                ..
            } => {
                let (m, s) = mean_sd(log_returns);
                (*start_usd, m, s)
            }
            PriceModel::Given { values } => (values.row(path, cfg.n_days)[0], 0.0, 1.0),
        };
        let (jump, jump_comp) = match &cfg.price {
            PriceModel::Gbm {
                jump_per_year,
                jump_mean,
                jump_sd,
                ..
            } if *jump_per_year > 0.0 => {
                let p = Poisson::new(jump_per_year * DT_YEARS).map_err(|e| {
                    super::config::bad("price jump_per_year", format!("{jump_per_year}: {e}"))
                })?;
                // E[e^J] − 1 for J ~ N(m, s²): the drift compensation per unit intensity.
                let k = (jump_mean + 0.5 * jump_sd * jump_sd).exp() - 1.0;
                (Some(p), jump_per_year * k)
            }
            _ => (None, 0.0),
        };
        let (gbm_drift, gbm_vol) = match &cfg.price {
            PriceModel::Gbm { mu, sigma, .. } => (
                (mu - jump_comp - 0.5 * sigma * sigma) * DT_YEARS,
                sigma * DT_YEARS.sqrt(),
            ),
            _ => (0.0, 0.0),
        };
        Ok(Self {
            cfg,
            path,
            chol,
            log_price: start_price.ln(),
            start_price,
            boot_mean,
            boot_sd: if boot_sd > 0.0 { boot_sd } else { 1.0 },
            boot_start: 0,
            log_fee: cfg.fees.start_btc.ln(),
            log_fee_mean: cfg.fees.mean_btc.ln(),
            power_dev: 0.0,
            gpu_noise: 0.0,
            jump,
            gbm_drift,
            gbm_vol,
        })
    }

    /// Every day of the path into `cols` (each `n_days` long): the day-by-day recurrences
    /// write log-price, log-fees and the GPU noise, then one vectorised pass per column
    /// ([`exp_in_place`]) turns them into levels. Given series are copied as they are.
    #[inline(always)]
    pub fn fill<R: Rng + Clone>(&mut self, trends: &[DayTrend], rng: &mut R, cols: DriverCols<'_>) {
        let cfg = self.cfg;
        let n = trends.len();
        let (price, fees) = (&mut cols.price_usd[..n], &mut cols.fees_btc[..n]);
        let (power, gpu) = (&mut cols.power_usd_kwh[..n], &mut cols.gpu_usd_hr[..n]);
        // This path's rows of the given series (shared ones have a single row).
        let path = self.path;
        let row = |g: Option<&'a GivenSeries>| g.map(|g| g.row(path, n));
        let price_given = row(match &cfg.price {
            PriceModel::Given { values } => Some(values),
            _ => None,
        });
        let (fees_given, power_given) =
            (row(cfg.fees.given.as_ref()), row(cfg.power.given.as_ref()));
        let gpu_given = row(cfg.gpu.given.as_ref());
        for (day, trend) in trends.iter().enumerate() {
            let spike_u = self.step(day, rng);
            price[day] = match price_given {
                Some(v) => v[day],
                None => self.log_price,
            };
            fees[day] = match fees_given {
                Some(v) => v[day],
                None => self.log_fee,
            };
            let p = &cfg.power;
            power[day] = match power_given {
                Some(v) => v[day],
                None => {
                    let level = (trend.power_level_usd_kwh + self.power_dev).max(0.0);
                    if spike_u < p.spike_prob_per_day {
                        level * p.spike_mult
                    } else {
                        level
                    }
                }
            };
            gpu[day] = match gpu_given {
                Some(v) => v[day],
                None => self.gpu_noise,
            };
        }
        // Day 0 carries the start values exactly (e^{ln x} need not round back to x).
        if !matches!(cfg.price, PriceModel::Given { .. }) {
            exp_in_place(price);
            if let Some(p0) = price.first_mut() {
                *p0 = self.start_price;
            }
        }
        if cfg.fees.given.is_none() {
            exp_in_place(fees);
            if let Some(f0) = fees.first_mut() {
                *f0 = cfg.fees.start_btc;
            }
        }
        if cfg.gpu.given.is_none() {
            exp_in_place(gpu);
            for (g, t) in gpu.iter_mut().zip(trends) {
                *g *= t.gpu_trend_usd_hr;
            }
        }
    }

    /// Advance the state to `day` (day 0 keeps the start values); returns the day's spike
    /// uniform.
    #[inline(always)]
    fn step<R: Rng + Clone>(&mut self, day: usize, rng: &mut R) -> f64 {
        let cfg = self.cfg;
        if day > 0 {
            let eps: [f64; 4] = [
                standard_normal(rng),
                standard_normal(rng),
                standard_normal(rng),
                standard_normal(rng),
            ];
            // Price shock: GBM uses eps[0]; the bootstrap replaces it by its standardised return.
            let mut e0 = eps[0];
            match &cfg.price {
                PriceModel::Gbm {
                    jump_mean, jump_sd, ..
                } => {
                    let mut lp = self.gbm_drift + self.gbm_vol * e0;
                    if let Some(p) = &self.jump {
                        let n = on_copy(rng, |r| p.sample(r)) as u64;
                        for _ in 0..n {
                            let z = standard_normal(rng);
                            lp += jump_mean + jump_sd * z;
                        }
                    }
                    self.log_price += lp;
                }
                PriceModel::Bootstrap {
                    log_returns,
                    block_days,
                    ..
                } => {
                    let k = (day - 1) % block_days;
                    if k == 0 {
                        let starts = log_returns.len() - block_days + 1;
                        let u: f64 = rng.random();
                        self.boot_start = ((u * starts as f64) as usize).min(starts - 1);
                    }
                    let r = log_returns[self.boot_start + k];
                    self.log_price += r;
                    e0 = (r - self.boot_mean) / self.boot_sd;
                }
                PriceModel::Given { .. } => {}
            }
            let l = &self.chol;
            let e = [e0, eps[1], eps[2], eps[3]];
            let z1 = l[1][0] * e[0] + l[1][1] * e[1];
            let z2 = l[2][0] * e[0] + l[2][1] * e[1] + l[2][2] * e[2];
            let z3 = l[3][0] * e[0] + l[3][1] * e[1] + l[3][2] * e[2] + l[3][3] * e[3];
            let f = &cfg.fees;
            self.log_fee +=
                f.reversion_per_day * (self.log_fee_mean - self.log_fee) + f.vol_per_day * z1;
            let p = &cfg.power;
            self.power_dev += -p.reversion_per_day * self.power_dev + p.vol_usd_kwh_per_day * z2;
            let g = &cfg.gpu;
            self.gpu_noise += -g.reversion_per_day * self.gpu_noise + g.vol_per_day * z3;
        }
        // Spikes use their own uniform every day (drawn even at zero probability for a fixed
        // stream layout).
        rng.random()
    }
}
