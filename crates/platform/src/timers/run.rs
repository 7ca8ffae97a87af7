//! Claiming due timers and firing them.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, QueryResult, Statement};
use tokio::sync::watch;
use tokio::task::JoinSet;
use uuid::Uuid;

use super::{OnTimer, Timer, Timers, dialect};
use crate::db::Txn;
use crate::events::Background;

/// How long a claim holds by default (see [`Timers::with_lease`]). It
/// bounds how soon a dead runner's timers fire elsewhere; it need not
/// outlast an effect: a firing timer is held by its transaction's row lock
/// (its DELETE), which another runner's claim skips, and a timer still
/// waiting in a long pass may go to another runner, the first then skipping
/// it ([`fire`] deletes only under its own claim).
pub const DEFAULT_LEASE: chrono::Duration = chrono::Duration::seconds(20);
/// Timers claimed at once.
const BATCH: i64 = 256;
/// Timers of one batch fired at the same time.
const PARALLEL: usize = 8;
/// How often a runner looks for due timers when not woken.
const POLL: Duration = Duration::from_millis(500);
/// The longest a failing timer waits before its next try.
const MAX_BACKOFF_SECS: i64 = 3600;

pub(super) fn timer_of(row: &QueryResult) -> Result<Timer, DbErr> {
    Ok(Timer {
        id: row.try_get("", "id")?,
        kind: row.try_get("", "kind")?,
        subject: row.try_get("", "subject")?,
        due_at: row.try_get("", "due_at")?,
        payload: row.try_get("", "payload")?,
        attempts: row.try_get("", "attempts")?,
    })
}

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Fired {
    /// Effects committed.
    pub fired: usize,
    /// Claimed but cancelled or moved meanwhile: not fired.
    pub skipped: usize,
    /// Effects that failed and were put back for later.
    pub failed: usize,
}

impl Fired {
    fn claimed(&self) -> usize {
        self.fired + self.skipped + self.failed
    }
}

impl Timers {
    /// One pass: claims up to a batch of due timers and fires them.
    pub async fn fire_due(
        &self,
        db: &DatabaseConnection,
        handler: &Arc<dyn OnTimer>,
    ) -> Result<Fired, DbErr> {
        let now = self.clock.now();
        let token = Uuid::now_v7();
        let claimed = claim(db, now, now + self.lease, token).await?;
        let mut fired = Fired::default();
        let mut tasks = JoinSet::new();
        for timer in claimed {
            while tasks.len() >= PARALLEL {
                if let Some(outcome) = tasks.join_next().await {
                    count(&mut fired, outcome);
                }
            }
            let (db, handler, clock) = (db.clone(), handler.clone(), self.clock.clone());
            tasks.spawn(
                async move { fire(&db, handler.as_ref(), &timer, token, clock.now()).await },
            );
        }
        while let Some(outcome) = tasks.join_next().await {
            count(&mut fired, outcome);
        }
        Ok(fired)
    }

    /// Fires `db`'s timers with `handler` until stopped: at once when a
    /// schedule commits, and every half second for what came due.
    pub fn runner(&self, db: DatabaseConnection, handler: Arc<dyn OnTimer>) -> Background {
        let timers = self.clone();
        Background::spawn(move |stop| timers.run(db, handler, stop))
    }

    async fn run(
        self,
        db: DatabaseConnection,
        handler: Arc<dyn OnTimer>,
        mut stop: watch::Receiver<bool>,
    ) {
        loop {
            if *stop.borrow() {
                return;
            }
            let pause = match self.fire_due(&db, &handler).await {
                // A full batch: there may be more due now.
                Ok(fired) if fired.claimed() >= usize::try_from(BATCH).unwrap_or(256) => continue,
                Ok(_) => POLL,
                Err(error) => {
                    tracing::warn!(%error, "timer pass failed; retrying");
                    POLL * 4
                }
            };
            tokio::select! {
                () = self.wake.notified() => {}
                () = tokio::time::sleep(pause) => {}
                _ = stop.changed() => {}
            }
        }
    }
}

fn count(fired: &mut Fired, outcome: Result<Outcome, tokio::task::JoinError>) {
    match outcome {
        Ok(Outcome::Fired) => fired.fired += 1,
        Ok(Outcome::Skipped) => fired.skipped += 1,
        Ok(Outcome::Failed) => fired.failed += 1,
        Err(error) => {
            tracing::error!(%error, "a timer's task panicked");
            fired.failed += 1;
        }
    }
}

/// Leases up to a batch of due timers to the claim `token`.
async fn claim(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    token: Uuid,
) -> Result<Vec<Timer>, DbErr> {
    let backend = db.get_database_backend();
    // PostgreSQL skips rows another runner is claiming; SQLite has one writer.
    let lock = if backend == sea_orm::DatabaseBackend::Postgres {
        " FOR UPDATE SKIP LOCKED"
    } else {
        ""
    };
    let sql = dialect(
        backend,
        &format!(
            "UPDATE timers SET lease_until = $1, lease_token = $2, attempts = attempts + 1 \
             WHERE id IN (SELECT id FROM timers \
               WHERE due_at <= $3 AND (lease_until IS NULL OR lease_until < $3) \
               ORDER BY due_at LIMIT $4{lock}) \
             RETURNING id, kind, subject, due_at, payload, attempts"
        ),
    );
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [lease_until.into(), token.into(), now.into(), BATCH.into()],
        ))
        .await?;
    rows.iter().map(timer_of).collect()
}

enum Outcome {
    Fired,
    Skipped,
    Failed,
}

/// Fires one claimed timer: removes it (if the claim still holds) and
/// applies its effect in one transaction.
async fn fire(
    db: &DatabaseConnection,
    handler: &dyn OnTimer,
    timer: &Timer,
    token: Uuid,
    now: DateTime<Utc>,
) -> Outcome {
    let result = async {
        let txn = Txn::begin(db).await?;
        let backend = txn.get_database_backend();
        let removed = txn
            .execute_raw(Statement::from_sql_and_values(
                backend,
                dialect(
                    backend,
                    "DELETE FROM timers WHERE id = $1 AND lease_token = $2",
                ),
                [timer.id.into(), token.into()],
            ))
            .await?
            .rows_affected();
        if removed == 0 {
            txn.rollback().await?;
            return Ok(Ok(false));
        }
        match handler.fire(&txn, timer).await {
            Ok(()) => {
                txn.commit().await?;
                Ok(Ok(true))
            }
            Err(error) => {
                txn.rollback().await?;
                Ok(Err(error))
            }
        }
    }
    .await;
    match result {
        Ok(Ok(true)) => Outcome::Fired,
        Ok(Ok(false)) => Outcome::Skipped,
        Ok(Err(error)) => {
            put_back(db, timer, token, now, &error.to_string()).await;
            Outcome::Failed
        }
        Err(error) => {
            let error: DbErr = error;
            put_back(db, timer, token, now, &error.to_string()).await;
            Outcome::Failed
        }
    }
}

/// Releases a timer whose effect failed, to be tried again after a backoff
/// that doubles with each attempt (up to an hour).
async fn put_back(
    db: &DatabaseConnection,
    timer: &Timer,
    token: Uuid,
    now: DateTime<Utc>,
    error: &str,
) {
    let exponent = u32::try_from(timer.attempts.clamp(1, 12)).unwrap_or(12);
    let backoff = 2_i64.pow(exponent).min(MAX_BACKOFF_SECS);
    if timer.attempts >= 10 {
        tracing::error!(timer = %timer.id, kind = %timer.kind, attempts = timer.attempts, error, "a timer keeps failing");
    } else {
        tracing::warn!(timer = %timer.id, kind = %timer.kind, attempts = timer.attempts, error, "timer failed; will retry");
    }
    let backend = db.get_database_backend();
    let result = db
        .execute_raw(Statement::from_sql_and_values(
            backend,
            dialect(
                backend,
                "UPDATE timers SET lease_until = NULL, lease_token = NULL, due_at = $1, \
                 last_error = $2 WHERE id = $3 AND lease_token = $4",
            ),
            [
                (now + chrono::Duration::seconds(backoff)).into(),
                error.chars().take(500).collect::<String>().into(),
                timer.id.into(),
                token.into(),
            ],
        ))
        .await;
    if let Err(error) = result {
        // The lease lapses and another pass retries it.
        tracing::warn!(%error, timer = %timer.id, "failed timer not put back");
    }
}
