//! The relay: publishes a producer's outbox in commit order. It holds a
//! transaction-scoped advisory lock while it publishes (PostgreSQL), so with
//! several replicas exactly one publishes at a time and order per aggregate
//! holds; a crash between publishing and marking re-publishes those events,
//! which JetStream drops as duplicates by `Nats-Msg-Id`.

use std::time::Duration;

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, DatabaseTransaction, DbErr,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Statement, TransactionTrait,
    Value,
};

use super::jetstream::JetStreamBus;
use super::outbox::Outbox;
use super::schema::outbox;
use super::{Background, EventBus, stopped};

/// Batches one pass publishes at most before it commits their marks: a
/// pass holds the relay lock, so it should not run for long.
const BATCHES_PER_PASS: usize = 8;

/// Marks exactly the rows just published (never a range: a row with a
/// lower sequence may commit after the pass read the table). On PostgreSQL
/// the sequences go as one array, so the statement text never changes.
async fn mark_published(
    txn: &impl ConnectionTrait,
    seqs: Vec<i64>,
    now: chrono::DateTime<Utc>,
) -> Result<(), DbErr> {
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
        let batch = self.batch_after(&txn, 0).await?;
        if batch.is_empty() {
            return Ok(0);
        }
        let now = Utc::now();
        let count = match &self.bus {
            EventBus::JetStream(bus) if !mark => {
                let count = batch.len();
                bus.send_batch(batch).await?.confirmed().await?;
                return Ok(count);
            }
            EventBus::JetStream(bus) => self.publish_pipelined(bus, &txn, batch, now).await?,
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
                for row in &batch {
                    next += 1;
                    outbox::Entity::update_many()
                        .col_expr(outbox::Column::PublishedAt, Expr::value(Some(now)))
                        .col_expr(outbox::Column::StreamSeq, Expr::value(Some(next)))
                        .filter(outbox::Column::Seq.eq(row.seq))
                        .exec(&txn)
                        .await?;
                }
                batch.len()
            }
        };
        txn.commit().await?;
        if let EventBus::InProcess(bus) = &self.bus {
            bus.published(self.producer);
        }
        tracing::debug!(producer = self.producer, count, "relayed events");
        Ok(count)
    }

    /// Publishes `batch` and, while the outbox has more, the batches after
    /// it, up to [`BATCHES_PER_PASS`]. One batch's acks are in flight while
    /// the previous batch is marked and the next one read, so the database
    /// and the broker work at the same time instead of in turn. On
    /// PostgreSQL the next batch is read on another connection while this
    /// one marks (the relay lock is this transaction's, and rows this pass
    /// has sent are skipped by sequence): reading, marking and the acks all
    /// overlap. A failure anywhere rolls the marks back: those events are
    /// published again, and dropped by JetStream as duplicates.
    async fn publish_pipelined(
        &self,
        bus: &JetStreamBus,
        txn: &DatabaseTransaction,
        mut batch: Vec<outbox::Model>,
        now: chrono::DateTime<Utc>,
    ) -> Result<usize, RelayError> {
        let full = self.bus.config().relay_batch;
        let read_beside = txn.get_database_backend() == DatabaseBackend::Postgres;
        let mut published = 0;
        let mut unmarked: Vec<i64> = Vec::new();
        for round in 1..=BATCHES_PER_PASS {
            let seqs: Vec<i64> = batch.iter().map(|row| row.seq).collect();
            let after = seqs
                .last()
                .copied()
                .filter(|_| batch.len() as u64 == full && round < BATCHES_PER_PASS);
            let sent = bus.send_batch(batch).await?;
            let marking = async {
                match std::mem::take(&mut unmarked) {
                    seqs if seqs.is_empty() => Ok(()),
                    seqs => mark_published(txn, seqs, now).await,
                }
            };
            let next = match after {
                None => {
                    marking.await?;
                    Vec::new()
                }
                Some(after) if read_beside => {
                    let (marked, next) = tokio::join!(marking, self.batch_after(&self.db, after));
                    marked?;
                    next?
                }
                Some(after) => {
                    marking.await?;
                    self.batch_after(txn, after).await?
                }
            };
            sent.confirmed().await?;
            published += seqs.len();
            unmarked = seqs;
            if next.is_empty() {
                break;
            }
            batch = next;
        }
        mark_published(txn, unmarked, now).await?;
        Ok(published)
    }

    /// The next unpublished rows in order, after sequence `after` (rows
    /// this pass sent but has not marked yet).
    async fn batch_after(
        &self,
        db: &impl ConnectionTrait,
        after: i64,
    ) -> Result<Vec<outbox::Model>, DbErr> {
        outbox::Entity::find()
            .filter(outbox::Column::PublishedAt.is_null())
            .filter(outbox::Column::Seq.gt(after))
            .order_by_asc(outbox::Column::Seq)
            .limit(self.bus.config().relay_batch)
            .all(db)
            .await
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
