//! The path engine: every path runs independently on its own random streams (see
//! [`super::rng`]) and writes one row per day into preallocated columns; rayon spreads the
//! paths over threads. Output is identical whatever the thread count.

use rayon::prelude::*;

use super::chain::{ChainState, Retarget};
use super::config::{cholesky4, ArrivalMode, SimConfig};
use super::drivers::{day_trends, DayTrend, DriverCols, Drivers};
use super::network::{btc_per_th_day, Fleet};
use super::rng::{stream, STREAM_BLOCKS, STREAM_DRIVERS};
use crate::chain::buf::NumCol;
use crate::consensus::subsidy::block_subsidy;
use crate::error::CoreResult;

const DAY: i64 = 86_400;

/// Daily rows (`path`-major: rows `p·n_days … p·n_days + n_days − 1` are path `p`) and
/// the retarget events of every path.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SimOutput {
    pub n_days: usize,
    pub path: NumCol<u32>,
    /// Start of the day, microseconds since the Unix epoch (UTC midnight).
    pub date_us: NumCol<i64>,
    /// End-of-day state.
    pub height: NumCol<i64>,
    pub bits: NumCol<u32>,
    pub difficulty: NumCol<f64>,
    /// During the day.
    pub hashrate_ehs: NumCol<f64>,
    pub price_usd: NumCol<f64>,
    pub fees_btc_per_block: NumCol<f64>,
    pub subsidy_btc: NumCol<f64>,
    pub hashprice_usd_ph_day: NumCol<f64>,
    pub power_price_usd_kwh: NumCol<f64>,
    pub gpu_rent_usd_hr: NumCol<f64>,
    pub share_under_water: NumCol<f64>,
    /// Retargets: path, height of the new epoch's first block, time (Unix s) of the ending
    /// epoch's last block, old and new bits.
    pub rt_path: Vec<u32>,
    pub rt_height: Vec<i64>,
    pub rt_time: Vec<i64>,
    pub rt_first_time: Vec<i64>,
    pub rt_old_bits: Vec<u32>,
    pub rt_new_bits: Vec<u32>,
}

pub(super) struct PathRows<'a> {
    pub(super) path: u32,
    pub(super) path_col: &'a mut [u32],
    pub(super) date_us: &'a mut [i64],
    pub(super) height: &'a mut [i64],
    pub(super) bits: &'a mut [u32],
    pub(super) difficulty: &'a mut [f64],
    pub(super) hashrate_ehs: &'a mut [f64],
    pub(super) price_usd: &'a mut [f64],
    pub(super) fees: &'a mut [f64],
    pub(super) subsidy: &'a mut [f64],
    pub(super) hashprice: &'a mut [f64],
    pub(super) power: &'a mut [f64],
    pub(super) gpu: &'a mut [f64],
    pub(super) under: &'a mut [f64],
}

/// The x86-64 features of the engine's fast build: those of polars' default runtime that the
/// engine's code gains from (`roundsd` for `floor`, VEX encodings, BMI/LZCNT in the U256
/// division). Detected at run time; other CPUs run the portable build of the same code.
#[cfg(target_arch = "x86_64")]
fn has_fast_features() -> bool {
    use std::arch::is_x86_feature_detected as has;
    has!("avx2") && has!("fma") && has!("bmi1") && has!("bmi2") && has!("lzcnt") && has!("popcnt")
}

/// One path, in the build picked for this CPU. `fast = false` forces the portable build
/// (tests compare the two: they must give the same bits, as neither contracts `a·b + c` into
/// an FMA nor reorders a sum).
fn run_path(
    cfg: &SimConfig,
    trends: &[DayTrend],
    chol: [[f64; 4]; 4],
    seed: u64,
    r: &mut PathRows<'_>,
    fast: bool,
    filled: bool,
) -> CoreResult<Vec<Retarget>> {
    #[cfg(target_arch = "x86_64")]
    {
        if fast && has_fast_features() {
            // SAFETY: the CPU has every feature `run_path_fast` is compiled for (checked just
            // above), the only requirement of a `#[target_feature]` function; its body is safe.
            #[allow(unsafe_code)]
            return unsafe { run_path_fast(cfg, trends, chol, seed, r, filled) };
        }
    }
    let _ = fast;
    run_path_body(cfg, trends, chol, seed, r, filled)
}

/// A group of up to four consecutive paths. Where the CPU has the fast build's features (and
/// `fast`) and the group has four paths: their driver columns are filled together by
/// [`super::drivers::fill4_avx2`] where [`Drivers::fill4_applies`] (one lane per path), else
/// one path at a time; then, with Poisson arrivals, their days run in lockstep
/// (`super::lockstep::run4`, one lane per path). Both give each path the same bits as a run
/// of that path alone. Otherwise, and if the lockstep run fails, each path runs its days
/// alone ([`run_path`]).
fn run_group(
    cfg: &SimConfig,
    trends: &[DayTrend],
    chol: [[f64; 4]; 4],
    seed: u64,
    group: &mut [PathRows<'_>],
    fast: bool,
) -> Vec<(u32, CoreResult<Vec<Retarget>>)> {
    let mut filled = false;
    #[cfg(target_arch = "x86_64")]
    {
        if let [a, b, c, d] = group {
            if fast && has_fast_features() {
                if Drivers::fill4_applies(cfg) {
                    let nd = cfg.n_days;
                    let mut rngs = [a.path, b.path, c.path, d.path]
                        .map(|p| stream(seed, u64::from(p), STREAM_DRIVERS));
                    let cols = [&mut *a, &mut *b, &mut *c, &mut *d].map(|r| DriverCols {
                        price_usd: &mut r.price_usd[..nd],
                        fees_btc: &mut r.fees[..nd],
                        power_usd_kwh: &mut r.power[..nd],
                        gpu_usd_hr: &mut r.gpu[..nd],
                    });
                    // SAFETY: the CPU has AVX2 (checked by `has_fast_features` just above), the
                    // only requirement of this `#[target_feature]` function; its body is safe.
                    #[allow(unsafe_code)]
                    let res = unsafe {
                        super::drivers::fill4_avx2(cfg, chol, &trends[..nd], &mut rngs, cols)
                    };
                    if let Err(e) = res {
                        return [a, b, c, d].map(|r| (r.path, Err(e.clone()))).into();
                    }
                    filled = true;
                } else {
                    // One path at a time; on an error the paths are rerun one by one below,
                    // which reports it for its path.
                    filled = [&mut *a, &mut *b, &mut *c, &mut *d].into_iter().all(|r| {
                        // SAFETY: as above (`has_fast_features`), the only requirement of
                        // this `#[target_feature]` function; its body is safe code.
                        #[allow(unsafe_code)]
                        let res = unsafe { fill_drivers_fast(cfg, trends, chol, seed, r) };
                        res.is_ok()
                    });
                }
                if filled && cfg.arrivals == ArrivalMode::Poisson {
                    // SAFETY: as above (`has_fast_features`), the only requirement of this
                    // `#[target_feature]` function; its body is safe code.
                    #[allow(unsafe_code)]
                    let res = unsafe { super::lockstep::run4(cfg, seed, [a, b, c, d]) };
                    // On an error the four paths are rerun one by one (below): their rows are
                    // rewritten and the error is reported for the path it belongs to.
                    if let Ok(rets) = res {
                        return group.iter().map(|r| r.path).zip(rets.map(Ok)).collect();
                    }
                }
            }
        }
    }
    group
        .iter_mut()
        .map(|r| (r.path, run_path(cfg, trends, chol, seed, r, fast, filled)))
        .collect()
}

/// Fill a path's driver columns (price, fees, power, GPU rent) with its own stream.
#[inline(always)]
fn fill_drivers(
    cfg: &SimConfig,
    trends: &[DayTrend],
    chol: [[f64; 4]; 4],
    seed: u64,
    r: &mut PathRows<'_>,
) -> CoreResult<()> {
    let nd = cfg.n_days;
    let mut rng_d = stream(seed, u64::from(r.path), STREAM_DRIVERS);
    Drivers::new(cfg, chol, r.path)?.fill(
        &trends[..nd],
        &mut rng_d,
        DriverCols {
            price_usd: &mut r.price_usd[..nd],
            fees_btc: &mut r.fees[..nd],
            power_usd_kwh: &mut r.power[..nd],
            gpu_usd_hr: &mut r.gpu[..nd],
        },
    );
    Ok(())
}

/// [`fill_drivers`] compiled for [`has_fast_features`] (as inside [`run_path_fast`]).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma,bmi1,bmi2,lzcnt,popcnt")]
fn fill_drivers_fast(
    cfg: &SimConfig,
    trends: &[DayTrend],
    chol: [[f64; 4]; 4],
    seed: u64,
    r: &mut PathRows<'_>,
) -> CoreResult<()> {
    fill_drivers(cfg, trends, chol, seed, r)
}

/// [`run_path_body`] compiled for [`has_fast_features`]. It and the day's callees
/// (`Drivers::fill`, `Drivers::step`, `Fleet::step`, `ChainState::advance`) are
/// `#[inline(always)]` so that they are compiled into this clone too (what stays a call, such
/// as `rand_distr`'s Poisson sampler, runs its portable build); measured 6–9 % faster per
/// path-day than the portable build.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma,bmi1,bmi2,lzcnt,popcnt")]
fn run_path_fast(
    cfg: &SimConfig,
    trends: &[DayTrend],
    chol: [[f64; 4]; 4],
    seed: u64,
    r: &mut PathRows<'_>,
    filled: bool,
) -> CoreResult<Vec<Retarget>> {
    run_path_body(cfg, trends, chol, seed, r, filled)
}

/// A path's days (see [`run_path`]); `filled`: its driver columns are already written
/// (by [`run_group`]).
#[inline(always)]
fn run_path_body(
    cfg: &SimConfig,
    trends: &[DayTrend],
    chol: [[f64; 4]; 4],
    seed: u64,
    r: &mut PathRows<'_>,
    filled: bool,
) -> CoreResult<Vec<Retarget>> {
    let p = u64::from(r.path);
    let mut rng_b = stream(seed, p, STREAM_BLOCKS);
    let mut fleet = Fleet::new(cfg);
    let mut chain = ChainState::new(&cfg.network, cfg.arrivals, &cfg.start)?;
    let interval = cfg.network.subsidy_halving_interval;
    let mut rets = Vec::with_capacity(cfg.n_days / 13 + 2);
    let t_start = cfg.start.time;
    let day0 = t_start.div_euclid(DAY) * DAY;
    let keep_fee = 1.0 - cfg.fleet.pool_fee;
    r.path_col.fill(r.path);
    // The drivers are exogenous: the whole path first, then the network day by day.
    if !filled {
        fill_drivers(cfg, trends, chol, seed, r)?;
    }
    // Re-slice every column to exactly n_days so the writes below need no bounds checks.
    let nd = cfg.n_days;
    let (date_us, height, bits) = (&mut r.date_us[..nd], &mut r.height[..nd], &mut r.bits[..nd]);
    let (difficulty, hashrate_ehs, price_usd) = (
        &mut r.difficulty[..nd],
        &mut r.hashrate_ehs[..nd],
        &mut r.price_usd[..nd],
    );
    let (fees, subsidy, hashprice) = (
        &mut r.fees[..nd],
        &mut r.subsidy[..nd],
        &mut r.hashprice[..nd],
    );
    let (power, under) = (&mut r.power[..nd], &mut r.under[..nd]);
    // The subsidy changes only at halvings: it is recomputed when the next block's height
    // reaches the end of the halving era it was computed for (heights never decrease), so
    // the day needs no integer division.
    let (mut subsidy_btc, mut subsidy_until) = (0.0, i64::MIN);
    for d in 0..nd {
        let day_start = day0 + DAY * d as i64;
        let (price_d, fees_d, power_d) = (price_usd[d], fees[d], power[d]);
        let next = chain.height + 1;
        if next >= subsidy_until {
            subsidy_btc = block_subsidy(next, interval)? as f64 / 1e8;
            subsidy_until = (next / interval + 1).saturating_mul(interval);
        }
        debug_assert_eq!(subsidy_btc, block_subsidy(next, interval)? as f64 / 1e8);
        let b = btc_per_th_day(subsidy_btc, fees_d, chain.difficulty());
        let usd_th_day = b * price_d;
        let fd = fleet.step(d, usd_th_day * keep_fee, power_d);
        let mut ths = match &cfg.hashrate_given_ehs {
            Some(h) => h[d] * 1e6,
            None => fd.online_ths,
        };
        for s in &cfg.shocks {
            if d >= s.start_day && d - s.start_day < s.days {
                ths *= 1.0 - s.fraction;
            }
        }
        let t0 = (day_start.max(t_start)) as f64;
        let t1 = (day_start + DAY) as f64;
        chain.advance(t0, t1, ths * 1e12, &mut rng_b, &mut rets)?;
        date_us[d] = day_start * 1_000_000;
        height[d] = chain.height;
        bits[d] = chain.bits;
        difficulty[d] = chain.difficulty();
        hashrate_ehs[d] = ths / 1e6;
        subsidy[d] = subsidy_btc;
        hashprice[d] = usd_th_day * 1000.0;
        under[d] = fd.share_under_water;
    }
    Ok(rets)
}

/// Simulate paths `first_path … first_path + n_paths − 1` of `cfg` with `seed`.
///
/// Path `p`'s rows depend only on `(cfg, seed, p)`, so a large run can be computed in
/// chunks of paths (and threads) with identical results.
pub fn simulate(
    cfg: &SimConfig,
    seed: u64,
    first_path: u32,
    n_paths: u32,
) -> CoreResult<SimOutput> {
    simulate_with(cfg, seed, first_path, n_paths, true)
}

/// [`simulate`] without the retarget columns (left empty): the daily rows only, for callers
/// that do not read the retargets (gathering ~1.3 M of them for 10,000 paths × 5 years is
/// serial work after the parallel part).
pub fn simulate_daily(
    cfg: &SimConfig,
    seed: u64,
    first_path: u32,
    n_paths: u32,
) -> CoreResult<SimOutput> {
    simulate_opts(cfg, seed, first_path, n_paths, true, false)
}

/// [`simulate`]; `fast = false` runs the portable build even where the fast one would run.
pub(crate) fn simulate_with(
    cfg: &SimConfig,
    seed: u64,
    first_path: u32,
    n_paths: u32,
    fast: bool,
) -> CoreResult<SimOutput> {
    simulate_opts(cfg, seed, first_path, n_paths, fast, true)
}

/// [`simulate_with`]; `retargets = false` leaves the retarget columns empty.
fn simulate_opts(
    cfg: &SimConfig,
    seed: u64,
    first_path: u32,
    n_paths: u32,
    fast: bool,
    retargets: bool,
) -> CoreResult<SimOutput> {
    cfg.validate()?;
    cfg.check_paths(first_path, n_paths)?;
    let chol = cholesky4(&cfg.correlation)?;
    let nd = cfg.n_days;
    let trends = day_trends(cfg, cfg.start.time.div_euclid(DAY));
    let n = nd * n_paths as usize;
    // `for_overwrite`: the columns may be reused memory with old values (the buffer pool);
    // `run_path` writes every row of every column (tested with reused memory).
    let mut o = SimOutput {
        n_days: nd,
        path: NumCol::for_overwrite(n),
        date_us: NumCol::for_overwrite(n),
        height: NumCol::for_overwrite(n),
        bits: NumCol::for_overwrite(n),
        difficulty: NumCol::for_overwrite(n),
        hashrate_ehs: NumCol::for_overwrite(n),
        price_usd: NumCol::for_overwrite(n),
        fees_btc_per_block: NumCol::for_overwrite(n),
        subsidy_btc: NumCol::for_overwrite(n),
        hashprice_usd_ph_day: NumCol::for_overwrite(n),
        power_price_usd_kwh: NumCol::for_overwrite(n),
        gpu_rent_usd_hr: NumCol::for_overwrite(n),
        share_under_water: NumCol::for_overwrite(n),
        ..Default::default()
    };
    let mut rows: Vec<PathRows<'_>> = Vec::with_capacity(n_paths as usize);
    {
        let mut it_path = o.path.chunks_mut(nd);
        let mut it_date = o.date_us.chunks_mut(nd);
        let mut it_h = o.height.chunks_mut(nd);
        let mut it_b = o.bits.chunks_mut(nd);
        let mut it_d = o.difficulty.chunks_mut(nd);
        let mut it_hr = o.hashrate_ehs.chunks_mut(nd);
        let mut it_p = o.price_usd.chunks_mut(nd);
        let mut it_f = o.fees_btc_per_block.chunks_mut(nd);
        let mut it_s = o.subsidy_btc.chunks_mut(nd);
        let mut it_hp = o.hashprice_usd_ph_day.chunks_mut(nd);
        let mut it_pw = o.power_price_usd_kwh.chunks_mut(nd);
        let mut it_g = o.gpu_rent_usd_hr.chunks_mut(nd);
        let mut it_u = o.share_under_water.chunks_mut(nd);
        for p in 0..n_paths {
            let (
                Some(path_col),
                Some(date_us),
                Some(height),
                Some(bits),
                Some(difficulty),
                Some(hashrate_ehs),
                Some(price_usd),
                Some(fees),
                Some(subsidy),
                Some(hashprice),
                Some(power),
                Some(gpu),
                Some(under),
            ) = (
                it_path.next(),
                it_date.next(),
                it_h.next(),
                it_b.next(),
                it_d.next(),
                it_hr.next(),
                it_p.next(),
                it_f.next(),
                it_s.next(),
                it_hp.next(),
                it_pw.next(),
                it_g.next(),
                it_u.next(),
            )
            else {
                break;
            };
            rows.push(PathRows {
                path: first_path + p,
                path_col,
                date_us,
                height,
                bits,
                difficulty,
                hashrate_ehs,
                price_usd,
                fees,
                subsidy,
                hashprice,
                power,
                gpu,
                under,
            });
        }
    }
    let results: Vec<(u32, CoreResult<Vec<Retarget>>)> = rows
        .par_chunks_mut(4)
        .flat_map_iter(|group| run_group(cfg, &trends, chol, seed, group, fast))
        .collect();
    // One allocation per retarget column (growing them push by push re-copied and faulted
    // in ~1.3 M rows for 10,000 paths × 5 years, on the calling thread after the parallel part).
    if !retargets {
        for (_, res) in results {
            res?;
        }
        return Ok(o);
    }
    let mut total = 0;
    for (_, res) in &results {
        total += res.as_ref().map_or(0, Vec::len);
    }
    o.rt_path.reserve_exact(total);
    o.rt_height.reserve_exact(total);
    o.rt_time.reserve_exact(total);
    o.rt_first_time.reserve_exact(total);
    o.rt_old_bits.reserve_exact(total);
    o.rt_new_bits.reserve_exact(total);
    for (p, res) in results {
        for rt in res? {
            o.rt_path.push(p);
            o.rt_height.push(rt.height);
            o.rt_time.push(rt.time);
            o.rt_first_time.push(rt.first_time);
            o.rt_old_bits.push(rt.old_bits);
            o.rt_new_bits.push(rt.new_bits);
        }
    }
    Ok(o)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::consensus::params::NetworkParams;
    use crate::consensus::retarget::calculate_next_work_required;
    use crate::consensus::target::{bits_proof, u256_getdouble};
    use crate::sim::config::*;

    const T0: i64 = 19_676 * 86_400; // a UTC midnight

    fn cfg(n_days: usize, height: i64, hashrate_ehs: Vec<f64>, mode: ArrivalMode) -> SimConfig {
        SimConfig {
            network: NetworkParams::mainnet(),
            start: ChainStart {
                height,
                bits: 0x1703_4219,
                time: T0,
                epoch_first_time: Some(T0 - 600 * 1000),
            },
            n_days,
            arrivals: mode,
            price: PriceModel::Gbm {
                start_usd: 60_000.0,
                mu: 0.0,
                sigma: 0.0,
                jump_per_year: 0.0,
                jump_mean: 0.0,
                jump_sd: 0.0,
            },
            fees: FeeModel {
                start_btc: 0.1,
                mean_btc: 0.1,
                reversion_per_day: 0.1,
                vol_per_day: 0.0,
                given: None,
            },
            power: PowerModel {
                base_usd_kwh: 0.05,
                season_amp: 0.0,
                season_peak_doy: 0.0,
                reversion_per_day: 0.1,
                vol_usd_kwh_per_day: 0.0,
                spike_prob_per_day: 0.0,
                spike_mult: 1.0,
                given: None,
            },
            gpu: GpuModel {
                start_usd_hr: 2.0,
                generation_days: 365.0,
                generation_step: 0.3,
                decay_per_year: 0.0,
                reversion_per_day: 0.1,
                vol_per_day: 0.0,
                given: None,
            },
            correlation: [
                [1.0, 0.0, 0.0, 0.0],
                [0.0, 1.0, 0.0, 0.0],
                [0.0, 0.0, 1.0, 0.0],
                [0.0, 0.0, 0.0, 1.0],
            ],
            fleet: FleetModel {
                classes: vec![FleetClass {
                    efficiency_jth: 20.0,
                    hashrate_ths: 6e8,
                    retire_per_year: 0.0,
                }],
                tranche_mult: vec![1.0],
                tranche_weight: vec![1.0],
                pue: 1.0,
                pool_fee: 0.0,
                hysteresis: 0.05,
                response_per_day: 1.0,
                arrival_efficiency_jth: 15.0,
                arrival_threshold: 2.0,
                deploy_cap_per_day: 0.0,
                lead_time_days: 30,
                retire_arrivals_per_year: 0.0,
            },
            hashrate_given_ehs: Some(hashrate_ehs),
            shocks: vec![],
        }
    }

    /// The driver columns of four paths from 16 columns (path k: columns 4k … 4k + 3), for
    /// the four-lane fill's test and probe.
    #[cfg(target_arch = "x86_64")]
    pub(super) fn four_paths_cols(cols: &mut [Vec<f64>]) -> [DriverCols<'_>; 4] {
        let mut it = cols.iter_mut();
        [0; 4].map(|_| {
            let mut next = || it.next().map(|v| &mut v[..]).unwrap_or_default();
            DriverCols {
                price_usd: next(),
                fees_btc: next(),
                power_usd_kwh: next(),
                gpu_usd_hr: next(),
            }
        })
    }

    /// A scenario shaped like the Python default (GBM σ 0.6, 6 classes × 4 tranches).
    pub(crate) fn default_like() -> SimConfig {
        let mut c = cfg(1825, 2016 * 472 - 1, vec![], ArrivalMode::Poisson);
        c.hashrate_given_ehs = None;
        c.price = PriceModel::Gbm {
            start_usd: 67_000.0,
            mu: 0.0,
            sigma: 0.6,
            jump_per_year: 0.0,
            jump_mean: 0.0,
            jump_sd: 0.0,
        };
        c.fees.vol_per_day = 0.15;
        c.power.vol_usd_kwh_per_day = 0.003;
        c.power.season_amp = 0.15;
        c.power.spike_prob_per_day = 0.01;
        c.power.spike_mult = 3.0;
        c.gpu.vol_per_day = 0.02;
        c.fleet.classes = [15.0, 17.0, 21.0, 25.0, 30.0, 38.0]
            .iter()
            .map(|&e| FleetClass {
                efficiency_jth: e,
                hashrate_ths: 1.1e8,
                retire_per_year: 0.1,
            })
            .collect();
        c.fleet.tranche_mult = vec![0.6, 0.85, 1.15, 1.4];
        c.fleet.tranche_weight = vec![0.25; 4];
        c.fleet.pue = 1.1;
        c.fleet.deploy_cap_per_day = 0.003;
        c.fleet.lead_time_days = 90;
        c
    }

    /// EH/s giving a mean spacing of `spacing` seconds at bits 0x17034219.
    fn ehs_for_spacing(spacing: f64) -> f64 {
        u256_getdouble(&bits_proof(0x1703_4219)) / spacing / 1e18
    }

    const EQ: f64 = 600.0 * 2016.0 / 2015.0;

    #[test]
    fn constant_hashrate_no_drift_deterministic() {
        let n = 20 * 14;
        let c = cfg(
            n,
            2016 * 417 - 1,
            vec![ehs_for_spacing(EQ); n],
            ArrivalMode::Deterministic,
        );
        let o = simulate(&c, 1, 0, 1).unwrap_or_default();
        assert!(o.rt_height.len() >= 19);
        for (i, (&ob, &nb)) in o.rt_old_bits.iter().zip(&o.rt_new_bits).enumerate() {
            let d0 = crate::consensus::target::bits_to_difficulty(ob).unwrap_or(0.0);
            let d1 = crate::consensus::target::bits_to_difficulty(nb).unwrap_or(0.0);
            assert!(
                (d1 / d0 - 1.0).abs() < 1e-5,
                "epoch {i}: {ob:08x} -> {nb:08x}"
            );
        }
        // spacing: (last − first) over the run's retarget times
        let k = o.rt_time.len();
        let spacing = (o.rt_time[k - 1] - o.rt_time[0]) as f64 / (2016.0 * (k - 1) as f64);
        assert!((spacing - EQ).abs() < 0.01, "{spacing}");
    }

    #[test]
    fn drop_and_clamp_follow_the_rule() {
        let n = 120;
        let h = ehs_for_spacing(600.0);
        let mut hr = vec![h; 14];
        hr.extend(vec![h / 2.0; 28]);
        hr.extend(vec![h / 10.0; n - 42]);
        let c = cfg(n, 2016 * 417 - 1, hr, ArrivalMode::Deterministic);
        let o = simulate(&c, 1, 0, 1).unwrap_or_default();
        assert!(o.rt_new_bits.len() >= 3);
        let p = NetworkParams::mainnet();
        let d = |b: u32| crate::consensus::target::bits_to_difficulty(b).unwrap_or(0.0);
        // epoch 1 at 600 s: span 2015·600 → difficulty × 2016/2015 (up to compact rounding)
        assert!((d(o.rt_new_bits[0]) / d(o.rt_old_bits[0]) - 2016.0 / 2015.0).abs() < 1e-5);
        // epoch 2 at half hashrate: difficulty halves (span doubles)
        let r2 = d(o.rt_new_bits[1]) / d(o.rt_old_bits[1]);
        assert!((r2 - 0.5 * 2016.0 / 2015.0).abs() < 2e-3, "{r2}");
        // epoch 3 at a tenth: span clamped at 4× → exactly the rule's clamped result
        let last = o.rt_time[2];
        let want = calculate_next_work_required(
            o.rt_old_bits[2],
            last,
            o.rt_old_bits[2],
            last - 4 * 1_209_600,
            &p,
        )
        .unwrap_or(0);
        assert_eq!(o.rt_new_bits[2], want);
        assert!((d(o.rt_new_bits[2]) / d(o.rt_old_bits[2]) - 0.25).abs() < 1e-4);
    }

    #[test]
    fn halving_height_and_subsidy() {
        let n = 30;
        let c = cfg(
            n,
            839_999 - 144 * 10,
            vec![ehs_for_spacing(600.0); n],
            ArrivalMode::Deterministic,
        );
        let o = simulate(&c, 1, 0, 1).unwrap_or_default();
        let mut prev = 839_999 - 144 * 10;
        for d in 0..n {
            let want = if prev + 1 >= 840_000 { 3.125 } else { 6.25 };
            assert_eq!(o.subsidy_btc[d], want, "day {d}");
            prev = o.height[d];
        }
        assert!(o.height[n - 1] > 840_000);
    }

    #[test]
    fn same_seed_same_output_any_threads_and_chunks() {
        let n = 200;
        let mut c = cfg(n, 2016 * 417 - 1, vec![], ArrivalMode::Poisson);
        c.hashrate_given_ehs = None;
        c.price = PriceModel::Gbm {
            start_usd: 60_000.0,
            mu: 0.1,
            sigma: 0.6,
            jump_per_year: 2.0,
            jump_mean: -0.1,
            jump_sd: 0.1,
        };
        c.fleet.deploy_cap_per_day = 0.003;
        let run = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .map(|pool| pool.install(|| simulate(&c, 42, 0, 6).unwrap_or_default()))
                .unwrap_or_default()
        };
        let a = run(1);
        let b = run(2);
        assert_eq!(a, b);
        assert!(!a.rt_height.is_empty());
        let part = simulate(&c, 42, 3, 2).unwrap_or_default();
        assert_eq!(&a.price_usd[3 * n..5 * n], &part.price_usd[..]);
        assert_eq!(&a.height[3 * n..5 * n], &part.height[..]);
        let other = simulate(&c, 43, 0, 6).unwrap_or_default();
        assert_ne!(a.price_usd, other.price_usd);
    }

    /// The output columns come from reused memory with old contents (`for_overwrite`): every
    /// value must be written. A large run (mapped columns) right after another large run that
    /// differs in every column (other paths, start time, halving era, seed) equals the same
    /// paths run one by one (small, zero-filled heap columns) — for the default drivers and for
    /// given series, a bootstrap price, given hashrate and a shock.
    #[test]
    fn reused_output_memory_is_fully_overwritten() {
        let nd = 1825;
        let mut given = default_like();
        // Per-path price and GPU rent (row p for path p), shared fees and power.
        given.price = PriceModel::Given {
            values: GivenSeries {
                values: (0..80 * nd)
                    .map(|i| 50_000.0 + (i % nd) as f64 + 1_000.0 * (i / nd) as f64)
                    .collect(),
                rows: 80,
                per_path: true,
            },
        };
        given.fees.given = Some(GivenSeries::shared(vec![0.02; nd]));
        given.power.given = Some(GivenSeries::shared(
            (0..nd).map(|d| 0.04 + 1e-5 * d as f64).collect(),
        ));
        given.gpu.given = Some(GivenSeries {
            values: (0..80 * nd)
                .map(|i| 2.0 + (i / nd) as f64 / 100.0)
                .collect(),
            rows: 80,
            per_path: true,
        });
        given.shocks = vec![Shock {
            start_day: 100,
            days: 10,
            fraction: 0.3,
        }];
        let mut boot = default_like();
        boot.price = PriceModel::Bootstrap {
            start_usd: 60_000.0,
            log_returns: (0..400)
                .map(|i| 0.03 * ((i * 7919) % 13) as f64 / 13.0 - 0.015)
                .collect(),
            block_days: 20,
        };
        let mut hashrate = given.clone();
        hashrate.hashrate_given_ehs = Some((0..nd).map(|d| 600.0 + 0.1 * d as f64).collect());
        for c in [default_like(), given, boot, hashrate] {
            let n_paths = 80; // 80 × 1825 rows × 8 B: mapped
            let mut other = default_like();
            other.start.height = 2016 * 100 - 1; // another halving era: other subsidy, bits
            other.start.time -= 400 * 86_400; // other dates
            other.start.epoch_first_time = other.start.epoch_first_time.map(|t| t - 400 * 86_400);
            let first = simulate(&other, 1, 1_000, n_paths).unwrap_or_default();
            assert!(matches!(first.price_usd, NumCol::Map { .. }));
            drop(first);
            let o = simulate(&c, 2, 0, n_paths).unwrap_or_default();
            for p in [0u32, 41, 79] {
                let one = simulate(&c, 2, p, 1).unwrap_or_default();
                assert!(matches!(one.price_usd, NumCol::Heap(_)));
                let r = p as usize * nd..(p as usize + 1) * nd;
                assert_eq!(&o.path[r.clone()], &one.path[..]);
                assert_eq!(&o.date_us[r.clone()], &one.date_us[..]);
                assert_eq!(&o.height[r.clone()], &one.height[..]);
                assert_eq!(&o.bits[r.clone()], &one.bits[..]);
                assert_eq!(&o.difficulty[r.clone()], &one.difficulty[..]);
                assert_eq!(&o.hashrate_ehs[r.clone()], &one.hashrate_ehs[..]);
                assert_eq!(&o.price_usd[r.clone()], &one.price_usd[..]);
                assert_eq!(
                    &o.fees_btc_per_block[r.clone()],
                    &one.fees_btc_per_block[..]
                );
                assert_eq!(&o.subsidy_btc[r.clone()], &one.subsidy_btc[..]);
                assert_eq!(
                    &o.hashprice_usd_ph_day[r.clone()],
                    &one.hashprice_usd_ph_day[..]
                );
                assert_eq!(
                    &o.power_price_usd_kwh[r.clone()],
                    &one.power_price_usd_kwh[..]
                );
                assert_eq!(&o.gpu_rent_usd_hr[r.clone()], &one.gpu_rent_usd_hr[..]);
                assert_eq!(&o.share_under_water[r], &one.share_under_water[..]);
            }
        }
    }

    #[cfg(target_arch = "x86_64")]
    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
        /// The four-lane drivers' fill writes, for any four paths (not only consecutive ones),
        /// the columns the scalar fill writes for each of them, bit for bit, and leaves each
        /// generator where the scalar fill does: over random GBM, fee, power (spikes up to
        /// every other day) and GPU parameters and random correlations. 1,000 days of four
        /// paths draw ~16,000 normals, so the ziggurat's wedge and tail run in every case.
        #[test]
        fn four_lane_fill_equals_the_scalar_fill(
            seed in proptest::prelude::any::<u64>(),
            paths in proptest::array::uniform4(0_u32..1_000_000),
            mu in -1.0_f64..1.0, sigma in 0.0_f64..2.0,
            fee_rev in 0.0_f64..0.5, fee_vol in 0.0_f64..0.5, gpu_vol in 0.0_f64..0.3,
            p_vol in 0.0_f64..0.02, spike in 0.0_f64..0.5,
            corr in proptest::array::uniform6(-0.45_f64..0.45),
        ) {
            if !has_fast_features() {
                return Ok(());
            }
            let mut c = default_like();
            c.n_days = 1000;
            c.price = PriceModel::Gbm {
                start_usd: 50_000.0, mu, sigma, jump_per_year: 0.0, jump_mean: 0.0, jump_sd: 0.0,
            };
            c.fees.reversion_per_day = fee_rev;
            c.fees.vol_per_day = fee_vol;
            c.gpu.vol_per_day = gpu_vol;
            c.power.vol_usd_kwh_per_day = p_vol;
            c.power.spike_prob_per_day = spike;
            let [a, b, cc, d, e, f] = corr;
            c.correlation = [
                [1.0, a, b, cc],
                [a, 1.0, d, e],
                [b, d, 1.0, f],
                [cc, e, f, 1.0],
            ];
            let Ok(chol) = cholesky4(&c.correlation) else {
                return Ok(()); // not positive definite
            };
            proptest::prop_assert!(Drivers::fill4_applies(&c));
            let trends = day_trends(&c, c.start.time.div_euclid(DAY));
            let nd = c.n_days;
            let mut want = vec![vec![0.0; nd]; 16];
            let mut want_rng = Vec::new();
            for (k, &p) in paths.iter().enumerate() {
                let mut rng = stream(seed, u64::from(p), STREAM_DRIVERS);
                let dr = Drivers::new(&c, chol, p);
                proptest::prop_assert!(dr.is_ok());
                let Ok(mut dr) = dr else { unreachable!() };
                let [pr, fe, pw, gp] = &mut want[4 * k..4 * k + 4] else { unreachable!() };
                dr.fill(&trends, &mut rng, DriverCols {
                    price_usd: pr, fees_btc: fe, power_usd_kwh: pw, gpu_usd_hr: gp,
                });
                want_rng.push(rng);
            }
            let mut got = vec![vec![0.0; nd]; 16];
            let mut rngs = paths.map(|p| stream(seed, u64::from(p), STREAM_DRIVERS));
            let cols = four_paths_cols(&mut got);
            // SAFETY: AVX2 checked above (`has_fast_features`).
            #[allow(unsafe_code)]
            let res = unsafe { super::super::drivers::fill4_avx2(&c, chol, &trends, &mut rngs, cols) };
            proptest::prop_assert!(res.is_ok());
            for (col, (w, g)) in want.iter().zip(&got).enumerate() {
                for (day, (x, y)) in w.iter().zip(g).enumerate() {
                    proptest::prop_assert_eq!(
                        x.to_bits(), y.to_bits(), "path {} column {} day {}", col / 4, col % 4, day
                    );
                }
            }
            proptest::prop_assert_eq!(&rngs[..], &want_rng[..]);
        }
    }

    /// A column shorter than the days is an error of the four-lane fill, not a panic.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn four_lane_fill_refuses_a_short_column() -> crate::error::CoreResult<()> {
        if !has_fast_features() {
            return Ok(());
        }
        let c = default_like();
        let chol = cholesky4(&c.correlation)?;
        let trends = day_trends(&c, c.start.time.div_euclid(DAY));
        let mut cols = vec![vec![0.0; c.n_days]; 16];
        cols[6].truncate(c.n_days - 1); // path 1's power column
        let mut rngs = [0, 1, 2, 3].map(|p| stream(1, p, STREAM_DRIVERS));
        // SAFETY: AVX2 checked above (`has_fast_features`).
        #[allow(unsafe_code)]
        let res = unsafe {
            super::super::drivers::fill4_avx2(
                &c,
                chol,
                &trends,
                &mut rngs,
                four_paths_cols(&mut cols),
            )
        };
        assert!(
            matches!(
                &res,
                Err(crate::error::CoreError::InvalidValue {
                    what: "driver columns",
                    ..
                })
            ),
            "{res:?}"
        );
        Ok(())
    }

    /// The fast build (x86-64 with AVX2…, when the CPU has it) and the portable build give the
    /// same bits for every driver and network variant.
    #[test]
    fn fast_and_portable_builds_agree_bit_for_bit() {
        let nd = 1825;
        let mut jumps = default_like();
        jumps.price = PriceModel::Gbm {
            start_usd: 67_000.0,
            mu: 0.1,
            sigma: 0.6,
            jump_per_year: 4.0,
            jump_mean: -0.05,
            jump_sd: 0.1,
        };
        let mut boot = default_like();
        boot.price = PriceModel::Bootstrap {
            start_usd: 60_000.0,
            log_returns: (0..400)
                .map(|i| 0.002 * ((i * 31) % 17) as f64 - 0.016)
                .collect(),
            block_days: 20,
        };
        let mut given = default_like();
        given.power.given = Some(GivenSeries::shared(
            (0..nd).map(|d| 0.04 + 1e-5 * d as f64).collect(),
        ));
        given.shocks = vec![Shock {
            start_day: 100,
            days: 10,
            fraction: 0.3,
        }];
        given.fleet.response_per_day = 0.2;
        let mut hashrate = default_like();
        hashrate.hashrate_given_ehs = Some((0..nd).map(|d| 600.0 + 0.1 * d as f64).collect());
        let mut fluid = default_like();
        fluid.arrivals = ArrivalMode::Deterministic;
        #[cfg(target_arch = "x86_64")]
        if !has_fast_features() {
            eprintln!("note: this CPU lacks the fast build's features; both runs are portable");
        }
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        for c in [default_like(), jumps, boot, given, hashrate, fluid] {
            let fast = simulate_with(&c, 7, 3, 24, true).unwrap_or_default();
            let portable = simulate_with(&c, 7, 3, 24, false).unwrap_or_default();
            assert_eq!(fast.height.len(), 24 * nd);
            // Floats bit for bit (== would let −0.0 pass for 0.0), then every column and the
            // retargets with ==.
            for (a, b) in [
                (&fast.difficulty, &portable.difficulty),
                (&fast.hashrate_ehs, &portable.hashrate_ehs),
                (&fast.price_usd, &portable.price_usd),
                (&fast.fees_btc_per_block, &portable.fees_btc_per_block),
                (&fast.subsidy_btc, &portable.subsidy_btc),
                (&fast.hashprice_usd_ph_day, &portable.hashprice_usd_ph_day),
                (&fast.power_price_usd_kwh, &portable.power_price_usd_kwh),
                (&fast.gpu_rent_usd_hr, &portable.gpu_rent_usd_hr),
                (&fast.share_under_water, &portable.share_under_water),
            ] {
                assert_eq!(bits(a), bits(b));
            }
            assert_eq!(fast, portable); // every column, retargets included (no NaN here)
        }
    }

    /// Fluid mode: a day whose block count rounds up to exactly the blocks left in the epoch
    /// (λ·rest lands on `need` in floating point although `(need − acc)/λ > rest`) must end
    /// the epoch with its retarget, at the end of the day. It used to add the blocks without
    /// the retarget (and, with the position counter, lost track of the epoch). Found by
    /// review with these inputs; every epoch boundary crossed must have its one retarget.
    #[test]
    fn fluid_mode_retargets_when_the_epoch_ends_exactly_at_the_end_of_a_day() {
        let start = 2016 * 417 - 1 + 991; // 1,025 blocks left in the epoch
        let mut c = cfg(
            3,
            start,
            vec![5851.042144671464; 3],
            ArrivalMode::Deterministic,
        );
        c.start.time = T0 + 86_400 - 65_000;
        let o = simulate(&c, 1, 0, 1);
        assert!(o.is_ok(), "{o:?}");
        let o = o.unwrap_or_default();
        let end = o.height[2];
        let want: Vec<i64> = ((start + 2)..=(end + 1))
            .filter(|h| h % 2016 == 0)
            .collect();
        assert_eq!(o.rt_height, want, "heights {:?}", &o.height[..]);
        assert_eq!(o.rt_height[0], 2016 * 418);
        assert_eq!(o.rt_time[0], T0 + 86_400); // the epoch's last block ends the first day
        assert_eq!(o.height[0], 2016 * 418 - 1);
    }

    #[test]
    fn daily_only_has_the_same_rows_and_no_retargets() {
        let c = default_like();
        let full = simulate(&c, 5, 2, 9).unwrap_or_default();
        let daily = simulate_daily(&c, 5, 2, 9).unwrap_or_default();
        assert!(!full.rt_path.is_empty() && daily.rt_path.is_empty());
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&full.price_usd), bits(&daily.price_usd));
        assert_eq!(bits(&full.difficulty), bits(&daily.difficulty));
        assert_eq!(&full.height[..], &daily.height[..]);
        assert_eq!(&full.bits[..], &daily.bits[..]);
        let mut bad = c.clone();
        bad.n_days = 0;
        assert!(simulate_daily(&bad, 5, 0, 1).is_err() == simulate(&bad, 5, 0, 1).is_err());
    }

    #[test]
    fn day_0_carries_the_start_values_exactly() {
        let mut c = default_like();
        c.n_days = 30;
        c.fees.start_btc = 0.031;
        for start in [67_000.0, 60_000.0, 12_345.678] {
            if let PriceModel::Gbm { start_usd, .. } = &mut c.price {
                *start_usd = start;
            }
            let o = simulate(&c, 1, 0, 3).unwrap_or_default();
            for p in 0..3 {
                assert_eq!(o.price_usd[p * 30], start);
                assert_eq!(o.fees_btc_per_block[p * 30], 0.031);
                assert_eq!(o.gpu_rent_usd_hr[p * 30], c.gpu.start_usd_hr);
            }
        }
    }

    /// Per-path given series: path p reads row p, in a whole run and in a run of later paths
    /// alone; a run asking for a path beyond the last row, or rows of the wrong length, is an
    /// error naming the series.
    #[test]
    fn per_path_given_series() {
        let nd = 40;
        let mut c = default_like();
        c.n_days = nd;
        let rows = 5;
        let row = |p: usize| (0..nd).map(move |d| 60_000.0 + 10.0 * d as f64 + 1e4 * p as f64);
        c.price = PriceModel::Given {
            values: GivenSeries {
                values: (0..rows).flat_map(row).collect(),
                rows,
                per_path: true,
            },
        };
        c.power.given = Some(GivenSeries {
            values: (0..rows * nd)
                .map(|i| 0.03 + 0.001 * (i / nd) as f64)
                .collect(),
            rows,
            per_path: true,
        });
        let all = simulate(&c, 3, 0, 5).unwrap_or_default();
        let tail = simulate(&c, 3, 3, 2).unwrap_or_default();
        for p in 0..rows {
            let got = &all.price_usd[p * nd..(p + 1) * nd];
            assert!(got.iter().zip(row(p)).all(|(a, b)| *a == b), "path {p}");
            assert!(all.power_price_usd_kwh[p * nd..(p + 1) * nd]
                .iter()
                .all(|&x| x == 0.03 + 0.001 * p as f64));
        }
        assert_eq!(&tail.price_usd[..], &all.price_usd[3 * nd..]);
        assert_eq!(&tail.height[..], &all.height[3 * nd..]);
        let e = simulate(&c, 3, 4, 2)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            e.contains("price_usd (given)") && e.contains("gives 5 paths"),
            "{e}"
        );
        // one per-path row is still per path: a second path is refused, not given row 0
        let mut one = c.clone();
        if let PriceModel::Given { values } = &mut one.price {
            values.values.truncate(nd);
            values.rows = 1;
        }
        assert!(simulate(&one, 3, 0, 1).is_ok());
        assert!(simulate(&one, 3, 0, 2).is_err());
        if let PriceModel::Given { values } = &mut c.price {
            values.values.pop();
        }
        let e = simulate(&c, 3, 0, 1)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            e.contains("price_usd (given)") && e.contains("40 per path"),
            "{e}"
        );
    }

    #[test]
    fn invalid_inputs_are_errors() {
        let mut c = cfg(10, 100, vec![1.0; 5], ArrivalMode::Poisson);
        assert!(simulate(&c, 1, 0, 1).is_err()); // given hashrate too short
        c.hashrate_given_ehs = Some(vec![1.0; 10]);
        c.correlation[0][1] = 0.9;
        assert!(simulate(&c, 1, 0, 1).is_err()); // asymmetric
        c.correlation[1][0] = 0.9;
        c.correlation[0][2] = 0.9;
        c.correlation[2][0] = 0.9;
        c.correlation[1][2] = -0.9;
        c.correlation[2][1] = -0.9;
        assert!(simulate(&c, 1, 0, 1).is_err()); // not positive definite
    }

    /// Row block `i` of `o` (path `path`): its rows (bits of the floats) and retargets, for
    /// comparing runs.
    fn path_of(
        o: &SimOutput,
        i: usize,
        path: u32,
    ) -> (Vec<Vec<u64>>, Vec<i64>, Vec<u32>, Vec<Retarget>) {
        let nd = o.n_days;
        let r = i * nd..(i + 1) * nd;
        let bits = |v: &[f64]| v[r.clone()].iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        let floats = vec![
            bits(&o.difficulty),
            bits(&o.hashrate_ehs),
            bits(&o.price_usd),
            bits(&o.fees_btc_per_block),
            bits(&o.subsidy_btc),
            bits(&o.hashprice_usd_ph_day),
            bits(&o.power_price_usd_kwh),
            bits(&o.gpu_rent_usd_hr),
            bits(&o.share_under_water),
        ];
        let ints: Vec<i64> = o.height[r.clone()]
            .iter()
            .chain(&o.date_us[r.clone()])
            .copied()
            .collect();
        let words: Vec<u32> = o.bits[r.clone()]
            .iter()
            .chain(&o.path[r])
            .copied()
            .collect();
        let rets = (0..o.rt_path.len())
            .filter(|&i| o.rt_path[i] == path)
            .map(|i| Retarget {
                height: o.rt_height[i],
                time: o.rt_time[i],
                first_time: o.rt_first_time[i],
                old_bits: o.rt_old_bits[i],
                new_bits: o.rt_new_bits[i],
            })
            .collect();
        (floats, ints, words, rets)
    }

    /// The lockstep engine (groups of four paths, one AVX lane each, on CPUs with the fast
    /// build's features) gives every path exactly the rows and retargets of a run of that path
    /// alone (which takes the one-path engine). The configurations reach each of its scalar
    /// hand-overs: a daily expected block count just above 12 (Poisson steps P/E/H in some
    /// lanes), below 12 and 0 on alternate days (whole days in the scalar code), a fleet that
    /// switches off under a power-price jump, shocks over partial responses, per-path driver
    /// fills (given power) and of course epoch boundaries and retargets.
    #[test]
    fn lockstep_groups_equal_one_path_runs() {
        let nd = 1825;
        let mut low = default_like();
        low.hashrate_given_ehs = Some(
            (0..nd)
                .map(|d| match d % 3 {
                    0 => ehs_for_spacing(86_400.0 / 11.0),
                    1 => ehs_for_spacing(86_400.0 / 12.6),
                    _ if d % 50 == 2 => 0.0,
                    _ => ehs_for_spacing(86_400.0 / 13.0),
                })
                .collect(),
        );
        let mut shock = default_like();
        shock.shocks = vec![
            Shock {
                start_day: 30,
                days: 40,
                fraction: 0.6,
            },
            Shock {
                start_day: 50,
                days: 5,
                fraction: 0.5,
            },
        ];
        shock.fleet.response_per_day = 0.3;
        shock.fleet.pool_fee = 0.02;
        let mut switch_off = default_like();
        switch_off.power.given = Some(GivenSeries::shared(
            (0..nd)
                .map(|d| if (300..600).contains(&d) { 2.0 } else { 0.05 })
                .collect(),
        ));
        // Even paths' power jumps for a while: their fleets wind down (5 % a day) through
        // expected counts below 12 while the odd paths' lanes keep the four-lane draw.
        let mut uneven = default_like();
        uneven.fleet.response_per_day = 0.05;
        uneven.power.given = Some(GivenSeries {
            values: (0..16 * nd)
                .map(|i| {
                    let (p, d) = (i / nd, i % nd);
                    if p % 2 == 0 && (200..700).contains(&d) {
                        2.0
                    } else {
                        0.05
                    }
                })
                .collect(),
            rows: 16,
            per_path: true,
        });
        // Difficulty 1 (the proof-of-work limit) at ~12.2 expected blocks a day: no retarget
        // can lower it, so every draw is near 12, where steps P/E/H and g < 0 happen.
        let mut at_limit = default_like();
        at_limit.start.bits = 0x1d00_ffff;
        let ehs = u256_getdouble(&bits_proof(0x1d00_ffff)) * 12.2 / 86_400.0 / 1e18;
        at_limit.hashrate_given_ehs = Some(vec![ehs; nd]);
        #[cfg(target_arch = "x86_64")]
        let counts = || {
            use crate::sim::lockstep::reached::{self as r, get};
            [
                get(&r::STEP_S_REJECTED),
                get(&r::BELOW_ZERO),
                get(&r::MIXED_DAY),
                get(&r::SCALAR_DAY),
                get(&r::IDLE_DAY),
                get(&r::BOUNDARY),
            ]
        };
        #[cfg(target_arch = "x86_64")]
        let before = counts();
        for (name, c, n) in [
            ("default", default_like(), 8),
            ("low", low, 8),
            ("shock", shock, 8),
            ("switch_off", switch_off, 8),
            ("uneven", uneven, 16),
            ("at_limit", at_limit, 16),
        ] {
            let all = simulate(&c, 11, 0, n).unwrap_or_default();
            assert_eq!(all.height.len(), n as usize * nd, "{name}");
            for p in 0..n {
                let one = simulate(&c, 11, p, 1).unwrap_or_default();
                assert_eq!(one.height.len(), nd, "{name}");
                let (a, b) = (path_of(&all, p as usize, p), path_of(&one, 0, p));
                assert_eq!(a.0, b.0, "{name}, path {p}: floats");
                assert_eq!(a.1, b.1, "{name}, path {p}: heights, dates");
                assert_eq!(a.2, b.2, "{name}, path {p}: bits, path");
                assert_eq!(a.3, b.3, "{name}, path {p}: retargets");
                assert!(!a.3.is_empty(), "{name}, path {p}: no retarget");
            }
        }
        #[cfg(target_arch = "x86_64")]
        {
            if has_fast_features() {
                // Every hand-over was taken (the counters are global: other tests running at
                // the same time can only add to them).
                let after = counts();
                for (i, what) in [
                    "step S rejections",
                    "g < 0 draws",
                    "mixed days",
                    "scalar lane-days",
                    "idle lane-days",
                    "epoch boundaries",
                ]
                .iter()
                .enumerate()
                {
                    assert!(after[i] > before[i], "no {what} in the lockstep runs");
                }
            } else {
                eprintln!("note: this CPU lacks the fast build's features; no lockstep runs");
            }
        }
    }

    /// A shock whose window ends past `usize::MAX` lasts to the end of the run (its end used
    /// to be computed as `start_day + days`, an overflow: a panic in debug builds).
    #[test]
    fn a_shock_window_past_the_end_of_usize_is_not_an_overflow() {
        let mut c = default_like();
        c.n_days = 60;
        let shock = |days| Shock {
            start_day: 10,
            days,
            fraction: 0.5,
        };
        c.shocks = vec![shock(50)];
        let to_the_end = simulate(&c, 5, 0, 4);
        c.shocks = vec![shock(usize::MAX - 5)];
        let forever = simulate(&c, 5, 0, 4);
        assert!(to_the_end.is_ok());
        assert_eq!(forever, to_the_end);
    }

    /// An error inside a lockstep group (here λ beyond the Poisson sampler's range on one day)
    /// is reported as the one-path run reports it: the group is rerun path by path.
    #[test]
    fn a_lockstep_error_is_the_one_path_error() {
        let mut c = default_like();
        c.hashrate_given_ehs = Some(
            (0..c.n_days)
                .map(|d| if d == 40 { 1e30 } else { 600.0 })
                .collect(),
        );
        let four = simulate(&c, 1, 0, 4).err().map(|e| e.to_string());
        let one = simulate(&c, 1, 0, 1).err().map(|e| e.to_string());
        assert!(four.is_some(), "no error");
        assert_eq!(four, one);
        assert!(four
            .unwrap_or_default()
            .contains("check the hashrate units"));
    }
}

#[cfg(test)]
mod probe {
    /// Not a test: a timing probe for profiling (`cargo test --release -- --ignored probe`).
    #[test]
    #[ignore = "timing probe for profiling, not a correctness test"]
    fn probe_default_scenario() {
        let c = super::tests::default_like();
        let env = |k: &str, d: u32| {
            std::env::var(k)
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(d)
        };
        let (n, reps) = (env("PROBE_PATHS", 2000), env("PROBE_REPS", 3));
        let mut best = f64::INFINITY;
        for _ in 0..reps {
            let t = std::time::Instant::now();
            let o = super::simulate(&c, 1, 0, n).unwrap_or_default();
            let dt = t.elapsed().as_secs_f64() * 1e9 / o.height.len() as f64;
            best = best.min(dt);
        }
        println!("best of {reps}: {best:.1} ns per path-day (wall, {n} paths)");
    }

    /// Not a test: the drivers' fill alone (every driver column of `PROBE_PATHS` paths, no
    /// network), for the cost split in docs/design.md.
    #[test]
    #[ignore = "timing probe for profiling, not a correctness test"]
    fn probe_fill_only() -> crate::error::CoreResult<()> {
        use super::*;
        let c = super::tests::default_like();
        let n: u32 = std::env::var("PROBE_PATHS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(2000);
        let chol = cholesky4(&c.correlation)?;
        let trends = day_trends(&c, c.start.time.div_euclid(DAY));
        let nd = c.n_days;
        let mut cols = vec![vec![0.0; nd]; 4];
        let (mut best, mut sink) = (f64::INFINITY, 0.0);
        for _ in 0..5 {
            let t = std::time::Instant::now();
            for p in 0..n {
                let mut rng_d = stream(1, u64::from(p), STREAM_DRIVERS);
                let mut drivers = Drivers::new(&c, chol, p)?;
                let [a, b, d, e] = &mut cols[..] else {
                    unreachable!()
                };
                drivers.fill(
                    &trends,
                    &mut rng_d,
                    DriverCols {
                        price_usd: a,
                        fees_btc: b,
                        power_usd_kwh: d,
                        gpu_usd_hr: e,
                    },
                );
                sink += a[nd - 1];
            }
            best = best.min(t.elapsed().as_secs_f64() * 1e9 / (f64::from(n) * nd as f64));
        }
        println!("drivers' fill alone: {best:.1} ns per path-day (checksum {sink})");
        #[cfg(target_arch = "x86_64")]
        if has_fast_features() && Drivers::fill4_applies(&c) {
            let mut cols4 = vec![vec![0.0; nd]; 16];
            let (mut best4, mut sink4) = (f64::INFINITY, 0.0);
            for _ in 0..5 {
                let t = std::time::Instant::now();
                for p in (0..n).step_by(4) {
                    let mut rngs =
                        [p, p + 1, p + 2, p + 3].map(|q| stream(1, u64::from(q), STREAM_DRIVERS));
                    let cols = super::tests::four_paths_cols(&mut cols4);
                    // SAFETY: AVX2 checked above (`has_fast_features`).
                    #[allow(unsafe_code)]
                    unsafe {
                        super::super::drivers::fill4_avx2(&c, chol, &trends, &mut rngs, cols)?;
                    }
                    sink4 += cols4[0][nd - 1];
                }
                best4 = best4.min(t.elapsed().as_secs_f64() * 1e9 / (f64::from(n) * nd as f64));
            }
            println!("… four at a time (AVX2): {best4:.1} ns per path-day (checksum {sink4})");
        }
        Ok(())
    }
}
