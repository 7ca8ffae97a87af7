//! Refusals for capacity, counted and logged at most once a second rather
//! than one line each: past capacity, a log line per refused call would
//! spend the very CPU that refusing it saves (thousands a second), and an
//! operator needs the rate, not every call.

use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

static EPOCH: LazyLock<Instant> = LazyLock::new(Instant::now);

/// `last` before the first report.
const NEVER: u64 = u64::MAX;

/// Refusals of one kind (`what`: "calls", "chat sends") since the last
/// report.
pub struct Refusals {
    what: &'static str,
    count: AtomicU64,
    last: AtomicU64,
}

impl Refusals {
    pub const fn new(what: &'static str) -> Self {
        Self {
            what,
            count: AtomicU64::new(0),
            last: AtomicU64::new(NEVER),
        }
    }

    /// Counts one refusal; the first, and then the first after each
    /// second, logs the count since the last line (one caller wins the
    /// turn, so two threads never log the same refusals).
    pub fn note(&self) {
        self.count.fetch_add(1, Ordering::Relaxed);
        let now = u64::try_from(EPOCH.elapsed().as_millis()).unwrap_or(NEVER - 1);
        let last = self.last.load(Ordering::Relaxed);
        let due = last == NEVER || now.saturating_sub(last) >= 1_000;
        if due
            && self
                .last
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            let refused = self.count.swap(0, Ordering::Relaxed);
            tracing::warn!(
                refused,
                "over capacity: {} refused since the last report",
                self.what
            );
        }
    }

    /// Refusals counted and not yet reported.
    pub fn pending(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_refusal_is_reported_and_the_next_ones_wait_for_the_second() {
        let refusals = Refusals::new("calls");
        refusals.note();
        assert_eq!(refusals.pending(), 0, "the first is reported at once");
        for _ in 0..500 {
            refusals.note();
        }
        assert_eq!(refusals.pending(), 500, "within the second: counted only");
    }

    #[test]
    fn concurrent_refusals_are_all_counted_once() {
        let refusals = std::sync::Arc::new(Refusals::new("calls"));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let refusals = refusals.clone();
                std::thread::spawn(move || (0..1_000).for_each(|_| refusals.note()))
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        // One report at most happened (the first, within this second),
        // taking what was counted before it.
        let pending = refusals.pending();
        assert!((7_000..8_000).contains(&pending), "{pending}");
    }
}
