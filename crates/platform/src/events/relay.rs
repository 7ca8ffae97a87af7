//! The relay: publishes a producer's outbox in commit order. It holds a
//! transaction-scoped advisory lock while it publishes (PostgreSQL), so with
//! several replicas exactly one publishes at a time and order per aggregate
//! holds; a crash between publishing and committing re-publishes those
//! events, which JetStream drops as duplicates by `Nats-Msg-Id`.
//!
//! Behind JetStream a published row is deleted, in the transaction that
//! publishes it: the stream is the log, and nothing reads a published row
//! again. Marking it instead was an update (a new row version, an entry in
//! each unique index) that cost the database about three times a delete,
//! and the row was deleted by retention soon after anyway. Where the outbox
//! is the log (the in-process bus) rows are numbered and kept.

use std::time::Duration;

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, DatabaseTransaction, DbErr,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Statement, TransactionTrait,
};

use super::jetstream::JetStreamBus;
use super::outbox::Outbox;
use super::schema::outbox;
use super::{Background, EventBus, stopped};

/// Batches one pass publishes at most before it commits their marks: a
/// pass holds the relay lock, so it should not run for long.
const BATCHES_PER_PASS: usize = 8;

/// How a pass ends once its batch is published.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ending {
    /// Commits what the pass took (deleted or numbered).
    Commit,
    /// Returns before committing, as a relay killed then would.
    Crash,
}

/// Removes exactly the rows just read (never a range: a row with a lower
/// sequence may commit after the pass read the table). SQLite's way;
/// PostgreSQL removes rows as it reads them ([`Relay::take_batch`]).
async fn remove_published(txn: &impl ConnectionTrait, seqs: Vec<i64>) -> Result<(), DbErr> {
    outbox::Entity::delete_many()
        .filter(outbox::Column::Seq.is_in(seqs))
        .exec(txn)
        .await?;
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

    /// One transaction: lock, take a batch in order, publish, commit.
    pub async fn pass(&self) -> Result<usize, RelayError> {
        self.pass_with(Ending::Commit).await
    }

    /// Publishes a batch and stops before marking it, exactly as a relay
    /// killed at that moment would leave things. For crash tests.
    #[doc(hidden)]
    pub async fn pass_then_crash(&self) -> Result<usize, RelayError> {
        self.pass_with(Ending::Crash).await
    }

    async fn pass_with(&self, ending: Ending) -> Result<usize, RelayError> {
        let txn = self.db.begin().await?;
        if txn.get_database_backend() == DatabaseBackend::Postgres {
            // Removing published rows need not wait for the WAL flush: a
            // removal lost in a crash only publishes those events again,
            // which JetStream drops as duplicates (Nats-Msg-Id = event id)
            // and consumers' inboxes would ignore anyway. The flush wait
            // was a third of the commits on the path of every sent
            // message. Set with the lock, in the same round trip.
            let locked = txn
                .query_one_raw(Statement::from_sql_and_values(
                    DatabaseBackend::Postgres,
                    "SELECT pg_try_advisory_xact_lock($1) AS locked, \
                     set_config('synchronous_commit', 'off', true) AS relaxed",
                    [lock_key(self.producer).into()],
                ))
                .await?
                .map(|row| row.try_get::<bool>("", "locked"))
                .transpose()?
                .unwrap_or(false);
            if !locked {
                return Ok(0);
            }
        }
        // Behind JetStream a batch is deleted as it is read
        // ([`Self::take_batch`]).
        let batch = match &self.bus {
            EventBus::JetStream(_) => self.take_batch(&txn).await?,
            EventBus::InProcess(_) => self.next_batch(&txn).await?,
        };
        if batch.is_empty() {
            return Ok(0);
        }
        let count = match &self.bus {
            EventBus::JetStream(bus) if ending == Ending::Crash => {
                // Rolled back with the transaction when taken.
                let count = batch.len();
                bus.send_batch(batch).await?.confirmed().await?;
                return Ok(count);
            }
            EventBus::JetStream(bus) => self.publish_taken(bus, &txn, batch).await?,
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
                let now = Utc::now();
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

    /// Publishes `batch` (taken: already deleted in `txn`) and, while the
    /// outbox has more, the batches after it, up to [`BATCHES_PER_PASS`].
    /// The next batch is taken while this one's acks are in flight, so the
    /// database and the broker work at the same time instead of in turn.
    /// The deletes commit with the pass once every ack is in; a failure
    /// anywhere rolls them back, and those events are published again and
    /// dropped by JetStream as duplicates.
    async fn publish_taken(
        &self,
        bus: &JetStreamBus,
        txn: &DatabaseTransaction,
        mut batch: Vec<outbox::Model>,
    ) -> Result<usize, RelayError> {
        let full = self.bus.config().relay_batch;
        let mut published = 0;
        for round in 1..=BATCHES_PER_PASS {
            let (count, more) = (batch.len(), batch.len() as u64 == full);
            let sent = bus.send_batch(batch).await?;
            let next = if more && round < BATCHES_PER_PASS {
                self.take_batch(txn).await?
            } else {
                Vec::new()
            };
            sent.confirmed().await?;
            published += count;
            if next.is_empty() {
                break;
            }
            batch = next;
        }
        Ok(published)
    }

    /// The next unpublished rows in order, deleted in `txn`. On PostgreSQL
    /// by the statement that reads them (found once, through the pending
    /// index; `= ANY(ARRAY(…))` keeps the plan on the primary key, where
    /// `IN (…)` hashes the subquery against a scan of the table); on
    /// SQLite read, then removed by sequence. The deletes hold only if the
    /// pass commits, which it does once the batch's acks are in; until
    /// then no other relay can run (the relay lock, or SQLite's one writer).
    async fn take_batch(&self, txn: &DatabaseTransaction) -> Result<Vec<outbox::Model>, DbErr> {
        if txn.get_database_backend() != DatabaseBackend::Postgres {
            let rows = self.next_batch(txn).await?;
            if !rows.is_empty() {
                remove_published(txn, rows.iter().map(|row| row.seq).collect()).await?;
            }
            return Ok(rows);
        }
        let limit = i64::try_from(self.bus.config().relay_batch).unwrap_or(i64::MAX);
        let mut rows = outbox::Entity::find()
            .from_raw_sql(Statement::from_sql_and_values(
                DatabaseBackend::Postgres,
                "DELETE FROM outbox WHERE seq = ANY(ARRAY( \
                 SELECT seq FROM outbox WHERE published_at IS NULL ORDER BY seq LIMIT $1)) \
                 RETURNING *",
                [limit.into()],
            ))
            .all(txn)
            .await?;
        // RETURNING keeps no order.
        rows.sort_unstable_by_key(|row| row.seq);
        Ok(rows)
    }

    /// The next unpublished rows in order.
    async fn next_batch(&self, db: &impl ConnectionTrait) -> Result<Vec<outbox::Model>, DbErr> {
        outbox::Entity::find()
            .filter(outbox::Column::PublishedAt.is_null())
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
