//! Block subsidy, halving heights and issuance (CONSENSUS.md §9).

use crate::error::{CoreError, CoreResult, Position};

/// 50 BTC in satoshis.
pub const INITIAL_SUBSIDY_SAT: i64 = 50 * 100_000_000;

fn check_height(height: i64) -> CoreResult<()> {
    if height < 0 {
        return Err(CoreError::InvalidValue {
            what: "height",
            at: Position::Scalar,
            why: format!("{height} is negative; block heights start at 0 (genesis)"),
        });
    }
    Ok(())
}

fn check_interval(interval: i64) -> CoreResult<()> {
    if interval <= 0 {
        return Err(CoreError::InvalidValue {
            what: "subsidy_halving_interval",
            at: Position::Scalar,
            why: format!("{interval} must be > 0 blocks"),
        });
    }
    Ok(())
}

/// `GetBlockSubsidy`: `5e9 >> (height / interval)`, and 0 from the 64th halving on.
pub fn block_subsidy(height: i64, interval: i64) -> CoreResult<i64> {
    check_height(height)?;
    check_interval(interval)?;
    let halvings = height / interval;
    if halvings >= 64 {
        return Ok(0);
    }
    Ok(INITIAL_SUBSIDY_SAT >> halvings)
}

/// Heights at which the subsidy changes: `k · interval` for k = 1..=33. At the 33rd
/// halving the integer subsidy (1 sat) becomes 0; the later "halvings" up to Core's 64 guard
/// change nothing, so they are not listed.
pub fn halving_heights(interval: i64) -> CoreResult<Vec<i64>> {
    check_interval(interval)?;
    (1..=64i64)
        .take_while(|&k| (INITIAL_SUBSIDY_SAT >> (k - 1)) != 0)
        .map(|k| {
            k.checked_mul(interval).ok_or_else(|| CoreError::Overflow {
                what: "halving height",
                at: Position::Scalar,
                why: format!("{k} × {interval} overflows a 64-bit height"),
            })
        })
        .collect()
}

/// Cumulative issuance in satoshis of blocks `0..=height` (genesis included).
pub fn issuance_through(height: i64, interval: i64) -> CoreResult<i64> {
    check_height(height)?;
    check_interval(interval)?;
    let blocks = height as i128 + 1;
    let full_eras = (blocks / interval as i128).min(64);
    let mut total: i128 = 0;
    for k in 0..full_eras {
        total += interval as i128 * i128::from(INITIAL_SUBSIDY_SAT >> k);
    }
    if full_eras < 64 {
        let rem = blocks - full_eras * interval as i128;
        total += rem * i128::from(INITIAL_SUBSIDY_SAT >> full_eras);
    }
    i64::try_from(total).map_err(|_| CoreError::Overflow {
        what: "issuance",
        at: Position::Scalar,
        why: format!("issuance through height {height} exceeds i64 satoshis"),
    })
}

/// Total issuance over all blocks: Σ_{k<64} interval · (5e9 >> k).
/// 2,099,999,997,690,000 sat on mainnet.
pub fn total_issuance(interval: i64) -> CoreResult<i64> {
    check_interval(interval)?;
    let total: i128 = (0..64)
        .map(|k| interval as i128 * i128::from(INITIAL_SUBSIDY_SAT >> k))
        .sum();
    i64::try_from(total).map_err(|_| CoreError::Overflow {
        what: "issuance",
        at: Position::Scalar,
        why: format!("total issuance with interval {interval} exceeds i64 satoshis"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subsidy_table() {
        let rows: &[(i64, i64)] = &[
            (0, 5_000_000_000),
            (209_999, 5_000_000_000),
            (210_000, 2_500_000_000),
            (419_999, 2_500_000_000),
            (420_000, 1_250_000_000),
            (630_000, 625_000_000),
            (839_999, 625_000_000),
            (840_000, 312_500_000),
            (1_050_000, 156_250_000),
            (1_260_000, 78_125_000),
            (2_100_000, 4_882_812),
            (6_719_999, 2),
            (6_720_000, 1),
            (6_929_999, 1),
            (6_930_000, 0),
            (13_440_000, 0),
            (2_147_483_647, 0),
        ];
        for &(h, s) in rows {
            assert_eq!(block_subsidy(h, 210_000).ok(), Some(s), "height {h}");
        }
        assert_eq!(block_subsidy(149, 150).ok(), Some(5_000_000_000));
        assert_eq!(block_subsidy(150, 150).ok(), Some(2_500_000_000));
        assert_eq!(block_subsidy(9_600, 150).ok(), Some(0));
        assert!(block_subsidy(-1, 210_000).is_err());
    }

    #[test]
    fn core_block_subsidy_test() {
        for interval in [210_000i64, 150, 1000] {
            for k in 0..64 {
                assert_eq!(
                    block_subsidy(k * interval, interval).ok(),
                    Some(5_000_000_000 >> k)
                );
            }
            assert_eq!(block_subsidy(64 * interval, interval).ok(), Some(0));
        }
    }

    #[test]
    fn issuance() {
        // Core's subsidy_limit_test: Σ over heights 0, 1000, … of subsidy·1000.
        let mut sum = 0i64;
        let mut h = 0;
        while h < 14_000_000 {
            sum += block_subsidy(h, 210_000).unwrap_or(-1) * 1000;
            h += 1000;
        }
        assert_eq!(sum, 2_099_999_997_690_000);
        assert_eq!(total_issuance(210_000).ok(), Some(2_099_999_997_690_000));
        assert_eq!(issuance_through(0, 210_000).ok(), Some(5_000_000_000));
        assert_eq!(
            issuance_through(209_999, 210_000).ok(),
            Some(210_000 * 5_000_000_000)
        );
        assert_eq!(
            issuance_through(100_000_000, 210_000).ok(),
            Some(2_099_999_997_690_000)
        );
        assert_eq!(halving_heights(210_000).map(|v| v[3]).ok(), Some(840_000));
        let hh = halving_heights(210_000).unwrap_or_default();
        assert_eq!(hh.len(), 33);
        assert_eq!(hh.last(), Some(&6_930_000));
        assert_eq!(block_subsidy(6_930_000 - 1, 210_000).ok(), Some(1));
    }
}
