//! The scenario specification as plain structs, with validation that names the field and
//! the fix. Units are in the field names; rates are per year unless `_per_day` says so.

use crate::consensus::params::NetworkParams;
use crate::error::{CoreError, CoreResult, Position};

/// How blocks arrive given hashrate and target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArrivalMode {
    /// A Poisson process with rate `hashrate / proof(bits)` (the real law).
    Poisson,
    /// A deterministic "fluid" clock: a block every `proof(bits) / hashrate` seconds exactly.
    /// Used for zero-volatility checks of the retarget arithmetic.
    Deterministic,
}

/// BTC price driver (USD).
#[derive(Debug, Clone, PartialEq)]
pub enum PriceModel {
    /// Geometric Brownian motion with drift `mu` and volatility `sigma` (per year, on log
    /// price, dt = 1/365) plus optional Merton jumps (`jump_per_year` Poisson intensity,
    /// log-jump size Normal(`jump_mean`, `jump_sd`)); the drift is compensated so that
    /// `E[P_t] = P_0 · exp(mu · t)` with or without jumps.
    Gbm {
        start_usd: f64,
        mu: f64,
        sigma: f64,
        jump_per_year: f64,
        jump_mean: f64,
        jump_sd: f64,
    },
    /// Block bootstrap of historical daily log returns: every `block_days` days a block start
    /// is drawn uniformly from the valid starts and its returns are replayed in order.
    Bootstrap {
        start_usd: f64,
        log_returns: Vec<f64>,
        block_days: usize,
    },
    /// A given daily price series (USD): one for every path, or one per path.
    Given { values: GivenSeries },
}

/// The most days a run may cover (100 years of 366 days), and the most days of lead time.
pub const MAX_DAYS: usize = 36_600;
/// The most price jumps a year (each is drawn; jumps are rare events, a few a year).
pub const MAX_JUMPS_PER_YEAR: f64 = 1_000.0;

/// A given driver series: `rows` rows of the run's days, path-major. A shared series is one
/// row for every path (it may be longer than the run: the first `n_days` values are used);
/// per-path series (`per_path`, even with one row) give path `p` row `p` (exactly `n_days`
/// values each), and the run may not ask for a path beyond the last row.
#[derive(Debug, Clone, PartialEq)]
pub struct GivenSeries {
    pub values: Vec<f64>,
    pub rows: usize,
    pub per_path: bool,
}

impl GivenSeries {
    /// One series for every path.
    #[must_use]
    pub fn shared(values: Vec<f64>) -> Self {
        Self {
            values,
            rows: 1,
            per_path: false,
        }
    }

    /// The `n_days` values path `path` reads (validated by [`SimConfig::validate`] and
    /// [`SimConfig::check_paths`]).
    #[inline]
    #[must_use]
    pub fn row(&self, path: u32, n_days: usize) -> &[f64] {
        let r = if self.per_path { path as usize } else { 0 };
        &self.values[r * n_days..(r + 1) * n_days]
    }
}

/// Mean fees per block (BTC): log-Ornstein–Uhlenbeck around `mean_btc`.
#[derive(Debug, Clone, PartialEq)]
pub struct FeeModel {
    pub start_btc: f64,
    pub mean_btc: f64,
    /// Fraction of the log gap to the mean closed per day, in [0, 1].
    pub reversion_per_day: f64,
    /// Standard deviation of the daily log shock.
    pub vol_per_day: f64,
    pub given: Option<GivenSeries>,
}

/// Site power price (USD/kWh): seasonal level + OU deviation (in USD/kWh) + spikes.
#[derive(Debug, Clone, PartialEq)]
pub struct PowerModel {
    pub base_usd_kwh: f64,
    /// Relative seasonal amplitude: level = base · (1 + amp · cos(2π (doy − peak_doy)/365.25)).
    pub season_amp: f64,
    pub season_peak_doy: f64,
    pub reversion_per_day: f64,
    pub vol_usd_kwh_per_day: f64,
    /// Probability of a price spike on a day, and the multiplier applied that day.
    pub spike_prob_per_day: f64,
    pub spike_mult: f64,
    pub given: Option<GivenSeries>,
}

/// GPU rent index (USD per GPU-hour of the tracked generation): steps down by
/// `generation_step` every `generation_days` (a new generation ships), decays continuously
/// at `decay_per_year`, times exp of a log-OU noise.
#[derive(Debug, Clone, PartialEq)]
pub struct GpuModel {
    pub start_usd_hr: f64,
    pub generation_days: f64,
    pub generation_step: f64,
    pub decay_per_year: f64,
    pub reversion_per_day: f64,
    pub vol_per_day: f64,
    pub given: Option<GivenSeries>,
}

/// One efficiency class of the installed fleet.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FleetClass {
    pub efficiency_jth: f64,
    pub hashrate_ths: f64,
    pub retire_per_year: f64,
}

/// The installed fleet and how it responds to economics.
#[derive(Debug, Clone, PartialEq)]
pub struct FleetModel {
    pub classes: Vec<FleetClass>,
    /// Each class is split into power-price tranches: the site price times `mult`, holding
    /// `weight` of the class's hashrate (weights sum to 1).
    pub tranche_mult: Vec<f64>,
    pub tranche_weight: Vec<f64>,
    /// Facility overhead (PUE ≥ 1) and pool fee (fraction).
    pub pue: f64,
    pub pool_fee: f64,
    /// Hysteresis band h: an online cohort switches off when revenue/cost < 1 − h and an
    /// offline one back on when revenue/cost ≥ 1 + h.
    pub hysteresis: f64,
    /// Share of the gap to its switching decision a cohort closes per day (0 < k ≤ 1): its
    /// online fraction `u` moves `u ← u + k·(target − u)`. 1 = the whole cohort switches the
    /// same day; smaller values spread the response over ~1/k days (operators' delays,
    /// contracts), which damps the cobweb between hashrate and difficulty.
    pub response_per_day: f64,
    /// New machines: efficiency, and the revenue/power-cost ratio (at tranche multiplier 1)
    /// above which they are ordered.
    pub arrival_efficiency_jth: f64,
    pub arrival_threshold: f64,
    /// Orders per day at most `deploy_cap_per_day` × installed hashrate (reached when the
    /// ratio is twice the threshold; linear in between), delivered after `lead_time_days`.
    pub deploy_cap_per_day: f64,
    pub lead_time_days: usize,
    pub retire_arrivals_per_year: f64,
}

/// An exogenous hashrate shock: `fraction` of online hashrate off for `days` from `start_day`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shock {
    pub start_day: usize,
    pub days: usize,
    pub fraction: f64,
}

/// Chain state at the start of the run.
#[derive(Debug, Clone, PartialEq)]
pub struct ChainStart {
    /// Height of the tip (last mined block).
    pub height: i64,
    /// Bits required of the next block.
    pub bits: u32,
    /// Unix time (s) at which the simulation clock starts (the tip's time).
    pub time: i64,
    /// Time of the first block of the tip's epoch; required unless the tip is the last block
    /// of an epoch (then the next block starts a new epoch).
    pub epoch_first_time: Option<i64>,
}

/// A whole scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct SimConfig {
    pub network: NetworkParams,
    pub start: ChainStart,
    pub n_days: usize,
    pub arrivals: ArrivalMode,
    pub price: PriceModel,
    pub fees: FeeModel,
    pub power: PowerModel,
    pub gpu: GpuModel,
    /// Correlation of the daily normal shocks of (price, fees, power, GPU rent).
    pub correlation: [[f64; 4]; 4],
    pub fleet: FleetModel,
    /// Overrides the network model's online hashrate (EH/s per day), same on every path.
    pub hashrate_given_ehs: Option<Vec<f64>>,
    pub shocks: Vec<Shock>,
}

pub(crate) fn bad(what: &'static str, why: String) -> CoreError {
    CoreError::InvalidValue {
        what,
        at: Position::Scalar,
        why,
    }
}

/// `v` finite and ≥ `lo`; `lo = f64::MIN_POSITIVE` reads "> 0" and `f64::MIN` no bound.
fn finite_ge(what: &'static str, v: f64, lo: f64) -> CoreResult<()> {
    if !v.is_finite() || v < lo {
        let bound = if lo == f64::MIN_POSITIVE {
            " > 0".to_string()
        } else if lo == f64::MIN {
            String::new()
        } else {
            format!(" ≥ {lo}")
        };
        return Err(bad(what, format!("{v} must be a finite number{bound}")));
    }
    Ok(())
}

/// `v` at most `hi` (after the finite and lower-bound checks), else `why` says what to give.
fn at_most(what: &'static str, v: f64, hi: f64, why: &str) -> CoreResult<()> {
    if v > hi {
        let shown = if v.abs() < 1e15 {
            format!("{v}")
        } else {
            format!("{v:e}")
        };
        return Err(bad(what, format!("{shown} is more than {hi}: {why}")));
    }
    Ok(())
}

/// The latest start time a run may have (Unix seconds, 9999-12-31 23:59:59 UTC): dates
/// stay inside the output's microsecond timestamps for a 100-year run.
pub const MAX_START_TIME: i64 = 253_402_300_799;

/// How far (seconds) an epoch's first block may be stamped after the tip: two hours, the
/// future-time limit of Bitcoin Core (block times need not increase).
pub const MAX_EPOCH_FIRST_AFTER_TIP: i64 = 7_200;

/// The largest start price (USD per BTC): a trillion dollars, far past any price; beyond
/// a point a path's revenue sums leave `f64`.
pub const MAX_PRICE_USD: f64 = 1e12;
const PRICE_WHY: &str = "a BTC price in USD (67000 for $67k)";

/// The largest daily volatility of a log-space driver (fees, GPU rent): 100 % a day. A
/// daily move of e^±1 is already far past any market; beyond this the path leaves `f64`.
pub const MAX_LOG_VOL_PER_DAY: f64 = 1.0;

fn in_unit(what: &'static str, v: f64) -> CoreResult<()> {
    if !(0.0..=1.0).contains(&v) {
        return Err(bad(what, format!("{v} must lie in [0, 1]")));
    }
    Ok(())
}

fn series(what: &'static str, v: &[f64], n_days: usize, positive: bool) -> CoreResult<()> {
    if v.len() < n_days {
        return Err(bad(
            what,
            format!(
                "has {} daily values but the run needs {n_days}; give at least one value per simulated day or shorten `years`",
                v.len()
            ),
        ));
    }
    for (i, &x) in v.iter().take(n_days).enumerate() {
        if !x.is_finite() || x < 0.0 || (positive && x == 0.0) {
            return Err(CoreError::InvalidValue {
                what,
                at: Position::Row(i),
                why: format!(
                    "{x} is not a finite {} number",
                    if positive { "positive" } else { "non-negative" }
                ),
            });
        }
    }
    Ok(())
}

/// [`series`] for a given driver: one shared row, or `rows` rows of exactly `n_days` values
/// (errors name the flat row `path · n_days + day`).
fn given(what: &'static str, g: &GivenSeries, n_days: usize, positive: bool) -> CoreResult<()> {
    if !g.per_path {
        return series(what, &g.values, n_days, positive);
    }
    if g.rows == 0 || g.rows.checked_mul(n_days) != Some(g.values.len()) {
        return Err(bad(
            what,
            format!(
                "has {} values for {} paths but the run needs {n_days} per path",
                g.values.len(),
                g.rows
            ),
        ));
    }
    series(what, &g.values, g.values.len(), positive)
}

/// Lower-triangular Cholesky factor of a 4×4 correlation matrix, or an error naming the
/// problem (asymmetric, unit diagonal missing, not positive definite).
#[allow(clippy::needless_range_loop)]
pub fn cholesky4(c: &[[f64; 4]; 4]) -> CoreResult<[[f64; 4]; 4]> {
    for i in 0..4 {
        if (c[i][i] - 1.0).abs() > 1e-12 {
            return Err(bad(
                "correlation",
                format!("diagonal entry [{i}][{i}] is {} but must be 1", c[i][i]),
            ));
        }
        for j in 0..4 {
            if !c[i][j].is_finite() || (c[i][j] - c[j][i]).abs() > 1e-12 || c[i][j].abs() > 1.0 {
                return Err(bad(
                    "correlation",
                    format!(
                        "entries [{i}][{j}]={} and [{j}][{i}]={} must be equal and within [-1, 1]",
                        c[i][j], c[j][i]
                    ),
                ));
            }
        }
    }
    let mut l = [[0.0f64; 4]; 4];
    for i in 0..4 {
        for j in 0..=i {
            let s: f64 = (0..j).map(|k| l[i][k] * l[j][k]).sum();
            if i == j {
                let d = c[i][i] - s;
                if d <= 1e-12 {
                    return Err(bad(
                        "correlation",
                        "the matrix is not positive definite; lower the correlations (order: price, fees, power, gpu)".into(),
                    ));
                }
                l[i][j] = d.sqrt();
            } else {
                l[i][j] = (c[i][j] - s) / l[j][j];
            }
        }
    }
    Ok(l)
}

impl SimConfig {
    /// The given driver series, with their names.
    fn given_series(&self) -> [(&'static str, Option<&GivenSeries>); 4] {
        [
            (
                "price_usd (given)",
                match &self.price {
                    PriceModel::Given { values } => Some(values),
                    _ => None,
                },
            ),
            ("fees_btc_per_block (given)", self.fees.given.as_ref()),
            ("power_price_usd_kwh (given)", self.power.given.as_ref()),
            ("gpu_rent_usd_hr (given)", self.gpu.given.as_ref()),
        ]
    }

    /// Paths `first_path … first_path + n_paths − 1` must each have a row in every per-path
    /// given series.
    pub fn check_paths(&self, first_path: u32, n_paths: u32) -> CoreResult<()> {
        let end = u64::from(first_path) + u64::from(n_paths);
        for (what, g) in self.given_series() {
            if let Some(g) = g.filter(|g| g.per_path && (g.rows as u64) < end) {
                return Err(bad(
                    what,
                    format!(
                        "gives {} paths but the run asks for paths {first_path}…{}; give a path for every simulated path, or simulate at most {} paths (paths=, --paths or [scenario] paths)",
                        g.rows,
                        end - 1,
                        g.rows
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Check every field; errors name the field and the fix.
    pub fn validate(&self) -> CoreResult<()> {
        self.network.validate()?;
        let n = self.n_days;
        if n == 0 {
            return Err(bad("years", "the run must cover at least one day".into()));
        }
        if n > MAX_DAYS {
            return Err(bad(
                "years",
                format!("{n} days is more than the {MAX_DAYS} (100 years) a run may cover"),
            ));
        }
        if self.fleet.lead_time_days > MAX_DAYS {
            return Err(bad(
                "fleet lead_time_days",
                format!(
                    "{} is more than {MAX_DAYS} days (100 years); use a lead time in days",
                    self.fleet.lead_time_days
                ),
            ));
        }
        let interval = self.network.interval();
        if self.start.height < 0 {
            return Err(bad(
                "start height",
                format!("{} is negative", self.start.height),
            ));
        }
        if !(0..=MAX_START_TIME).contains(&self.start.time) {
            return Err(bad(
                "start time",
                format!(
                    "{} is not a Unix time in seconds between 1970 and 9999; pass int(t.timestamp())",
                    self.start.time
                ),
            ));
        }
        if let Some(first) = self.start.epoch_first_time {
            if first < 0 || first > self.start.time.saturating_add(MAX_EPOCH_FIRST_AFTER_TIP) {
                return Err(bad(
                    "start epoch_first_time",
                    format!(
                        "{first} is not between 0 and the tip's time {} (+ 2 h): the epoch's \
                         first block comes before the tip; pass that block's time",
                        self.start.time
                    ),
                ));
            }
        }
        if (self.start.height + 1) % interval != 0 && self.start.epoch_first_time.is_none() {
            return Err(bad(
                "start epoch_first_time",
                format!(
                    "the tip {} is inside an epoch, so the time of that epoch's first block is needed; pass it or start at an epoch boundary",
                    self.start.height
                ),
            ));
        }
        crate::consensus::target::derive_target(self.start.bits, &self.network.pow_limit)
            .map_err(|e| e.at(Position::Height(self.start.height + 1)))?;
        match &self.price {
            PriceModel::Gbm {
                start_usd,
                mu,
                sigma,
                jump_per_year,
                jump_mean,
                jump_sd,
            } => {
                finite_ge("start_price_usd", *start_usd, f64::MIN_POSITIVE)?;
                at_most("start_price_usd", *start_usd, MAX_PRICE_USD, PRICE_WHY)?;
                finite_ge("price mu", *mu, f64::MIN)?;
                finite_ge("price sigma", *sigma, 0.0)?;
                finite_ge("price jump_per_year", *jump_per_year, 0.0)?;
                if *jump_per_year > MAX_JUMPS_PER_YEAR {
                    return Err(bad(
                        "price jump_per_year",
                        format!(
                            "{jump_per_year} is more than {MAX_JUMPS_PER_YEAR} jumps a year; jumps \
                             are rare events (a few a year): use sigma for everyday moves"
                        ),
                    ));
                }
                finite_ge("price jump_mean", *jump_mean, f64::MIN)?;
                finite_ge("price jump_sd", *jump_sd, 0.0)?;
                let jump = "a jump's log size: 0.69 is a doubling, -0.69 a halving";
                at_most("price jump_mean", jump_mean.abs(), 2.0, jump)?;
                at_most("price jump_sd", *jump_sd, 2.0, jump)?;
                // the drift that keeps the mean price: λ·(E[e^J] − 1) a year
                let comp = jump_per_year * ((jump_mean + 0.5 * jump_sd * jump_sd).exp() - 1.0);
                at_most(
                    "price jumps",
                    comp.abs(),
                    10.0,
                    "jump_per_year × (e^(jump_mean + jump_sd²/2) − 1), the yearly drift that \
                     offsets the jumps, must lie within ±10 as mu does; use fewer or smaller jumps",
                )?;
            }
            PriceModel::Bootstrap {
                start_usd,
                log_returns,
                block_days,
            } => {
                finite_ge("start_price_usd", *start_usd, f64::MIN_POSITIVE)?;
                at_most("start_price_usd", *start_usd, MAX_PRICE_USD, PRICE_WHY)?;
                if *block_days == 0 || log_returns.len() < *block_days {
                    return Err(bad(
                        "price bootstrap",
                        format!(
                            "{} returns cannot fill blocks of {block_days} days; give more history or a shorter block (≥ 1)",
                            log_returns.len()
                        ),
                    ));
                }
                if let Some(i) = log_returns.iter().position(|r| !r.is_finite()) {
                    return Err(CoreError::InvalidValue {
                        what: "price bootstrap returns",
                        at: Position::Row(i),
                        why: "is not finite; drop nulls and non-positive prices first".into(),
                    });
                }
            }
            PriceModel::Given { values } => given("price_usd (given)", values, n, true)?,
        }
        let f = &self.fees;
        finite_ge("fees start_btc", f.start_btc, f64::MIN_POSITIVE)?;
        finite_ge("fees mean_btc", f.mean_btc, f64::MIN_POSITIVE)?;
        in_unit("fees reversion_per_day", f.reversion_per_day)?;
        finite_ge("fees vol_per_day", f.vol_per_day, 0.0)?;
        let vol = "a daily volatility of the log level (0.15 = 15 % a day)";
        at_most("fees vol_per_day", f.vol_per_day, MAX_LOG_VOL_PER_DAY, vol)?;
        let supply = "fees per block in BTC cannot exceed the 21 M BTC supply";
        at_most("fees start_btc", f.start_btc, 21e6, supply)?;
        at_most("fees mean_btc", f.mean_btc, 21e6, supply)?;
        if let Some(g) = &f.given {
            given("fees_btc_per_block (given)", g, n, false)?;
        }
        let p = &self.power;
        finite_ge("power base_usd_kwh", p.base_usd_kwh, 0.0)?;
        in_unit("power season_amp", p.season_amp)?;
        finite_ge("power season_peak_doy", p.season_peak_doy, f64::MIN)?;
        in_unit("power reversion_per_day", p.reversion_per_day)?;
        finite_ge("power vol_usd_kwh_per_day", p.vol_usd_kwh_per_day, 0.0)?;
        in_unit("power spike_prob_per_day", p.spike_prob_per_day)?;
        finite_ge("power spike_mult", p.spike_mult, 0.0)?;
        if let Some(g) = &p.given {
            given("power_price_usd_kwh (given)", g, n, false)?;
        }
        let g = &self.gpu;
        finite_ge("gpu start_usd_hr", g.start_usd_hr, 0.0)?;
        finite_ge("gpu generation_days", g.generation_days, 1.0)?;
        in_unit("gpu generation_step", g.generation_step)?;
        finite_ge("gpu decay_per_year", g.decay_per_year, 0.0)?;
        in_unit("gpu reversion_per_day", g.reversion_per_day)?;
        finite_ge("gpu vol_per_day", g.vol_per_day, 0.0)?;
        at_most("gpu vol_per_day", g.vol_per_day, MAX_LOG_VOL_PER_DAY, vol)?;
        if let Some(v) = &g.given {
            given("gpu_rent_usd_hr (given)", v, n, false)?;
        }
        cholesky4(&self.correlation)?;
        let fl = &self.fleet;
        if fl.classes.is_empty() && self.hashrate_given_ehs.is_none() {
            return Err(bad(
                "mix",
                "the hardware mix is empty; give at least one efficiency class".into(),
            ));
        }
        for (i, c) in fl.classes.iter().enumerate() {
            let row = |e: CoreError| e.at(Position::Row(i));
            finite_ge("mix efficiency_jth", c.efficiency_jth, f64::MIN_POSITIVE).map_err(row)?;
            finite_ge("mix hashrate_ths", c.hashrate_ths, 0.0).map_err(row)?;
            in_unit("mix retire_per_year", c.retire_per_year).map_err(row)?;
        }
        if fl.tranche_mult.is_empty() || fl.tranche_mult.len() != fl.tranche_weight.len() {
            return Err(bad(
                "power tranches",
                "tranche_mult and tranche_weight must be non-empty and of equal length".into(),
            ));
        }
        for &m in &fl.tranche_mult {
            finite_ge("power tranche_mult", m, 0.0)?;
        }
        for &w in &fl.tranche_weight {
            finite_ge("power tranche_weight", w, 0.0)?;
        }
        let ws: f64 = fl.tranche_weight.iter().sum();
        if (ws - 1.0).abs() > 1e-9 {
            return Err(bad(
                "power tranche_weight",
                format!("weights sum to {ws}; they must sum to 1"),
            ));
        }
        finite_ge("fleet pue", fl.pue, 1.0)?;
        in_unit("fleet pool_fee", fl.pool_fee)?;
        in_unit("fleet hysteresis", fl.hysteresis)?;
        if !(fl.response_per_day > 0.0 && fl.response_per_day <= 1.0) {
            return Err(bad(
                "fleet response_per_day",
                format!("{} must lie in (0, 1]", fl.response_per_day),
            ));
        }
        finite_ge(
            "fleet arrival_efficiency_jth",
            fl.arrival_efficiency_jth,
            f64::MIN_POSITIVE,
        )?;
        finite_ge(
            "fleet arrival_threshold",
            fl.arrival_threshold,
            f64::MIN_POSITIVE,
        )?;
        in_unit("fleet deploy_cap_per_day", fl.deploy_cap_per_day)?;
        in_unit(
            "fleet retire_arrivals_per_year",
            fl.retire_arrivals_per_year,
        )?;
        if let Some(h) = &self.hashrate_given_ehs {
            series("hashrate_ehs (given)", h, n, false)?;
        }
        for (i, s) in self.shocks.iter().enumerate() {
            in_unit("shock fraction", s.fraction).map_err(|e| e.at(Position::Row(i)))?;
        }
        Ok(())
    }
}
