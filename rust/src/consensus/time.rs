//! Timestamp rules that feed the retarget (CONSENSUS.md §5).

/// Median time past of a block: the upper median of its timestamp and up to 10 ancestors.
/// `window` holds the timestamps oldest → newest, ending at the block; only the last 11 are used.
pub fn median_time_past(window: &[i64]) -> Option<i64> {
    let w = &window[window.len().saturating_sub(11)..];
    if w.is_empty() {
        return None;
    }
    let mut buf = [0i64; 11];
    let buf = &mut buf[..w.len()];
    buf.copy_from_slice(w);
    buf.sort_unstable();
    Some(buf[buf.len() / 2])
}

/// Median time past for every position of a consecutive run: `out[i] = MTP(block i)`,
/// computed from the run's own earlier rows (fewer than 11 near its start).
pub fn median_time_past_run(times: &[i64]) -> Vec<i64> {
    (0..times.len())
        .map(|i| median_time_past(&times[..=i]).unwrap_or_default())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mtp_vectors() {
        assert_eq!(median_time_past(&(1..=11).collect::<Vec<_>>()), Some(6));
        assert_eq!(
            median_time_past(&[10, 1, 9, 2, 8, 3, 7, 4, 6, 5, 100]),
            Some(6)
        );
        assert_eq!(median_time_past(&[1231006505]), Some(1231006505));
        assert_eq!(median_time_past(&[5, 3]), Some(5));
        let mut v = vec![1000];
        v.extend(1..=11);
        assert_eq!(median_time_past(&v), Some(6));
        assert_eq!(median_time_past(&[]), None);
    }
}
