//! One integration-test binary for the event backbone on both transports: every file
//! here is a module, so the whole stack is linked once for all of them
//! rather than once per file.

// A failed expectation should panic in a test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod db_unreachable;
mod events_in_process;
mod events_jetstream;
mod live;
mod mail_relays;
mod retention;
mod sqlite_reads;
mod support;
mod timers;
mod txn;
