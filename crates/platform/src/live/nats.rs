//! The mesh's live seams: one NATS subject per topic
//! (`<prefix>.live.<topic>`) on a connection that never hears itself, and a
//! JetStream key-value bucket for leases.

use std::time::Duration;

use async_nats::jetstream::{kv, stream};
use bytes::Bytes;
use tokio_stream::StreamExt as _;

use super::{Fanout, Lease, LeaseChanges, Leases, Listener, LiveError};
use crate::events::JetStreamBus;

/// Fan-out over NATS core subjects.
pub struct NatsFanout {
    client: async_nats::Client,
    prefix: String,
}

impl NatsFanout {
    /// `client` must be connected with `no_echo` (see
    /// [`JetStreamBus::connect_live`]), or a replica hears its own sends.
    pub fn new(client: async_nats::Client, prefix: String) -> Self {
        Self { client, prefix }
    }

    fn subject(&self, topic: &str) -> String {
        format!("{}.live.{topic}", self.prefix)
    }
}

#[async_trait::async_trait]
impl Fanout for NatsFanout {
    async fn listen(&self, topic: &str) -> Result<Listener, LiveError> {
        let subscriber = self
            .client
            .subscribe(self.subject(topic))
            .await
            .map_err(LiveError::cause)?;
        round_trip(&self.client).await?;
        Ok(Box::pin(subscriber.map(|message| message.payload)))
    }

    async fn send(&self, topic: &str, payload: Bytes) -> Result<(), LiveError> {
        self.client
            .publish(self.subject(topic), payload)
            .await
            .map_err(LiveError::cause)
    }
}

/// Returns once the server has handled everything sent on `client` so far
/// (a new subscription included), so a message another replica publishes
/// from now on reaches it. `flush` is not enough: it only writes to the
/// socket. The server handles a connection's commands in order, and a
/// request to a fresh inbox nobody listens to is answered at once ("no
/// responders"): that answer is the round trip.
async fn round_trip(client: &async_nats::Client) -> Result<(), LiveError> {
    match client.request(client.new_inbox(), Bytes::new()).await {
        Ok(_) => Ok(()),
        Err(error) if error.kind() == async_nats::RequestErrorKind::NoResponders => Ok(()),
        Err(error) => Err(LiveError::cause(error)),
    }
}

/// Leases in a JetStream key-value bucket whose entries expire after a TTL.
pub struct NatsLeases {
    store: kv::Store,
}

impl NatsLeases {
    /// Opens (creating it if needed) the bucket `bucket`. It is made as a
    /// plain stream: the key-value helper of async-nats asks for account
    /// details that older servers (2.9) answer in a shape it cannot read.
    pub async fn open(js: &JetStreamBus, bucket: &str, ttl: Duration) -> Result<Self, LiveError> {
        js.context()
            .create_or_update_stream(stream::Config {
                name: format!("KV_{bucket}"),
                subjects: vec![format!("$KV.{bucket}.>")],
                max_messages_per_subject: 1,
                max_age: ttl,
                storage: stream::StorageType::Memory,
                num_replicas: js.config().stream_replicas,
                allow_rollup: true,
                deny_delete: true,
                allow_direct: true,
                discard: stream::DiscardPolicy::New,
                ..Default::default()
            })
            .await
            .map_err(LiveError::cause)?;
        let store = js
            .context()
            .get_key_value(bucket)
            .await
            .map_err(LiveError::cause)?;
        Ok(Self { store })
    }
}

#[async_trait::async_trait]
impl Leases for NatsLeases {
    async fn hold(&self, key: &str) -> Result<(), LiveError> {
        let now = chrono::Utc::now().timestamp_millis().to_string();
        self.store
            .put(key, now.into())
            .await
            .map(|_| ())
            .map_err(LiveError::cause)
    }

    async fn release(&self, key: &str) -> Result<(), LiveError> {
        self.store.delete(key).await.map_err(LiveError::cause)
    }

    async fn watch(&self) -> Result<LeaseChanges, LiveError> {
        let updates = self
            .store
            .watch_with_history(">")
            .await
            .map_err(LiveError::cause)?;
        // A broken watch ends the stream; the watcher opens a new one.
        Ok(Box::pin(updates.take_while(Result::is_ok).filter_map(
            |entry| {
                let entry = entry.ok()?;
                Some(match entry.operation {
                    kv::Operation::Put => Lease::Held(entry.key),
                    kv::Operation::Delete | kv::Operation::Purge => Lease::Released(entry.key),
                })
            },
        )))
    }
}
