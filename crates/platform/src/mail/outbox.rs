//! Mail that must not be lost: recorded in the transaction of the change
//! that causes it (a verification code, a security alert), sent after the
//! commit by a relay with retries. A crash between commit and send only
//! delays the mail; a message is sent at least once and, unless the process
//! dies between the SMTP answer and marking it sent, exactly once. The body
//! of a sent message is cleared, so codes do not stay at rest.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr, Statement};
use tokio::sync::{Notify, watch};
use uuid::Uuid;

use super::{Mail, Mailer};
use crate::db::Txn;
use crate::events::Background;

/// Sends given up after this many attempts (about a day of backoff).
const MAX_ATTEMPTS: i32 = 12;
/// How long a claimed message is left to its sender before another may try.
const LEASE: Duration = Duration::from_secs(120);
/// How often the relay looks for mail another process queued, or whose
/// retry time has come.
const POLL: Duration = Duration::from_secs(2);
/// Messages sent at once.
const BATCH: i64 = 16;
/// Sent and failed messages are kept this long (for support questions).
const KEEP: chrono::Duration = chrono::Duration::days(7);

/// Where a service queues its mail.
#[derive(Clone, Default)]
pub struct MailOutbox {
    wake: Arc<Notify>,
}

impl MailOutbox {
    pub fn new() -> Self {
        Self::default()
    }

    /// Queues `mail` in `txn`; the relay sends it once `txn` commits.
    pub async fn queue(&self, txn: &Txn, mail: &Mail) -> Result<(), DbErr> {
        let backend = txn.get_database_backend();
        let now = Utc::now();
        let sql = match backend {
            DatabaseBackend::Postgres => {
                "INSERT INTO mail_outbox (id, recipient, subject, body, created_at, attempts, next_attempt_at) \
                 VALUES ($1, $2, $3, $4, $5, 0, $5)"
            }
            _ => {
                "INSERT INTO mail_outbox (id, recipient, subject, body, created_at, attempts, next_attempt_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, 0, ?5)"
            }
        };
        txn.execute_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [
                Uuid::now_v7().into(),
                mail.to.clone().into(),
                mail.subject.clone().into(),
                mail.text.clone().into(),
                now.into(),
            ],
        ))
        .await?;
        txn.wake_on_commit(&self.wake);
        Ok(())
    }

    /// Starts the relay sending `db`'s queued mail through `mailer`.
    pub fn relay(&self, db: DatabaseConnection, mailer: Arc<Mailer>) -> Background {
        let wake = self.wake.clone();
        Background::spawn(move |stop| run(db, mailer, wake, stop))
    }

    /// One pass of the relay: sends what is due; how many were sent.
    pub async fn send_due(db: &DatabaseConnection, mailer: &Mailer) -> Result<usize, DbErr> {
        let now = Utc::now();
        let claimed = claim(db, now).await?;
        let mut sent = 0;
        for message in claimed {
            let mail = Mail {
                to: message.recipient.clone(),
                subject: message.subject.clone(),
                text: message.body.clone(),
            };
            match mailer.send(mail).await {
                Ok(()) => {
                    mark_sent(db, message.id, Utc::now()).await?;
                    sent += 1;
                }
                Err(error) => {
                    let error = error.to_string();
                    if message.attempts >= MAX_ATTEMPTS {
                        tracing::error!(mail_id = %message.id, attempts = message.attempts, %error, "mail given up");
                    } else {
                        tracing::warn!(mail_id = %message.id, attempts = message.attempts, %error, "mail failed; will retry");
                    }
                    mark_failed(db, &message, &error, Utc::now()).await?;
                }
            }
        }
        Ok(sent)
    }

    /// Deletes sent and given-up mail older than the keeping time.
    pub async fn prune(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<u64, DbErr> {
        let backend = db.get_database_backend();
        let sql = match backend {
            DatabaseBackend::Postgres => {
                "DELETE FROM mail_outbox WHERE (sent_at IS NOT NULL OR failed_at IS NOT NULL) AND created_at < $1"
            }
            _ => {
                "DELETE FROM mail_outbox WHERE (sent_at IS NOT NULL OR failed_at IS NOT NULL) AND created_at < ?1"
            }
        };
        Ok(db
            .execute_raw(Statement::from_sql_and_values(
                backend,
                sql,
                [(now - KEEP).into()],
            ))
            .await?
            .rows_affected())
    }
}

async fn run(
    db: DatabaseConnection,
    mailer: Arc<Mailer>,
    wake: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
) {
    let mut last_prune = None::<DateTime<Utc>>;
    loop {
        if *stop.borrow() {
            return;
        }
        let mut failed = false;
        if let Err(error) = MailOutbox::send_due(&db, &mailer).await {
            tracing::warn!(%error, "mail relay pass failed");
            failed = true;
        }
        let now = Utc::now();
        if last_prune.is_none_or(|at| now - at > chrono::Duration::hours(1)) {
            match MailOutbox::prune(&db, now).await {
                Ok(pruned) if pruned > 0 => tracing::info!(pruned, "old mail pruned"),
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "pruning old mail failed"),
            }
            last_prune = Some(now);
        }
        let pause = if failed { POLL * 2 } else { POLL };
        tokio::select! {
            () = wake.notified() => {}
            () = tokio::time::sleep(pause) => {}
            _ = stop.changed() => {}
        }
    }
}

struct Claimed {
    id: Uuid,
    recipient: String,
    subject: String,
    body: String,
    attempts: i32,
}

/// Leases up to a batch of due messages to this relay.
async fn claim(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<Vec<Claimed>, DbErr> {
    let backend = db.get_database_backend();
    let lease_until = now + chrono::Duration::from_std(LEASE).unwrap_or_default();
    let sql = match backend {
        DatabaseBackend::Postgres => {
            "UPDATE mail_outbox SET lease_until = $1, attempts = attempts + 1 \
             WHERE id IN (SELECT id FROM mail_outbox \
               WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $2 \
                 AND (lease_until IS NULL OR lease_until < $2) \
               ORDER BY created_at LIMIT $3 FOR UPDATE SKIP LOCKED) \
             RETURNING id, recipient, subject, body, attempts"
        }
        _ => {
            "UPDATE mail_outbox SET lease_until = ?1, attempts = attempts + 1 \
             WHERE id IN (SELECT id FROM mail_outbox \
               WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= ?2 \
                 AND (lease_until IS NULL OR lease_until < ?2) \
               ORDER BY created_at LIMIT ?3) \
             RETURNING id, recipient, subject, body, attempts"
        }
    };
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [lease_until.into(), now.into(), BATCH.into()],
        ))
        .await?;
    rows.iter()
        .map(|row| {
            Ok(Claimed {
                id: row.try_get("", "id")?,
                recipient: row.try_get("", "recipient")?,
                subject: row.try_get("", "subject")?,
                body: row.try_get("", "body")?,
                attempts: row.try_get("", "attempts")?,
            })
        })
        .collect()
}

async fn mark_sent(db: &DatabaseConnection, id: Uuid, now: DateTime<Utc>) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DatabaseBackend::Postgres => {
            "UPDATE mail_outbox SET sent_at = $1, body = '', lease_until = NULL WHERE id = $2"
        }
        _ => "UPDATE mail_outbox SET sent_at = ?1, body = '', lease_until = NULL WHERE id = ?2",
    };
    db.execute_raw(Statement::from_sql_and_values(
        backend,
        sql,
        [now.into(), id.into()],
    ))
    .await?;
    Ok(())
}

async fn mark_failed(
    db: &DatabaseConnection,
    message: &Claimed,
    error: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    let give_up = message.attempts >= MAX_ATTEMPTS;
    // 5 s, 10 s, 20 s … at most an hour apart (`attempts` counts this one).
    let wait = chrono::Duration::seconds((5_i64 << (message.attempts - 1).clamp(0, 10)).min(3600));
    let failed_at: Option<DateTime<Utc>> = give_up.then_some(now);
    let body = if give_up {
        String::new()
    } else {
        message.body.clone()
    };
    let sql = match backend {
        DatabaseBackend::Postgres => {
            "UPDATE mail_outbox SET lease_until = NULL, next_attempt_at = $1, last_error = $2, \
             failed_at = $3, body = $4 WHERE id = $5"
        }
        _ => {
            "UPDATE mail_outbox SET lease_until = NULL, next_attempt_at = ?1, last_error = ?2, \
             failed_at = ?3, body = ?4 WHERE id = ?5"
        }
    };
    db.execute_raw(Statement::from_sql_and_values(
        backend,
        sql,
        [
            (now + wait).into(),
            error.chars().take(500).collect::<String>().into(),
            failed_at.into(),
            body.into(),
            message.id.into(),
        ],
    ))
    .await?;
    Ok(())
}
