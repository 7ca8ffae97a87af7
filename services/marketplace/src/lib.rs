//! Frevix marketplace: the category and skill catalog, freelancer and client
//! profiles (made from identity's events, rated from contracts' events), and
//! gigs with their DRAFT → PUBLISHED ⇄ PAUSED → ARCHIVED life.

mod api;
pub mod config;
mod convert;
pub mod domain;
pub mod error;
mod events;
pub mod store;

use std::sync::Arc;

use frevix_platform::events::{Background, BusError, EventBus, Outbox};
use frevix_platform::service::{Context, Routes, Service, StartError};
use frevix_proto::marketplace::v1::marketplace_service_server::MarketplaceServiceServer;
use sea_orm::DatabaseConnection;

pub use api::MarketplaceApi;
pub use config::MarketplaceConfig;
pub use store::Migrator;

/// The name marketplace publishes its events under (`frevix.marketplace.>`).
pub const PRODUCER: &str = <Marketplace as Service>::NAME;

/// RPCs anyone may call without an access token.
pub const PUBLIC_METHODS: &[&str] = &[
    "/frevix.marketplace.v1.MarketplaceService/ListCategories",
    "/frevix.marketplace.v1.MarketplaceService/SearchSkills",
    "/frevix.marketplace.v1.MarketplaceService/GetFreelancerProfile",
    "/frevix.marketplace.v1.MarketplaceService/GetClientProfile",
    "/frevix.marketplace.v1.MarketplaceService/GetGig",
    "/frevix.marketplace.v1.MarketplaceService/GetJob",
    "/frevix.marketplace.v1.MarketplaceService/SearchGigs",
    "/frevix.marketplace.v1.MarketplaceService/SearchFreelancers",
    "/frevix.marketplace.v1.MarketplaceService/SearchJobs",
];

/// What the handlers share.
pub(crate) struct Inner {
    pub db: DatabaseConnection,
    pub outbox: Outbox,
    /// ListCategories' answer, kept in memory.
    pub categories: api::category_tree::CategoryTree,
}

/// The marketplace service, ready to be served.
#[derive(Clone)]
pub struct Marketplace {
    inner: Arc<Inner>,
}

#[async_trait::async_trait]
impl Service for Marketplace {
    const NAME: &'static str = "marketplace";
    const MESH_PORT: u16 = 50052;
    const PUBLIC_METHODS: &'static [&'static str] = PUBLIC_METHODS;
    type Config = MarketplaceConfig;
    type Migrator = Migrator;

    async fn build(context: Context<MarketplaceConfig>) -> Result<Self, StartError> {
        Ok(Self {
            inner: Arc::new(Inner {
                db: context.db,
                outbox: context.outbox,
                categories: Default::default(),
            }),
        })
    }

    fn routes(&self, routes: &mut Routes<'_>) {
        let max = routes.max_message_bytes();
        routes.grpc(frevix_platform::grpc_service!(
            MarketplaceServiceServer::new(MarketplaceApi::new(self.inner.clone())),
            max
        ));
    }

    /// Starts the consumers of identity's and contracts' events.
    async fn start(&self, bus: &EventBus) -> Result<Vec<Background>, BusError> {
        events::consume(bus, &self.inner.db).await
    }
}
