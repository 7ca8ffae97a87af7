//! Keeps the event tables from growing forever. In each service database:
//!
//! - behind JetStream the relay deletes `outbox` rows as it publishes
//!   them; rows marked published instead (by versions before that) go once
//!   they are older than what JetStream still deduplicates
//!   (`duplicate_window_secs`). In the all-in-one shape the outbox is the log itself, so a row also
//!   stays until every consumer of it has read past it, and at least as
//!   long as a JetStream stream would keep it (`max_age_days`);
//! - `inbox` rows go once they are older than the stream keeps events
//!   (`max_age_days`): no redelivery can bring such an event back.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr, Statement, Value};

use super::{Background, EventBus};

/// How often the job runs.
const EVERY: Duration = Duration::from_secs(3600);

/// What one pass deleted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pruned {
    pub outbox: u64,
    pub inbox: u64,
}

/// The retention job of one service database.
pub struct Retention {
    bus: EventBus,
    producer: String,
    db: DatabaseConnection,
}

impl Retention {
    /// For `producer`'s database `db` (its outbox, and the inbox of its consumers).
    pub fn new(bus: EventBus, producer: impl Into<String>, db: DatabaseConnection) -> Self {
        Self {
            bus,
            producer: producer.into(),
            db,
        }
    }

    /// Deletes what is no longer needed at `now`.
    pub async fn pass(&self, now: DateTime<Utc>) -> Result<Pruned, DbErr> {
        let config = self.bus.config();
        let max_age = chrono::Duration::days(i64::try_from(config.max_age_days).unwrap_or(30));
        let window =
            chrono::Duration::seconds(i64::try_from(config.duplicate_window_secs).unwrap_or(120));
        let outbox = match &self.bus {
            EventBus::JetStream(_) => {
                self.delete(
                    "DELETE FROM outbox WHERE published_at IS NOT NULL AND published_at < $1",
                    vec![(now - window).into()],
                )
                .await?
            }
            EventBus::InProcess(bus) => {
                // Every consumer's position; none yet means nothing is read.
                let Some(read) = bus.read_by_all(&self.producer).await? else {
                    return self
                        .prune_inbox(now - max_age)
                        .await
                        .map(|inbox| Pruned { outbox: 0, inbox });
                };
                self.delete(
                    "DELETE FROM outbox WHERE published_at IS NOT NULL AND published_at < $1 \
                     AND stream_seq <= $2",
                    vec![(now - max_age.max(window)).into(), read.into()],
                )
                .await?
            }
        };
        let inbox = self.prune_inbox(now - max_age).await?;
        Ok(Pruned { outbox, inbox })
    }

    async fn prune_inbox(&self, before: DateTime<Utc>) -> Result<u64, DbErr> {
        // A service that consumes nothing has no inbox.
        if !sea_orm_migration::SchemaManager::new(&self.db)
            .has_table("inbox")
            .await?
        {
            return Ok(0);
        }
        self.delete(
            "DELETE FROM inbox WHERE applied_at < $1",
            vec![before.into()],
        )
        .await
    }

    /// Runs `sql` (written with `$n` placeholders) on either backend.
    async fn delete(&self, sql: &str, values: Vec<Value>) -> Result<u64, DbErr> {
        let backend = self.db.get_database_backend();
        let sql = match backend {
            DatabaseBackend::Postgres => sql.to_owned(),
            _ => sql.replace('$', "?"),
        };
        Ok(self
            .db
            .execute_raw(Statement::from_sql_and_values(backend, sql, values))
            .await?
            .rows_affected())
    }

    /// Runs a pass every hour until stopped.
    pub fn spawn(self) -> Background {
        Background::spawn(move |mut stop| async move {
            loop {
                tokio::select! {
                    () = tokio::time::sleep(EVERY) => {}
                    _ = stop.changed() => return,
                }
                match self.pass(Utc::now()).await {
                    Ok(pruned) if pruned != Pruned::default() => {
                        tracing::info!(producer = %self.producer, outbox = pruned.outbox, inbox = pruned.inbox, "event tables pruned");
                    }
                    Ok(_) => {}
                    Err(error) => {
                        tracing::warn!(producer = %self.producer, %error, "pruning event tables failed");
                    }
                }
            }
        })
    }
}
