//! The outbox: events written in the state change's transaction, and the
//! relay that publishes them in commit order. A relay holds a transaction-
//! scoped advisory lock while it publishes (PostgreSQL), so with several
//! replicas exactly one publishes at a time and order per aggregate holds; a
//! crash between publishing and marking re-publishes the batch, which
//! JetStream drops as duplicates by `Nats-Msg-Id`.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use prost::{Message, Name};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Statement, TransactionTrait,
    Value,
};
use tokio::sync::Notify;
use uuid::Uuid;

use super::schema::outbox;
use super::{Background, EventBus, envelope, stopped};
use crate::db::Txn;

/// Writes events into a service's outbox.
#[derive(Clone)]
pub struct Outbox {
    producer: &'static str,
    prefix: String,
    wake: Arc<Notify>,
}

impl Outbox {
    /// An outbox handle for `producer`; tools that write a service's
    /// database directly (operator commands) use it, and the service's relay
    /// publishes what they wrote.
    pub fn new(producer: &'static str, prefix: String) -> Self {
        Self {
            producer,
            prefix,
            wake: Arc::new(Notify::new()),
        }
    }

    pub fn producer(&self) -> &'static str {
        self.producer
    }

    /// Records `event` about `aggregate_type`/`aggregate_id` in the
    /// transaction of the state change (a write sent with its others); the
    /// relay wakes when it commits.
    pub async fn publish<E: Name>(
        &self,
        db: &Txn,
        aggregate_type: &str,
        aggregate_id: &str,
        event: &E,
    ) -> Result<Uuid, DbErr> {
        let id = Uuid::now_v7();
        db.wake_on_commit(&self.wake);
        db.defer(&outbox::Entity::insert(self.row(
            id,
            aggregate_type,
            aggregate_id,
            event,
            Utc::now(),
        )));
        Ok(id)
    }

    /// The outbox row of one event.
    fn row<E: Name>(
        &self,
        id: Uuid,
        aggregate_type: &str,
        aggregate_id: &str,
        event: &E,
        now: chrono::DateTime<Utc>,
    ) -> outbox::ActiveModel {
        let sealed = envelope::seal(id, self.producer, aggregate_type, aggregate_id, event, now);
        outbox::ActiveModel {
            event_id: Set(id),
            subject: Set(envelope::subject::<E>(&self.prefix, self.producer)),
            event_type: Set(E::full_name()),
            aggregate_id: Set(aggregate_id.to_owned()),
            envelope: Set(sealed.encode_to_vec()),
            created_at: Set(now),
            published_at: Set(None),
            stream_seq: Set(None),
            ..Default::default()
        }
    }

    /// `publish` for many events of one type in one statement, each with
    /// its aggregate id.
    pub async fn publish_many<E: Name>(
        &self,
        db: &Txn,
        aggregate_type: &str,
        events: &[(String, E)],
    ) -> Result<Vec<Uuid>, DbErr> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        db.wake_on_commit(&self.wake);
        let now = Utc::now();
        let ids: Vec<Uuid> = events.iter().map(|_| Uuid::now_v7()).collect();
        if db.get_database_backend() != DatabaseBackend::Postgres {
            let rows = ids.iter().zip(events).map(|(id, (aggregate_id, event))| {
                self.row(*id, aggregate_type, aggregate_id, event, now)
            });
            outbox::Entity::insert_many(rows)
                .exec_without_returning(db)
                .await?;
            return Ok(ids);
        }
        // PostgreSQL: one array per column, so the statement's text is the
        // same for any number of rows (prepared once per connection; a
        // `VALUES` list is a new text, parsed and planned again, per size).
        let n = events.len();
        let subject = envelope::subject::<E>(&self.prefix, self.producer);
        let (mut aggregates, mut envelopes) = (Vec::with_capacity(n), Vec::with_capacity(n));
        for (id, (aggregate_id, event)) in ids.iter().zip(events) {
            let sealed =
                envelope::seal(*id, self.producer, aggregate_type, aggregate_id, event, now);
            aggregates.push(aggregate_id.clone());
            envelopes.push(sealed.encode_to_vec());
        }
        db.execute_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "INSERT INTO outbox (event_id, subject, event_type, aggregate_id, envelope, created_at) \
             SELECT e.id, $2, $3, e.aggregate, e.envelope, $4 \
             FROM unnest($1::uuid[], $5::text[], $6::bytea[]) AS e(id, aggregate, envelope)",
            [
                Value::from(ids.clone()),
                subject.into(),
                E::full_name().into(),
                now.into(),
                Value::from(aggregates),
                Value::from(envelopes),
            ],
        ))
        .await?;
        Ok(ids)
    }
}

/// Marks exactly the rows just published (never a range: a row with a
/// lower sequence may commit after the pass read the table). On PostgreSQL
/// the sequences go as one array, so the statement text never changes.
async fn mark_published(
    txn: &impl ConnectionTrait,
    rows: &[outbox::Model],
    now: chrono::DateTime<Utc>,
) -> Result<(), DbErr> {
    let seqs: Vec<i64> = rows.iter().map(|row| row.seq).collect();
    if txn.get_database_backend() == DatabaseBackend::Postgres {
        txn.execute_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "UPDATE outbox SET published_at = $1 WHERE seq = ANY($2)",
            [now.into(), Value::from(seqs)],
        ))
        .await?;
    } else {
        outbox::Entity::update_many()
            .col_expr(outbox::Column::PublishedAt, Expr::value(Some(now)))
            .filter(outbox::Column::Seq.is_in(seqs))
            .exec(txn)
            .await?;
    }
    Ok(())
}

/// Why a relay pass failed; the relay backs off and tries again.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("database: {0}")]
    Db(#[from] DbErr),
    #[error("publish: {0}")]
    Publish(String),
}

/// Publishes one producer's outbox.
#[derive(Clone)]
pub struct Relay {
    producer: &'static str,
    db: DatabaseConnection,
    bus: EventBus,
    outbox: Outbox,
}

impl Relay {
    pub(crate) fn new(
        producer: &'static str,
        db: DatabaseConnection,
        bus: EventBus,
        outbox: Outbox,
    ) -> Self {
        Self {
            producer,
            db,
            bus,
            outbox,
        }
    }

    /// Runs until stopped, then publishes what is left (bounded by the grace
    /// the caller gives [`Background::shutdown`]).
    pub fn spawn(self) -> Background {
        Background::spawn(move |mut stop| async move {
            let poll = Duration::from_millis(self.bus.config().relay_poll_ms);
            let mut failures = 0u32;
            let mut last_depth_report = std::time::Instant::now();
            loop {
                if *stop.borrow() {
                    let _ = self.drain().await;
                    return;
                }
                match self.pass().await {
                    Ok(published) if published > 0 => {
                        failures = 0;
                        continue;
                    }
                    Ok(_) => failures = 0,
                    Err(error) => {
                        failures = failures.saturating_add(1);
                        tracing::warn!(producer = self.producer, %error, failures, "relay pass failed; retrying");
                    }
                }
                if last_depth_report.elapsed() > Duration::from_secs(10) {
                    last_depth_report = std::time::Instant::now();
                    self.report_depth().await;
                }
                // Backing off gently, but never past a second: a broker back
                // from a restart is used within one (the chaos run saw
                // events 5 s late behind a 5 s cap).
                let wait = if failures == 0 {
                    poll
                } else {
                    (poll * 2u32.saturating_pow(failures.min(5))).min(Duration::from_secs(1))
                };
                tokio::select! {
                    () = self.outbox.wake.notified(), if failures == 0 => {}
                    () = tokio::time::sleep(wait) => {}
                    () = stopped(&mut stop) => {}
                }
            }
        })
    }

    /// Publishes until the outbox is empty or a pass fails.
    pub async fn drain(&self) -> Result<(), RelayError> {
        while self.pass().await? > 0 {}
        Ok(())
    }

    /// One transaction: lock, read a batch in order, publish, mark.
    pub async fn pass(&self) -> Result<usize, RelayError> {
        self.pass_with(true).await
    }

    /// Publishes a batch and stops before marking it, exactly as a relay
    /// killed at that moment would leave things. For crash tests.
    #[doc(hidden)]
    pub async fn pass_then_crash(&self) -> Result<usize, RelayError> {
        self.pass_with(false).await
    }

    async fn pass_with(&self, mark: bool) -> Result<usize, RelayError> {
        let txn = self.db.begin().await?;
        if txn.get_database_backend() == DatabaseBackend::Postgres {
            let locked = txn
                .query_one_raw(Statement::from_sql_and_values(
                    DatabaseBackend::Postgres,
                    "SELECT pg_try_advisory_xact_lock($1) AS locked",
                    [lock_key(self.producer).into()],
                ))
                .await?
                .map(|row| row.try_get::<bool>("", "locked"))
                .transpose()?
                .unwrap_or(false);
            if !locked {
                return Ok(0);
            }
            // Marking rows published need not wait for the WAL flush: a
            // mark lost in a crash only publishes those events again, which
            // JetStream drops as duplicates (Nats-Msg-Id = event id) and
            // consumers' inboxes would ignore anyway. The flush wait was a
            // third of the commits on the path of every sent message.
            txn.execute_unprepared("SET LOCAL synchronous_commit = off")
                .await?;
        }
        let rows = outbox::Entity::find()
            .filter(outbox::Column::PublishedAt.is_null())
            .order_by_asc(outbox::Column::Seq)
            .limit(self.bus.config().relay_batch)
            .all(&txn)
            .await?;
        if rows.is_empty() {
            return Ok(0);
        }
        let now = Utc::now();
        match &self.bus {
            EventBus::JetStream(bus) => {
                bus.publish_batch(&rows).await?;
                if !mark {
                    return Ok(rows.len());
                }
                mark_published(&txn, &rows, now).await?;
            }
            EventBus::InProcess(_) => {
                // The outbox is the log: publishing is numbering rows in order.
                let last: Option<i64> = outbox::Entity::find()
                    .select_only()
                    .column_as(outbox::Column::StreamSeq.max(), "last")
                    .into_tuple::<Option<i64>>()
                    .one(&txn)
                    .await?
                    .flatten();
                let mut next = last.unwrap_or(0);
                for row in &rows {
                    next += 1;
                    outbox::Entity::update_many()
                        .col_expr(outbox::Column::PublishedAt, Expr::value(Some(now)))
                        .col_expr(outbox::Column::StreamSeq, Expr::value(Some(next)))
                        .filter(outbox::Column::Seq.eq(row.seq))
                        .exec(&txn)
                        .await?;
                }
            }
        }
        txn.commit().await?;
        if let EventBus::InProcess(bus) = &self.bus {
            bus.published(self.producer);
        }
        tracing::debug!(
            producer = self.producer,
            count = rows.len(),
            "relayed events"
        );
        Ok(rows.len())
    }

    /// Events committed but not yet published.
    pub async fn depth(&self) -> Result<u64, DbErr> {
        outbox::Entity::find()
            .filter(outbox::Column::PublishedAt.is_null())
            .count(&self.db)
            .await
    }

    async fn report_depth(&self) {
        if let Ok(depth) = self.depth().await {
            outbox_depth_gauge().record(
                depth,
                &[opentelemetry::KeyValue::new("producer", self.producer)],
            );
            if depth > 0 {
                tracing::info!(producer = self.producer, depth, "outbox depth");
            }
        }
    }
}

fn outbox_depth_gauge() -> opentelemetry::metrics::Gauge<u64> {
    opentelemetry::global::meter("frevix")
        .u64_gauge("frevix.outbox.depth")
        .with_description("events committed but not yet published")
        .build()
}

/// The advisory-lock key of a producer's relay.
fn lock_key(producer: &str) -> i64 {
    let digest =
        <sha2::Sha256 as sha2::Digest>::digest(format!("frevix-relay:{producer}").as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(bytes)
}
