//! Frevix contracts: the agreement between a client and a freelancer and
//! every step of it. Two ways in (a gig order placed by a buyer, a job
//! contract from an accepted proposal), one engine: milestones funded into
//! escrow, delivered, revised, approved (or approved by the clock),
//! released; cancellation, disputes, reviews.
//!
//! The rules live in [`domain`] (property-tested); `steps` takes one step
//! on a milestone and `ending` ends a contract early, whoever asks (a
//! party's RPC in `api`, payments' or marketplace's events in `events`, a
//! timer in `timed`).

mod api;
pub mod config;
mod convert;
pub mod domain;
mod ending;
pub mod error;
mod events;
mod hourly;
mod placing;
mod reviewing;
mod steps;
pub mod store;
mod timed;

use std::sync::Arc;

use frevix_platform::clock::Clock;
use frevix_platform::events::{Background, BusError, EventBus, Outbox};
use frevix_platform::service::{Context, Routes, Service, StartError};
use frevix_platform::timers::Timers;
use frevix_proto::contracts::v1::contract_service_server::ContractServiceServer;
use sea_orm::DatabaseConnection;

pub use api::ContractsApi;
pub use config::ContractsConfig;
pub use store::Migrator;

/// What the handlers and consumers share.
pub(crate) struct Inner {
    pub db: DatabaseConnection,
    pub outbox: Outbox,
    /// Writes new gig orders, many in one transaction under load.
    pub placer: placing::Placer,
    pub clock: Clock,
    pub timers: Timers,
    pub default_weekly_limit_minutes: i32,
    pub review_days: ReviewDays,
    /// Days the other party has to answer a cancellation request.
    pub cancellation_answer_days: i32,
    /// Hours a dispute waits before it is marked escalated.
    pub dispute_escalation_hours: i32,
    /// Days the parties have to review each other once reviews open.
    pub review_window_days: i32,
    /// Days a client has to dispute a week's invoice.
    pub invoice_review_days: i32,
}

/// How long a client has to answer a delivery, in days.
pub(crate) struct ReviewDays {
    pub order: i32,
    pub job: i32,
}

/// The contracts service, ready to be served.
#[derive(Clone)]
pub struct Contracts {
    inner: Arc<Inner>,
}

#[async_trait::async_trait]
impl Service for Contracts {
    const NAME: &'static str = "contracts";
    const MESH_PORT: u16 = 50053;
    type Config = ContractsConfig;
    type Migrator = Migrator;
    const PUBLIC_METHODS: &'static [&'static str] =
        &["/frevix.contracts.v1.ContractService/ListReviews"];

    async fn build(context: Context<ContractsConfig>) -> Result<Self, StartError> {
        Ok(Self {
            inner: Arc::new(Inner {
                placer: placing::start(context.db.clone(), context.outbox.clone()),
                db: context.db,
                outbox: context.outbox,
                clock: context.clock,
                timers: context.timers,
                default_weekly_limit_minutes: context.config.default_weekly_limit_minutes,
                review_days: ReviewDays {
                    order: context.config.order_review_days,
                    job: context.config.job_review_days,
                },
                cancellation_answer_days: context.config.cancellation_answer_days,
                dispute_escalation_hours: context.config.dispute_escalation_hours,
                review_window_days: context.config.review_window_days,
                invoice_review_days: context.config.invoice_review_days,
            }),
        })
    }

    fn routes(&self, routes: &mut Routes<'_>) {
        let max = routes.max_message_bytes();
        routes.grpc(frevix_platform::grpc_service!(
            ContractServiceServer::new(ContractsApi::new(self.inner.clone())),
            max
        ));
    }

    /// Starts the consumers (accepted proposals, escrow) and the timers.
    async fn start(&self, bus: &EventBus) -> Result<Vec<Background>, BusError> {
        let mut background = events::consume(bus, &self.inner).await?;
        let clocks = timed::Clocks {
            inner: self.inner.clone(),
        };
        background.push(
            self.inner
                .timers
                .runner(self.inner.db.clone(), Arc::new(clocks)),
        );
        Ok(background)
    }
}
