//! The installed fleet: cohorts = (efficiency class × power-price tranche), each with an
//! installed hashrate and an on/off state.
//!
//! Each day, with revenue per TH/s-day `rev = b · P · (1 − pool_fee)` (b in BTC/TH/day from
//! the difficulty in force that morning) and power cost per TH/s-day
//! `cost = e · 24/1000 · p · mult · pue`, a cohort is *under water* when rev < cost; an online
//! cohort switches off when rev/cost < 1 − h, an offline one back on when rev/cost ≥ 1 + h.
//! Orders of new machines (class `arrival_efficiency_jth`, spread over the tranches by
//! weight) are placed when rev/cost of the new class at multiplier 1 exceeds the threshold
//! and land after the lead time; every class retires exponentially at its yearly rate.

use super::config::{FleetModel, SimConfig};

/// Cohorts are processed in groups of this many lanes (see [`Fleet::step`]): one AVX2
/// vector of f64.
pub const LANES: usize = 4;

/// Expected BTC per TH/s per day: `1e12 · 86400 · (S + F) / (D · 2^32)` (ECONOMICS.md §2).
#[must_use]
pub fn btc_per_th_day(subsidy_btc: f64, fees_btc: f64, difficulty: f64) -> f64 {
    1e12 * 86_400.0 * (subsidy_btc + fees_btc) / (difficulty * 4_294_967_296.0)
}

/// Per-path fleet state.
#[derive(Debug, Clone)]
pub struct Fleet<'a> {
    fleet: &'a FleetModel,
    /// Efficiency (J/TH) × tranche multiplier of each cohort, cohort = class · n_tranches +
    /// tranche: the cohort's power cost per TH/s-day is `eff_mult · 24/1000 · p · pue`.
    /// All per-cohort arrays are stored in groups of [`LANES`] (padded with empty cohorts).
    eff_mult: Vec<f64>,
    keep: Vec<f64>,
    hs: Vec<f64>,
    /// Online fraction of each cohort (1.0 = all on, 0.0 = all off).
    on: Vec<f64>,
    scratch: [Vec<f64>; 2],
    pipeline: Vec<f64>,
    arrival_class: usize,
    first_day: bool,
    /// The next expected day and its pipeline slot (`day % pipeline.len()`).
    day: usize,
    slot: usize,
}

/// What the fleet did on a day.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct FleetDay {
    /// Online hashrate before shocks (TH/s).
    pub online_ths: f64,
    /// Share of installed hashrate with revenue below power cost.
    pub share_under_water: f64,
}

/// The cohort loop of [`Fleet::step`]: switch, sum and retire every cohort for one day, with
/// `[rev, kwh, lo, hi, k]` = revenue per TH/s-day, kWh price per (J/TH)·TH/s-day, the
/// switch-off and switch-on thresholds, and the daily response. Returns the online, under-water
/// and installed hashrate (before retirement). `scratch` holds two cohort-length buffers.
///
/// Two loops the compiler vectorises (AVX2 in the clone picked at run time): an element-wise
/// pass with selects and no sums, then the three sums in [`LANES`] independent accumulators
/// added in a fixed order. Rust never contracts `a·b + c` into an FMA and the summation order is
/// fixed by LANES, not by the instruction set, so every clone gives bit-identical results
/// whatever the CPU or thread count.
#[multiversion::multiversion(targets("x86_64+avx2+fma"))]
fn cohort_day(
    hs: &mut [f64],
    on: &mut [f64],
    eff_mult: &[f64],
    keep: &[f64],
    scratch: &mut [Vec<f64>; 2],
    [rev, kwh, lo, hi, k]: [f64; 5],
) -> (f64, f64, f64) {
    let n = hs.len();
    let [on_h, under_h] = scratch;
    let (on, em, keep) = (&mut on[..n], &eff_mult[..n], &keep[..n]);
    let (on_h, under_h) = (&mut on_h[..n], &mut under_h[..n]);
    for j in 0..n {
        let cost = em[j] * kwh;
        let h = hs[j];
        under_h[j] = if rev < cost { h } else { 0.0 };
        // The threshold follows the cohort's majority state; its online fraction closes k of
        // the gap to the decision (k = 1: exactly 0.0 or 1.0).
        let x = if on[j] > 0.5 { lo } else { hi };
        let target = if rev >= x * cost { 1.0 } else { 0.0 };
        let u = on[j] + k * (target - on[j]);
        on[j] = u;
        on_h[j] = h * u;
    }
    let sum = |v: &[f64]| {
        let mut acc = [0.0; LANES];
        for c in v.chunks_exact(LANES) {
            for j in 0..LANES {
                acc[j] += c[j];
            }
        }
        (acc[0] + acc[1]) + (acc[2] + acc[3])
    };
    let installed = sum(hs);
    for (h, kp) in hs.iter_mut().zip(keep) {
        *h *= kp;
    }
    (sum(on_h), sum(under_h), installed)
}

impl<'a> Fleet<'a> {
    #[must_use]
    pub fn new(cfg: &'a SimConfig) -> Self {
        let f = &cfg.fleet;
        let nt = f.tranche_mult.len();
        let mut eff = Vec::new();
        let mut mult = Vec::new();
        let mut keep = Vec::new();
        let mut hs = Vec::new();
        let daily_keep = |r: f64| (1.0 - r).powf(1.0 / 365.0);
        for c in &f.classes {
            for t in 0..nt {
                eff.push(c.efficiency_jth);
                mult.push(f.tranche_mult[t]);
                keep.push(daily_keep(c.retire_per_year));
                hs.push(c.hashrate_ths * f.tranche_weight[t]);
            }
        }
        let arrival_class = f.classes.len();
        for t in 0..nt {
            eff.push(f.arrival_efficiency_jth);
            mult.push(f.tranche_mult[t]);
            keep.push(daily_keep(f.retire_arrivals_per_year));
            hs.push(0.0);
        }
        // Pad with empty cohorts (no hashrate, never retiring) to a multiple of LANES.
        while eff.len() % LANES != 0 {
            eff.push(0.0);
            mult.push(0.0);
            keep.push(1.0);
            hs.push(0.0);
        }
        let n = eff.len();
        Self {
            fleet: f,
            eff_mult: eff.iter().zip(&mult).map(|(e, m)| e * m).collect(),
            keep,
            hs,
            on: vec![1.0; n],
            scratch: [vec![0.0; n], vec![0.0; n]],
            pipeline: vec![0.0; f.lead_time_days.max(1)],
            arrival_class,
            first_day: true,
            day: 0,
            slot: 0,
        }
    }

    /// Installed hashrate (TH/s), on or off.
    #[must_use]
    pub fn installed_ths(&self) -> f64 {
        self.hs.iter().sum()
    }

    /// One day: switch cohorts, take deliveries, place orders, retire. `rev_th_day` is the
    /// USD revenue per TH/s-day after pool fee; `power` the site price (USD/kWh).
    #[inline]
    pub fn step(&mut self, day: usize, rev_th_day: f64, power: f64) -> FleetDay {
        let f = self.fleet;
        let h = f.hysteresis;
        let nt = f.tranche_mult.len();
        // Deliveries of orders placed lead_time days ago. The pipeline is a ring indexed by
        // day mod its length, kept as a running slot (no integer division per day).
        if day != self.day {
            self.day = day;
            self.slot = day % self.pipeline.len();
        }
        let slot = self.slot;
        let arriving = std::mem::take(&mut self.pipeline[slot]);
        if arriving > 0.0 {
            for t in 0..nt {
                self.hs[self.arrival_class * nt + t] += arriving * f.tranche_weight[t];
            }
        }
        let kwh = 24.0 / 1000.0 * power * f.pue;
        // Branch-free per cohort: the on/off state is 1.0/0.0 and the threshold it must clear
        // is selected arithmetically (ratio ≥ x ⇔ rev ≥ x · cost; no division, cost may be 0).
        let (lo, hi, k) = if self.first_day {
            (1.0, 1.0, 1.0)
        } else {
            (1.0 - h, 1.0 + h, f.response_per_day)
        };
        // The cohorts are padded to a multiple of LANES with empty ones (hs = 0) and the sums
        // run in LANES independent accumulators: no loop-carried add latency, and the body is
        // one vector per group (AVX2 in the engine's AVX2 clone). The summation order is fixed
        // by LANES, not by the instruction set, so results do not depend on the CPU or the
        // thread count.
        let (online, under, installed) = cohort_day(
            &mut self.hs,
            &mut self.on,
            &self.eff_mult,
            &self.keep,
            &mut self.scratch,
            [rev_th_day, kwh, lo, hi, k],
        );
        self.first_day = false;
        // Orders: linear in the excess ratio, capped at deploy_cap_per_day × installed.
        let cost_new = f.arrival_efficiency_jth * kwh;
        let thr = f.arrival_threshold;
        let excess = if cost_new > 0.0 {
            (rev_th_day / cost_new - thr) / thr
        } else {
            1.0
        };
        if excess > 0.0 {
            // Due on day + max(lead_time, 1): the ring has max(lead_time, 1) slots, so that is
            // this day's slot (just emptied), read again that many days from now.
            self.pipeline[slot] += f.deploy_cap_per_day * installed * excess.min(1.0);
        }
        self.day = day + 1;
        self.slot = if slot + 1 == self.pipeline.len() {
            0
        } else {
            slot + 1
        };
        FleetDay {
            online_ths: online,
            share_under_water: if installed > 0.0 {
                under / installed
            } else {
                0.0
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::config::FleetClass;

    /// The plain cohort-by-cohort day (the definition in the module docs), on its own state:
    /// `(hs, on)` per (class, tranche) cohort, arrival class last.
    fn plain_step(
        f: &FleetModel,
        hs: &mut [f64],
        on: &mut [f64],
        first: bool,
        rev: f64,
        power: f64,
    ) -> FleetDay {
        let nt = f.tranche_mult.len();
        let kwh = 24.0 / 1000.0 * power * f.pue;
        let (mut online, mut under, mut installed) = (0.0, 0.0, 0.0);
        for (i, (h, o)) in hs.iter_mut().zip(on.iter_mut()).enumerate() {
            let (class, t) = (i / nt, i % nt);
            let (e, r) = match f.classes.get(class) {
                Some(c) => (c.efficiency_jth, c.retire_per_year),
                None => (f.arrival_efficiency_jth, f.retire_arrivals_per_year),
            };
            let cost = e * f.tranche_mult[t] * kwh;
            installed += *h;
            if rev < cost {
                under += *h;
            }
            let x = match (first, *o > 0.5) {
                (true, _) => 1.0,
                (false, true) => 1.0 - f.hysteresis,
                (false, false) => 1.0 + f.hysteresis,
            };
            let k = if first { 1.0 } else { f.response_per_day };
            let target = if rev >= x * cost { 1.0 } else { 0.0 };
            *o += k * (target - *o);
            online += *h * *o;
            *h *= (1.0 - r).powf(1.0 / 365.0);
        }
        FleetDay {
            online_ths: online,
            share_under_water: if installed > 0.0 {
                under / installed
            } else {
                0.0
            },
        }
    }

    #[test]
    fn step_matches_the_plain_cohort_loop() {
        check_against_plain_loop(1.0); // whole cohorts switch
        check_against_plain_loop(0.15); // partial daily response
    }

    fn check_against_plain_loop(response: f64) {
        let mut cfg = crate::sim::engine::tests::default_like();
        cfg.fleet.response_per_day = response;
        // 5 classes × 3 tranches + 3 arrival cohorts = 18: not a multiple of LANES.
        cfg.fleet.classes = [14.0, 19.0, 24.0, 31.0, 40.0]
            .iter()
            .enumerate()
            .map(|(i, &e)| FleetClass {
                efficiency_jth: e,
                hashrate_ths: 5e7 * (i + 1) as f64,
                retire_per_year: 0.05 * i as f64,
            })
            .collect();
        cfg.fleet.tranche_mult = vec![0.7, 1.0, 1.3];
        cfg.fleet.tranche_weight = vec![0.3, 0.4, 0.3];
        cfg.fleet.deploy_cap_per_day = 0.0; // no orders: the plain loop has no pipeline
        let f = &cfg.fleet;
        let mut fleet = Fleet::new(&cfg);
        let n = (f.classes.len() + 1) * f.tranche_mult.len();
        let mut hs: Vec<f64> = f
            .classes
            .iter()
            .flat_map(|c| f.tranche_weight.iter().map(move |w| c.hashrate_ths * w))
            .chain(std::iter::repeat_n(0.0, f.tranche_mult.len()))
            .collect();
        let mut on = vec![1.0; n];
        // Revenue swinging across every cohort's thresholds, power with spikes.
        for d in 0..400 {
            let rev = 0.02 + 0.03 * (d as f64 * 0.07).sin().abs();
            let power = if d % 17 == 0 { 0.15 } else { 0.05 };
            let got = fleet.step(d, rev, power);
            let want = plain_step(f, &mut hs, &mut on, d == 0, rev, power);
            let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * b.abs().max(1.0);
            assert!(
                close(got.online_ths, want.online_ths),
                "day {d}: {got:?} {want:?}"
            );
            assert!(
                close(got.share_under_water, want.share_under_water),
                "day {d}"
            );
            assert!(close(fleet.installed_ths(), hs.iter().sum()), "day {d}");
        }
    }
}
