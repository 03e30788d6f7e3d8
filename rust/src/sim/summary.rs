//! Summaries of simulated paths: per-day quantiles over paths (the report's fan charts).

use rayon::prelude::*;

use crate::error::{CoreError, CoreResult, Position};

/// Per-day mean and quantiles over paths of a path-major column (`values[p * n_days + d]`).
///
/// Returns `n_days × (1 + qs.len())` values, day-major: for day `d`, `out[d * (1 + nq)]` is
/// the mean over paths and `out[d * (1 + nq) + 1 + k]` the quantile `qs[k]`, the
/// linear-interpolation quantile (`h = q·(n−1)`, `x[⌊h⌋] + (x[⌈h⌉] − x[⌊h⌋])·(h − ⌊h⌋)`),
/// the definition polars and numpy use by default. Values must not be NaN.
pub fn day_quantiles(
    values: &[f64],
    n_paths: usize,
    n_days: usize,
    qs: &[f64],
) -> CoreResult<Vec<f64>> {
    let bad = |why: String| CoreError::InvalidValue {
        what: "fan column",
        at: Position::Scalar,
        why,
    };
    if n_paths == 0 || n_days == 0 || values.len() != n_paths * n_days {
        return Err(bad(format!(
            "has {} values; expected n_paths × n_days = {n_paths} × {n_days}",
            values.len()
        )));
    }
    if let Some(q) = qs.iter().find(|q| !(0.0..=1.0).contains(*q)) {
        return Err(bad(format!("quantile {q} is outside [0, 1]")));
    }
    if let Some(i) = values.iter().position(|v| v.is_nan()) {
        return Err(CoreError::InvalidValue {
            what: "fan column",
            at: Position::Row(i),
            why: "is NaN".into(),
        });
    }
    let w = qs.len() + 1;
    // Order statistics needed: ⌊h⌋ and ⌈h⌉ of every quantile, sorted and unique.
    let pos: Vec<(usize, usize, f64)> = qs
        .iter()
        .map(|q| {
            let h = q * (n_paths - 1) as f64;
            (h.floor() as usize, h.ceil() as usize, h - h.floor())
        })
        .collect();
    let mut ranks: Vec<usize> = pos.iter().flat_map(|&(lo, hi, _)| [lo, hi]).collect();
    ranks.sort_unstable();
    ranks.dedup();
    // Days in blocks: each path contributes a contiguous run of BLOCK values (cache-friendly
    // reads of the path-major input), then each day's column is selected, not sorted.
    const BLOCK: usize = 64;
    let mut out = vec![0.0; n_days * w];
    out.par_chunks_mut(BLOCK * w).enumerate().for_each_init(
        // per-thread buffers, reused across blocks (fresh pages fault slowly)
        || {
            (0..BLOCK)
                .map(|_| Vec::with_capacity(n_paths))
                .collect::<Vec<Vec<f64>>>()
        },
        |cols, (b, dst)| {
            let d0 = b * BLOCK;
            let nb = dst.len() / w;
            let cols = &mut cols[..nb];
            for c in cols.iter_mut() {
                c.clear();
            }
            for p in 0..n_paths {
                let row = &values[p * n_days + d0..p * n_days + d0 + nb];
                for (c, &v) in cols.iter_mut().zip(row) {
                    c.push(v);
                }
            }
            let mut at: Vec<(usize, f64)> = Vec::with_capacity(ranks.len());
            for (j, col) in cols.iter_mut().enumerate() {
                let out_d = &mut dst[j * w..(j + 1) * w];
                out_d[0] = col.iter().sum::<f64>() / n_paths as f64;
                // successive selections: after select_nth(k) everything right of k is >= it,
                // so rank k + 1 is the minimum of the right part (a scan, not a selection)
                at.clear();
                let mut start = 0;
                for &r in &ranks {
                    let v = if r > 0 && at.last().is_some_and(|(k, _)| *k + 1 == r) {
                        let m = col[r..].iter().copied().fold(f64::INFINITY, f64::min);
                        let i = col[r..].iter().position(|x| *x == m).map_or(r, |i| r + i);
                        col.swap(r, i);
                        m
                    } else {
                        *col[start..]
                            .select_nth_unstable_by(r - start, f64::total_cmp)
                            .1
                    };
                    at.push((r, v));
                    start = r;
                }
                let get = |r: usize| at.iter().find(|(k, _)| *k == r).map_or(f64::NAN, |x| x.1);
                for (k, &(lo, hi, frac)) in pos.iter().enumerate() {
                    let (a, z) = (get(lo), get(hi));
                    out_d[k + 1] = a + (z - a) * frac;
                }
            }
        },
    );
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The obvious definition, one day at a time.
    fn slow(values: &[f64], n_paths: usize, n_days: usize, qs: &[f64]) -> Vec<f64> {
        let mut out = Vec::new();
        for d in 0..n_days {
            let mut col: Vec<f64> = (0..n_paths).map(|p| values[p * n_days + d]).collect();
            out.push(col.iter().sum::<f64>() / n_paths as f64);
            col.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
            for q in qs {
                let h = q * (n_paths - 1) as f64;
                let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
                out.push(col[lo] + (col[hi] - col[lo]) * (h - lo as f64));
            }
        }
        out
    }

    #[test]
    fn matches_the_definition() {
        let (n_paths, n_days) = (37, 150); // more days than one block, a partial last block
        let values: Vec<f64> = (0..n_paths * n_days)
            .map(|i| ((i * 7919) % 101) as f64 * 0.5 - 10.0) // many ties
            .collect();
        let qs = [0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0];
        let got = day_quantiles(&values, n_paths, n_days, &qs);
        assert_eq!(got.ok(), Some(slow(&values, n_paths, n_days, &qs)));
    }

    #[test]
    fn one_path_and_errors() {
        let got = day_quantiles(&[3.0, 4.0], 1, 2, &[0.1, 0.9]);
        assert_eq!(got.ok(), Some(vec![3.0, 3.0, 3.0, 4.0, 4.0, 4.0]));
        assert!(day_quantiles(&[1.0, 2.0, 3.0], 2, 2, &[0.5]).is_err());
        assert!(day_quantiles(&[1.0, 2.0], 1, 2, &[1.5]).is_err());
        assert!(day_quantiles(&[1.0, f64::NAN], 1, 2, &[0.5]).is_err());
    }
}
