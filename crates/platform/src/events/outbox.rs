//! The outbox: events written in the state change's transaction, which the
//! relay ([`super::relay`]) publishes in commit order.

use std::sync::Arc;

use chrono::Utc;
use prost::{Message, Name};
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, DatabaseBackend, DbErr, EntityTrait, Statement, Value,
};
use tokio::sync::Notify;
use uuid::Uuid;

use super::envelope;
use super::schema::outbox;
use crate::db::Txn;

/// Writes events into a service's outbox.
#[derive(Clone)]
pub struct Outbox {
    producer: &'static str,
    prefix: String,
    pub(super) wake: Arc<Notify>,
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

    /// [`Outbox::publish`] for many events of one type: one insert of all
    /// their rows, sent with the transaction's other writes (a change that
    /// writes many things at once, such as orders placed together).
    pub fn publish_together<E: Name>(
        &self,
        db: &Txn,
        aggregate_type: &str,
        events: &[(String, E)],
    ) -> Vec<Uuid> {
        if events.is_empty() {
            return Vec::new();
        }
        db.wake_on_commit(&self.wake);
        let now = Utc::now();
        let ids: Vec<Uuid> = events.iter().map(|_| Uuid::now_v7()).collect();
        db.defer(&outbox::Entity::insert_many(ids.iter().zip(events).map(
            |(id, (aggregate_id, event))| self.row(*id, aggregate_type, aggregate_id, event, now),
        )));
        ids
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
