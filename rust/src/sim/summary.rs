//! Summaries of simulated paths: per-day quantiles over paths (the report's fan charts).

use rayon::prelude::*;

use crate::chain::buf::NumCol;
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
    if n_paths == 0 || n_days == 0 || n_paths.checked_mul(n_days) != Some(values.len()) {
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

/// Days of service of every row of a path-major frame (`n_days` rows a path): row
/// `p · n_days + d` holds `max(d − starts[p], 0)`, so a path whose start lies past the horizon
/// has age 0 throughout. The service clock of `hashpivot.revenue.with_service_age`, written
/// once into a pooled buffer (an expression over the frame allocated four columns of it).
///
/// # Errors
/// `n_paths × n_days` overflows, or `n_days` exceeds `i32::MAX` (ages are Int32).
pub fn service_age(starts: &[i64], n_days: usize) -> CoreResult<NumCol<i32>> {
    let n = starts
        .len()
        .checked_mul(n_days)
        .filter(|_| i32::try_from(n_days).is_ok())
        .ok_or_else(|| CoreError::InvalidValue {
            what: "service clock",
            at: Position::Scalar,
            why: format!("{} paths × {n_days} days is too large", starts.len()),
        })?;
    let mut out = NumCol::for_overwrite(n);
    if n > 0 {
        out.par_chunks_mut(n_days)
            .zip(starts.par_iter())
            .for_each(|(row, &s)| {
                for (d, v) in (0_i64..).zip(row.iter_mut()) {
                    // clamped into i32's range just before the cast
                    #[allow(clippy::cast_possible_truncation)]
                    {
                        *v = d.saturating_sub(s).clamp(0, i64::from(i32::MAX)) as i32;
                    }
                }
            });
    }
    Ok(out)
}

/// MW changes at most this large (in MW) are rounding residue of step sums, not new tranches.
pub const TRANCHE_EPS_MW: f64 = 1e-9;

/// One path's tranches, `(start day, MW held)`, after each day `d`, fed to `emit(d, tranches)`
/// (see [`service_tranches`]; `lead` is the model's lead time in days).
fn split_path(
    row: &[f64],
    k_max: usize,
    lead: usize,
    mut emit: impl FnMut(usize, &[(usize, f64)]),
) {
    let mut tr: Vec<(usize, f64)> = Vec::new();
    let mut prev = 0.0;
    for (d, &x) in row.iter().enumerate() {
        let delta = x - prev;
        prev = x;
        if delta > 0.0 {
            let join = tr.len() >= k_max || delta <= TRANCHE_EPS_MW;
            match tr.last_mut() {
                Some(last) if join => last.1 += delta,
                _ => tr.push((d, delta)),
            }
        } else if delta < 0.0 {
            let mut rest = -delta;
            // MW still in their lead time first, newest first (starts never decrease, so
            // they are the last tranches) ...
            for t in tr.iter_mut().rev() {
                if rest <= 0.0 || t.0.saturating_add(lead) <= d {
                    break;
                }
                let take = rest.min(t.1);
                t.1 -= take;
                rest -= take;
            }
            // ... then the oldest
            for t in &mut tr {
                if rest <= 0.0 {
                    break;
                }
                let take = rest.min(t.1);
                t.1 -= take;
                rest -= take;
            }
        }
        emit(d, &tr);
    }
}

/// The result of [`service_tranches`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tranches {
    /// The most tranches any path has.
    pub k: usize,
    /// The MW each tranche asked for (`held_of`) holds on every row (path-major).
    pub held: Vec<Vec<f64>>,
    /// `starts[j][p]`: the day tranche `j` of path `p` starts (`n_days` if it has none).
    pub starts: Vec<Vec<i64>>,
}

/// A path-major MW column (`mw[p * n_days + d]`) split into service tranches, the
/// decomposition `hashpivot.revenue.service_tranches` documents:
///
/// * every rise of a path's MW by more than [`TRANCHE_EPS_MW`] (a path's first rise counts
///   whatever its size) starts a new tranche holding the added MW, up to `k_max` tranches a
///   path; later rises, and rises of at most the tolerance, join the path's newest tranche;
/// * every fall first takes MW still in their lead time (tranches started less than `lead`
///   days before), the newest first, then MW from the oldest tranche that still holds some,
///   then the next.
///
/// Returns [`Tranches`]: `k` the most tranches any path has, the start day of every tranche
/// `j < k` of every path (`n_days` where the path has fewer), and for each index in `held_of`
/// (each `< k`) the MW that tranche holds on every row (0 where the path has no such tranche
/// or before it starts). The split runs once to count and once more if `held_of` is not
/// empty, so a caller can take one tranche's column at a time. On every row the tranches add
/// up to the MW (up to rounding).
///
/// # Errors
/// A column that is not whole paths of `n_days`, `k_max = 0`, or an index in `held_of` that
/// is not below `k`.
pub fn service_tranches(
    mw: &[f64],
    n_days: usize,
    k_max: usize,
    lead: usize,
    held_of: &[usize],
) -> CoreResult<Tranches> {
    let bad = |why: String| CoreError::InvalidValue {
        what: "service tranches",
        at: Position::Scalar,
        why,
    };
    if n_days == 0 || !mw.len().is_multiple_of(n_days) {
        return Err(bad(format!(
            "{} MW values are not whole paths of {n_days} days",
            mw.len()
        )));
    }
    if k_max == 0 {
        return Err(bad("at most 0 tranches a path: allow at least 1".into()));
    }
    let n_paths = mw.len() / n_days;
    let day_of = |d: usize| i64::try_from(d).unwrap_or(i64::MAX);
    // Pass 1: every path's tranche starts.
    let per_path: Vec<Vec<i64>> = mw
        .par_chunks(n_days)
        .map(|row| {
            let mut firsts = Vec::new();
            split_path(row, k_max, lead, |_, tr| {
                if tr.len() > firsts.len() {
                    firsts.extend(tr[firsts.len()..].iter().map(|t| day_of(t.0)));
                }
            });
            firsts
        })
        .collect();
    let k = per_path.iter().map(Vec::len).max().unwrap_or(0);
    if let Some(&j) = held_of.iter().find(|&&j| j >= k) {
        return Err(bad(format!(
            "tranche {j} asked for, but paths have at most {k}"
        )));
    }
    let mut starts = vec![vec![day_of(n_days); n_paths]; k];
    for (p, firsts) in per_path.iter().enumerate() {
        for (j, &s) in firsts.iter().enumerate() {
            starts[j][p] = s;
        }
    }
    // Pass 2: the asked-for columns, written path by path (each path owns its rows of each).
    let mut held = vec![vec![0.0; mw.len()]; held_of.len()];
    if !held_of.is_empty() {
        let mut rows: Vec<Vec<&mut [f64]>> = (0..n_paths)
            .map(|_| Vec::with_capacity(held_of.len()))
            .collect();
        for col in &mut held {
            for (p, chunk) in col.chunks_mut(n_days).enumerate() {
                rows[p].push(chunk);
            }
        }
        mw.par_chunks(n_days)
            .zip(rows.par_iter_mut())
            .for_each(|(row, out)| {
                split_path(row, k_max, lead, |d, tr| {
                    for (col, &j) in out.iter_mut().zip(held_of) {
                        if let Some(t) = tr.get(j) {
                            col[d] = t.1;
                        }
                    }
                });
            });
    }
    Ok(Tranches { k, held, starts })
}

/// Per path, the first day whose trailing `window`-day mean of `values` (path-major,
/// `values[p * n_days + d]`) is below `threshold` (`below = true`) or above it; `None`
/// where it never is. Days before `window − 1` have no full window and never fire.
///
/// The mean is the plain left-to-right sum of the window divided by `window` (what
/// `hashpivot._reference.rolling_trigger` computes): a running sum decides every day that is
/// clearly on one side, and the window is summed directly whenever the running sum is within
/// its rounding bound of the threshold, so the result equals the direct definition exactly.
pub fn first_crossing(
    values: &[f64],
    n_paths: usize,
    n_days: usize,
    window: usize,
    threshold: f64,
    below: bool,
) -> CoreResult<Vec<Option<i64>>> {
    if window == 0 || values.len() != n_paths * n_days {
        return Err(CoreError::InvalidValue {
            what: "rolling signal",
            at: Position::Scalar,
            why: format!(
                "has {} values for {n_paths} paths × {n_days} days and window {window}; \
                 expected n_paths × n_days values and window ≥ 1",
                values.len()
            ),
        });
    }
    let w = window as f64;
    let fires = |mean: f64| {
        if below {
            mean < threshold
        } else {
            mean > threshold
        }
    };
    let out = values
        .par_chunks(n_days.max(1))
        .map(|path| {
            let (mut sum, mut abs, mut max_abs) = (0.0f64, 0.0f64, 0.0f64);
            for (d, &v) in path.iter().enumerate() {
                sum += v;
                abs += v.abs();
                if d >= window {
                    sum -= path[d - window];
                    abs -= path[d - window].abs();
                }
                max_abs = max_abs.max(abs.abs());
                if d + 1 < window {
                    continue;
                }
                // Each add/subtract so far rounded once, by at most ε times a partial sum no
                // larger (in magnitude) than the largest window |sum| seen, with slack.
                let bound = 4.0 * (d + 2) as f64 * f64::EPSILON * (max_abs + 1.0);
                let gap = sum - threshold * w;
                let fired = if gap.abs() > bound + 4.0 * f64::EPSILON * (threshold * w).abs() {
                    fires(sum / w)
                } else {
                    let direct: f64 = path[d + 1 - window..=d].iter().sum();
                    fires(direct / w)
                };
                if fired {
                    return Some(d as i64);
                }
            }
            None
        })
        .collect();
    Ok(out)
}

/// A column held as consecutive chunks (Arrow's chunked arrays), read by row range.
#[derive(Debug, Clone)]
pub struct Chunked<'a> {
    parts: Vec<&'a [f64]>,
    starts: Vec<usize>,
    len: usize,
}

impl<'a> Chunked<'a> {
    /// The chunks, in row order.
    #[must_use]
    pub fn new(parts: Vec<&'a [f64]>) -> Self {
        let mut starts = Vec::with_capacity(parts.len());
        let mut len = 0;
        for p in &parts {
            starts.push(len);
            len += p.len();
        }
        Self { parts, starts, len }
    }

    /// Rows `[start, start + n)`: borrowed when they lie in one chunk, else copied into `buf`.
    fn rows<'b>(&'b self, start: usize, n: usize, buf: &'b mut Vec<f64>) -> &'b [f64] {
        let i = match self.starts.binary_search(&start) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        // skip empty chunks that share a start
        let mut i = i;
        while i + 1 < self.parts.len() && self.starts[i + 1] == start {
            i += 1;
        }
        let off = start - self.starts[i];
        if off + n <= self.parts[i].len() {
            return &self.parts[i][off..off + n];
        }
        buf.clear();
        let (mut part, mut off) = (i, off);
        while buf.len() < n && part < self.parts.len() {
            let take = (n - buf.len()).min(self.parts[part].len() - off);
            buf.extend_from_slice(&self.parts[part][off..off + take]);
            part += 1;
            off = 0;
        }
        buf
    }
}

/// A revenue model's daily flows over path-major rows (`n_days` rows a path) and the day
/// boundaries at which [`flow_table`] records every path's running sums.
#[derive(Debug, Clone)]
pub struct Flows<'a> {
    pub rev: Chunked<'a>,
    pub opex: Chunked<'a>,
    pub capex: Option<Chunked<'a>>,
    /// Discount factor of each day index.
    pub disc_day: &'a [f64],
    pub n_paths: usize,
    pub n_days: usize,
    /// Strictly increasing day indices from 0 to `n_days` (both included).
    pub bounds: &'a [usize],
}

/// One day's step of the four running sums `[n, r, o, c]`: `n += (r − o − c)·disc`,
/// `r += r`, `o += o`, `c += c` (`c = 0` without capex, and `x − 0.0 = x`). [`flow_table`]
/// and [`flow_at`] share it, so a sum continued from a table entry equals the running sum
/// from the path's first day bit for bit.
#[inline(always)]
fn flow_step(a: &mut [f64; 4], r: f64, o: f64, c: f64, disc: f64) {
    a[0] += (r - o - c) * disc;
    a[1] += r;
    a[2] += o;
    a[3] += c;
}

impl Flows<'_> {
    fn check(&self) -> CoreResult<()> {
        let n = self.n_paths.saturating_mul(self.n_days);
        let bad = |why: String| CoreError::InvalidValue {
            what: "cash-flow columns",
            at: Position::Scalar,
            why,
        };
        if self.rev.len != n
            || self.opex.len != n
            || self.capex.as_ref().is_some_and(|c| c.len != n)
            || self.disc_day.len() != self.n_days
            || self.n_days == 0
        {
            return Err(bad(format!(
                "lengths {}/{}/{:?}/{} do not fit {} paths × {} days",
                self.rev.len,
                self.opex.len,
                self.capex.as_ref().map(|c| c.len),
                self.disc_day.len(),
                self.n_paths,
                self.n_days
            )));
        }
        let b = self.bounds;
        if b.first() != Some(&0)
            || b.last() != Some(&self.n_days)
            || b.windows(2).any(|w| w[0] >= w[1])
        {
            return Err(bad(format!(
                "day boundaries must rise strictly from 0 to {}, got {} values",
                self.n_days,
                b.len()
            )));
        }
        Ok(())
    }

    /// Days `[from, to)` of path `p`: the running sums `a` continued over them.
    fn walk(
        &self,
        p: usize,
        from: usize,
        to: usize,
        mut a: [f64; 4],
        bufs: &mut (Vec<f64>, Vec<f64>, Vec<f64>),
        mut at_bound: impl FnMut(usize, [f64; 4]),
    ) -> [f64; 4] {
        let (br, bo, bc) = bufs;
        let (start, n) = (p * self.n_days + from, to - from);
        let r = self.rev.rows(start, n, br);
        let o = self.opex.rows(start, n, bo);
        let c = self
            .capex
            .as_ref()
            .map_or(&[][..], |c| c.rows(start, n, bc));
        let disc = &self.disc_day[from..to];
        for i in 0..n {
            at_bound(from + i, a);
            flow_step(
                &mut a,
                r[i],
                o[i],
                c.get(i).copied().unwrap_or(0.0),
                disc[i],
            );
        }
        a
    }
}

/// Every path's running sums `[n, r, o, c]` of its flows (see [`flow_step`]) before each
/// boundary day: entry `p · bounds.len() + j` sums days `[0, bounds[j])` of path `p` (the last
/// boundary, `n_days`, gives the path's totals). One read of the columns; paths in parallel.
/// Inputs may be chunked (no copy of the columns; a path that straddles two chunks is copied
/// into a small buffer).
pub fn flow_table(f: &Flows<'_>) -> CoreResult<Vec<[f64; 4]>> {
    f.check()?;
    let nb = f.bounds.len();
    let mut table = vec![[0.0; 4]; f.n_paths * nb];
    table.par_chunks_mut(nb).enumerate().for_each_init(
        || (Vec::new(), Vec::new(), Vec::new()),
        |bufs, (p, row)| {
            let mut j = 0;
            let end = f.walk(p, 0, f.n_days, [0.0; 4], bufs, |d, a| {
                if f.bounds[j] == d {
                    row[j] = a;
                    j += 1;
                }
            });
            row[nb - 1] = end;
        },
    );
    Ok(table)
}

/// The running sums of path `i mod n_paths` before day `days[i]` (in `0..=n_days`) for every
/// query `i`: the [`flow_table`] entry of the last boundary at or before the day, continued
/// over the days from there (fewer than the gap between two boundaries). Equal bit for bit
/// to the running sum from the path's first day.
pub fn flow_at(f: &Flows<'_>, table: &[[f64; 4]], days: &[i64]) -> CoreResult<Vec<[f64; 4]>> {
    f.check()?;
    let nb = f.bounds.len();
    if table.len() != f.n_paths * nb || f.n_paths == 0 || !days.len().is_multiple_of(f.n_paths) {
        return Err(CoreError::InvalidValue {
            what: "cash-flow query",
            at: Position::Scalar,
            why: format!(
                "{} days for {} paths, table of {} (want {})",
                days.len(),
                f.n_paths,
                table.len(),
                f.n_paths * nb
            ),
        });
    }
    if let Some(i) = days
        .iter()
        .position(|&d| d < 0 || d as u64 > f.n_days as u64)
    {
        return Err(CoreError::InvalidValue {
            what: "cash-flow query day",
            at: Position::Row(i),
            why: format!("{} is outside 0..={}", days[i], f.n_days),
        });
    }
    // the boundary index at or before each day
    let mut bound_of = Vec::with_capacity(f.n_days + 1);
    for (j, w) in f.bounds.windows(2).enumerate() {
        bound_of.extend(std::iter::repeat_n(j, w[1] - w[0]));
    }
    bound_of.push(nb - 1);
    let mut out = vec![[0.0; 4]; days.len()];
    out.par_iter_mut().enumerate().for_each_init(
        || (Vec::new(), Vec::new(), Vec::new()),
        |bufs, (i, slot)| {
            let p = i % f.n_paths;
            let d = days[i] as usize;
            let j = bound_of[d];
            *slot = f.walk(p, f.bounds[j], d, table[p * nb + j], bufs, |_, _| {});
        },
    );
    Ok(out)
}

/// Annual IRR per row by bisection on `[−0.99, 10]` over monthly flows `periods[k][i]` (period
/// `k` of row `i`; the NPV is `Σ cf_k · v^k` by Horner with `v = (1 + r)^(−1/12)`), `iterations`
/// halvings. `None` unless the row's flows are an investment (they start negative and change
/// sign exactly once, zeros skipped) and the NPV changes sign over the bracket. The same
/// floating-point operations in the same order as `hashpivot._reference.irr_bisect`; rows run
/// in parallel.
pub fn irr_bisect(periods: &[&[f64]], iterations: usize) -> CoreResult<Vec<Option<f64>>> {
    if iterations > 200 {
        return Err(CoreError::InvalidValue {
            what: "irr iterations",
            at: Position::Scalar,
            why: format!("{iterations} halvings; more than 200 cannot narrow an f64 bracket"),
        });
    }
    let n = periods.first().map_or(0, |p| p.len());
    if periods.is_empty() || periods.iter().any(|p| p.len() != n) {
        return Err(CoreError::InvalidValue {
            what: "irr periods",
            at: Position::Scalar,
            why: "need at least one period and the same number of rows in every period".into(),
        });
    }
    let last = periods.len() - 1;
    let row = |i: usize| -> Option<f64> {
        let npv = |r: f64| {
            let v = (r + 1.0).powf(-1.0 / 12.0);
            let mut acc = periods[last][i];
            for k in (0..last).rev() {
                acc = acc * v + periods[k][i];
            }
            acc
        };
        // an investment: starts negative, one sign change (zeros skipped)
        let (mut first, mut prev, mut changes) = (0.0f64, 0.0f64, 0u32);
        for p in periods {
            let x = p[i];
            let sign = if x > 0.0 {
                1.0
            } else if x < 0.0 {
                -1.0
            } else if x == 0.0 {
                0.0
            } else {
                f64::NAN
            };
            if sign != 0.0 && prev != 0.0 && sign != prev {
                changes += 1;
            }
            if first == 0.0 {
                first = sign;
            }
            if sign != 0.0 {
                prev = sign;
            }
        }
        let (mut lo, mut hi) = (-0.99f64, 10.0f64);
        let mut f_lo = npv(lo);
        let f_hi = npv(hi);
        let ok = f_lo * f_hi <= 0.0 && changes == 1 && first < 0.0;
        for _ in 0..iterations {
            let mid = (lo + hi) * 0.5;
            let f_mid = npv(mid);
            if f_lo * f_mid <= 0.0 {
                hi = mid;
            } else {
                lo = mid;
                f_lo = f_mid;
            }
        }
        ok.then_some((lo + hi) * 0.5)
    };
    Ok((0..n).into_par_iter().map(row).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every tranche's column of a split.
    fn split(mw: &[f64], n_days: usize, k_max: usize, lead: usize) -> Tranches {
        let k = service_tranches(mw, n_days, k_max, lead, &[]).map_or(0, |t| t.k);
        let all: Vec<usize> = (0..k).collect();
        service_tranches(mw, n_days, k_max, lead, &all).unwrap_or_default()
    }

    #[test]
    fn tranches_start_at_each_rise_and_fall_first_in_first_out() {
        // path 0: 10 MW on day 0, +5 on day 2, −12 on day 3 (all of tranche 0, 2 of tranche 1),
        // everything gone on day 4, 7 back on day 5 (a new tranche)
        // path 1: nothing, then 3 MW on day 1 and a rise within the tolerance on day 2
        let mw = [
            [10.0, 10.0, 15.0, 3.0, 0.0, 7.0],
            [0.0, 3.0, 3.0 + 1e-12, 3.0 + 1e-12, 3.0 + 1e-12, 0.0],
        ]
        .concat();
        let Tranches { k, held, starts } = split(&mw, 6, 8, 0);
        assert_eq!(k, 3);
        assert_eq!(held[0][..6], [10.0, 10.0, 10.0, 0.0, 0.0, 0.0]);
        assert_eq!(held[1][..6], [0.0, 0.0, 5.0, 3.0, 0.0, 0.0]);
        assert_eq!(held[2][..6], [0.0, 0.0, 0.0, 0.0, 0.0, 7.0]);
        assert_eq!(
            held[0][6..],
            [0.0, 3.0, 3.0 + 1e-12, 3.0 + 1e-12, 3.0 + 1e-12, 0.0]
        );
        assert!(held[1][6..].iter().chain(&held[2][6..]).all(|&x| x == 0.0));
        assert_eq!(starts, vec![vec![0, 1], vec![2, 6], vec![5, 6]]);
        // one column at a time gives the same
        let one = service_tranches(&mw, 6, 8, 0, &[2]).unwrap_or_default();
        assert_eq!(
            (one.k, &one.held[..], &one.starts),
            (3, &held[2..], &starts)
        );
        // with a 2-day lead time the fall on day 3 first cancels the 5 MW added on day 2
        let t = split(&mw, 6, 8, 2);
        assert_eq!(t.held[0][..6], [10.0, 10.0, 10.0, 3.0, 0.0, 0.0]);
        assert_eq!(t.held[1][..6], [0.0, 0.0, 5.0, 0.0, 0.0, 0.0]);
        // a rise within the tolerance refills an emptied newest tranche, which a later fall
        // takes again
        let refill = [1e-12, 0.0, 1e-12, 0.0];
        let t = split(&refill, 4, 8, 0);
        assert_eq!((t.k, &t.held[0][..]), (1, &refill[..]));
        // the cap: later rises join the newest tranche
        let Tranches { k, held, starts } = split(&mw, 6, 1, 0);
        assert_eq!(k, 1);
        assert_eq!(held[0][..6], [10.0, 10.0, 15.0, 3.0, 0.0, 7.0]);
        assert_eq!(starts, vec![vec![0, 1]]);
        assert!(service_tranches(&mw, 5, 8, 0, &[]).is_err());
        assert!(service_tranches(&mw, 6, 0, 0, &[]).is_err());
        assert!(service_tranches(&mw, 6, 8, 0, &[3]).is_err());
    }

    #[test]
    fn service_age_counts_days_from_each_paths_start() {
        let got = service_age(&[0, 2, 9, -1], 4).unwrap_or_default();
        let want: Vec<i32> = [[0, 1, 2, 3], [0, 0, 0, 1], [0; 4], [1, 2, 3, 4]].concat();
        assert_eq!(&got[..], &want[..]);
        assert!(service_age(&[0, 0], usize::MAX).is_err());
        assert!(service_age(&[], 5).is_ok_and(|c| c.is_empty()));
    }

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

    /// The direct definition (`_reference.rolling_trigger`).
    fn slow_crossing(path: &[f64], window: usize, thr: f64, below: bool) -> Option<i64> {
        (window - 1..path.len()).find_map(|d| {
            let m = path[d + 1 - window..=d].iter().sum::<f64>() / window as f64;
            let hit = if below { m < thr } else { m > thr };
            hit.then_some(d as i64)
        })
    }

    #[test]
    fn first_crossing_matches_the_definition() {
        let (n_paths, n_days) = (23, 200);
        // values with exact ties at the threshold (0.1 steps) and a long drifting path
        let values: Vec<f64> = (0..n_paths * n_days)
            .map(|i| ((i * 7919) % 97) as f64 * 0.1 + if i % 13 == 0 { 1e6 } else { 0.0 })
            .collect();
        for window in [1, 2, 7, 30] {
            for thr in [2.0, 4.8, 5.0, 1e5] {
                for below in [true, false] {
                    let got = first_crossing(&values, n_paths, n_days, window, thr, below);
                    let want: Vec<Option<i64>> = values
                        .chunks(n_days)
                        .map(|p| slow_crossing(p, window, thr, below))
                        .collect();
                    assert_eq!(got.ok(), Some(want), "window {window} thr {thr} {below}");
                }
            }
        }
        assert!(first_crossing(&values, n_paths, n_days, 0, 1.0, true).is_err());
        assert!(first_crossing(&values[1..], n_paths, n_days, 3, 1.0, true).is_err());
    }

    #[test]
    fn irr_of_known_flows() {
        // row 0: −100 now, +110 in a year → 10 %; row 1: starts positive → no IRR;
        // row 2: two sign changes → no IRR
        let mut p = vec![vec![0.0; 3]; 13];
        (p[0][0], p[12][0]) = (-100.0, 110.0);
        (p[0][1], p[12][1]) = (100.0, -110.0);
        (p[0][2], p[6][2], p[12][2]) = (-100.0, 300.0, -150.0);
        let views: Vec<&[f64]> = p.iter().map(Vec::as_slice).collect();
        let got = irr_bisect(&views, 44).unwrap_or_default();
        assert!((got[0].unwrap_or(f64::NAN) - 0.1).abs() < 1e-9, "{got:?}");
        assert_eq!(got[1..], [None, None]);
        assert!(irr_bisect(&[&[1.0][..], &[1.0, 2.0][..]], 10).is_err());
        assert!(irr_bisect(&[], 10).is_err());
    }

    #[test]
    fn flow_sums_are_each_paths_running_sums() {
        let (n_paths, n_days) = (5, 9);
        let n = n_paths * n_days;
        let r: &'static [f64] = Vec::leak((0..n).map(|i| (i % 7) as f64 * 0.37 + 0.5).collect());
        let o: &'static [f64] = Vec::leak((0..n).map(|i| (i % 3) as f64 * 0.251).collect());
        let c: &'static [f64] = Vec::leak(
            (0..n)
                .map(|i| if i % 11 == 0 { 4.3 } else { 0.0 })
                .collect(),
        );
        let disc: Vec<f64> = (0..n_days).map(|d| 0.99f64.powi(d as i32)).collect();
        let bounds = [0, 2, 3, 7, 9];
        // every (path, day) in 0..=n_days, query-major as the binding takes them
        let days: Vec<i64> = (0..=n_days as i64)
            .flat_map(|d| std::iter::repeat_n(d, n_paths))
            .collect();
        for capex in [None, Some(c)] {
            // split every column into uneven chunks: paths straddle chunk boundaries
            let split =
                |v: &'static [f64]| Chunked::new(vec![&v[..7], &v[7..7], &v[7..30], &v[30..]]);
            let f = Flows {
                rev: split(r),
                opex: split(o),
                capex: capex.map(split),
                disc_day: &disc,
                n_paths,
                n_days,
                bounds: &bounds,
            };
            let table = flow_table(&f).unwrap_or_default();
            let at = flow_at(&f, &table, &days).unwrap_or_default();
            assert_eq!(at.len(), days.len());
            for p in 0..n_paths {
                // the definition: one running sum from the path's first day, in day order
                let mut a = [0.0f64; 4];
                for d in 0..=n_days {
                    let got = at[d * n_paths + p];
                    assert_eq!(
                        got.map(f64::to_bits),
                        a.map(f64::to_bits),
                        "path {p} day {d}"
                    );
                    if let Some(j) = bounds.iter().position(|&b| b == d) {
                        let t = table[p * bounds.len() + j];
                        assert_eq!(t.map(f64::to_bits), a.map(f64::to_bits), "table {p} {d}");
                    }
                    if d < n_days {
                        let i = p * n_days + d;
                        let ci = capex.map_or(0.0, |c| c[i]);
                        a[0] += (r[i] - o[i] - ci) * disc[d];
                        a[1] += r[i];
                        a[2] += o[i];
                        a[3] += ci;
                    }
                }
            }
        }
        let whole = |v: &'static [f64]| Chunked::new(vec![v]);
        let ok = Flows {
            rev: whole(r),
            opex: whole(o),
            capex: None,
            disc_day: &disc,
            n_paths,
            n_days,
            bounds: &bounds,
        };
        let table = flow_table(&ok).unwrap_or_default();
        assert!(flow_at(&ok, &table, &[0, 1, 2, 3, 10]).is_err()); // day 10 > n_days
        assert!(flow_at(&ok, &table, &[0, 1, 2, -1, 9]).is_err());
        assert!(flow_at(&ok, &table, &[0, 1, 2]).is_err()); // not one day a path
        assert!(flow_at(&ok, &table[1..], &[0; 5]).is_err());
        let short = Flows {
            opex: Chunked::new(vec![&o[1..]]),
            ..ok.clone()
        };
        assert!(flow_table(&short).is_err());
        for bad in [&[0, 3, 3, 9][..], &[1, 9], &[0, 8], &[]] {
            assert!(
                flow_table(&Flows {
                    bounds: bad,
                    ..ok.clone()
                })
                .is_err(),
                "{bad:?}"
            );
        }
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
