//! Events as they travel: a protobuf payload inside the common
//! `EventEnvelope`, addressed to `<prefix>.<producer>.<EventName>`.

use chrono::{DateTime, Utc};
use frevix_proto::common::v1::EventEnvelope;
use prost::{Message, Name};
use uuid::Uuid;

/// Builds the envelope of `event`, carrying the current trace context.
pub fn seal<E: Name>(
    id: Uuid,
    producer: &str,
    aggregate_type: &str,
    aggregate_id: &str,
    event: &E,
    now: DateTime<Utc>,
) -> EventEnvelope {
    EventEnvelope {
        id: id.to_string(),
        r#type: E::full_name(),
        occurred_at: Some(prost_types::Timestamp {
            seconds: now.timestamp(),
            nanos: i32::try_from(now.timestamp_subsec_nanos()).unwrap_or(0),
        }),
        producer: producer.to_owned(),
        aggregate_type: aggregate_type.to_owned(),
        aggregate_id: aggregate_id.to_owned(),
        trace_context: current_trace_context(),
        payload: Some(prost_types::Any {
            type_url: E::type_url(),
            value: event.encode_to_vec(),
        }),
    }
}

/// The subject an event of type `E` from `producer` is published on.
pub fn subject<E: Name>(prefix: &str, producer: &str) -> String {
    format!("{prefix}.{producer}.{}", E::NAME)
}

/// An event handed to a consumer.
#[derive(Debug, Clone)]
pub struct ReceivedEvent {
    pub id: Uuid,
    pub envelope: EventEnvelope,
    /// Position in its stream (JetStream stream sequence or in-process sequence).
    pub stream_seq: u64,
    /// How many times it has been delivered, this one included.
    pub delivered: u32,
}

/// Why bytes are not an event.
#[derive(Debug, thiserror::Error)]
pub enum EnvelopeError {
    #[error("not an event envelope: {0}")]
    Decode(#[from] prost::DecodeError),
    #[error("envelope id is not a UUID")]
    BadId,
    #[error("envelope carries {found}, not {expected}")]
    WrongType { expected: String, found: String },
    #[error("envelope has no payload")]
    NoPayload,
}

impl ReceivedEvent {
    pub fn open(bytes: &[u8], stream_seq: u64, delivered: u32) -> Result<Self, EnvelopeError> {
        let envelope = EventEnvelope::decode(bytes)?;
        let id = Uuid::parse_str(&envelope.id).map_err(|_| EnvelopeError::BadId)?;
        Ok(Self {
            id,
            envelope,
            stream_seq,
            delivered,
        })
    }

    pub fn event_type(&self) -> &str {
        &self.envelope.r#type
    }

    pub fn is<E: Name>(&self) -> bool {
        self.envelope.r#type == E::full_name()
    }

    /// The payload as `E`.
    pub fn decode<E: Name + Default>(&self) -> Result<E, EnvelopeError> {
        if !self.is::<E>() {
            return Err(EnvelopeError::WrongType {
                expected: E::full_name(),
                found: self.envelope.r#type.clone(),
            });
        }
        let payload = self
            .envelope
            .payload
            .as_ref()
            .ok_or(EnvelopeError::NoPayload)?;
        Ok(E::decode(payload.value.as_slice())?)
    }
}

/// W3C trace context of the current span (empty without OpenTelemetry).
fn current_trace_context() -> std::collections::HashMap<String, String> {
    use tracing_opentelemetry::OpenTelemetrySpanExt as _;
    let mut carrier = std::collections::HashMap::new();
    let context = tracing::Span::current().context();
    opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.inject_context(&context, &mut carrier);
    });
    carrier
}

/// A span for handling `event`, parented to the producer's trace.
pub fn consume_span(consumer: &str, event: &ReceivedEvent) -> tracing::Span {
    use tracing_opentelemetry::OpenTelemetrySpanExt as _;
    let span = tracing::info_span!(
        "consume",
        consumer = %consumer,
        event_id = %event.id,
        event_type = %event.envelope.r#type,
        aggregate_id = %event.envelope.aggregate_id,
    );
    let parent = opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.extract(&event.envelope.trace_context)
    });
    let _ = span.set_parent(parent);
    span
}
