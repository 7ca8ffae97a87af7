//! One integration-test binary for marketplace through its gRPC API: every file
//! here is a module, so the whole stack is linked once for all of them
//! rather than once per file.

// A failed expectation should panic in a test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod catalog_and_profiles;
mod gigs;
mod idempotency_races;
mod jobs_and_proposals;
mod search;
mod search_people_and_jobs;
mod search_ratings;
mod support;
mod suspension;
