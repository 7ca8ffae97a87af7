//! A test hook for crash safety: with `FREVIX_TEST_CRASH_AT=<point>` in its
//! environment, a debug build aborts at that point, as if killed there
//! (no unwinding, nothing committed after it). The crash tests run the
//! whole product as a process, kill it at each point of a payout and of a
//! refund, restart it, and check that the money moved exactly once.
//! Release builds ignore it.

/// The points money paths stop at.
pub const BEFORE_TRANSFER: &str = "payout.before_transfer";
pub const AFTER_TRANSFER: &str = "payout.after_transfer";
pub const BEFORE_REFUND: &str = "refund.before_call";
pub const AFTER_REFUND: &str = "refund.after_call";
pub const AFTER_RECORD: &str = "delivery.after_record";

/// Aborts the process if the environment names `point`.
pub fn point(point: &str) {
    if cfg!(debug_assertions) && std::env::var("FREVIX_TEST_CRASH_AT").is_ok_and(|at| at == point) {
        eprintln!("FREVIX_TEST_CRASH_AT={point}: aborting");
        std::process::abort();
    }
}
