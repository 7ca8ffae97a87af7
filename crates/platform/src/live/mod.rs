//! Live fan-out between the replicas of a service: messages worth something
//! only now (a chat message to show, a typing hint, a presence change), so
//! they never go through an outbox and may be lost when a replica or the
//! broker is down (the clients' feeds catch up from the database).
//!
//! Two seams, each with a mesh and an in-process implementation:
//! - [`Fanout`] carries a payload to the *other* replicas listening on a
//!   topic. The sender delivers to its own listeners itself, so nothing is
//!   sent back to it (NATS core subjects on a `no_echo` connection; an
//!   in-process network of members).
//! - [`Leases`] is a set of keys that replicas hold and refresh, and that
//!   every replica watches (who is online where). In the mesh, a JetStream
//!   key-value bucket whose entries expire after the TTL; in-process, a set.
//!
//! [`EventBus::live`] picks the pair that matches the event transport, so a
//! service never names NATS.

mod local;
mod nats;

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio_stream::Stream;

pub use local::{LocalFanout, LocalLeases, LocalNetwork};
pub use nats::{NatsFanout, NatsLeases};

use crate::events::{BusError, EventBus};

/// What a replica hears on a topic it listens to, until dropped.
pub type Listener = Pin<Box<dyn Stream<Item = Bytes> + Send>>;
/// Every key held when watching began, then every change, until dropped.
pub type LeaseChanges = Pin<Box<dyn Stream<Item = Lease> + Send>>;

/// Why a live operation failed (the broker is unreachable, mostly).
#[derive(Debug, thiserror::Error)]
#[error("live fan-out: {0}")]
pub struct LiveError(pub String);

impl LiveError {
    pub(crate) fn cause(error: impl std::fmt::Display) -> Self {
        Self(error.to_string())
    }
}

/// Carries payloads to the other replicas listening on a topic.
#[async_trait::async_trait]
pub trait Fanout: Send + Sync + 'static {
    /// Starts hearing `topic`. Returns once the listener is in place, so
    /// nothing sent after it returns can be missed.
    async fn listen(&self, topic: &str) -> Result<Listener, LiveError>;

    /// Offers `payload` to every other replica listening on `topic`.
    async fn send(&self, topic: &str, payload: Bytes) -> Result<(), LiveError>;

    /// Whether no other replica can be listening (the all-in-one shape):
    /// callers may then skip listening and sending altogether.
    fn solitary(&self) -> bool {
        false
    }
}

/// A change of a key in a [`Leases`] set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lease {
    /// Taken or refreshed.
    Held(String),
    /// Given up (expiry is not announced: a watcher ages what it saw).
    Released(String),
}

/// Keys replicas hold and refresh; each watcher sees every change.
#[async_trait::async_trait]
pub trait Leases: Send + Sync + 'static {
    /// Takes or refreshes `key`.
    async fn hold(&self, key: &str) -> Result<(), LiveError>;
    /// Gives `key` up.
    async fn release(&self, key: &str) -> Result<(), LiveError>;
    /// The keys held now, then every change.
    async fn watch(&self) -> Result<LeaseChanges, LiveError>;
}

/// A service's live seams.
#[derive(Clone)]
pub struct Live {
    pub fanout: Arc<dyn Fanout>,
    pub leases: Arc<dyn Leases>,
}

impl EventBus {
    /// Fan-out and a lease set called `name` (kept `ttl` in the mesh) on
    /// this transport: NATS in the mesh; in the all-in-one shape, an
    /// in-process network of which this process is the only member.
    pub async fn live(&self, name: &str, ttl: Duration) -> Result<Live, BusError> {
        match self {
            EventBus::JetStream(js) => {
                let client = js.connect_live().await?;
                let prefix = js.config().subject_prefix.clone();
                let bucket = js.config().stream_name(name);
                let leases = NatsLeases::open(js, &bucket, ttl)
                    .await
                    .map_err(|error| BusError::Nats(error.0))?;
                Ok(Live {
                    fanout: Arc::new(NatsFanout::new(client, prefix)),
                    leases: Arc::new(leases),
                })
            }
            EventBus::InProcess(_) => Ok(Live {
                fanout: Arc::new(LocalNetwork::default().join()),
                leases: Arc::new(LocalLeases::default()),
            }),
        }
    }
}
