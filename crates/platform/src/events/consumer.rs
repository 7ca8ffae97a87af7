//! What consumers share on both transports: the handler contract, the
//! inbox that makes redelivery harmless, and bounded retries with backoff
//! before an event is set aside as a dead letter.

use std::collections::HashSet;
use std::time::Duration;

use chrono::Utc;
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr, EntityTrait,
    Statement, Value,
};

use super::envelope::{ReceivedEvent, consume_span};
use super::schema::{consumer_offsets, dead_letters};
use crate::db::Txn;
use tracing::Instrument as _;

/// A handler's failure: the transaction is rolled back and the event retried.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HandlerError(pub String);

impl From<DbErr> for HandlerError {
    fn from(error: DbErr) -> Self {
        HandlerError(format!("database: {error}"))
    }
}

impl From<super::EnvelopeError> for HandlerError {
    fn from(error: super::EnvelopeError) -> Self {
        HandlerError(error.to_string())
    }
}

/// Applies events. Everything it writes goes through `txn`, which also
/// records the event in the inbox, so an event is applied at most once.
#[async_trait::async_trait]
pub trait EventHandler: Send + Sync + 'static {
    async fn handle(&self, txn: &Txn, event: &ReceivedEvent) -> Result<(), HandlerError>;

    /// Runs after the transaction that applied `event` committed: the place
    /// for effects outside the database, such as telling live streams. It
    /// is not called for an event whose transaction rolled back, and a
    /// crash can skip it, so it must only hurry along what the database
    /// already holds.
    async fn committed(&self, _event: &ReceivedEvent) {}
}

/// A durable consumer.
#[derive(Debug, Clone)]
pub struct ConsumerSpec {
    /// Durable name, unique per consuming service, e.g. `marketplace-profiles`.
    pub name: String,
    /// The producing service whose stream is read.
    pub producer: String,
    /// Full protobuf names of the events wanted; empty means all.
    pub event_types: Vec<String>,
    /// Attempts before the event becomes a dead letter.
    pub max_attempts: u32,
    /// Wait before the second attempt; doubles each time, capped at `max_backoff`.
    pub first_backoff: Duration,
    pub max_backoff: Duration,
    /// Whether applied events are recorded in the inbox (the default). A
    /// handler whose own writes already make a second delivery harmless
    /// can go without: then a batch it writes nothing for commits without
    /// a WAL flush, as a read-only transaction.
    pub inbox: bool,
}

impl ConsumerSpec {
    pub fn new(name: impl Into<String>, producer: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            producer: producer.into(),
            event_types: Vec::new(),
            max_attempts: 5,
            first_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(10),
            inbox: true,
        }
    }

    pub fn wants(&self, event_type: &str) -> bool {
        self.event_types.is_empty() || self.event_types.iter().any(|wanted| wanted == event_type)
    }

    pub(crate) fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1).min(16));
        (self.first_backoff * factor).min(self.max_backoff)
    }
}

/// What became of one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    Applied,
    /// In the inbox already: a redelivery.
    Duplicate,
    /// Not wanted by this consumer.
    Skipped,
    /// Failed every attempt.
    DeadLetter(String),
}

/// Where an in-process consumer keeps its position.
pub(crate) struct Cursor<'a> {
    pub consumer: &'a str,
    pub stream_seq: i64,
}

/// Applies `event` with retries; the cursor (in-process) moves in the same
/// transaction as the handler's writes. Dead letters are returned, not stored.
pub(crate) async fn apply_with_retries(
    db: &DatabaseConnection,
    spec: &ConsumerSpec,
    event: &ReceivedEvent,
    handler: &dyn EventHandler,
    cursor: Option<Cursor<'_>>,
    first_attempt: u32,
) -> Result<Outcome, DbErr> {
    if !spec.wants(event.event_type()) {
        if let Some(cursor) = &cursor {
            save_cursor(db, cursor).await?;
        }
        return Ok(Outcome::Skipped);
    }
    let span = consume_span(&spec.name, event);
    let mut attempt = first_attempt.max(1);
    loop {
        match apply_once(db, spec, event, handler, cursor.as_ref())
            .instrument(span.clone())
            .await
        {
            Ok(outcome) => return Ok(outcome),
            Err(error) => {
                let _entered = span.enter();
                if attempt >= spec.max_attempts {
                    tracing::error!(attempt, %error, "event failed every attempt; dead-lettering");
                    return Ok(Outcome::DeadLetter(error.0));
                }
                let wait = spec.backoff(attempt);
                tracing::warn!(attempt, %error, wait_ms = wait.as_millis() as u64, "event handler failed; retrying");
                drop(_entered);
                tokio::time::sleep(wait).await;
                attempt += 1;
            }
        }
    }
}

/// The fast path: applies every event of `events` in one transaction (one
/// inbox statement for the batch) and moves the cursor to `cursor` with it.
/// If a handler fails, nothing is changed and the index of the failed event
/// is returned; the caller then goes one event at a time, counting that
/// failure as the event's first attempt, so order and the dead-letter rules
/// hold.
pub(crate) async fn apply_batch(
    db: &DatabaseConnection,
    spec: &ConsumerSpec,
    events: &[ReceivedEvent],
    handler: &dyn EventHandler,
    cursor: Option<Cursor<'_>>,
) -> Result<Result<(), usize>, DbErr> {
    let txn = Txn::begin(db).await?;
    let mut wanted: Vec<uuid::Uuid> = Vec::with_capacity(events.len());
    for event in events {
        if spec.wants(event.event_type()) && !wanted.contains(&event.id) {
            wanted.push(event.id);
        }
    }
    let mut new = if spec.inbox {
        record_new(&txn, &spec.name, &wanted).await?
    } else {
        wanted.into_iter().collect()
    };
    let mut done = Vec::new();
    for (index, event) in events.iter().enumerate() {
        // `remove`: an event twice in one batch is applied once.
        if !spec.wants(event.event_type()) || !new.remove(&event.id) {
            continue;
        }
        let span = consume_span(&spec.name, event);
        if let Err(error) = handler.handle(&txn, event).instrument(span).await {
            tracing::debug!(consumer = %spec.name, %error, "batch failed; going one by one");
            txn.rollback().await?;
            return Ok(Err(index));
        }
        done.push(event);
    }
    if let Some(cursor) = &cursor {
        save_cursor(&txn, cursor).await?;
    }
    txn.commit().await?;
    for event in done {
        handler.committed(event).await;
    }
    Ok(Ok(()))
}

/// Writes `ids` into `consumer`'s inbox and answers those that were not
/// there yet: the events to apply. One statement whose answer comes from the
/// primary key's conflict check, so no query plan decides how much of the
/// inbox is read (a lookup by `IN (…)` went through every row of the
/// consumer when the table's statistics were stale).
async fn record_new(
    txn: &Txn,
    consumer: &str,
    ids: &[uuid::Uuid],
) -> Result<HashSet<uuid::Uuid>, DbErr> {
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    let backend = txn.get_database_backend();
    let now = Utc::now();
    let statement = match backend {
        // One statement text for any batch size: prepared once per
        // connection, never re-parsed.
        DatabaseBackend::Postgres => Statement::from_sql_and_values(
            backend,
            "INSERT INTO inbox (consumer, event_id, applied_at) \
             SELECT $1, id, $2 FROM unnest($3::uuid[]) AS id \
             ON CONFLICT DO NOTHING RETURNING event_id",
            [consumer.into(), now.into(), Value::from(ids.to_vec())],
        ),
        _ => {
            let mut values: Vec<Value> = vec![consumer.into(), now.into()];
            let mut rows = Vec::with_capacity(ids.len());
            for id in ids {
                values.push((*id).into());
                rows.push(format!("(?1, ?{}, ?2)", values.len()));
            }
            Statement::from_sql_and_values(
                backend,
                format!(
                    "INSERT INTO inbox (consumer, event_id, applied_at) VALUES {} \
                     ON CONFLICT DO NOTHING RETURNING event_id",
                    rows.join(", ")
                ),
                values,
            )
        }
    };
    txn.query_all_raw(statement)
        .await?
        .iter()
        .map(|row| row.try_get::<uuid::Uuid>("", "event_id"))
        .collect()
}

async fn apply_once(
    db: &DatabaseConnection,
    spec: &ConsumerSpec,
    event: &ReceivedEvent,
    handler: &dyn EventHandler,
    cursor: Option<&Cursor<'_>>,
) -> Result<Outcome, HandlerError> {
    let txn = Txn::begin(db).await?;
    let seen = spec.inbox && record_new(&txn, &spec.name, &[event.id]).await?.is_empty();
    if !seen {
        handler.handle(&txn, event).await?;
    }
    if let Some(cursor) = cursor {
        save_cursor(&txn, cursor).await?;
    }
    txn.commit().await?;
    if !seen {
        handler.committed(event).await;
    }
    Ok(if seen {
        Outcome::Duplicate
    } else {
        Outcome::Applied
    })
}

/// Records a dead letter (in-process) and moves the cursor past it.
pub(crate) async fn store_dead_letter(
    db: &DatabaseConnection,
    spec: &ConsumerSpec,
    event: &ReceivedEvent,
    error: &str,
    envelope: Vec<u8>,
    cursor: Option<Cursor<'_>>,
) -> Result<(), DbErr> {
    let txn = Txn::begin(db).await?;
    dead_letters::Entity::insert(dead_letters::ActiveModel {
        consumer: Set(spec.name.clone()),
        event_id: Set(event.id),
        error: Set(error.to_owned()),
        envelope: Set(envelope),
        failed_at: Set(Utc::now()),
    })
    .on_conflict_do_nothing()
    .exec(&txn)
    .await?;
    if let Some(cursor) = &cursor {
        save_cursor(&txn, cursor).await?;
    }
    txn.commit().await
}

pub(crate) async fn load_cursor(db: &impl ConnectionTrait, consumer: &str) -> Result<i64, DbErr> {
    Ok(consumer_offsets::Entity::find_by_id(consumer.to_owned())
        .one(db)
        .await?
        .map_or(0, |row| row.stream_seq))
}

async fn save_cursor(db: &impl ConnectionTrait, cursor: &Cursor<'_>) -> Result<(), DbErr> {
    let row = consumer_offsets::ActiveModel {
        consumer: Set(cursor.consumer.to_owned()),
        stream_seq: Set(cursor.stream_seq),
        updated_at: Set(Utc::now()),
    };
    consumer_offsets::Entity::insert(row)
        .on_conflict(
            sea_orm::sea_query::OnConflict::column(consumer_offsets::Column::Consumer)
                .update_columns([
                    consumer_offsets::Column::StreamSeq,
                    consumer_offsets::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec(db)
        .await?;
    Ok(())
}
