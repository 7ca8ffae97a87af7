//! Dividing escrow when a contract ends early: a cancellation agrees on an
//! amount to give back to the client, a dispute's resolution on a share in
//! basis points. Either way the refund is spread over the milestones in
//! progress in proportion to what each holds, in whole minor units, so that
//! every milestone's refund and release add up to exactly what it holds and
//! the refunds add up to exactly the amount agreed.

use super::MilestoneId;

/// The whole, in basis points.
pub const ALL_BPS: i32 = 10_000;

/// One milestone's escrow, divided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Share {
    pub milestone: MilestoneId,
    /// Back to the client.
    pub refund: i64,
    /// To the freelancer (before the platform's fee).
    pub release: i64,
}

/// Why escrow cannot be divided as asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SplitError {
    #[error("the refund is more than escrow holds ({held} minor units)")]
    MoreThanHeld { held: i64 },
    #[error("the refund cannot be negative")]
    Negative,
    #[error("the share must be 0 to 10,000 basis points")]
    BadShare,
}

/// The refund a share of `held` comes to, rounded half up to whole minor
/// units.
pub fn refund_for_share(held: i64, client_share_bps: i32) -> Result<i64, SplitError> {
    if !(0..=ALL_BPS).contains(&client_share_bps) {
        return Err(SplitError::BadShare);
    }
    let exact = i128::from(held) * i128::from(client_share_bps);
    let rounded = (exact + i128::from(ALL_BPS / 2)) / i128::from(ALL_BPS);
    Ok(i64::try_from(rounded).unwrap_or(held))
}

/// Gives `refund` back over `held` (each milestone in progress with what it
/// holds, in the contract's order), in proportion; the minor units left
/// over by rounding down go one each to the earliest milestones with room.
pub fn split(held: &[(MilestoneId, i64)], refund: i64) -> Result<Vec<Share>, SplitError> {
    if refund < 0 {
        return Err(SplitError::Negative);
    }
    let total: i64 = held.iter().map(|(_, amount)| *amount).sum();
    if refund > total {
        return Err(SplitError::MoreThanHeld { held: total });
    }
    let mut shares: Vec<Share> = held
        .iter()
        .map(|(milestone, amount)| {
            let part = if total == 0 {
                0
            } else {
                i128::from(*amount) * i128::from(refund) / i128::from(total)
            };
            let part = i64::try_from(part).unwrap_or(0);
            Share {
                milestone: *milestone,
                refund: part,
                release: amount - part,
            }
        })
        .collect();
    let mut left = refund - shares.iter().map(|share| share.refund).sum::<i64>();
    for share in &mut shares {
        if left == 0 {
            break;
        }
        if share.release > 0 {
            share.refund += 1;
            share.release -= 1;
            left -= 1;
        }
    }
    Ok(shares)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use uuid::Uuid;

    fn ids(amounts: &[i64]) -> Vec<(MilestoneId, i64)> {
        amounts
            .iter()
            .map(|amount| (MilestoneId(Uuid::new_v4()), *amount))
            .collect()
    }

    #[test]
    fn a_refund_is_spread_in_proportion() {
        let held = ids(&[10_000, 30_000]);
        let shares = split(&held, 20_000).unwrap();
        assert_eq!((shares[0].refund, shares[0].release), (5_000, 5_000));
        assert_eq!((shares[1].refund, shares[1].release), (15_000, 15_000));
    }

    #[test]
    fn rounding_leftovers_go_to_the_earliest_milestones() {
        let held = ids(&[1, 1, 1]);
        let shares = split(&held, 2).unwrap();
        let refunds: Vec<i64> = shares.iter().map(|share| share.refund).collect();
        assert_eq!(refunds, vec![1, 1, 0]);
    }

    #[test]
    fn more_than_held_or_negative_is_refused() {
        let held = ids(&[100]);
        assert_eq!(
            split(&held, 101),
            Err(SplitError::MoreThanHeld { held: 100 })
        );
        assert_eq!(split(&held, -1), Err(SplitError::Negative));
        assert_eq!(refund_for_share(100, 10_001), Err(SplitError::BadShare));
    }

    #[test]
    fn shares_round_half_up() {
        assert_eq!(refund_for_share(3, 5_000), Ok(2));
        assert_eq!(refund_for_share(10_001, ALL_BPS), Ok(10_001));
        assert_eq!(refund_for_share(10_001, 0), Ok(0));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn every_split_adds_up(
            amounts in prop::collection::vec(1i64..10_000_000_000, 1..8),
            bps in 0..=ALL_BPS,
        ) {
            let held = ids(&amounts);
            let total: i64 = amounts.iter().sum();
            let refund = refund_for_share(total, bps).unwrap();
            prop_assert!((0..=total).contains(&refund));
            let shares = split(&held, refund).unwrap();
            prop_assert_eq!(shares.iter().map(|s| s.refund).sum::<i64>(), refund);
            for (share, (id, amount)) in shares.iter().zip(&held) {
                prop_assert_eq!(share.milestone, *id);
                prop_assert!(share.refund >= 0 && share.release >= 0);
                prop_assert_eq!(share.refund + share.release, *amount);
            }
        }
    }
}
