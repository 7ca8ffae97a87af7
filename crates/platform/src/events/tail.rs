//! Reading a producer's events as they flow, for `frevix events tail` and for
//! tests that wait for an event: an ordered ephemeral JetStream consumer, or
//! (all-in-one) polling the outbox log itself.

use std::sync::LazyLock;
use std::time::Duration;

use async_nats::jetstream::consumer::{DeliverPolicy, pull};
use prost_reflect::{DescriptorPool, DynamicMessage};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use tokio_stream::StreamExt as _;

use super::BusError;
use super::envelope::ReceivedEvent;
use super::jetstream::JetStreamBus;
use super::schema::outbox;

/// A live view of one producer's events.
pub enum Tail {
    JetStream(Box<pull::Ordered>),
    Outbox { db: DatabaseConnection, after: i64 },
}

impl Tail {
    /// Every event of `producer` from the start of its stream.
    pub async fn jetstream(
        bus: &JetStreamBus,
        producer: &str,
        from_start: bool,
    ) -> Result<Tail, BusError> {
        let stream = bus.ensure_stream(producer).await?;
        let consumer = stream
            .create_consumer(pull::OrderedConfig {
                filter_subject: format!("{}.{producer}.>", bus.config().subject_prefix),
                deliver_policy: if from_start {
                    DeliverPolicy::All
                } else {
                    DeliverPolicy::New
                },
                ..Default::default()
            })
            .await
            .map_err(|e| BusError::Nats(e.to_string()))?;
        let messages = consumer
            .messages()
            .await
            .map_err(|e| BusError::Nats(e.to_string()))?;
        Ok(Tail::JetStream(Box::new(messages)))
    }

    /// Events published into an outbox log (the all-in-one shape).
    pub async fn outbox(db: DatabaseConnection, from_start: bool) -> Result<Tail, BusError> {
        let after = if from_start {
            0
        } else {
            outbox::Entity::find()
                .select_only()
                .column_as(outbox::Column::StreamSeq.max(), "last")
                .into_tuple::<Option<i64>>()
                .one(&db)
                .await?
                .flatten()
                .unwrap_or(0)
        };
        Ok(Tail::Outbox { db, after })
    }

    /// The next event; waits for one.
    pub async fn next(&mut self) -> Result<ReceivedEvent, BusError> {
        match self {
            Tail::JetStream(messages) => loop {
                match messages.next().await {
                    Some(Ok(message)) => {
                        let seq = message.info().map(|i| i.stream_sequence).unwrap_or(0);
                        match ReceivedEvent::open(&message.payload, seq, 1) {
                            Ok(event) => return Ok(event),
                            Err(error) => tracing::warn!(%error, "skipping undecodable message"),
                        }
                    }
                    Some(Err(error)) => tracing::warn!(%error, "tail error"),
                    None => return Err(BusError::Nats("stream closed".to_owned())),
                }
            },
            Tail::Outbox { db, after } => loop {
                let row = outbox::Entity::find()
                    .filter(outbox::Column::StreamSeq.gt(*after))
                    .order_by_asc(outbox::Column::StreamSeq)
                    .one(&*db)
                    .await?;
                if let Some(row) = row {
                    let seq = row.stream_seq.unwrap_or(*after + 1);
                    *after = seq;
                    match ReceivedEvent::open(&row.envelope, u64::try_from(seq).unwrap_or(0), 1) {
                        Ok(event) => return Ok(event),
                        Err(error) => tracing::warn!(%error, "skipping undecodable row"),
                    }
                    continue;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            },
        }
    }
}

static POOL: LazyLock<Option<DescriptorPool>> =
    LazyLock::new(|| DescriptorPool::decode(frevix_proto::FILE_DESCRIPTOR_SET).ok());

/// An event as JSON, its payload decoded by its protobuf type.
pub fn event_json(event: &ReceivedEvent) -> serde_json::Value {
    let envelope = &event.envelope;
    let payload = envelope
        .payload
        .as_ref()
        .and_then(|any| {
            let descriptor = POOL.as_ref()?.get_message_by_name(&envelope.r#type)?;
            let message = DynamicMessage::decode(descriptor, any.value.as_slice()).ok()?;
            serde_json::to_value(&message).ok()
        })
        .unwrap_or(serde_json::Value::Null);
    let occurred_at = envelope
        .occurred_at
        .as_ref()
        .and_then(|t| {
            chrono::DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).unwrap_or(0))
        })
        .map(|t| t.to_rfc3339())
        .unwrap_or_default();
    serde_json::json!({
        "id": envelope.id,
        "type": envelope.r#type,
        "occurred_at": occurred_at,
        "producer": envelope.producer,
        "aggregate_type": envelope.aggregate_type,
        "aggregate_id": envelope.aggregate_id,
        "stream_seq": event.stream_seq,
        "payload": payload,
    })
}
