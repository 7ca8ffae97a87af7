//! Test harness for Frevix: boots the real application in-process on port 0
//! against a fresh database per test (PostgreSQL, cloned from a migrated
//! template, or an SQLite file as the all-in-one shape uses), captures mail
//! through a real SMTP server (or the all-in-one `.eml` directory), and hands
//! out typed gRPC clients.
//!
//! Write a test once as `async fn name(backend: Backend)` and run it on both
//! backends with [`on_both_backends!`].

// Test support: a failed set-up should stop the test loudly, with a message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod accounts;
mod app;
mod chat;
mod clock;
mod events;
mod gateway;
mod mail;
mod migrated;
mod postgres;
mod process;
pub mod status;

pub use app::{Backend, TestApp, TestUser, authed, unique_email};
pub use chat::ChatDevice;
pub use clock::TestClock;
pub use events::{TestStreams, nats_url};
pub use frevix::config::{FrevixConfig, Shape};
pub use frevix::registry::SERVICES;
pub use gateway::{Gateway, repo};
pub use mail::{CapturedMail, SmtpSink, code_in, read_mail};
pub use migrated::MigratedDb;
pub use postgres::TestDatabase;
pub use process::ServiceProcess;

/// Runs `work` to completion on a runtime of its own in another thread: for
/// clean-up in `Drop`, which runs inside the test's runtime and cannot block it.
pub(crate) fn finish_in_thread<F>(work: F)
where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    let _ = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(work);
    })
    .join();
}

/// Runs each listed `async fn name(backend: Backend)` on PostgreSQL and on
/// SQLite, as `postgres::name` and `sqlite::name`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::Backend::Postgres).await
                }
            )*
        }
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::Backend::Sqlite).await
                }
            )*
        }
    };
}
