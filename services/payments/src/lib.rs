//! Frevix payments: the money side of a contract. Clients fund milestones
//! into escrow; an approved milestone is released to the freelancer minus
//! the platform's fee; a cancellation or a dispute divides what is held.
//! Every figure shown to anyone is read from the [`ledger`], a double-entry
//! book whose rules the database itself enforces; what may be charged
//! comes from contracts' events ([`terms`]), never from a client.
//!
//! Money moves on *events*: the provider's (a charge succeeded), recorded
//! once in an inbox and applied by a durable timer (`applying`), and
//! contracts' (a milestone approved, a contract ended; `events`). Each
//! move is a ledger posting and its event in one transaction (`escrow`).

mod api;
mod applying;
pub mod config;
mod convert;
pub mod error;
mod escrow;
mod events;
pub mod ledger;
pub mod provider;
pub mod store;
pub mod terms;

use std::sync::Arc;

use frevix_platform::clock::Clock;
use frevix_platform::events::{Background, BusError, EventBus, Outbox};
use frevix_platform::service::{Context, Routes, Service, StartError};
use frevix_platform::timers::Timers;
use frevix_proto::payments::v1::payment_service_server::PaymentServiceServer;
use sea_orm::DatabaseConnection;

pub use api::PaymentsApi;
pub use config::{PaymentsConfig, ProviderKind};
pub use store::Migrator;

use provider::PaymentProvider;
use provider::sandbox::Sandbox;

/// What the handlers and consumers share.
pub(crate) struct Inner {
    pub db: DatabaseConnection,
    pub outbox: Outbox,
    pub clock: Clock,
    pub timers: Timers,
    pub provider: Arc<dyn PaymentProvider>,
    /// The platform's fee on released money, in basis points.
    pub fee_bps: u32,
}

/// The payments service, ready to be served.
#[derive(Clone)]
pub struct Payments {
    inner: Arc<Inner>,
}

#[async_trait::async_trait]
impl Service for Payments {
    const NAME: &'static str = "payments";
    const MESH_PORT: u16 = 50054;
    type Config = PaymentsConfig;
    type Migrator = Migrator;
    const PUBLIC_METHODS: &'static [&'static str] = &[];

    async fn build(context: Context<PaymentsConfig>) -> Result<Self, StartError> {
        let provider: Arc<dyn PaymentProvider> = match context.config.provider {
            ProviderKind::Sandbox => Arc::new(Sandbox::new(
                context.db.clone(),
                context.timers.clone(),
                context.clock.clone(),
            )),
        };
        Ok(Self {
            inner: Arc::new(Inner {
                db: context.db,
                outbox: context.outbox,
                clock: context.clock,
                timers: context.timers,
                provider,
                fee_bps: context.config.fee_bps,
            }),
        })
    }

    fn routes(&self, routes: &mut Routes<'_>) {
        let max = routes.max_message_bytes();
        routes.grpc(
            PaymentServiceServer::new(PaymentsApi::new(self.inner.clone()))
                .max_decoding_message_size(max)
                .max_encoding_message_size(max),
        );
    }

    /// Starts the consumers of contracts' events and the timers that apply
    /// the provider's events.
    async fn start(&self, bus: &EventBus) -> Result<Vec<Background>, BusError> {
        let mut background = events::consume(bus, &self.inner).await?;
        let timed = applying::Timed {
            inner: self.inner.clone(),
        };
        background.push(
            self.inner
                .timers
                .runner(self.inner.db.clone(), Arc::new(timed)),
        );
        Ok(background)
    }
}
