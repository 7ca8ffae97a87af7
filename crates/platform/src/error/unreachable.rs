//! Which database errors mean "the database cannot be reached now" — it is
//! restarting, failing over, out of connections, or the connection broke —
//! rather than a fault of ours. Those are answered UNAVAILABLE with a
//! `RetryInfo` (a client retries, with its idempotency key where it has
//! one), not INTERNAL; found by the chaos run's PostgreSQL restart.

use sea_orm::{DbErr, RuntimeErr, sqlx};

/// Whether `error` says the database is out of reach for now.
pub fn unreachable(error: &DbErr) -> bool {
    match error {
        DbErr::ConnectionAcquire(_) => true,
        DbErr::Conn(RuntimeErr::SqlxError(error))
        | DbErr::Exec(RuntimeErr::SqlxError(error))
        | DbErr::Query(RuntimeErr::SqlxError(error)) => sqlx_unreachable(error),
        _ => false,
    }
}

fn sqlx_unreachable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        // SQLSTATE classes 08 (connection exception), 53 (insufficient
        // resources: too many connections) and 57P (the server shutting
        // down, crashed, or not yet accepting connections).
        sqlx::Error::Database(error) => error.code().is_some_and(|code| {
            code.starts_with("08") || code.starts_with("53") || code.starts_with("57P")
        }),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[test]
    fn a_broken_connection_or_an_empty_pool_is_unreachable() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset");
        let broken = DbErr::Query(RuntimeErr::SqlxError(Arc::new(sqlx::Error::Io(io))));
        assert!(unreachable(&broken));
        assert!(unreachable(&DbErr::ConnectionAcquire(
            sea_orm::ConnAcquireErr::Timeout
        )));
        let timed_out = DbErr::Conn(RuntimeErr::SqlxError(Arc::new(sqlx::Error::PoolTimedOut)));
        assert!(unreachable(&timed_out));
    }

    #[test]
    fn our_own_faults_are_not() {
        let missing = DbErr::Query(RuntimeErr::SqlxError(Arc::new(sqlx::Error::RowNotFound)));
        assert!(!unreachable(&missing));
        assert!(!unreachable(&DbErr::RecordNotFound("contract".into())));
        assert!(!unreachable(&DbErr::Custom("bad".into())));
    }
}
