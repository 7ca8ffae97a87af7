//! Slowing down password guessing on one account: after a few failed logins
//! each further attempt must wait, twice as long each time, up to a cap. The
//! counter lives in the database so every replica sees it.

use std::time::Duration;

use chrono::{DateTime, Utc};

/// Failed logins allowed before waiting starts.
pub const FREE_FAILURES: i32 = 5;
/// The longest wait.
pub const MAX_WAIT: Duration = Duration::from_secs(15 * 60);

/// How long the account must still wait before the next attempt, if at all.
pub fn login_wait(
    failed_logins: i32,
    last_failure: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Option<Duration> {
    let last_failure = last_failure?;
    if failed_logins < FREE_FAILURES {
        return None;
    }
    let doublings = u32::try_from(failed_logins - FREE_FAILURES)
        .unwrap_or(u32::MAX)
        .min(10);
    let wait = Duration::from_secs(1u64 << doublings).min(MAX_WAIT);
    let elapsed = (now - last_failure).to_std().unwrap_or_default();
    wait.checked_sub(elapsed).filter(|left| !left.is_zero())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_failures_cost_nothing_then_waits_double() {
        let now = Utc::now();
        assert_eq!(login_wait(4, Some(now), now), None);
        assert_eq!(login_wait(5, Some(now), now), Some(Duration::from_secs(1)));
        assert_eq!(login_wait(7, Some(now), now), Some(Duration::from_secs(4)));
        assert_eq!(login_wait(40, Some(now), now), Some(MAX_WAIT));
    }

    #[test]
    fn the_wait_shrinks_as_time_passes() {
        let failed_at = Utc::now();
        let later = failed_at + chrono::Duration::seconds(3);
        assert_eq!(
            login_wait(7, Some(failed_at), later),
            Some(Duration::from_secs(1))
        );
        let much_later = failed_at + chrono::Duration::seconds(5);
        assert_eq!(login_wait(7, Some(failed_at), much_later), None);
    }
}
