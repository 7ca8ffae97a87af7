//! Durable timers: "approve this delivery in 3 days unless someone answers",
//! "close this week on Monday". A timer is a row of the service's `timers`
//! table, scheduled in the transaction of the change that starts the clock
//! and cancelled or moved in the transaction of the change that stops it,
//! so a timer exists exactly when the state says it should.
//!
//! Firing: a runner claims due timers with a lease (so replicas share the
//! work and a dead replica's claims lapse), then fires each in its own
//! transaction that first deletes the row (only if this claim still holds
//! it: a timer cancelled or moved meanwhile is not fired) and then applies
//! the effect with its events. Row, effect and events commit together, so a
//! timer fires once even with two replicas and across a crash; a failed
//! effect rolls back and the timer is tried again later.
//!
//! Time comes from the service's [`Clock`], so tests move time instead of
//! sleeping.

mod run;
pub mod schema;

pub use run::Fired;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseBackend, DbErr, Statement};
use tokio::sync::Notify;
use uuid::Uuid;

use crate::clock::Clock;
use crate::db::Txn;
use crate::events::HandlerError;

/// The longest kind and subject a timer may have (the table's columns).
pub const MAX_KIND: usize = 64;
pub const MAX_SUBJECT: usize = 128;

/// A timer as its handler sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timer {
    pub id: Uuid,
    /// What it does, e.g. `milestone.auto_approve`.
    pub kind: String,
    /// What it is about, e.g. the milestone's id: one timer per kind and subject.
    pub subject: String,
    pub due_at: DateTime<Utc>,
    /// Whatever the scheduler wanted the handler to have.
    pub payload: String,
    /// Firings tried so far, this one included.
    pub attempts: i32,
}

/// What a service does when one of its timers is due, in the transaction
/// that removes the timer (write the effect and publish its events there).
#[async_trait::async_trait]
pub trait OnTimer: Send + Sync + 'static {
    async fn fire(&self, txn: &Txn, timer: &Timer) -> Result<(), HandlerError>;
}

/// A service's timers.
#[derive(Clone)]
pub struct Timers {
    clock: Clock,
    wake: Arc<Notify>,
    /// How long a runner's claim on a due timer holds: a timer claimed by
    /// a replica that died fires again after it.
    lease: chrono::Duration,
}

/// `sql` written with `$n` placeholders, for `backend`.
pub(crate) fn dialect(backend: DatabaseBackend, sql: &str) -> String {
    match backend {
        DatabaseBackend::Postgres => sql.to_owned(),
        _ => sql.replace('$', "?"),
    }
}

impl Timers {
    pub fn new(clock: Clock) -> Self {
        Self {
            clock,
            wake: Arc::new(Notify::new()),
            lease: run::DEFAULT_LEASE,
        }
    }

    /// Claims held for `lease`: shorter means a dead replica's timers fire
    /// sooner elsewhere (see [`run::DEFAULT_LEASE`]).
    #[must_use]
    pub fn with_lease(mut self, lease: chrono::Duration) -> Self {
        self.lease = lease;
        self
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Sets the timer `kind`/`subject` to fire at `due_at` with `payload`,
    /// in `txn`: a new one, or the existing one moved (its attempts reset).
    /// The write is sent with the transaction's others.
    pub async fn schedule(
        &self,
        txn: &Txn,
        kind: &str,
        subject: &str,
        due_at: DateTime<Utc>,
        payload: &str,
    ) -> Result<(), DbErr> {
        if kind.len() > MAX_KIND || subject.len() > MAX_SUBJECT {
            return Err(DbErr::Custom(format!(
                "timer kind or subject too long: {kind}/{subject}"
            )));
        }
        let backend = txn.get_database_backend();
        let sql = dialect(
            backend,
            "INSERT INTO timers (id, kind, subject, due_at, payload, attempts, created_at) \
             VALUES ($1, $2, $3, $4, $5, 0, $6) \
             ON CONFLICT (kind, subject) DO UPDATE SET due_at = excluded.due_at, \
             payload = excluded.payload, attempts = 0, lease_until = NULL, \
             lease_token = NULL, last_error = NULL",
        );
        txn.defer_statement(Statement::from_sql_and_values(
            backend,
            sql,
            [
                Uuid::now_v7().into(),
                kind.into(),
                subject.into(),
                due_at.into(),
                payload.into(),
                self.clock.now().into(),
            ],
        ));
        txn.wake_on_commit(&self.wake);
        Ok(())
    }

    /// Removes the timer `kind`/`subject`, if there is one, in `txn` with
    /// its other writes.
    pub fn forget(&self, txn: &Txn, kind: &str, subject: &str) {
        let backend = txn.get_database_backend();
        txn.defer_statement(Statement::from_sql_and_values(
            backend,
            dialect(
                backend,
                "DELETE FROM timers WHERE kind = $1 AND subject = $2",
            ),
            [kind.into(), subject.into()],
        ));
    }

    /// Removes the timer `kind`/`subject`, in `txn`; false if there was none.
    pub async fn cancel(&self, txn: &Txn, kind: &str, subject: &str) -> Result<bool, DbErr> {
        let backend = txn.get_database_backend();
        let result = txn
            .execute_raw(Statement::from_sql_and_values(
                backend,
                dialect(
                    backend,
                    "DELETE FROM timers WHERE kind = $1 AND subject = $2",
                ),
                [kind.into(), subject.into()],
            ))
            .await?;
        Ok(result.rows_affected() > 0)
    }

    /// The pending timer `kind`/`subject` (deadlines shown to users).
    pub async fn find(
        &self,
        db: &impl ConnectionTrait,
        kind: &str,
        subject: &str,
    ) -> Result<Option<Timer>, DbErr> {
        let backend = db.get_database_backend();
        let row = db
            .query_one_raw(Statement::from_sql_and_values(
                backend,
                dialect(
                    backend,
                    "SELECT id, kind, subject, due_at, payload, attempts FROM timers \
                     WHERE kind = $1 AND subject = $2",
                ),
                [kind.into(), subject.into()],
            ))
            .await?;
        row.map(|row| run::timer_of(&row)).transpose()
    }
}
