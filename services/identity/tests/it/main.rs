//! One integration-test binary for identity through its gRPC API: every file
//! here is a module, so the whole stack is linked once for all of them
//! rather than once per file.

// A failed expectation should panic in a test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod abuse;
mod admin;
mod bad_input;
mod credentials;
mod events;
mod live_callers;
mod sign_up_and_sessions;
mod tokens;
