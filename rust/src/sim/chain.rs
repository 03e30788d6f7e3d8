//! Blocks and difficulty for one path.
//!
//! Within a day the hashrate `H` (hashes/s) is constant, so blocks arrive as a Poisson
//! process of rate `λ = H / proof(bits)` (CONSENSUS.md §11). Only two block times matter to
//! consensus in this model: the first and the last block of each epoch (the retarget's time
//! span). They are sampled exactly, without interpolation:
//!
//! * `K ~ Poisson(λR)` arrivals fall in the rest `R` of the day. If the next block starts an
//!   epoch and `K ≥ 1`, its time is the first of `K` uniform order statistics,
//!   `now + R·(1 − U^{1/K})`; if `n` blocks remain to the epoch's last block and `K ≥ n`, that
//!   block's time is the n-th order statistic, `now + R·Beta(n, K − n + 1)`.
//! * The process then restarts at that block's time (strong Markov property) with the rate of
//!   the new bits; otherwise the height advances by `K` and the day ends.
//!
//! Timestamps are the true times rounded to the nearest second (honest miners; they are
//! increasing, so the median-time-past rule never binds). At the last block of an epoch the
//! next bits come from [`calculate_next_work_required`] — the consensus code itself. A
//! deterministic "fluid" mode replaces the Poisson count by a clock that emits a block every
//! `1/λ` seconds, for zero-volatility checks.

use rand::{Rng, RngExt};
use rand_distr::{Beta, Distribution};

use super::poisson;

use super::config::{bad, ArrivalMode, ChainStart};
use crate::consensus::params::NetworkParams;
use crate::consensus::retarget::calculate_next_work_required;
use crate::consensus::target::{bits_proof, bits_to_difficulty, u256_getdouble};
use crate::error::CoreResult;

/// One retarget event.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Retarget {
    /// Height of the first block of the new epoch.
    pub height: i64,
    /// Timestamp of the last block of the ending epoch (when the new bits become known).
    pub time: i64,
    /// Timestamp of the first block of the ending epoch.
    pub first_time: i64,
    pub old_bits: u32,
    pub new_bits: u32,
}

/// Chain state of one path.
#[derive(Debug, Clone)]
pub struct ChainState<'a> {
    params: &'a NetworkParams,
    mode: ArrivalMode,
    pub height: i64,
    pub bits: u32,
    pub epoch_first_time: i64,
    /// Blocks per epoch (`params.interval()`, divided once here rather than every day).
    interval: i64,
    /// Position of the next block in its epoch, `(height + 1) mod interval`, kept as a
    /// counter so that the day's step needs no integer division.
    next_pos: i64,
    proof: f64,
    difficulty: f64,
    /// Deterministic mode: progress (in blocks) toward the next block.
    acc: f64,
}

fn round_time(t: f64) -> i64 {
    t.round() as i64
}

impl<'a> ChainState<'a> {
    pub fn new(
        params: &'a NetworkParams,
        mode: ArrivalMode,
        start: &ChainStart,
    ) -> CoreResult<Self> {
        let mut s = Self {
            params,
            mode,
            height: start.height,
            bits: start.bits,
            epoch_first_time: start.epoch_first_time.unwrap_or(start.time),
            interval: params.interval(),
            next_pos: 0,
            proof: 0.0,
            difficulty: 0.0,
            acc: 0.0,
        };
        s.next_pos = (start.height + 1).rem_euclid(s.interval.max(1));
        s.set_bits(start.bits)?;
        Ok(s)
    }

    fn set_bits(&mut self, bits: u32) -> CoreResult<()> {
        self.bits = bits;
        self.proof = u256_getdouble(&bits_proof(bits));
        self.difficulty = bits_to_difficulty(bits)?;
        Ok(())
    }

    /// Difficulty of the bits in force (as Core's `GetDifficulty`).
    #[must_use]
    pub fn difficulty(&self) -> f64 {
        self.difficulty
    }

    fn retarget(&mut self, last_time: i64, out: &mut Vec<Retarget>) -> CoreResult<()> {
        // Without min-difficulty blocks every block of an epoch has the same bits, so the
        // first block's bits (BIP94 base) equal the last block's.
        let new_bits = calculate_next_work_required(
            self.bits,
            last_time,
            self.bits,
            self.epoch_first_time,
            self.params,
        )?;
        out.push(Retarget {
            height: self.height + 1,
            time: last_time,
            first_time: self.epoch_first_time,
            old_bits: self.bits,
            new_bits,
        });
        self.set_bits(new_bits)
    }

    /// Mine blocks from `t0` to `t1` (Unix seconds) at `hashrate_hs` hashes per second.
    #[inline(always)]
    pub fn advance<R: Rng + Clone>(
        &mut self,
        t0: f64,
        t1: f64,
        hashrate_hs: f64,
        rng: &mut R,
        out: &mut Vec<Retarget>,
    ) -> CoreResult<()> {
        let interval = self.interval;
        let mut now = t0;
        loop {
            let rest = t1 - now;
            let lam = hashrate_hs / self.proof;
            if rest <= 0.0 || lam.is_nan() || lam <= 0.0 {
                return Ok(());
            }
            // `next_pos`: the position of the next block in its epoch.
            debug_assert_eq!(self.next_pos, (self.height + 1) % interval);
            match self.mode {
                ArrivalMode::Poisson => {
                    let mean = lam * rest;
                    let k = poisson::sample(mean, rng)
                        .map_err(|e| {
                            bad(
                                "hashrate",
                                format!("{hashrate_hs:e} H/s gives {mean:e} expected blocks in a day ({e}); check the hashrate units (EH/s)"),
                            )
                        })? as i64;
                    match self.take(k, now, rest, rng, out)? {
                        Some(t) => now = t,
                        None => return Ok(()),
                    }
                    continue;
                }
                ArrivalMode::Deterministic => {
                    let need = self.need();
                    let dt = (need as f64 - self.acc) / lam;
                    let total = self.acc + lam * rest;
                    // `total < need` too: in floating point λ·rest can land on `need` exactly
                    // although dt > rest; the epoch's boundary block then ends the day (below)
                    // instead of being added without its retarget.
                    if dt > rest && total < need as f64 {
                        let k = total.floor();
                        self.height += k as i64;
                        self.next_pos += k as i64;
                        self.acc = total - k;
                        return Ok(());
                    }
                    now += dt.min(rest);
                    self.acc = 0.0;
                }
            }
            self.boundary(now, out)?;
        }
    }

    /// Blocks still to mine before the next one that matters to consensus: the epoch's first
    /// (1, when the next block starts an epoch) or its last.
    #[inline(always)]
    pub(crate) fn need(&self) -> i64 {
        let pos = self.next_pos;
        if pos == 0 {
            1
        } else {
            self.interval - pos
        }
    }

    /// `k` blocks fewer than [`Self::need`] (the lockstep engine's common day).
    #[inline(always)]
    pub(crate) fn skip(&mut self, k: i64) {
        debug_assert!(k < self.need());
        self.height += k;
        self.next_pos += k;
    }

    /// The proof (expected hashes) per block of the bits in force.
    #[inline(always)]
    pub(crate) fn proof(&self) -> f64 {
        self.proof
    }

    /// `k` Poisson arrivals in the `rest` seconds from `now`: fewer than [`Self::need`] just
    /// advance the height (`None`: the day is over); otherwise the boundary block is placed
    /// among them (its time is returned: the process restarts there).
    #[inline(always)]
    pub(crate) fn take<R: Rng + Clone>(
        &mut self,
        k: i64,
        now: f64,
        rest: f64,
        rng: &mut R,
        out: &mut Vec<Retarget>,
    ) -> CoreResult<Option<f64>> {
        let need = self.need();
        if k < need {
            self.skip(k);
            return Ok(None);
        }
        let frac = if need == 1 {
            let u: f64 = rng.random();
            1.0 - u.powf(1.0 / k as f64)
        } else {
            let b = Beta::new(need as f64, (k - need + 1) as f64)
                .map_err(|e| bad("block arrivals", e.to_string()))?;
            super::rng::on_copy(rng, |r| b.sample(r))
        };
        let now = now + rest * frac;
        self.boundary(now, out)?;
        Ok(Some(now))
    }

    /// The epoch's first or last block, mined at `now`: records the epoch's first time, or
    /// retargets.
    #[inline(always)]
    fn boundary(&mut self, now: f64, out: &mut Vec<Retarget>) -> CoreResult<()> {
        let pos = self.next_pos;
        self.height += self.need();
        // The epoch's first block leaves position 1 next; its last block, position 0.
        self.next_pos = if pos == 0 { 1 % self.interval } else { 0 };
        if pos == 0 {
            self.epoch_first_time = round_time(now);
            Ok(())
        } else {
            self.retarget(round_time(now), out)
        }
    }
}
