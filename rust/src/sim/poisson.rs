//! Poisson draws for the daily block count: `rand_distr`'s own sampler, set up lazily.
//!
//! `rand_distr::Poisson` (0.6) samples λ ≥ 12 with Ahrens & Dieter's (1982) algorithm PD:
//! a normal deviate `g = λ + √λ·z` is accepted at once as `⌊g⌋` when `⌊g⌋ ≥ ⌊λ − 1.1484⌋`
//! (step I) or after one uniform when `6λ²·u ≥ (λ − ⌊g⌋)³` (step S), which is the end of the
//! draw almost always; only the rest go through the exact comparison (step P) or the
//! double-exponential rejection (steps E and H). `Poisson::new` computes every constant of
//! every step — three divisions and two square roots — and the block count needs a new λ for
//! each path and day, so that setup cost as much as the draw. [`sample`] computes the
//! constants of steps I and S only, and the others when a draw gets that far.
//!
//! It is the same algorithm with the same arithmetic on the same random numbers, so it
//! returns the same value and leaves the generator in the same state as
//! `Poisson::new(λ)?.sample(rng)`, for every λ; the test below checks it draw by draw over
//! λ from 12 (where steps P, E and H run most often) to 10⁷, and below 12, where both use
//! Knuth's method (this function calls `rand_distr` there). The code of steps P, E, H and F
//! is `rand_distr`'s (MIT OR Apache-2.0, like this crate).

use rand::{Rng, RngExt};

use super::rng::on_copy;
#[cfg(test)]
use rand_distr::StandardNormal;
use rand_distr::{Distribution, Exp1, Poisson, PoissonError};

/// One draw of Poisson(λ), as `rand_distr::Poisson::new(λ)?.sample(rng)` gives it.
///
/// # Errors
/// `rand_distr`'s error for a λ it rejects: not finite, not > 0, or above
/// `Poisson::MAX_LAMBDA`.
#[inline(always)]
pub fn sample<R: Rng + Clone>(lambda: f64, rng: &mut R) -> Result<f64, PoissonError> {
    if !(12.0..=Poisson::<f64>::MAX_LAMBDA).contains(&lambda) {
        // Knuth's method below 12, and every error: exactly rand_distr's path.
        return Poisson::new(lambda).map(|p| on_copy(rng, |r| p.sample(r)));
    }
    let s = lambda.sqrt();
    // Step N: a normal deviate (rand_distr's `Normal::new(λ, s).sample` is `λ + s·z`).
    let z = super::normal::standard_normal(rng);
    let g = lambda + s * z;
    // Step I accepts every z ≥ 0 (g = λ + s·z ≥ λ ≥ λ − 1.1484 in floating point too, and
    // `floor` is monotone), so those draws return here with the same value. The point is
    // when the branch is known: z as soon as the generator is, λ only at the end of the
    // day's chain (revenue → fleet → hashrate → λ → √λ). Step I's own test accepts about
    // half of the draws at random, so it was mispredicted on a large share of the days, each
    // time discarding the work begun past it; now only z < 0 waits for λ, and there step I
    // mostly rejects and step S mostly accepts (predictable). Probe: 1.5–4 % per path-day
    // (docs/design.md, session 10).
    if z >= 0.0 {
        return Ok(g.floor());
    }
    if g >= 0.0 {
        let k1 = g.floor();
        // Step I: immediate acceptance.
        if k1 >= (lambda - 1.1484).floor() {
            return Ok(k1);
        }
        // Step S: squeeze acceptance.
        let u: f64 = rng.random();
        if 6.0 * lambda.powi(2) * u >= (lambda - k1).powi(3) {
            return Ok(k1);
        }
        return Ok(on_copy(rng, |r| after_step_s(lambda, s, k1, u, r)));
    }
    Ok(on_copy(rng, |r| below_zero(lambda, s, r)))
}

/// The end of a draw whose candidate `k1` steps I and S rejected (`u`: step S's uniform):
/// step P, then steps E and H. `s = √λ`. For the four-lane draw of the lockstep engine too.
#[cold]
#[inline(never)]
pub(crate) fn after_step_s<R: Rng + ?Sized>(
    lambda: f64,
    s: f64,
    k1: f64,
    u: f64,
    rng: &mut R,
) -> f64 {
    let c = Slow::new(lambda, s);
    // Step P: the exact comparison.
    let (px, py, fx, fy) = c.f(k1);
    if fy * (1.0 - u) <= py * (px - fx).exp() {
        return k1;
    }
    c.steps_e_h(rng)
}

/// The end of a draw whose normal deviate gave `g < 0` (or NaN): steps E and H.
#[cold]
#[inline(never)]
pub(crate) fn below_zero<R: Rng + ?Sized>(lambda: f64, s: f64, rng: &mut R) -> f64 {
    Slow::new(lambda, s).steps_e_h(rng)
}

/// The constants of steps P, E, H and F (`rand_distr`'s `RejectionMethod::new`).
struct Slow {
    lambda: f64,
    s: f64,
    c: f64,
    c0: f64,
    c1: f64,
    c2: f64,
    c3: f64,
    omega: f64,
}

impl Slow {
    #[cold]
    #[inline(never)]
    fn new(lambda: f64, s: f64) -> Self {
        let b1 = (1.0 / 24.0) / lambda;
        let b2 = 0.3 * b1 * b1;
        let c3 = (1.0 / 7.0) * b1 * b2;
        let c2 = b2 - 15.0 * c3;
        let c1 = b1 - 6.0 * b2 + 45.0 * c3;
        let c0 = 1.0 - b1 + 3.0 * b2 - 15.0 * c3;
        Self {
            lambda,
            s,
            c: 0.1069 / lambda,
            c0,
            c1,
            c2,
            c3,
            omega: 1.0 / (2.0 * std::f64::consts::PI).sqrt() / lambda.sqrt(),
        }
    }

    /// Step F: `(px, py, fx, fy)` for the candidate `k`.
    fn f(&self, k: f64) -> (f64, f64, f64, f64) {
        const FACT: [f64; 10] = [
            1.0, 1.0, 2.0, 6.0, 24.0, 120.0, 720.0, 5040.0, 40320.0, 362_880.0,
        ];
        #[allow(clippy::unreadable_literal)]
        const A: [f64; 10] = [
            -0.5000000002,
            0.3333333343,
            -0.2499998565,
            0.1999997049,
            -0.1666848753,
            0.1428833286,
            -0.1241963125,
            0.1101687109,
            -0.1142650302,
            0.1055093006,
        ];
        let lambda = self.lambda;
        let (px, py) = if k < 10.0 {
            // k is a whole number in [0, 10) here.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let i = k as usize;
            (-lambda, lambda.powf(k) / FACT[i])
        } else {
            let delta = (12.0 * k).recip();
            let delta = delta - 4.8 * delta.powi(3);
            let v = (lambda - k) / k;
            let px = if v.abs() <= 0.25 {
                k * v.powi(2) * A.iter().rev().fold(0.0, |acc, &a| acc * v + a) - delta
            } else {
                k * (1.0 + v).ln() - (lambda - k) - delta
            };
            (px, 1.0 / (2.0 * std::f64::consts::PI).sqrt() / k.sqrt())
        };
        let x = (k - lambda + 0.5) / self.s;
        let fx = -0.5 * x * x;
        let fy = self.omega * (((self.c3 * x * x + self.c2) * x * x + self.c1) * x * x + self.c0);
        (px, py, fx, fy)
    }

    /// Steps E and H: double-exponential rejection until a candidate is accepted.
    #[cold]
    #[inline(never)]
    fn steps_e_h<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        loop {
            let e: f64 = Exp1.sample(rng);
            let u: f64 = rng.random::<f64>() * 2.0 - 1.0;
            let t = 1.8 + e * u.signum();
            if t > -0.6744 {
                let k2 = (self.lambda + self.s * t).floor();
                let (px, py, fx, fy) = self.f(k2);
                if self.c * u.abs() <= py * (px + e).exp() - fy * (fx + e).exp() {
                    return k2;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand_core::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    /// Draw `n` values with both samplers from the same seed; they must agree value by value
    /// and leave the generators in the same state.
    fn agree(lambda: f64, seed: u64, n: usize) -> Result<(), TestCaseError> {
        let mut a = Xoshiro256PlusPlus::seed_from_u64(seed);
        let mut b = a.clone();
        let reference = Poisson::new(lambda);
        for i in 0..n {
            let ours = sample(lambda, &mut a);
            let theirs = reference.map(|p| p.sample(&mut b));
            match (ours, theirs) {
                (Ok(x), Ok(y)) => {
                    prop_assert_eq!(x.to_bits(), y.to_bits(), "λ={} draw {}", lambda, i)
                }
                (Err(x), Err(y)) => prop_assert_eq!(x, y),
                (x, y) => prop_assert!(false, "λ={lambda}: {x:?} vs {y:?}"),
            }
        }
        prop_assert_eq!(
            a.random::<u64>(),
            b.random::<u64>(),
            "generator state after λ={}",
            lambda
        );
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn same_draws_as_rand_distr(log_lambda in (12f64).ln()..(1e7f64).ln(), seed in any::<u64>()) {
            agree(log_lambda.exp(), seed, 2000)?;
        }

        #[test]
        fn same_draws_as_rand_distr_small_and_at_the_switch(lambda in 0.01f64..14.0, seed in any::<u64>()) {
            agree(lambda, seed, 200)?;
        }
    }

    #[test]
    fn same_draws_at_the_edges_and_same_errors() -> Result<(), TestCaseError> {
        for lambda in [
            12.0,
            12.0 + f64::EPSILON * 16.0,
            144.0,
            1e12,
            Poisson::<f64>::MAX_LAMBDA,
        ] {
            agree(lambda, 7, 500)?;
        }
        for lambda in [0.0, -1.0, f64::NAN, f64::INFINITY, 2e19] {
            agree(lambda, 7, 1)?;
        }
        Ok(())
    }

    /// The slow steps must actually run in the comparison above (else it proves little):
    /// near λ = 12 a fair share of draws fail steps I and S.
    #[test]
    fn the_slow_steps_are_exercised() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
        let lambda = 12.5_f64;
        let (s, l) = (lambda.sqrt(), (lambda - 1.1484).floor());
        let mut slow = 0;
        for _ in 0..10_000 {
            let g = lambda + s * rng.sample::<f64, _>(StandardNormal);
            let u: f64 = rng.random();
            let k1 = g.floor();
            if g < 0.0 || (k1 < l && 6.0 * lambda.powi(2) * u < (lambda - k1).powi(3)) {
                slow += 1;
            }
        }
        assert!(slow > 100, "only {slow} of 10000 draws reach steps P/E/H");
    }
}
