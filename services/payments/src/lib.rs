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
mod chargebacks;
pub mod config;
mod convert;
mod crash;
pub mod error;
mod escrow;
mod events;
mod hourly;
pub mod ledger;
mod payouts;
pub mod provider;
mod receipt_pdf;
mod receipts;
pub mod reconcile;
pub mod store;
pub mod terms;

use std::path::Path;
use std::sync::Arc;

use frevix_platform::clock::Clock;
use frevix_platform::db::{connect_and_migrate, sqlite_url};
use frevix_platform::events::{Background, BusError, EventBus, Outbox};
use frevix_platform::service::{Context, Routes, Service, StartError};
use frevix_platform::timers::Timers;
use frevix_proto::payments::v1::payment_service_server::PaymentServiceServer;
use sea_orm::DatabaseConnection;

pub use api::PaymentsApi;
pub use config::{PaymentsConfig, ProviderKind};
pub use store::Migrator;

pub use provider::PaymentProvider;
use provider::sandbox::Sandbox;
use provider::stripe::Stripe;

/// What the handlers and consumers share.
pub(crate) struct Inner {
    pub db: DatabaseConnection,
    pub outbox: Outbox,
    pub clock: Clock,
    pub timers: Timers,
    pub provider: Arc<dyn PaymentProvider>,
    /// The platform's fee on released money, in basis points.
    pub fee_bps: u32,
    /// Days released money waits before it is transferred.
    pub clearance_days: u32,
}

/// The payments service, ready to be served.
#[derive(Clone)]
pub struct Payments {
    inner: Arc<Inner>,
    /// Set when the sandbox is the provider: its pages and its deliveries.
    sandbox: Option<Sandbox>,
    /// Set when Stripe is: its webhook endpoint.
    stripe: Option<Stripe>,
}

/// The sandbox's own database, beside the service's data.
async fn open_sandbox(data_dir: &Path, clock: Clock) -> Result<Sandbox, StartError> {
    std::fs::create_dir_all(data_dir)?;
    let url = sqlite_url(&data_dir.join("payments-sandbox.db"));
    let db = connect_and_migrate::<provider::sandbox::schema::Migrator>(&url, 4)
        .await
        .map_err(|e| format!("the payments sandbox's database: {e}"))?;
    Ok(Sandbox::new(db, clock))
}

/// The configured provider, for operator commands (`frevix payments
/// reconcile`) outside a running service.
pub async fn open_provider(
    config: &PaymentsConfig,
    data_dir: &Path,
) -> Result<Arc<dyn PaymentProvider>, StartError> {
    match config.provider {
        ProviderKind::Sandbox => Ok(Arc::new(open_sandbox(data_dir, Clock::system()).await?)),
        ProviderKind::Stripe => Ok(Arc::new(Stripe::new(&config.stripe)?)),
    }
}

#[async_trait::async_trait]
impl Service for Payments {
    const NAME: &'static str = "payments";
    const MESH_PORT: u16 = 50054;
    type Config = PaymentsConfig;
    type Migrator = Migrator;
    const PUBLIC_PATHS: &'static [&'static str] = &["/sandbox/", provider::stripe::webhook::PATH];

    async fn build(context: Context<PaymentsConfig>) -> Result<Self, StartError> {
        let (provider, sandbox, stripe): (Arc<dyn PaymentProvider>, _, _) =
            match context.config.provider {
                ProviderKind::Sandbox => {
                    let sandbox = open_sandbox(&context.data_dir, context.clock.clone()).await?;
                    (Arc::new(sandbox.clone()), Some(sandbox), None)
                }
                ProviderKind::Stripe => {
                    let stripe = Stripe::new(&context.config.stripe)?;
                    (Arc::new(stripe.clone()), None, Some(stripe))
                }
            };
        Ok(Self {
            inner: Arc::new(Inner {
                db: context.db,
                outbox: context.outbox,
                clock: context.clock,
                timers: context.timers,
                provider,
                fee_bps: context.config.fee_bps,
                clearance_days: context.config.clearance_days,
            }),
            sandbox,
            stripe,
        })
    }

    fn routes(&self, routes: &mut Routes<'_>) {
        let max = routes.max_message_bytes();
        routes.grpc(frevix_platform::grpc_service!(
            PaymentServiceServer::new(PaymentsApi::new(self.inner.clone())),
            max
        ));
        if let Some(sandbox) = &self.sandbox {
            routes.http(provider::sandbox::pages::routes(sandbox.clone()));
        }
        if let Some(stripe) = &self.stripe {
            routes.http(provider::stripe::webhook::routes(
                self.inner.clone(),
                stripe.clone(),
            ));
        }
    }

    /// Starts the consumers of contracts' events, the timers that apply
    /// the provider's events and send payouts and refunds, and (with the
    /// sandbox) the sandbox's deliveries.
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
        if let Some(sandbox) = &self.sandbox {
            background.push(
                sandbox
                    .delivery(self.inner.db.clone(), self.inner.timers.clone())
                    .spawn(),
            );
        }
        Ok(background)
    }
}
