//! Frevix messaging: conversations (direct, and one per contract opened from
//! contracts' events), messages numbered per conversation at commit, read
//! positions, and a live feed that replays what a client missed before it
//! streams what is new.

mod api;
pub mod config;
mod convert;
pub mod error;
mod events;
mod hub;
pub mod store;

use std::sync::Arc;
use std::time::Duration;

use frevix_platform::events::{Background, BusError, EventBus, Outbox};
use frevix_platform::rate_limit::KeyedLimiter;
use frevix_proto::messaging::v1::messaging_service_server::MessagingServiceServer;
use sea_orm::DatabaseConnection;

pub use api::MessagingApi;
pub use config::MessagingConfig;
pub use store::Migrator;

/// The name messaging publishes its events under (`frevix.messaging.>`).
pub const PRODUCER: &str = "messaging";

/// Every messaging RPC needs an access token.
pub const PUBLIC_METHODS: &[&str] = &[];

pub(crate) struct Inner {
    pub db: DatabaseConnection,
    pub outbox: Outbox,
    pub hub: hub::Hub,
    pub heartbeat: Duration,
    pub sends: KeyedLimiter,
}

/// The messaging service, ready to be served.
#[derive(Clone)]
pub struct Messaging {
    inner: Arc<Inner>,
}

impl Messaging {
    pub fn new(db: DatabaseConnection, outbox: Outbox, config: &MessagingConfig) -> Self {
        Self {
            inner: Arc::new(Inner {
                db,
                outbox,
                hub: hub::Hub::default(),
                heartbeat: Duration::from_secs(config.heartbeat_secs),
                sends: KeyedLimiter::per_minute(
                    config.sends_per_minute,
                    config.sends_per_minute / 4,
                ),
            }),
        }
    }

    pub fn grpc_service(&self, max_message_bytes: usize) -> MessagingServiceServer<MessagingApi> {
        MessagingServiceServer::new(MessagingApi::new(self.inner.clone()))
            .max_decoding_message_size(max_message_bytes)
            .max_encoding_message_size(max_message_bytes)
    }

    /// Starts the consumer that opens contract conversations.
    pub async fn consume(&self, bus: &EventBus) -> Result<Vec<Background>, BusError> {
        events::consume(bus, &self.inner.db).await
    }
}
