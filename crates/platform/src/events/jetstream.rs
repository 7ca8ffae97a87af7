//! The JetStream transport: one stream per producing service (file storage,
//! duplicate window, `Nats-Msg-Id` = event id), relays that publish outbox
//! batches and wait for every ack, and durable pull consumers that ack only
//! after the handler's transaction commits. Poison events go to the
//! `<prefix>.dlq.<consumer>` subject with the error in a header.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

use async_nats::HeaderMap;
use async_nats::jetstream::consumer::{AckPolicy, DeliverPolicy, pull};
use async_nats::jetstream::message::AckKind;
use async_nats::jetstream::stream::{self, StorageType};
use async_nats::jetstream::{self, Context};
use bytes::Bytes;
use prost::Message as _;
use sea_orm::DatabaseConnection;
use tokio_stream::StreamExt as _;

use super::consumer::{ConsumerSpec, EventHandler, Outcome, apply_batch, apply_with_retries};
use super::envelope::ReceivedEvent;
use super::relay::RelayError;
use super::schema::outbox;
use super::{Background, BusError, EventsConfig, stopped};

/// A connection to NATS with JetStream.
pub struct JetStreamBus {
    config: EventsConfig,
    client: async_nats::Client,
    js: Context,
    /// Producers whose stream is known to exist.
    streams_ready: Mutex<HashSet<String>>,
}

fn nats(error: impl std::fmt::Display) -> BusError {
    BusError::Nats(error.to_string())
}

fn published(error: &dyn std::fmt::Display) -> RelayError {
    RelayError::Publish(error.to_string())
}

/// An envelope's trace context alone: decoding it skips the other fields
/// (ids, names, the payload) instead of copying them, per event relayed.
#[derive(Clone, PartialEq, prost::Message)]
struct TraceContext {
    /// `EventEnvelope.trace_context`'s tag.
    #[prost(map = "string, string", tag = "7")]
    trace_context: std::collections::HashMap<String, String>,
}

/// Events sent to JetStream whose acks may still be on their way.
pub(crate) struct SentBatch {
    acks: Vec<jetstream::context::PublishAckFuture>,
}

impl SentBatch {
    /// Waits until JetStream has stored every event of the batch.
    pub(crate) async fn confirmed(self) -> Result<(), RelayError> {
        for ack in self.acks {
            let ack = ack.await.map_err(|e| published(&e))?;
            if ack.duplicate {
                tracing::debug!(
                    sequence = ack.sequence,
                    "jetstream dropped a re-published event"
                );
            }
        }
        Ok(())
    }
}

impl JetStreamBus {
    /// Connects; if NATS is down the client keeps trying in the background
    /// while outboxes absorb the writes.
    pub async fn connect(config: EventsConfig) -> Result<Self, BusError> {
        let client = async_nats::ConnectOptions::new()
            .name("frevix")
            .retry_on_initial_connect()
            .connect(config.nats_url.as_str())
            .await
            .map_err(nats)?;
        let js = jetstream::new(client.clone());
        Ok(Self {
            config,
            client,
            js,
            streams_ready: Mutex::new(HashSet::new()),
        })
    }

    /// A second connection for live fan-out between replicas, which never
    /// hears its own messages (`no_echo`): the publishing process delivers
    /// to its own streams directly, so the server sends each event only to
    /// the other processes that subscribed.
    pub async fn connect_live(&self) -> Result<async_nats::Client, BusError> {
        async_nats::ConnectOptions::new()
            .name("frevix-live")
            .no_echo()
            .retry_on_initial_connect()
            .connect(self.config.nats_url.as_str())
            .await
            .map_err(nats)
    }

    pub fn config(&self) -> &EventsConfig {
        &self.config
    }

    pub fn context(&self) -> &Context {
        &self.js
    }

    pub fn client(&self) -> &async_nats::Client {
        &self.client
    }

    fn stream_config(&self, name: String, subjects: Vec<String>) -> stream::Config {
        stream::Config {
            name,
            subjects,
            storage: StorageType::File,
            num_replicas: self.config.stream_replicas,
            duplicate_window: Duration::from_secs(self.config.duplicate_window_secs),
            max_age: Duration::from_secs(self.config.max_age_days * 24 * 3600),
            ..Default::default()
        }
    }

    /// Creates or updates the stream of `producer`.
    pub async fn ensure_stream(&self, producer: &str) -> Result<stream::Stream, BusError> {
        let config = self.stream_config(
            self.config.stream_name(producer),
            vec![format!("{}.{producer}.>", self.config.subject_prefix)],
        );
        let name = config.name.clone();
        self.js
            .create_or_update_stream(config)
            .await
            .map_err(nats)?;
        if let Ok(mut ready) = self.streams_ready.lock() {
            ready.insert(producer.to_owned());
        }
        self.js.get_stream(name).await.map_err(nats)
    }

    async fn ensure_dead_letter_stream(&self) -> Result<(), BusError> {
        let config = self.stream_config(
            self.config.stream_name("dlq"),
            vec![format!("{}.dlq.>", self.config.subject_prefix)],
        );
        self.js
            .create_or_update_stream(config)
            .await
            .map_err(nats)?;
        Ok(())
    }

    /// Sends rows in order; [`SentBatch::confirmed`] waits for their acks.
    /// The rows are consumed: their envelopes become the messages' bodies
    /// without a copy.
    pub(crate) async fn send_batch(
        &self,
        rows: Vec<outbox::Model>,
    ) -> Result<SentBatch, RelayError> {
        // The stream may not exist yet if NATS was down when the service started.
        let producer = rows.first().and_then(|row| row.subject.split('.').nth(1));
        if let Some(producer) = producer
            && !self
                .streams_ready
                .lock()
                .is_ok_and(|ready| ready.contains(producer))
        {
            self.ensure_stream(producer)
                .await
                .map_err(|e| published(&e))?;
        }
        let mut acks = Vec::with_capacity(rows.len());
        for row in rows {
            let mut headers = HeaderMap::new();
            let mut id = uuid::Uuid::encode_buffer();
            headers.insert(
                "Nats-Msg-Id",
                &*row.event_id.hyphenated().encode_lower(&mut id),
            );
            headers.insert("Frevix-Event-Type", row.event_type.as_str());
            if let Ok(trace) = TraceContext::decode(row.envelope.as_slice()) {
                for (key, value) in &trace.trace_context {
                    headers.insert(key.as_str(), value.as_str());
                }
            }
            let ack = self
                .js
                .publish_with_headers(row.subject, headers, Bytes::from(row.envelope))
                .await
                .map_err(|e| published(&e))?;
            acks.push(ack);
        }
        Ok(SentBatch { acks })
    }

    pub(crate) async fn consume(
        self: Arc<Self>,
        spec: ConsumerSpec,
        db: DatabaseConnection,
        handler: Arc<dyn EventHandler>,
    ) -> Result<Background, BusError> {
        let stream = self.ensure_stream(&spec.producer).await?;
        self.ensure_dead_letter_stream().await?;
        let consumer: jetstream::consumer::PullConsumer = stream
            .get_or_create_consumer(
                &spec.name,
                pull::Config {
                    durable_name: Some(spec.name.clone()),
                    ack_policy: AckPolicy::Explicit,
                    ack_wait: Duration::from_secs(30),
                    max_ack_pending: 256,
                    deliver_policy: DeliverPolicy::All,
                    filter_subject: format!("{}.{}.>", self.config.subject_prefix, spec.producer),
                    ..Default::default()
                },
            )
            .await
            .map_err(nats)?;
        Ok(Background::spawn(move |mut stop| async move {
            let mut lag_report = tokio::time::interval(Duration::from_secs(10));
            let mut consumer = consumer;
            loop {
                // Whatever arrives within 2 ms is applied in one transaction.
                let mut chunks = match consumer.messages().await {
                    Ok(messages) => {
                        Box::pin(messages.chunks_timeout(128, Duration::from_millis(2)))
                    }
                    Err(error) => {
                        tracing::warn!(consumer = %spec.name, %error, "cannot pull; retrying");
                        tokio::select! {
                            () = tokio::time::sleep(Duration::from_secs(1)) => continue,
                            () = stopped(&mut stop) => return,
                        }
                    }
                };
                loop {
                    let next = tokio::select! {
                        next = chunks.next() => next,
                        _ = lag_report.tick() => {
                            if let Ok(info) = consumer.info().await {
                                consumer_lag_gauge().record(
                                    info.num_pending,
                                    &[opentelemetry::KeyValue::new("consumer", spec.name.clone())],
                                );
                            }
                            continue;
                        }
                        () = stopped(&mut stop) => return,
                    };
                    match next {
                        Some(chunk) => self.handle_chunk(&spec, &db, handler.as_ref(), chunk).await,
                        None => break,
                    }
                }
            }
        }))
    }

    async fn handle_chunk<E: std::fmt::Display>(
        &self,
        spec: &ConsumerSpec,
        db: &DatabaseConnection,
        handler: &dyn EventHandler,
        chunk: Vec<Result<jetstream::Message, E>>,
    ) {
        let mut messages = Vec::with_capacity(chunk.len());
        for item in chunk {
            match item {
                Ok(message) => messages.push(message),
                Err(error) => tracing::warn!(consumer = %spec.name, %error, "pull error"),
            }
        }
        let events: Option<Vec<ReceivedEvent>> = messages
            .iter()
            .map(|message| {
                let (seq, delivered) = delivery(message);
                ReceivedEvent::open(&message.payload, seq, delivered).ok()
            })
            .collect();
        let mut failed_in_batch = None;
        if let Some(events) = events
            && !events.is_empty()
        {
            match apply_batch(db, spec, &events, handler, None).await {
                Ok(Ok(())) => {
                    for message in &messages {
                        // Unacked, it comes back; the inbox makes that harmless.
                        if let Err(error) = message.ack().await {
                            tracing::warn!(consumer = %spec.name, %error, "ack failed");
                        }
                    }
                    return;
                }
                Ok(Err(index)) => failed_in_batch = Some(index),
                Err(error) => tracing::warn!(consumer = %spec.name, %error, "batch failed"),
            }
        }
        for (index, message) in messages.into_iter().enumerate() {
            let used = u32::from(failed_in_batch == Some(index));
            self.handle(spec, db, handler, message, used).await;
        }
    }

    async fn handle(
        &self,
        spec: &ConsumerSpec,
        db: &DatabaseConnection,
        handler: &dyn EventHandler,
        message: jetstream::Message,
        attempts_used: u32,
    ) {
        let (stream_seq, delivered) = delivery(&message);
        let event = match ReceivedEvent::open(&message.payload, stream_seq, delivered) {
            Ok(event) => event,
            Err(error) => {
                tracing::error!(consumer = %spec.name, %error, "undecodable event; dead-lettering");
                self.dead_letter(spec, &message, "undecodable", &error.to_string())
                    .await;
                return;
            }
        };
        match apply_with_retries(db, spec, &event, handler, None, delivered + attempts_used).await {
            Ok(Outcome::DeadLetter(error)) => {
                self.dead_letter(spec, &message, &event.id.to_string(), &error)
                    .await;
            }
            Ok(_) => {
                if let Err(error) = message.double_ack().await {
                    // Unacked, it comes back; the inbox makes that harmless.
                    tracing::warn!(consumer = %spec.name, %error, "ack failed");
                }
            }
            Err(error) => {
                tracing::warn!(consumer = %spec.name, %error, "database unavailable; event will be redelivered");
                let _ = message
                    .ack_with(AckKind::Nak(Some(spec.backoff(delivered))))
                    .await;
            }
        }
    }

    async fn dead_letter(
        &self,
        spec: &ConsumerSpec,
        message: &jetstream::Message,
        event_id: &str,
        error: &str,
    ) {
        let mut headers = HeaderMap::new();
        headers.insert("Nats-Msg-Id", format!("{}:{event_id}", spec.name).as_str());
        headers.insert(
            "Frevix-Error",
            error.chars().take(1000).collect::<String>().as_str(),
        );
        headers.insert("Frevix-Original-Subject", message.subject.as_str());
        headers.insert("Frevix-Event-Id", event_id);
        let subject = format!("{}.dlq.{}", self.config.subject_prefix, spec.name);
        let published = match self
            .js
            .publish_with_headers(subject, headers, message.payload.clone())
            .await
        {
            Ok(ack) => ack.await.map(|_| ()).map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        match published {
            Ok(()) => {
                let _ = message.double_ack_with(AckKind::Term).await;
            }
            Err(error) => {
                tracing::error!(consumer = %spec.name, %error, "dead-letter publish failed; will retry");
                let _ = message.ack_with(AckKind::Nak(Some(spec.max_backoff))).await;
            }
        }
    }
}

/// Stream sequence and delivery count of a message.
fn delivery(message: &jetstream::Message) -> (u64, u32) {
    message
        .info()
        .map(|info| {
            (
                info.stream_sequence,
                u32::try_from(info.delivered).unwrap_or(1),
            )
        })
        .unwrap_or((0, 1))
}

fn consumer_lag_gauge() -> opentelemetry::metrics::Gauge<u64> {
    opentelemetry::global::meter("frevix")
        .u64_gauge("frevix.consumer.lag")
        .with_description("events in the stream not yet handled by the consumer")
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use frevix_proto::common::v1::EventEnvelope;

    #[test]
    fn the_trace_context_is_read_from_a_whole_envelope() {
        let envelope = EventEnvelope {
            id: "e1".into(),
            r#type: "frevix.identity.v1.AccountUpdated".into(),
            producer: "identity".into(),
            trace_context: [("traceparent".to_owned(), "00-abc-def-01".to_owned())].into(),
            payload: Some(prost_types::Any {
                type_url: "type.googleapis.com/x".into(),
                value: vec![1, 2, 3],
            }),
            ..Default::default()
        };
        let trace = TraceContext::decode(envelope.encode_to_vec().as_slice()).unwrap();
        assert_eq!(trace.trace_context, envelope.trace_context);
    }
}
