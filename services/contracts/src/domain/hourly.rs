//! Hourly contracts: the freelancer logs time within the weekly limit, a
//! week (Monday 00:00 to Monday 00:00 UTC) closes into an invoice at the
//! agreed rate, and the client has a few days to dispute it before it is
//! approved for charging.
//!
//! ```text
//! week closes ─▶ PENDING_REVIEW ─window passes / client approves─▶ APPROVED
//!                   │      ▲                                  (payments charges;
//!                 dispute  └─freelancer adjusts (fewer minutes)   a failed charge:
//!                   ▼      │                                      PAYMENT_FAILED)
//!                DISPUTED ─┘ ─client approves─▶ APPROVED
//! ```

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc};

/// The most time one day takes.
pub const MINUTES_A_DAY: i32 = 24 * 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InvoiceStatus {
    /// The client may still dispute it.
    PendingReview,
    Disputed,
    /// Approved for charging.
    Approved,
    /// The charge failed; the contract is paused until the client fixes
    /// their payment method.
    PaymentFailed,
}

impl InvoiceStatus {
    const ALL: [InvoiceStatus; 4] = [
        InvoiceStatus::PendingReview,
        InvoiceStatus::Disputed,
        InvoiceStatus::Approved,
        InvoiceStatus::PaymentFailed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            InvoiceStatus::PendingReview => "PENDING_REVIEW",
            InvoiceStatus::Disputed => "DISPUTED",
            InvoiceStatus::Approved => "APPROVED",
            InvoiceStatus::PaymentFailed => "PAYMENT_FAILED",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == text)
    }
}

/// The Monday that starts the week of `day`.
pub fn week_of(day: NaiveDate) -> NaiveDate {
    day - Duration::days(i64::from(day.weekday().num_days_from_monday()))
}

/// When the week of `now` closes: the next Monday, 00:00 UTC.
pub fn week_closes(now: DateTime<Utc>) -> DateTime<Utc> {
    let next_monday = week_of(now.date_naive()) + Duration::days(7);
    next_monday.and_time(NaiveTime::MIN).and_utc()
}

/// Why time cannot be logged as asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LogRefusal {
    #[error("time is logged for a day of the open week, up to today")]
    OutsideOpenWeek,
    #[error("a day has at most 24 hours")]
    DayFull,
    #[error("the week's limit would be passed")]
    OverWeeklyLimit,
}

impl LogRefusal {
    pub fn reason(self) -> &'static str {
        match self {
            LogRefusal::OutsideOpenWeek => "OUTSIDE_OPEN_WEEK",
            LogRefusal::DayFull => "DAY_FULL",
            LogRefusal::OverWeeklyLimit => "WEEKLY_LIMIT_REACHED",
        }
    }
}

/// What is logged already, for the check of a new or changed entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Logged {
    /// Minutes of the open week, without the entry being changed.
    pub week: i32,
    /// Minutes of that day, without the entry being changed.
    pub day: i32,
}

/// Checks `minutes` on `day` at `now` against the week's `limit`.
pub fn check_log(
    now: DateTime<Utc>,
    day: NaiveDate,
    minutes: i32,
    logged: Logged,
    limit: i32,
) -> Result<(), LogRefusal> {
    let today = now.date_naive();
    if day > today || week_of(day) != week_of(today) {
        return Err(LogRefusal::OutsideOpenWeek);
    }
    if logged.day + minutes > MINUTES_A_DAY {
        return Err(LogRefusal::DayFull);
    }
    if logged.week + minutes > limit {
        return Err(LogRefusal::OverWeeklyLimit);
    }
    Ok(())
}

/// What `minutes` at `rate` (minor units an hour) come to, rounded half
/// up to whole minor units.
pub fn amount(rate: i64, minutes: i32) -> i64 {
    let exact = i128::from(rate) * i128::from(minutes);
    i64::try_from((exact + 30) / 60).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap()
    }

    #[test]
    fn weeks_run_monday_to_monday_utc() {
        // 2026-11-30 is a Monday.
        let monday = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        assert_eq!(week_of(monday), monday);
        assert_eq!(
            week_of(NaiveDate::from_ymd_opt(2026, 12, 6).unwrap()),
            monday
        );
        assert_eq!(week_closes(at(2026, 11, 30, 0)), at(2026, 12, 7, 0));
        assert_eq!(week_closes(at(2026, 12, 6, 23)), at(2026, 12, 7, 0));
    }

    #[test]
    fn time_is_logged_in_the_open_week_within_its_limits() {
        let now = at(2026, 12, 2, 12);
        let today = now.date_naive();
        let none = Logged { week: 0, day: 0 };
        assert_eq!(check_log(now, today, 60, none, 600), Ok(()));
        let monday = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        assert_eq!(check_log(now, monday, 60, none, 600), Ok(()));
        let sunday_before = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
        assert_eq!(
            check_log(now, sunday_before, 60, none, 600),
            Err(LogRefusal::OutsideOpenWeek)
        );
        let tomorrow = today + Duration::days(1);
        assert_eq!(
            check_log(now, tomorrow, 60, none, 600),
            Err(LogRefusal::OutsideOpenWeek)
        );
        let busy = Logged { week: 590, day: 0 };
        assert_eq!(
            check_log(now, today, 11, busy, 600),
            Err(LogRefusal::OverWeeklyLimit)
        );
        assert_eq!(check_log(now, today, 10, busy, 600), Ok(()));
        let long_day = Logged {
            week: 1400,
            day: 1400,
        };
        assert_eq!(
            check_log(now, today, 41, long_day, 5000),
            Err(LogRefusal::DayFull)
        );
    }

    #[test]
    fn an_invoice_is_the_rate_times_the_hours() {
        assert_eq!(amount(4_500, 60), 4_500);
        assert_eq!(amount(4_500, 90), 6_750);
        // 1 minute at 45.00/h is 0.75: rounds to 75 cents exactly; at
        // 0.01/h, half a cent rounds up.
        assert_eq!(amount(4_500, 1), 75);
        assert_eq!(amount(1, 30), 1);
        assert_eq!(amount(1, 29), 0);
    }

    proptest! {
        #[test]
        fn an_invoice_is_never_off_by_more_than_half_a_minor_unit(
            rate in 1i64..10_000_000,
            minutes in 0..=(7 * MINUTES_A_DAY),
        ) {
            let billed = i128::from(amount(rate, minutes)) * 60;
            let exact = i128::from(rate) * i128::from(minutes);
            prop_assert!((billed - exact).abs() <= 30);
        }
    }
}
