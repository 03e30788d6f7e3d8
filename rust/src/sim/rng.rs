//! Random streams: one xoshiro256++ generator per (seed, path, stream), derived with
//! SplitMix64, so a path's numbers depend only on the seed and the path index — never on
//! the thread count, the chunking of a large run or the order in which paths are scheduled.

use std::convert::Infallible;

use rand_core::{Rng, SeedableRng, TryRng};
use rand_xoshiro::SplitMix64;

/// xoshiro256++ (Blackman & Vigna 2019) with its state in view: the same generator as
/// `rand_xoshiro::Xoshiro256PlusPlus` (seeded the same way from a `u64`, the same words;
/// tested below), written here so that the drivers' fill can run four paths' generators
/// side by side in one AVX2 register set ([`super::drivers`]) and hand a lane's state to
/// the scalar code and back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Xoshiro256pp {
    pub s: [u64; 4],
}

impl Xoshiro256pp {
    /// The state `Xoshiro256PlusPlus::seed_from_u64(seed)` starts from: four words of
    /// SplitMix64 seeded with `seed` (never all zero: SplitMix64's outputs are a bijection
    /// of distinct states, so at most one of four consecutive ones is 0).
    #[must_use]
    pub fn seed_from_u64(seed: u64) -> Self {
        let mut sm = SplitMix64::seed_from_u64(seed);
        Self {
            s: [sm.next_u64(), sm.next_u64(), sm.next_u64(), sm.next_u64()],
        }
    }

    /// The next word.
    #[inline(always)]
    pub fn next_word(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }
}

impl TryRng for Xoshiro256pp {
    type Error = Infallible;

    #[inline(always)]
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok((self.next_word() >> 32) as u32)
    }

    #[inline(always)]
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(self.next_word())
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), Infallible> {
        for chunk in dest.chunks_mut(8) {
            let w = self.next_word().to_le_bytes();
            chunk.copy_from_slice(&w[..chunk.len()]);
        }
        Ok(())
    }
}

/// The driver stream (price, fees, power, GPU rent) of a path.
pub const STREAM_DRIVERS: u64 = 1;
/// The block-arrival stream of a path. Kept separate so that changing the network model
/// (hashrate) leaves the driver paths unchanged (common random numbers across scenarios).
pub const STREAM_BLOCKS: u64 = 2;

/// SplitMix64 finaliser (Steele, Lea & Flood 2014), the standard seed expander for xoshiro.
#[must_use]
pub fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The generator for `(seed, path, stream)`.
#[must_use]
pub fn stream(seed: u64, path: u64, stream: u64) -> Xoshiro256pp {
    let k = splitmix64(
        splitmix64(splitmix64(seed) ^ path) ^ stream.wrapping_mul(0xd1b5_4a32_d192_ed03),
    );
    Xoshiro256pp::seed_from_u64(k)
}

/// Run `f` on a copy of the generator, then store the copy back: the same numbers as
/// `f(rng)`. For the out-of-line (rare) steps of the samplers. A generator whose address
/// is passed to a call that is not inlined must live in memory for the whole day loop, so
/// that every draw loads and stores its four words and the next draw waits for them (store
/// forwarding, ~10 cycles a draw on the day's critical path); the copy is what escapes, and
/// the generator itself stays in registers.
#[inline(always)]
pub fn on_copy<R: Clone, T>(rng: &mut R, f: impl FnOnce(&mut R) -> T) -> T {
    let mut copy = rng.clone();
    let out = f(&mut copy);
    *rng = copy;
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngExt;

    /// The same words as `rand_xoshiro`'s generator, from the same `u64` seed, including a
    /// byte fill that does not end on a word boundary.
    #[test]
    fn same_words_as_rand_xoshiro() {
        use rand_xoshiro::Xoshiro256PlusPlus;
        for seed in [0, 1, 7, u64::MAX, 0x9e37_79b9_7f4a_7c15] {
            let mut a = Xoshiro256pp::seed_from_u64(seed);
            let mut b = Xoshiro256PlusPlus::seed_from_u64(seed);
            for _ in 0..10_000 {
                assert_eq!(a.next_u64(), b.next_u64(), "seed {seed}");
            }
            assert_eq!(a.next_u32(), b.next_u32());
            let (mut x, mut y) = ([0_u8; 13], [0_u8; 13]);
            a.fill_bytes(&mut x);
            b.fill_bytes(&mut y);
            assert_eq!(x, y);
            assert_eq!(a.next_u64(), b.next_u64());
        }
    }

    #[test]
    fn streams_differ_and_repeat() {
        let a: f64 = stream(1, 0, STREAM_DRIVERS).random();
        let b: f64 = stream(1, 1, STREAM_DRIVERS).random();
        let c: f64 = stream(1, 0, STREAM_BLOCKS).random();
        let a2: f64 = stream(1, 0, STREAM_DRIVERS).random();
        assert_ne!(a, b);
        assert_ne!(a, c);
        assert_eq!(a, a2);
    }
}
