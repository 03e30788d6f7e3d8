//! Column kernels: the scalar rules applied to whole columns, fast.
//!
//! Inputs are plain slices plus a null predicate (null slots may hold any value and are never
//! checked); outputs are dense vectors the bindings wrap as Arrow arrays with the input's null
//! buffer. Large columns are split across threads with rayon; the first error in row order is
//! returned, with its row, whatever the thread count.

use rayon::prelude::*;

use super::target::{bits_proof, bits_to_difficulty, target_of_bits, u256_getdouble, U256};
use crate::chain::buf::NumCol;
use crate::error::{CoreError, CoreResult};

/// Rows per parallel task.
const CHUNK: usize = 1 << 15;

/// Null predicate: `true` where the row is null.
pub type IsNull<'a> = &'a (dyn Fn(usize) -> bool + Sync);

/// One parallel pass over chunks: rows that `valid` accepts get the total function `f`
/// (no `Result` in the hot loop); a rejected non-null row stops with the error the fallible
/// scalar `explain` gives, at its row (the first in row order across chunks).
pub fn validate_then_map<I, O, E>(
    input: &[I],
    is_null: IsNull<'_>,
    valid: impl Fn(I) -> bool + Sync,
    explain: impl Fn(I) -> CoreResult<E> + Sync,
    f: impl Fn(I) -> O + Sync,
) -> CoreResult<Vec<O>>
where
    I: Copy + Sync,
    O: Copy + Default + Send,
{
    let mut out = vec![O::default(); input.len()];
    let results: Vec<CoreResult<()>> = out
        .par_chunks_mut(CHUNK)
        .zip(input.par_chunks(CHUNK))
        .enumerate()
        .map(|(ci, (o, i))| {
            for (k, (slot, &x)) in o.iter_mut().zip(i).enumerate() {
                if valid(x) {
                    *slot = f(x);
                } else if !is_null(ci * CHUNK + k) {
                    explain(x).map_err(|e| e.at_row(ci * CHUNK + k))?;
                }
            }
            Ok(())
        })
        .collect();
    results.into_iter().collect::<CoreResult<Vec<()>>>()?;
    Ok(out)
}

/// `GetDifficulty` per row; a zero mantissa is an error.
pub fn difficulty(bits: &[u32], is_null: IsNull<'_>) -> CoreResult<Vec<f64>> {
    validate_then_map(
        bits,
        is_null,
        |b| b & 0x00ff_ffff != 0,
        bits_to_difficulty,
        |b| bits_to_difficulty(b).unwrap_or(f64::INFINITY),
    )
}

fn checked_proof(bits: u32, strict: bool) -> CoreResult<U256> {
    if strict {
        target_of_bits(bits)?;
    }
    Ok(bits_proof(bits))
}

/// Work per row as Core's `getdouble()`. Consecutive equal bits (the common case: a chain
/// repeats its bits for 2016 blocks) reuse the previous row's result.
pub fn work_f64(bits: &[u32], is_null: IsNull<'_>, strict: bool) -> CoreResult<Vec<f64>> {
    let mut out = vec![0.0f64; bits.len()];
    let results: Vec<CoreResult<()>> = out
        .par_chunks_mut(CHUNK)
        .zip(bits.par_chunks(CHUNK))
        .enumerate()
        .map(|(ci, (o, i))| {
            let base = ci * CHUNK;
            let mut last: Option<(u32, f64)> = None;
            for (k, (slot, &b)) in o.iter_mut().zip(i).enumerate() {
                if is_null(base + k) {
                    continue;
                }
                *slot = match last {
                    Some((lb, v)) if lb == b => v,
                    _ => {
                        let v = u256_getdouble(
                            &checked_proof(b, strict).map_err(|e| e.at_row(base + k))?,
                        );
                        last = Some((b, v));
                        v
                    }
                };
            }
            Ok(())
        })
        .collect();
    results.into_iter().collect::<CoreResult<Vec<()>>>()?;
    Ok(out)
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Write `v` as 64 lowercase hex digits into `dst`.
pub fn write_hex64(v: &U256, dst: &mut [u8]) {
    for (i, byte) in v.to_be_bytes::<32>().iter().enumerate() {
        dst[2 * i] = HEX[usize::from(byte >> 4)];
        dst[2 * i + 1] = HEX[usize::from(byte & 0x0f)];
    }
}

/// Exact work per row as 64-digit hex, in the Arrow string-view layout: one `u128` view per
/// row plus data buffers. Each parallel chunk owns one buffer (its index is the chunk index);
/// consecutive rows with equal bits share one stored string, so a chain-shaped column (bits
/// repeated for 2016 blocks) stores each distinct value about once. Null rows get an empty view.
pub fn work_hex_views(
    bits: &[u32],
    is_null: IsNull<'_>,
    strict: bool,
) -> CoreResult<(Vec<u128>, Vec<Vec<u8>>)> {
    let mut views = vec![0u128; bits.len()];
    let results: Vec<CoreResult<Vec<u8>>> = views
        .par_chunks_mut(CHUNK)
        .zip(bits.par_chunks(CHUNK))
        .enumerate()
        .map(|(ci, (v, i))| {
            let base = ci * CHUNK;
            let mut buf: Vec<u8> = Vec::new();
            let mut last: Option<(u32, u128)> = None;
            for (k, (slot, &b)) in v.iter_mut().zip(i).enumerate() {
                if let Some((lb, lv)) = last {
                    if lb == b {
                        *slot = lv;
                        continue;
                    }
                }
                let w = match checked_proof(b, strict) {
                    Ok(w) => w,
                    Err(e) if !is_null(base + k) => return Err(e.at_row(base + k)),
                    Err(_) => continue, // null slot: empty view
                };
                let offset = buf.len();
                buf.resize(offset + 64, 0);
                write_hex64(&w, &mut buf[offset..]);
                let prefix = u32::from_le_bytes([
                    buf[offset],
                    buf[offset + 1],
                    buf[offset + 2],
                    buf[offset + 3],
                ]);
                let view = 64u128
                    | (u128::from(prefix) << 32)
                    | ((ci as u128) << 64)
                    | ((offset as u128) << 96);
                *slot = view;
                last = Some((b, view));
            }
            Ok(buf)
        })
        .collect();
    let buffers = results.into_iter().collect::<CoreResult<Vec<Vec<u8>>>>()?;
    // Null rows must carry an empty view (length 0).
    for (row, v) in views.iter_mut().enumerate() {
        if *v != 0 && is_null(row) {
            *v = 0;
        }
    }
    Ok((views, buffers))
}

/// Heights the multiply-shift division handles (31-bit dividends).
const MAGIC_LIMIT: i64 = 1 << 31;

/// `⌊h / d⌋ = (h · mul) >> shift` for every `0 ≤ h < 2^31` (Granlund & Montgomery 1994,
/// Theorem 4.2 with N = 31: ℓ = ⌈log2 d⌉, mul = ⌈2^(31+ℓ) / d⌉ < 2^32, so `h · mul < 2^63`).
#[derive(Clone, Copy, Debug)]
struct Magic {
    mul: u32,
    shift: u32,
}

impl Magic {
    fn new(d: i64) -> Option<Self> {
        if !(1..MAGIC_LIMIT).contains(&d) {
            return None;
        }
        let l = 64 - ((d - 1) as u64).leading_zeros(); // ⌈log2 d⌉ (0 for d = 1)
        let shift = 31 + l;
        let mul = (1u64 << shift).div_ceil(d as u64);
        u32::try_from(mul).ok().map(|mul| Self { mul, shift })
    }
}

/// The subsidy of each height (`0 ≤ h < 2^31`): era by multiply-shift, `50 BTC >> era`,
/// 0 from era 64. Branch-free; the AVX2 clone vectorises (vpmuludq, vpsrlvq).
#[multiversion::multiversion(targets("x86_64+avx2"))]
fn subsidy_magic(out: &mut [i64], heights: &[i64], mul: u32, shift: u32) {
    let initial = super::subsidy::INITIAL_SUBSIDY_SAT as u64;
    for (o, &h) in out.iter_mut().zip(heights) {
        let h = (h.max(0) as u64) & 0x7fff_ffff; // callers pass h < 2^31; keeps the bound visible
        let q = (h * u64::from(mul)) >> shift;
        *o = initial.checked_shr(q as u32).unwrap_or(0) as i64;
    }
}

/// Block subsidy per row (sat) for a fixed halving interval. The column comes from the
/// buffer pool ([`NumCol::for_overwrite`]: every row is written below), so repeated calls
/// reuse memory instead of faulting in fresh pages.
pub fn subsidy(heights: &[i64], is_null: IsNull<'_>, interval: i64) -> CoreResult<NumCol<i64>> {
    if interval <= 0 {
        return Err(CoreError::InvalidValue {
            what: "subsidy_halving_interval",
            at: Default::default(),
            why: format!("{interval} must be > 0 blocks"),
        });
    }
    // Subsidy by era from a table; era = height / interval by a float reciprocal with an
    // exact ±1 correction, branch-free. Valid while h < 2^52 (exact in f64) and interval
    // < 2^32 (so q·interval cannot overflow); otherwise plain division.
    let mut table = [0i64; 65];
    for (k, t) in table.iter_mut().enumerate().take(64) {
        *t = super::subsidy::INITIAL_SUBSIDY_SAT >> k;
    }
    let inv = 1.0 / interval as f64;
    let fast = interval < (1 << 32);
    let magic = Magic::new(interval);
    let mut out = NumCol::<i64>::for_overwrite(heights.len());
    // One parallel pass per chunk: its range (vectorised min/max), the first negative
    // non-null row if any (the error; the first in row order wins whatever the thread
    // count), then the subsidies.
    let first_bad = out
        .par_chunks_mut(CHUNK)
        .zip(heights.par_chunks(CHUNK))
        .enumerate()
        .map(|(c, (o, i))| {
            let (lo, hi) = i
                .iter()
                .fold((i64::MAX, i64::MIN), |(lo, hi), &h| (lo.min(h), hi.max(h)));
            let bad = if lo < 0 {
                i.iter()
                    .enumerate()
                    .position(|(j, &h)| h < 0 && !is_null(c * CHUNK + j))
                    .map(|j| c * CHUNK + j)
            } else {
                None
            };
            // Heights below 2^31 (every real chain for a long time): exact multiply-shift
            // division, compiled for AVX2 where the CPU has it. Anything else (and null slots
            // holding large garbage): the general path below.
            if let Some(m) = magic.filter(|_| hi < MAGIC_LIMIT) {
                subsidy_magic(o, i, m.mul, m.shift);
                return bad;
            }
            for (slot, &h) in o.iter_mut().zip(i) {
                let h = h.max(0); // null slots may hold anything
                let q = if fast && h < (1 << 52) {
                    let q = (h as f64 * inv) as i64; // one cvttsd2si
                    let p = q * interval;
                    q - i64::from(p > h) + i64::from(h - p >= interval)
                } else {
                    h / interval
                };
                *slot = table[q.clamp(0, 64) as usize];
            }
            bad
        })
        .flatten()
        .min();
    if let Some(row) = first_bad {
        super::subsidy::block_subsidy(heights[row], interval).map_err(|e| e.at_row(row))?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_division_is_exact() {
        let mut ds: Vec<i64> = vec![1, 2, 3, 7, 150, 2016, 210_000, 210_001, (1 << 30) + 1];
        ds.extend((0..31).map(|k| 1i64 << k));
        ds.extend((1..31).map(|k| (1i64 << k) - 1));
        for &d in &ds {
            let m = Magic::new(d);
            assert!(m.is_some(), "no magic for {d}");
            let Some(m) = m else { continue };
            let mut hs: Vec<i64> = vec![0, 1, d - 1, d, d + 1, MAGIC_LIMIT - 1, MAGIC_LIMIT - 2];
            hs.extend((1..64).flat_map(|k| [k * d - 1, k * d, k * d + 1]));
            hs.extend((0..2000).map(|i| (i * 1_073_741) % MAGIC_LIMIT));
            hs.retain(|h| (0..MAGIC_LIMIT).contains(h));
            for &h in &hs {
                let got = ((h as u64) * u64::from(m.mul)) >> m.shift;
                assert_eq!(got, (h / d) as u64, "h={h} d={d}");
            }
        }
        assert!(Magic::new(0).is_none() && Magic::new(MAGIC_LIMIT).is_none());
    }

    #[test]
    fn subsidy_column_equals_the_scalar_rule() {
        let none = |_: usize| false;
        for interval in [1i64, 150, 210_000, 1 << 40] {
            let hs: Vec<i64> = (0..3 * CHUNK as i64 + 5)
                .map(|i| (i * 7_919 * 1_013) % (70 * interval.min(1 << 24)))
                .chain([MAGIC_LIMIT - 1, MAGIC_LIMIT, 1 << 40, i64::MAX])
                .collect();
            let got = subsidy(&hs, &none, interval).ok().map(|c| c.to_vec());
            let want: Option<Vec<i64>> = hs
                .iter()
                .map(|&h| super::super::subsidy::block_subsidy(h, interval).ok())
                .collect();
            assert_eq!(got, want, "interval {interval}");
        }
    }

    #[test]
    fn columns_match_scalars_and_report_first_row() {
        let n = 3 * CHUNK + 7;
        let bits: Vec<u32> = (0..n)
            .map(|i| {
                if i % 5000 < 2500 {
                    0x1d00ffff
                } else {
                    0x17034219
                }
            })
            .collect();
        let none = |_: usize| false;
        let d = difficulty(&bits, &none).unwrap_or_default();
        assert_eq!(d.len(), n);
        assert_eq!(d[0], 1.0);
        assert_eq!(d[2500], 86388558925171.02);
        let (views, bufs) = work_hex_views(&bits, &none, true).unwrap_or_default();
        let row = |i: usize| {
            let v = views[i];
            let (b, o) = ((v >> 64) as u32 as usize, (v >> 96) as usize);
            String::from_utf8_lossy(&bufs[b][o..o + 64]).into_owned()
        };
        assert_eq!(row(0), format!("{:064x}", 0x100010001u64));
        assert_eq!(row(n - 1), row(n - 1 - 5000));
        assert_eq!(row(n - 1), format!("{:064x}", bits_proof(0x17034219)));
        assert!(bufs.iter().map(Vec::len).sum::<usize>() < 64 * 64);
        let f = work_f64(&bits, &none, true).unwrap_or_default();
        assert_eq!(f[1], 4295032833.0);
        let mut bad = bits.clone();
        bad[2 * CHUNK + 3] = 0x1d80ffff;
        bad[3 * CHUNK + 1] = 0x1d80ffff;
        let e = work_hex_views(&bad, &none, true).err();
        assert!(
            matches!(e, Some(CoreError::InvalidBits { at, .. }) if at == crate::error::Position::Row(2 * CHUNK + 3))
        );
        // the same rows are ignored when null
        let nulls = |i: usize| i == 2 * CHUNK + 3 || i == 3 * CHUNK + 1;
        assert!(work_hex_views(&bad, &nulls, true).is_ok());
        for interval in [1i64, 150, 210_000, 1_000_003, i64::MAX / 3] {
            let hs: Vec<i64> = [
                0i64,
                1,
                2,
                149,
                150,
                151,
                209_999,
                210_000,
                839_999,
                840_000,
                6_929_999,
                6_930_000,
                13_440_000,
                (1 << 53) + 1,
                i64::MAX - 1,
                i64::MAX,
            ]
            .iter()
            .flat_map(|&h| {
                [
                    h,
                    h.saturating_mul(1).saturating_sub(interval),
                    interval.saturating_mul(63),
                    interval.saturating_mul(64).saturating_sub(1),
                ]
            })
            .filter(|&h| h >= 0)
            .collect();
            let got = subsidy(&hs, &none, interval);
            assert!(got.is_ok(), "interval {interval}");
            let got = got.unwrap_or_default();
            assert_eq!(got.len(), hs.len());
            for (h, &g) in hs.iter().zip(got.iter()) {
                assert_eq!(
                    Some(g),
                    super::super::subsidy::block_subsidy(*h, interval).ok(),
                    "h={h} interval={interval}"
                );
            }
        }
        let s = subsidy(&[0, 840_000, -1], &|i| i == 2, 210_000).unwrap_or_default();
        assert_eq!(s[..2], [5_000_000_000, 312_500_000]); // row 2 is null: any value
    }
}
