//! Four paths' days in lockstep: the network and the chain of four paths advanced together,
//! one AVX lane per path, for the engine's fast build (x86-64 with AVX2).
//!
//! A path's day is a chain of dependent steps (revenue → fleet → hashrate → λ → block count →
//! height) of a few hundred instructions. Run one path at a time, only the cohort pass is
//! vectorised (over cohorts) and the rest is scalar; here every step is vectorised over four
//! paths, which share the day, the configuration and the control flow: the cohort pass
//! ([`Fleet4::step`]), the revenue, the shocks, λ, the normal deviate of the Poisson draw
//! (the four generators side by side, as the drivers' fill runs them) and its steps I and S.
//! What is rare or lane-specific runs in the scalar code on that lane, its generator handed
//! over and back: the ziggurat's rare steps, the Poisson's steps P, E and H, every day on
//! which a lane reaches an epoch boundary (its retarget is the consensus code itself), the
//! halvings, and a lane's day whose expected block count is outside the four-lane draw's
//! range (below 12, where the sampler is Knuth's, or invalid). A lane without hashrate mines
//! nothing and draws nothing, as in the one-path engine.
//!
//! Each lane does exactly the one-path engine's IEEE operations in the same order (no FMA)
//! and draws exactly the same words of its own generator in the same order, so each path's
//! rows and retargets are bit for bit those of the one-path engine, whatever paths it is
//! grouped with (tested: `lockstep_groups_equal_one_path_runs`,
//! `fast_and_portable_builds_agree_bit_for_bit` and `a_lockstep_error_is_the_one_path_error`
//! in `engine.rs`). Measured gain and the design notes: `docs/design.md` (session 11).

use std::arch::x86_64::{
    __m256d, __m256i, _mm256_add_pd, _mm256_blendv_epi8, _mm256_cmp_pd, _mm256_div_pd,
    _mm256_floor_pd, _mm256_movemask_pd, _mm256_mul_pd, _mm256_set1_pd, _mm256_sqrt_pd,
    _mm256_sub_pd, _CMP_GE_OQ, _CMP_GT_OQ, _CMP_LE_OQ,
};

use super::chain::{ChainState, Retarget};
use super::config::SimConfig;
use super::drivers::{lane, normal4, pack4, set_lane, xoshiro4};
use super::engine::PathRows;
use super::network::Fleet4;
use super::poisson;
use super::rng::{stream, STREAM_BLOCKS};
use crate::consensus::subsidy::block_subsidy;
use crate::error::CoreResult;

const DAY: i64 = 86_400;

/// Test builds count the hand-overs and special cases taken, so that the tests can check
/// that their configurations reach each of them.
#[cfg(test)]
pub(crate) mod reached {
    use std::sync::atomic::{AtomicU64, Ordering};

    /// Poisson draws finished by steps P/E/H after step S rejected (per lane).
    pub static STEP_S_REJECTED: AtomicU64 = AtomicU64::new(0);
    /// Poisson draws with g < 0 (per lane).
    pub static BELOW_ZERO: AtomicU64 = AtomicU64::new(0);
    /// Days on which some lanes took the four-lane draw and others did not.
    pub static MIXED_DAY: AtomicU64 = AtomicU64::new(0);
    /// Lane-days run by the scalar `advance` (an expected count below 12).
    pub static SCALAR_DAY: AtomicU64 = AtomicU64::new(0);
    /// Lane-days without hashrate (no draw).
    pub static IDLE_DAY: AtomicU64 = AtomicU64::new(0);
    /// Lane-days reaching an epoch boundary.
    pub static BOUNDARY: AtomicU64 = AtomicU64::new(0);

    pub fn hit(c: &AtomicU64, n: u64) {
        c.fetch_add(n, Ordering::Relaxed);
    }

    pub fn get(c: &AtomicU64) -> u64 {
        c.load(Ordering::Relaxed)
    }
}

/// The four-lane draw takes expected block counts in `[12, MAX_MEAN]` (the sampler's
/// algorithm PD; the bound keeps every count far below 2⁵³ and far inside `rand_distr`'s
/// own limit of 1.844·10¹⁹). A lane's day outside runs in the scalar code.
const MAX_MEAN: f64 = 1e15;

/// One path's columns, sliced to the days.
struct Lane<'b> {
    price: &'b [f64],
    fees: &'b [f64],
    power: &'b [f64],
    date_us: &'b mut [i64],
    height: &'b mut [i64],
    bits: &'b mut [u32],
    difficulty: &'b mut [f64],
    hashrate_ehs: &'b mut [f64],
    subsidy: &'b mut [f64],
    hashprice: &'b mut [f64],
    under: &'b mut [f64],
}

/// The days of four paths whose driver columns are filled: the network, the blocks and the
/// daily rows of each, as the one-path engine computes them; returns each path's retargets.
///
/// # Errors
/// The first error of any lane (the engine then reruns the four paths one by one, which
/// reports the error of the path it belongs to).
///
/// # Safety
/// The CPU must support the features enabled here (the one requirement of a
/// `#[target_feature]` function; its body is safe code).
#[target_feature(enable = "avx2,fma,bmi1,bmi2,lzcnt,popcnt")]
pub(super) fn run4(
    cfg: &SimConfig,
    seed: u64,
    rows: [&mut PathRows<'_>; 4],
) -> CoreResult<[Vec<Retarget>; 4]> {
    debug_assert!(cfg.arrivals == super::config::ArrivalMode::Poisson);
    let v = _mm256_set1_pd;
    let nd = cfg.n_days;
    let interval = cfg.network.subsidy_halving_interval;
    let t_start = cfg.start.time;
    let day0 = t_start.div_euclid(DAY) * DAY;
    let keep_fee = v(1.0 - cfg.fleet.pool_fee);
    let mut st = pack4(
        &rows
            .each_ref()
            .map(|r| stream(seed, u64::from(r.path), STREAM_BLOCKS)),
    );
    let mut fleet = Fleet4::new(cfg);
    let first = ChainState::new(&cfg.network, cfg.arrivals, &cfg.start)?;
    let mut chains = [first.clone(), first.clone(), first.clone(), first];
    let mut rets: [Vec<Retarget>; 4] = std::array::from_fn(|_| Vec::with_capacity(nd / 13 + 2));
    let mut lanes = rows.map(|r| {
        r.path_col.fill(r.path);
        Lane {
            price: &r.price_usd[..nd],
            fees: &r.fees[..nd],
            power: &r.power[..nd],
            date_us: &mut r.date_us[..nd],
            height: &mut r.height[..nd],
            bits: &mut r.bits[..nd],
            difficulty: &mut r.difficulty[..nd],
            hashrate_ehs: &mut r.hashrate_ehs[..nd],
            subsidy: &mut r.subsidy[..nd],
            hashprice: &mut r.hashprice[..nd],
            under: &mut r.under[..nd],
        }
    });
    // Per lane: the subsidy and the height at which it changes (as the one-path engine).
    let (mut subsidy, mut until) = ([0.0_f64; 4], [i64::MIN; 4]);
    let mut difficulty = chains.each_ref().map(ChainState::difficulty);
    let mut proof = chains.each_ref().map(ChainState::proof);
    let scale = 1.0 / ((1_u64 << 53) as f64);
    for d in 0..nd {
        let day_start = day0 + DAY * d as i64;
        for l in 0..4 {
            let next = chains[l].height + 1;
            if next >= until[l] {
                subsidy[l] = block_subsidy(next, interval)? as f64 / 1e8;
                until[l] = (next / interval + 1).saturating_mul(interval);
            }
        }
        macro_rules! gather {
            ($col:ident) => {{
                let x: __m256d = bytemuck::cast([
                    lanes[0].$col[d],
                    lanes[1].$col[d],
                    lanes[2].$col[d],
                    lanes[3].$col[d],
                ]);
                x
            }};
        }
        let (price, fees, power) = (gather!(price), gather!(fees), gather!(power));
        // btc_per_th_day, lane by lane: 1e12 · 86400 · (S + F) / (D · 2^32).
        let b = _mm256_div_pd(
            _mm256_mul_pd(
                v(1e12 * 86_400.0),
                _mm256_add_pd(bytemuck::cast(subsidy), fees),
            ),
            _mm256_mul_pd(bytemuck::cast(difficulty), v(4_294_967_296.0)),
        );
        let usd_th_day = _mm256_mul_pd(b, price);
        let (online, share) = fleet.step(_mm256_mul_pd(usd_th_day, keep_fee), power);
        let mut ths = match &cfg.hashrate_given_ehs {
            Some(h) => v(h[d] * 1e6),
            None => online,
        };
        for s in &cfg.shocks {
            if d >= s.start_day && d - s.start_day < s.days {
                ths = _mm256_mul_pd(ths, v(1.0 - s.fraction));
            }
        }
        let t0 = (day_start.max(t_start)) as f64;
        let t1 = (day_start + DAY) as f64;
        let hashrate_hs = _mm256_mul_pd(ths, v(1e12));
        let hs: [f64; 4] = bytemuck::cast(hashrate_hs);
        // The chain: one Poisson draw per lane for the rest of the day (ChainState::advance's
        // first step).
        let rest = t1 - t0;
        let lam = _mm256_div_pd(hashrate_hs, bytemuck::cast(proof));
        let mean = _mm256_mul_pd(lam, v(rest));
        // Each lane as `ChainState::advance` starts its day: no blocks at all where λ is not
        // positive (or the day is empty); the four-lane draw where the expected count is in
        // its range; the scalar code for the rest (counts below 12: Knuth's method).
        let active = if rest > 0.0 {
            _mm256_movemask_pd(_mm256_cmp_pd::<_CMP_GT_OQ>(lam, v(0.0)))
        } else {
            0
        };
        let four = active
            & _mm256_movemask_pd(_mm256_cmp_pd::<_CMP_GE_OQ>(mean, v(12.0)))
            & _mm256_movemask_pd(_mm256_cmp_pd::<_CMP_LE_OQ>(mean, v(MAX_MEAN)));
        if four != 0 {
            let before = st;
            let k = poisson4(mean, four, &mut st, scale);
            if four != 0b1111 {
                #[cfg(test)]
                reached::hit(&reached::MIXED_DAY, 1);
                // The other lanes draw nothing here: their generators go back.
                let sel = lane_mask(four);
                for (w, b) in st.iter_mut().zip(before) {
                    *w = _mm256_blendv_epi8(b, *w, sel);
                }
            }
            let k: [f64; 4] = bytemuck::cast(k);
            for l in (0..4).filter(|l| four >> l & 1 == 1) {
                // A whole number in [0, 2^53) (λ ≤ MAX_MEAN): `as` is exact.
                let kl = k[l] as i64;
                if kl < chains[l].need() {
                    chains[l].skip(kl);
                    continue;
                }
                #[cfg(test)]
                reached::hit(&reached::BOUNDARY, 1);
                let mut rng = lane(&st, l);
                if let Some(now) = chains[l].take(kl, t0, rest, &mut rng, &mut rets[l])? {
                    chains[l].advance(now, t1, hs[l], &mut rng, &mut rets[l])?;
                }
                set_lane(&mut st, l, &rng);
                difficulty[l] = chains[l].difficulty();
                proof[l] = chains[l].proof();
            }
        }
        #[cfg(test)]
        {
            reached::hit(
                &reached::SCALAR_DAY,
                u64::from((active & !four).count_ones()),
            );
            reached::hit(
                &reached::IDLE_DAY,
                u64::from((!active & 0b1111).count_ones()),
            );
        }
        for l in (0..4).filter(|l| (active & !four) >> l & 1 == 1) {
            let mut rng = lane(&st, l);
            chains[l].advance(t0, t1, hs[l], &mut rng, &mut rets[l])?;
            set_lane(&mut st, l, &rng);
            difficulty[l] = chains[l].difficulty();
            proof[l] = chains[l].proof();
        }
        let hashrate_ehs: [f64; 4] = bytemuck::cast(_mm256_div_pd(ths, v(1e6)));
        let hashprice: [f64; 4] = bytemuck::cast(_mm256_mul_pd(usd_th_day, v(1000.0)));
        let share: [f64; 4] = bytemuck::cast(share);
        for (l, x) in lanes.iter_mut().enumerate() {
            x.date_us[d] = day_start * 1_000_000;
            x.height[d] = chains[l].height;
            x.bits[d] = chains[l].bits;
            x.difficulty[d] = difficulty[l];
            x.hashrate_ehs[d] = hashrate_ehs[l];
            x.subsidy[d] = subsidy[l];
            x.hashprice[d] = hashprice[l];
            x.under[d] = share[l];
        }
    }
    Ok(rets)
}

/// All-ones in the 64-bit lanes whose bit is set in `bits`.
fn lane_mask(bits: i32) -> __m256i {
    bytemuck::cast([0, 1, 2, 3].map(|l| -i64::from(bits >> l & 1)))
}

/// One Poisson(`mean`) draw per lane of `lanes` (a bit mask; their `mean` in
/// `[12, MAX_MEAN]`): [`poisson::sample`] on each lane's generator (steps N, I and S in four
/// lanes; P, E and H in the scalar code). The other lanes' generators advance by the normal
/// deviate's words (the caller restores them) and their results are meaningless.
#[target_feature(enable = "avx2,fma,bmi1,bmi2,lzcnt,popcnt")]
#[inline]
fn poisson4(mean: __m256d, lanes: i32, st: &mut [__m256i; 4], scale: f64) -> __m256d {
    let v = _mm256_set1_pd;
    let s = _mm256_sqrt_pd(mean);
    let z = normal4(st);
    let g = _mm256_add_pd(mean, _mm256_mul_pd(s, z));
    let k1 = _mm256_floor_pd(g);
    let z_pos = _mm256_movemask_pd(_mm256_cmp_pd::<_CMP_GE_OQ>(z, v(0.0)));
    if (z_pos | !lanes) & 0b1111 == 0b1111 {
        return k1;
    }
    let g_pos = _mm256_movemask_pd(_mm256_cmp_pd::<_CMP_GE_OQ>(g, v(0.0)));
    let step_i = _mm256_movemask_pd(_mm256_cmp_pd::<_CMP_GE_OQ>(
        k1,
        _mm256_floor_pd(_mm256_sub_pd(mean, v(1.1484))),
    ));
    // Lanes that draw step S's uniform: z < 0, g ≥ 0, step I rejected.
    let need_u = !z_pos & g_pos & !step_i & lanes;
    let below = !z_pos & !g_pos & lanes;
    let mut k: [f64; 4] = bytemuck::cast(k1);
    if need_u != 0 {
        let mut next = *st;
        let words: [u64; 4] = bytemuck::cast(xoshiro4(&mut next));
        let sel = lane_mask(need_u);
        for (w, n) in st.iter_mut().zip(next) {
            *w = _mm256_blendv_epi8(*w, n, sel);
        }
        let u = words.map(|w| scale * ((w >> 11) as f64));
        // 6λ²·u ≥ (λ − k1)³, as `powi` computes them: (6·(λ·λ))·u and ((λ − k1)·(λ − k1))·(λ − k1).
        let t = _mm256_sub_pd(mean, k1);
        let lhs = _mm256_mul_pd(
            _mm256_mul_pd(v(6.0), _mm256_mul_pd(mean, mean)),
            bytemuck::cast(u),
        );
        let rhs = _mm256_mul_pd(_mm256_mul_pd(t, t), t);
        let accept = _mm256_movemask_pd(_mm256_cmp_pd::<_CMP_GE_OQ>(lhs, rhs));
        let slow = need_u & !accept;
        #[cfg(test)]
        reached::hit(&reached::STEP_S_REJECTED, u64::from(slow.count_ones()));
        if slow != 0 {
            let (m, sq): ([f64; 4], [f64; 4]) = (bytemuck::cast(mean), bytemuck::cast(s));
            let kk = k;
            for l in (0..4).filter(|l| slow >> l & 1 == 1) {
                let mut rng = lane(st, l);
                k[l] = poisson::after_step_s(m[l], sq[l], kk[l], u[l], &mut rng);
                set_lane(st, l, &rng);
            }
        }
    }
    #[cfg(test)]
    reached::hit(&reached::BELOW_ZERO, u64::from(below.count_ones()));
    if below != 0 {
        let (m, sq): ([f64; 4], [f64; 4]) = (bytemuck::cast(mean), bytemuck::cast(s));
        for l in (0..4).filter(|l| below >> l & 1 == 1) {
            let mut rng = lane(st, l);
            k[l] = poisson::below_zero(m[l], sq[l], &mut rng);
            set_lane(st, l, &rng);
        }
    }
    bytemuck::cast(k)
}
