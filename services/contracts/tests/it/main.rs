//! One integration-test binary for contracts through its gRPC API: every
//! file here is a module, so the whole stack is linked once for all of them.

// A failed expectation should panic in a test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod added_milestones;
mod cancellation;
mod deadlines;
mod disputes;
mod gig_order_requirements;
mod gig_orders;
mod hiring;
mod hourly;
mod job_contracts;
mod milestones;
mod replicas;
mod reviews;
mod shop;
mod support;
