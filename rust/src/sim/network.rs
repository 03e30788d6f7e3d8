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

/// Cohorts are processed in groups of this many lanes (see [`cohort_day`]): one 256-bit AVX
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
/// and installed hashrate (before retirement).
///
/// One pass over the cohorts in groups of [`LANES`]; each sum runs in LANES independent
/// accumulators (lane `l` adds the cohorts `j ≡ l (mod LANES)` in order) added at the end as
/// `(a₀ + a₁) + (a₂ + a₃)`. On x86-64 with AVX the pass is [`cohort_day_avx`] (one 256-bit
/// vector per group: the compiler's vectorisers could not fuse the sums into the pass);
/// elsewhere [`cohort_day_plain`]. Both do the same IEEE operations in the same order (Rust
/// never contracts `a·b + c` into an FMA), so they give the same bits (for non-NaN inputs)
/// whatever the CPU, and the thread count never enters. Every slice has the same length, a
/// multiple of LANES.
#[inline(always)]
fn cohort_day(
    hs: &mut [f64],
    on: &mut [f64],
    eff_mult: &[f64],
    keep: &[f64],
    consts: [f64; 5],
) -> (f64, f64, f64) {
    let n = hs.len();
    debug_assert!(
        n.is_multiple_of(LANES) && on.len() == n && eff_mult.len() == n && keep.len() == n
    );
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx") {
            // SAFETY: the CPU supports AVX (checked just above), the only requirement of a
            // `#[target_feature(enable = "avx")]` function; its body is safe code.
            #[allow(unsafe_code)]
            return unsafe { cohort_day_avx(hs, on, eff_mult, keep, consts) };
        }
    }
    cohort_day_plain(hs, on, eff_mult, keep, consts)
}

/// [`cohort_day`] written lane by lane: the definition the AVX pass must equal bit for bit.
fn cohort_day_plain(
    hs: &mut [f64],
    on: &mut [f64],
    eff_mult: &[f64],
    keep: &[f64],
    [rev, kwh, lo, hi, k]: [f64; 5],
) -> (f64, f64, f64) {
    let mut acc = [[0.0; LANES]; 3]; // online, under water, installed
    let groups = hs
        .chunks_exact_mut(LANES)
        .zip(on.chunks_exact_mut(LANES))
        .zip(eff_mult.chunks_exact(LANES).zip(keep.chunks_exact(LANES)));
    for ((hs, on), (em, keep)) in groups {
        for l in 0..LANES {
            let (h, o) = (hs[l], on[l]);
            let cost = em[l] * kwh;
            // The threshold follows the cohort's majority state; its online fraction closes k
            // of the gap to the decision (k = 1: exactly 0.0 or 1.0).
            let x = if o > 0.5 { lo } else { hi };
            let target = if rev >= x * cost { 1.0 } else { 0.0 };
            let u = o + k * (target - o);
            on[l] = u;
            acc[0][l] += h * u;
            acc[1][l] += if rev < cost { h } else { 0.0 };
            acc[2][l] += h;
            hs[l] = h * keep[l];
        }
    }
    let total = |a: [f64; LANES]| (a[0] + a[1]) + (a[2] + a[3]);
    (total(acc[0]), total(acc[1]), total(acc[2]))
}

/// [`cohort_day_plain`] with one AVX vector per group of [`LANES`] cohorts.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
#[inline]
fn cohort_day_avx(
    hs: &mut [f64],
    on: &mut [f64],
    eff_mult: &[f64],
    keep: &[f64],
    [rev, kwh, lo, hi, k]: [f64; 5],
) -> (f64, f64, f64) {
    use std::arch::x86_64::{
        __m256d, _mm256_add_pd, _mm256_and_pd, _mm256_blendv_pd, _mm256_cmp_pd, _mm256_mul_pd,
        _mm256_set1_pd, _mm256_setzero_pd, _mm256_sub_pd, _CMP_GE_OQ, _CMP_GT_OQ, _CMP_LT_OQ,
    };
    // Loads and stores through `bytemuck` casts of `[f64; 4]` (safe; compiled to vmovupd).
    fn load(c: &[f64]) -> __m256d {
        let a: [f64; LANES] = [c[0], c[1], c[2], c[3]];
        bytemuck::cast(a)
    }
    fn store(c: &mut [f64], v: __m256d) {
        let a: [f64; LANES] = bytemuck::cast(v);
        c.copy_from_slice(&a);
    }
    let (rev_v, kwh_v) = (_mm256_set1_pd(rev), _mm256_set1_pd(kwh));
    let (lo_v, hi_v, k_v) = (_mm256_set1_pd(lo), _mm256_set1_pd(hi), _mm256_set1_pd(k));
    let (half, one) = (_mm256_set1_pd(0.5), _mm256_set1_pd(1.0));
    let (mut a_on, mut a_under, mut a_inst) = (
        _mm256_setzero_pd(),
        _mm256_setzero_pd(),
        _mm256_setzero_pd(),
    );
    let groups = hs
        .chunks_exact_mut(LANES)
        .zip(on.chunks_exact_mut(LANES))
        .zip(eff_mult.chunks_exact(LANES).zip(keep.chunks_exact(LANES)));
    for ((hs, on), (em, keep)) in groups {
        let (h, o) = (load(hs), load(on));
        let cost = _mm256_mul_pd(load(em), kwh_v);
        // o > 0.5 ? lo : hi (blendv takes the second operand where the mask is set).
        let x = _mm256_blendv_pd(hi_v, lo_v, _mm256_cmp_pd::<_CMP_GT_OQ>(o, half));
        let hit = _mm256_cmp_pd::<_CMP_GE_OQ>(rev_v, _mm256_mul_pd(x, cost));
        let target = _mm256_and_pd(hit, one);
        let u = _mm256_add_pd(o, _mm256_mul_pd(k_v, _mm256_sub_pd(target, o)));
        store(on, u);
        a_on = _mm256_add_pd(a_on, _mm256_mul_pd(h, u));
        let sunk = _mm256_cmp_pd::<_CMP_LT_OQ>(rev_v, cost);
        a_under = _mm256_add_pd(a_under, _mm256_and_pd(sunk, h));
        a_inst = _mm256_add_pd(a_inst, h);
        store(hs, _mm256_mul_pd(h, load(keep)));
    }
    let total = |v: __m256d| {
        let a: [f64; LANES] = bytemuck::cast(v);
        (a[0] + a[1]) + (a[2] + a[3])
    };
    (total(a_on), total(a_under), total(a_inst))
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
    #[inline(always)]
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
        // The cohorts are padded to a multiple of LANES with empty ones (hs = 0); the sums run
        // in LANES accumulators in a fixed order (see `cohort_day`).
        let (online, under, installed) = cohort_day(
            &mut self.hs,
            &mut self.on,
            &self.eff_mult,
            &self.keep,
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

/// The fleets of four paths of the lockstep engine (`super::lockstep`): one
/// [`Fleet`] per path, stored lane by lane (cohort `c` of path `l` at `hs[c][l]`), so that a
/// cohort of the four paths is one AVX vector. [`Fleet4::step`] is [`Fleet::step`] on each
/// lane: the same IEEE operations in the same order, so each path's numbers are those of its
/// own `Fleet` (tested through the engine: lockstep and one-path runs agree bit for bit).
#[cfg(target_arch = "x86_64")]
#[derive(Debug, Clone)]
pub struct Fleet4<'a> {
    fleet: &'a FleetModel,
    eff_mult: Vec<f64>,
    keep: Vec<f64>,
    hs: Vec<[f64; LANES]>,
    on: Vec<[f64; LANES]>,
    pipeline: Vec<[f64; LANES]>,
    arrival_class: usize,
    first_day: bool,
    slot: usize,
}

#[cfg(target_arch = "x86_64")]
impl<'a> Fleet4<'a> {
    /// Four copies of [`Fleet::new`] (every path starts from the same fleet).
    #[must_use]
    pub fn new(cfg: &'a SimConfig) -> Self {
        let one = Fleet::new(cfg);
        Self {
            fleet: one.fleet,
            hs: one.hs.iter().map(|&h| [h; LANES]).collect(),
            on: one.on.iter().map(|&o| [o; LANES]).collect(),
            pipeline: vec![[0.0; LANES]; one.pipeline.len()],
            eff_mult: one.eff_mult,
            keep: one.keep,
            arrival_class: one.arrival_class,
            first_day: true,
            slot: 0,
        }
    }

    /// One day of [`Fleet::step`] for the four paths (one lane each); the days must come in
    /// order from day 0. Returns the online hashrate and the share under water.
    ///
    /// # Safety
    /// The CPU must support AVX (the one requirement of a `#[target_feature]` function; its
    /// body is safe code).
    #[target_feature(enable = "avx")]
    #[inline]
    pub fn step(
        &mut self,
        rev_th_day: std::arch::x86_64::__m256d,
        power: std::arch::x86_64::__m256d,
    ) -> (std::arch::x86_64::__m256d, std::arch::x86_64::__m256d) {
        use std::arch::x86_64::{
            __m256d, _mm256_add_pd, _mm256_and_pd, _mm256_blendv_pd, _mm256_cmp_pd, _mm256_div_pd,
            _mm256_min_pd, _mm256_movemask_pd, _mm256_mul_pd, _mm256_set1_pd, _mm256_setzero_pd,
            _mm256_sub_pd, _CMP_GE_OQ, _CMP_GT_OQ, _CMP_LT_OQ,
        };
        let f = self.fleet;
        let v = _mm256_set1_pd;
        let zero = _mm256_setzero_pd();
        let nt = f.tranche_mult.len();
        let slot = self.slot;
        let arriving: __m256d = bytemuck::cast(std::mem::take(&mut self.pipeline[slot]));
        let arrives = _mm256_cmp_pd::<_CMP_GT_OQ>(arriving, zero);
        if _mm256_movemask_pd(arrives) != 0 {
            for t in 0..nt {
                let c = self.arrival_class * nt + t;
                let h: __m256d = bytemuck::cast(self.hs[c]);
                let add = _mm256_add_pd(h, _mm256_mul_pd(arriving, v(f.tranche_weight[t])));
                self.hs[c] = bytemuck::cast(_mm256_blendv_pd(h, add, arrives));
            }
        }
        let kwh = _mm256_mul_pd(_mm256_mul_pd(v(24.0 / 1000.0), power), v(f.pue));
        let (lo, hi, k) = if self.first_day {
            (1.0, 1.0, 1.0)
        } else {
            (1.0 - f.hysteresis, 1.0 + f.hysteresis, f.response_per_day)
        };
        let (lo, hi, k, half, one) = (v(lo), v(hi), v(k), v(0.5), v(1.0));
        let rev = rev_th_day;
        // Accumulator l of each sum adds the cohorts c ≡ l (mod LANES) in order, as
        // `cohort_day`'s lane l does; the four are added as (a₀ + a₁) + (a₂ + a₃) at the end.
        // One residue class at a time, so that only its three sums are live: twelve at once
        // spilled to the stack and were shuffled between registers at every cohort.
        // acc[l] = [online, under water, installed] of class l.
        let mut acc = [[zero; 3]; LANES];
        let n = self.hs.len();
        let (hs, on) = (&mut self.hs[..n], &mut self.on[..n]);
        let (eff_mult, keep) = (&self.eff_mult[..n], &self.keep[..n]);
        for (l, acc_l) in acc.iter_mut().enumerate() {
            let (mut a_on, mut a_under, mut a_inst) = (zero, zero, zero);
            let mut c = l;
            while c < n {
                let (h, o): (__m256d, __m256d) = (bytemuck::cast(hs[c]), bytemuck::cast(on[c]));
                let cost = _mm256_mul_pd(v(eff_mult[c]), kwh);
                let x = _mm256_blendv_pd(hi, lo, _mm256_cmp_pd::<_CMP_GT_OQ>(o, half));
                let hit = _mm256_cmp_pd::<_CMP_GE_OQ>(rev, _mm256_mul_pd(x, cost));
                let target = _mm256_and_pd(hit, one);
                let u = _mm256_add_pd(o, _mm256_mul_pd(k, _mm256_sub_pd(target, o)));
                on[c] = bytemuck::cast(u);
                a_on = _mm256_add_pd(a_on, _mm256_mul_pd(h, u));
                let sunk = _mm256_cmp_pd::<_CMP_LT_OQ>(rev, cost);
                a_under = _mm256_add_pd(a_under, _mm256_and_pd(sunk, h));
                a_inst = _mm256_add_pd(a_inst, h);
                hs[c] = bytemuck::cast(_mm256_mul_pd(h, v(keep[c])));
                c += LANES;
            }
            *acc_l = [a_on, a_under, a_inst];
        }
        let total = |i: usize| {
            _mm256_add_pd(
                _mm256_add_pd(acc[0][i], acc[1][i]),
                _mm256_add_pd(acc[2][i], acc[3][i]),
            )
        };
        let (online, under, installed) = (total(0), total(1), total(2));
        self.first_day = false;
        let cost_new = _mm256_mul_pd(v(f.arrival_efficiency_jth), kwh);
        let thr = v(f.arrival_threshold);
        let ratio = _mm256_div_pd(_mm256_sub_pd(_mm256_div_pd(rev, cost_new), thr), thr);
        let excess = _mm256_blendv_pd(one, ratio, _mm256_cmp_pd::<_CMP_GT_OQ>(cost_new, zero));
        let orders = _mm256_cmp_pd::<_CMP_GT_OQ>(excess, zero);
        if _mm256_movemask_pd(orders) != 0 {
            let p: __m256d = bytemuck::cast(self.pipeline[slot]);
            let add = _mm256_mul_pd(
                _mm256_mul_pd(v(f.deploy_cap_per_day), installed),
                _mm256_min_pd(excess, one),
            );
            let p2 = _mm256_add_pd(p, add);
            self.pipeline[slot] = bytemuck::cast(_mm256_blendv_pd(p, p2, orders));
        }
        self.slot = if slot + 1 == self.pipeline.len() {
            0
        } else {
            slot + 1
        };
        let share = _mm256_blendv_pd(
            zero,
            _mm256_div_pd(under, installed),
            _mm256_cmp_pd::<_CMP_GT_OQ>(installed, zero),
        );
        (online, share)
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

    proptest::proptest! {
        /// The AVX pass equals the lane-by-lane definition bit for bit (sums, states, hashrates).
        #[test]
        fn avx_pass_equals_the_plain_pass(
            cohorts in proptest::collection::vec(
                (0.0..2e8f64, proptest::sample::select(vec![0.0, 0.3, 0.5, 0.51, 1.0]),
                 0.0..60.0f64, 0.99..=1.0f64),
                1..12,
            ),
            rev in 0.0..0.2f64, kwh in 0.0..0.01f64, h in 0.0..0.3f64, k in 0.0..=1.0f64,
        ) {
            let n = cohorts.len().div_ceil(LANES) * LANES;
            // Column i of the cohorts, padded to whole groups as `Fleet::new` pads them.
            let col = |i: usize, pad: f64| -> Vec<f64> {
                let mut v: Vec<f64> = cohorts.iter().map(|c| [c.0, c.1, c.2, c.3][i]).collect();
                v.resize(n, pad);
                v
            };
            let (mut hs, mut on) = (col(0, 0.0), col(1, 1.0));
            let (em, keep) = (col(2, 0.0), col(3, 1.0));
            let consts = [rev, kwh, 1.0 - h, 1.0 + h, k];
            let (mut hs2, mut on2) = (hs.clone(), on.clone());
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            let want = cohort_day_plain(&mut hs, &mut on, &em, &keep, consts);
            let got = cohort_day(&mut hs2, &mut on2, &em, &keep, consts);
            proptest::prop_assert_eq!(
                [got.0.to_bits(), got.1.to_bits(), got.2.to_bits()],
                [want.0.to_bits(), want.1.to_bits(), want.2.to_bits()]
            );
            proptest::prop_assert_eq!(bits(&hs2), bits(&hs));
            proptest::prop_assert_eq!(bits(&on2), bits(&on));
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
