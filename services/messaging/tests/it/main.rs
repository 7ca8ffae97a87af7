//! One integration-test binary for messaging through its gRPC API: every file
//! here is a module, so the whole stack is linked once for all of them
//! rather than once per file.

// A failed expectation should panic in a test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod chat;
mod chat_frames;
mod chat_order;
mod chat_stream;
mod conversations;
mod group_commit;
mod media;
mod notifications;
mod over_capacity;
mod resume;
mod safety;
mod support;
