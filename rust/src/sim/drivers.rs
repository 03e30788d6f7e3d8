//! Exogenous drivers: BTC price, fees per block, power price, GPU rent. Day 0 carries the
//! start values; every later day draws one correlated normal vector `z = L·ε` (L the
//! Cholesky factor of the correlation matrix, ε four independent standard normals, always
//! drawn so that the stream position never depends on which drivers are given).

use std::f64::consts::PI;

use rand::{Rng, RngExt};
use rand_distr::{Distribution, Poisson};

use super::config::{GivenSeries, PriceModel, SimConfig};
use super::normal::standard_normal;
use super::rng::{on_copy, Xoshiro256pp};
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
        self.finish(trends, price, fees, gpu);
    }

    /// The levels from the logs the day loop wrote: one vectorised `exp` pass per column.
    /// Day 0 carries the start values exactly (e^{ln x} need not round back to x).
    #[inline(always)]
    fn finish(&self, trends: &[DayTrend], price: &mut [f64], fees: &mut [f64], gpu: &mut [f64]) {
        let cfg = self.cfg;
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

    /// Whether [`fill4_avx2`] can fill this configuration's paths four at a time: a GBM price
    /// without jumps and no given series (the day then draws exactly four normals and one
    /// uniform on every path, in lockstep).
    #[must_use]
    pub fn fill4_applies(cfg: &SimConfig) -> bool {
        matches!(cfg.price, PriceModel::Gbm { jump_per_year, .. } if jump_per_year == 0.0)
            && cfg.fees.given.is_none()
            && cfg.power.given.is_none()
            && cfg.gpu.given.is_none()
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

/// One xoshiro256++ step of four generators at once (word `k` of every lane in `st[k]`):
/// each lane's next word, as [`Xoshiro256pp::next_word`] gives it.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
pub(crate) fn xoshiro4(st: &mut [std::arch::x86_64::__m256i; 4]) -> std::arch::x86_64::__m256i {
    use std::arch::x86_64::{
        _mm256_add_epi64, _mm256_or_si256, _mm256_slli_epi64, _mm256_srli_epi64, _mm256_xor_si256,
    };
    let [s0, s1, s2, s3] = *st;
    let sum = _mm256_add_epi64(s0, s3);
    let rot = _mm256_or_si256(_mm256_slli_epi64::<23>(sum), _mm256_srli_epi64::<41>(sum));
    let result = _mm256_add_epi64(rot, s0);
    let t = _mm256_slli_epi64::<17>(s1);
    let s2 = _mm256_xor_si256(s2, s0);
    let s3 = _mm256_xor_si256(s3, s1);
    let s1 = _mm256_xor_si256(s1, s2);
    let s0 = _mm256_xor_si256(s0, s3);
    let s2 = _mm256_xor_si256(s2, t);
    let s3 = _mm256_or_si256(_mm256_slli_epi64::<45>(s3), _mm256_srli_epi64::<19>(s3));
    *st = [s0, s1, s2, s3];
    result
}

/// Four generators side by side: word `k` of lane `l`'s state in lane `l` of `st[k]`.
#[cfg(target_arch = "x86_64")]
pub(crate) fn pack4(rngs: &[Xoshiro256pp; 4]) -> [std::arch::x86_64::__m256i; 4] {
    [0, 1, 2, 3].map(|k| bytemuck::cast([rngs[0].s[k], rngs[1].s[k], rngs[2].s[k], rngs[3].s[k]]))
}

/// Lane `l`'s generator out of a [`pack4`] state.
#[cfg(target_arch = "x86_64")]
pub(crate) fn lane(st: &[std::arch::x86_64::__m256i; 4], l: usize) -> Xoshiro256pp {
    let words: [[u64; 4]; 4] = st.map(bytemuck::cast);
    Xoshiro256pp {
        s: [words[0][l], words[1][l], words[2][l], words[3][l]],
    }
}

/// Put lane `l`'s generator back into a [`pack4`] state.
#[cfg(target_arch = "x86_64")]
pub(crate) fn set_lane(st: &mut [std::arch::x86_64::__m256i; 4], l: usize, rng: &Xoshiro256pp) {
    let mut words: [[u64; 4]; 4] = st.map(bytemuck::cast);
    for (w, s) in words.iter_mut().zip(rng.s) {
        w[l] = s;
    }
    *st = words.map(bytemuck::cast);
}

/// One standard normal per lane: [`super::normal::standard_normal`] on each lane's generator.
/// The ziggurat's first step for the four lanes at once; a lane whose word is not accepted
/// at once continues in [`normal4_rest`].
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
pub(crate) fn normal4(st: &mut [std::arch::x86_64::__m256i; 4]) -> std::arch::x86_64::__m256d {
    use super::normal::ZIG_NORM_X;
    use std::arch::x86_64::{
        _mm256_and_pd, _mm256_castsi256_pd, _mm256_cmp_pd, _mm256_movemask_pd, _mm256_mul_pd,
        _mm256_or_si256, _mm256_set1_epi64x, _mm256_set1_pd, _mm256_srli_epi64, _mm256_sub_pd,
        _CMP_LT_OQ,
    };
    let w = xoshiro4(st);
    let words: [u64; 4] = bytemuck::cast(w);
    let idx = words.map(|x| (x & 0xff) as usize);
    let xi: [f64; 4] = idx.map(|i| ZIG_NORM_X[i]);
    let xi1: [f64; 4] = idx.map(|i| ZIG_NORM_X[i + 1]);
    // The top 52 bits as a float in [2, 4), minus 3.
    let u = _mm256_sub_pd(
        _mm256_castsi256_pd(_mm256_or_si256(
            _mm256_srli_epi64::<12>(w),
            _mm256_set1_epi64x(1024 << 52),
        )),
        _mm256_set1_pd(3.0),
    );
    let x = _mm256_mul_pd(u, bytemuck::cast(xi));
    let abs = _mm256_and_pd(x, _mm256_castsi256_pd(_mm256_set1_epi64x(i64::MAX)));
    let mask = _mm256_movemask_pd(_mm256_cmp_pd::<_CMP_LT_OQ>(abs, bytemuck::cast(xi1)));
    if mask == 0b1111 {
        return x;
    }
    bytemuck::cast(normal4_rest(
        st,
        mask,
        idx,
        bytemuck::cast(u),
        bytemuck::cast(x),
    ))
}

/// The lanes of [`normal4`] whose first word was not accepted: their generators go to the
/// scalar code ([`super::normal::rest`]) and back.
#[cfg(target_arch = "x86_64")]
#[cold]
#[inline(never)]
fn normal4_rest(
    st: &mut [std::arch::x86_64::__m256i; 4],
    mask: i32,
    idx: [usize; 4],
    u: [f64; 4],
    mut x: [f64; 4],
) -> [f64; 4] {
    for l in (0..4).filter(|l| mask & (1 << l) == 0) {
        let mut rng = lane(st, l);
        x[l] = super::normal::rest(&mut rng, idx[l], u[l], x[l]);
        set_lane(st, l, &rng);
    }
    x
}

/// [`Drivers::fill`] for four paths at once (their generators `rngs`, their columns `cols`),
/// with one AVX2 lane per path; only for configurations where [`Drivers::fill4_applies`].
///
/// Each lane runs exactly the scalar fill of its own path: the same words of its own
/// generator in the same order (four ziggurat normals, then the spike uniform, each day), the
/// same IEEE operations in the same order (no FMA), so the columns are bit for bit those
/// [`Drivers::fill`] writes — a path's numbers do not depend on the paths it is grouped with
/// (tested). The ziggurat's rare steps (about 1.2 % of draws) run in scalar code on that
/// lane's generator, handed over and back. `rngs` end where the scalar fills would leave them.
///
/// # Errors
/// As [`Drivers::new`].
///
/// # Safety
/// The CPU must support AVX2 (the one requirement of a `#[target_feature]` function; its
/// body is safe code).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
pub fn fill4_avx2(
    cfg: &SimConfig,
    chol: [[f64; 4]; 4],
    trends: &[DayTrend],
    rngs: &mut [Xoshiro256pp; 4],
    cols: [DriverCols<'_>; 4],
) -> CoreResult<()> {
    use std::arch::x86_64::{
        __m256d, __m256i, _mm256_add_pd, _mm256_blendv_pd, _mm256_cmp_pd, _mm256_max_pd,
        _mm256_mul_pd, _mm256_set1_pd, _mm256_sub_pd, _CMP_LT_OQ,
    };
    debug_assert!(Drivers::fill4_applies(cfg));
    let d = Drivers::new(cfg, chol, 0)?;
    let n = trends.len();
    let mut cs = cols;
    for c in &cs {
        let shortest = [&c.price_usd, &c.fees_btc, &c.power_usd_kwh, &c.gpu_usd_hr]
            .iter()
            .map(|col| col.len())
            .min()
            .unwrap_or(0);
        if shortest < n {
            // The engine slices every column to the days; an error, not a panic, all the same.
            return Err(super::config::bad(
                "driver columns",
                format!("{shortest} rows for {n} days (internal: the engine passes whole paths)"),
            ));
        }
    }
    let v = _mm256_set1_pd;
    // The generators, word k of every lane in one register.
    let mut st: [__m256i; 4] = pack4(rngs);
    let (drift, vol) = (v(d.gbm_drift), v(d.gbm_vol));
    let l = &chol;
    let (l10, l11) = (v(l[1][0]), v(l[1][1]));
    let (l20, l21, l22) = (v(l[2][0]), v(l[2][1]), v(l[2][2]));
    let (l30, l31, l32, l33) = (v(l[3][0]), v(l[3][1]), v(l[3][2]), v(l[3][3]));
    let (f, p, g) = (&cfg.fees, &cfg.power, &cfg.gpu);
    let (f_rev, f_vol, f_mean) = (v(f.reversion_per_day), v(f.vol_per_day), v(d.log_fee_mean));
    let (p_rev, p_vol) = (v(-p.reversion_per_day), v(p.vol_usd_kwh_per_day));
    let (g_rev, g_vol) = (v(-g.reversion_per_day), v(g.vol_per_day));
    let (spike_p, spike_m, zero) = (v(p.spike_prob_per_day), v(p.spike_mult), v(0.0));
    let (mut lp, mut lf) = (v(d.log_price), v(d.log_fee));
    let (mut pdev, mut gn) = (v(d.power_dev), v(d.gpu_noise));
    let scale = 1.0 / ((1_u64 << 53) as f64);
    for (day, trend) in trends.iter().enumerate() {
        if day > 0 {
            let e0 = normal4(&mut st);
            let e1 = normal4(&mut st);
            let e2 = normal4(&mut st);
            let e3 = normal4(&mut st);
            lp = _mm256_add_pd(lp, _mm256_add_pd(drift, _mm256_mul_pd(vol, e0)));
            let z1 = _mm256_add_pd(_mm256_mul_pd(l10, e0), _mm256_mul_pd(l11, e1));
            let z2 = _mm256_add_pd(
                _mm256_add_pd(_mm256_mul_pd(l20, e0), _mm256_mul_pd(l21, e1)),
                _mm256_mul_pd(l22, e2),
            );
            let z3 = _mm256_add_pd(
                _mm256_add_pd(
                    _mm256_add_pd(_mm256_mul_pd(l30, e0), _mm256_mul_pd(l31, e1)),
                    _mm256_mul_pd(l32, e2),
                ),
                _mm256_mul_pd(l33, e3),
            );
            let fee_step = _mm256_add_pd(
                _mm256_mul_pd(f_rev, _mm256_sub_pd(f_mean, lf)),
                _mm256_mul_pd(f_vol, z1),
            );
            lf = _mm256_add_pd(lf, fee_step);
            let p_step = _mm256_add_pd(_mm256_mul_pd(p_rev, pdev), _mm256_mul_pd(p_vol, z2));
            pdev = _mm256_add_pd(pdev, p_step);
            let g_step = _mm256_add_pd(_mm256_mul_pd(g_rev, gn), _mm256_mul_pd(g_vol, z3));
            gn = _mm256_add_pd(gn, g_step);
        }
        // The spike uniform: `rng.random::<f64>()`, the top 53 bits times 2^-53.
        let words: [u64; 4] = bytemuck::cast(xoshiro4(&mut st));
        let u: __m256d = bytemuck::cast(words.map(|w| scale * ((w >> 11) as f64)));
        let level = _mm256_max_pd(_mm256_add_pd(v(trend.power_level_usd_kwh), pdev), zero);
        let spiked = _mm256_cmp_pd::<_CMP_LT_OQ>(u, spike_p);
        let power = _mm256_blendv_pd(level, _mm256_mul_pd(level, spike_m), spiked);
        let a: [f64; 4] = bytemuck::cast(lp);
        let b: [f64; 4] = bytemuck::cast(lf);
        let c: [f64; 4] = bytemuck::cast(power);
        let e: [f64; 4] = bytemuck::cast(gn);
        for (k, col) in cs.iter_mut().enumerate() {
            col.price_usd[day] = a[k];
            col.fees_btc[day] = b[k];
            col.power_usd_kwh[day] = c[k];
            col.gpu_usd_hr[day] = e[k];
        }
    }
    for (l, rng) in rngs.iter_mut().enumerate() {
        *rng = lane(&st, l);
    }
    for col in cs {
        d.finish(
            trends,
            &mut col.price_usd[..n],
            &mut col.fees_btc[..n],
            &mut col.gpu_usd_hr[..n],
        );
    }
    Ok(())
}
