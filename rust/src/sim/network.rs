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
    eff_mult: Vec<f64>,
    keep: Vec<f64>,
    hs: Vec<f64>,
    /// 1.0 = online, 0.0 = off.
    on: Vec<f64>,
    pipeline: Vec<f64>,
    arrival_class: usize,
    first_day: bool,
}

/// What the fleet did on a day.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct FleetDay {
    /// Online hashrate before shocks (TH/s).
    pub online_ths: f64,
    /// Share of installed hashrate with revenue below power cost.
    pub share_under_water: f64,
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
        let n = eff.len();
        let eff_mult = eff.iter().zip(&mult).map(|(e, m)| e * m).collect();
        Self {
            fleet: f,
            eff_mult,
            keep,
            hs,
            on: vec![1.0; n],
            pipeline: vec![0.0; f.lead_time_days.max(1)],
            arrival_class,
            first_day: true,
        }
    }

    /// Installed hashrate (TH/s), on or off.
    #[must_use]
    pub fn installed_ths(&self) -> f64 {
        self.hs.iter().sum()
    }

    /// One day: switch cohorts, take deliveries, place orders, retire. `rev_th_day` is the
    /// USD revenue per TH/s-day after pool fee; `power` the site price (USD/kWh).
    pub fn step(&mut self, day: usize, rev_th_day: f64, power: f64) -> FleetDay {
        let f = self.fleet;
        let h = f.hysteresis;
        let nt = f.tranche_mult.len();
        // Deliveries of orders placed lead_time days ago.
        let slot = day % self.pipeline.len();
        let arriving = std::mem::take(&mut self.pipeline[slot]);
        if arriving > 0.0 {
            for t in 0..nt {
                self.hs[self.arrival_class * nt + t] += arriving * f.tranche_weight[t];
            }
        }
        let kwh = 24.0 / 1000.0 * power * f.pue;
        let mut online = 0.0;
        let mut under = 0.0;
        let mut installed = 0.0;
        // Branch-free per cohort: the on/off state is 1.0/0.0 and the threshold it must clear
        // is selected arithmetically (ratio ≥ x ⇔ rev ≥ x · cost; no division, cost may be 0).
        let (lo, hi) = if self.first_day {
            (1.0, 1.0)
        } else {
            (1.0 - h, 1.0 + h)
        };
        for (((hs, on), em), keep) in self
            .hs
            .iter_mut()
            .zip(self.on.iter_mut())
            .zip(&self.eff_mult)
            .zip(&self.keep)
        {
            let cost = em * kwh;
            let hsi = *hs;
            installed += hsi;
            under += hsi * f64::from(u8::from(rev_th_day < cost));
            let x = if *on > 0.5 { lo } else { hi };
            let now_on = f64::from(u8::from(rev_th_day >= x * cost));
            *on = now_on;
            online += hsi * now_on;
            *hs = hsi * keep;
        }
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
            let order = f.deploy_cap_per_day * installed * excess.min(1.0);
            let due = (day + f.lead_time_days) % self.pipeline.len();
            self.pipeline[due] += order;
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
}
