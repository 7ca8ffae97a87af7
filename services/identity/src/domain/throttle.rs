//! Slowing down password guessing without locking the owner out (OWASP's
//! authentication guidance). Attempts are counted in two buckets: per account
//! and client address, where after a few failures each attempt must wait,
//! twice as long each time; and per account across every address, which
//! allows many more before it slows down and which devices the owner has
//! signed in from before skip. An attacker elsewhere therefore slows only
//! themselves and new devices, never the owner's known ones. An attempt is
//! counted before the password is checked, so racing requests cannot buy
//! extra checks. The counts live in the database so every replica sees them.

use std::time::Duration;

use chrono::{DateTime, Utc};

/// How one bucket counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// Attempts allowed before waiting starts.
    pub free: i32,
    /// The longest wait.
    pub max_wait: Duration,
    /// A bucket untouched this long starts over.
    pub forget_after: Duration,
}

/// Per account and client address.
pub const PER_ADDRESS: Schedule = Schedule {
    free: 5,
    max_wait: Duration::from_secs(15 * 60),
    forget_after: Duration::from_secs(24 * 3600),
};

/// Per account, from addresses the owner has not signed in from.
pub const ACCOUNT_WIDE: Schedule = Schedule {
    free: 20,
    max_wait: Duration::from_secs(60 * 60),
    forget_after: Duration::from_secs(24 * 3600),
};

/// A bucket's count as stored: attempts and when the last was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Count {
    pub attempts: i32,
    pub last_attempt_at: Option<DateTime<Utc>>,
}

impl Schedule {
    /// The attempts that still count at `now` (a bucket left alone long
    /// enough starts over).
    pub fn current(&self, count: Count, now: DateTime<Utc>) -> i32 {
        match count.last_attempt_at {
            Some(last) if (now - last).to_std().unwrap_or_default() < self.forget_after => {
                count.attempts
            }
            _ => 0,
        }
    }

    /// How long until the next attempt may be made, if it must wait.
    pub fn wait(&self, count: Count, now: DateTime<Utc>) -> Option<Duration> {
        let attempts = self.current(count, now);
        let last = count.last_attempt_at?;
        if attempts < self.free {
            return None;
        }
        let doublings = u32::try_from(attempts - self.free)
            .unwrap_or(u32::MAX)
            .min(12);
        let wait = Duration::from_secs(1u64 << doublings).min(self.max_wait);
        let elapsed = (now - last).to_std().unwrap_or_default();
        wait.checked_sub(elapsed).filter(|left| !left.is_zero())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(attempts: i32, at: DateTime<Utc>) -> Count {
        Count {
            attempts,
            last_attempt_at: Some(at),
        }
    }

    #[test]
    fn the_first_attempts_cost_nothing_then_waits_double() {
        let now = Utc::now();
        let s = PER_ADDRESS;
        assert_eq!(s.wait(count(4, now), now), None);
        assert_eq!(s.wait(count(5, now), now), Some(Duration::from_secs(1)));
        assert_eq!(s.wait(count(7, now), now), Some(Duration::from_secs(4)));
        assert_eq!(s.wait(count(40, now), now), Some(s.max_wait));
    }

    #[test]
    fn the_wait_shrinks_as_time_passes() {
        let at = Utc::now();
        let s = PER_ADDRESS;
        let later = at + chrono::Duration::seconds(3);
        assert_eq!(s.wait(count(7, at), later), Some(Duration::from_secs(1)));
        let much_later = at + chrono::Duration::seconds(5);
        assert_eq!(s.wait(count(7, at), much_later), None);
    }

    #[test]
    fn a_bucket_left_alone_for_a_day_starts_over() {
        let at = Utc::now();
        let next_day = at + chrono::Duration::hours(25);
        assert_eq!(PER_ADDRESS.current(count(30, at), next_day), 0);
        assert_eq!(PER_ADDRESS.wait(count(30, at), next_day), None);
    }

    #[test]
    fn the_account_wide_bucket_allows_more_before_slowing() {
        let now = Utc::now();
        assert_eq!(ACCOUNT_WIDE.wait(count(19, now), now), None);
        assert_eq!(
            ACCOUNT_WIDE.wait(count(20, now), now),
            Some(Duration::from_secs(1))
        );
    }
}
