//! Summaries of simulated paths: per-day quantiles over paths (the report's fan charts).

use rayon::prelude::*;

use crate::error::{CoreError, CoreResult, Position};

/// Per-day quantiles over paths of a path-major column (`values[p * n_days + d]`).
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
    let mut out = vec![0.0; n_days * w];
    out.par_chunks_mut(w).enumerate().for_each_init(
        || Vec::with_capacity(n_paths),
        |col, (d, dst)| {
            col.clear();
            col.extend((0..n_paths).map(|p| values[p * n_days + d]));
            dst[0] = col.iter().sum::<f64>() / n_paths as f64;
            col.sort_unstable_by(f64::total_cmp);
            for (k, q) in qs.iter().enumerate() {
                let h = q * (n_paths - 1) as f64;
                let lo = h.floor() as usize;
                let hi = h.ceil() as usize;
                dst[k + 1] = col[lo] + (col[hi] - col[lo]) * (h - lo as f64);
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
        let (n_paths, n_days) = (37, 11);
        let values: Vec<f64> = (0..n_paths * n_days)
            .map(|i| ((i * 7919) % 1013) as f64 * 0.5 - 100.0)
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
