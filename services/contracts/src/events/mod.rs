//! Contracts' events: what it publishes with each change, and the
//! consumers that start contracts from marketplace's events, keep its gigs
//! for pricing orders, and move milestones from payments' escrow events.

mod escrow;
mod gigs;
mod proposals;
pub(crate) mod publish;

use std::sync::Arc;

use frevix_platform::events::{Background, BusError, EventBus, Handlers};
use frevix_proto::{marketplace, payments};

use crate::Inner;

pub async fn consume(bus: &EventBus, inner: &Arc<Inner>) -> Result<Vec<Background>, BusError> {
    Ok(vec![
        Handlers::new(
            "contracts-proposals",
            "marketplace",
            proposals::Proposals::new(inner.clone()),
        )
        .on::<marketplace::v1::ProposalAccepted>()
        .start(bus, inner.db.clone())
        .await?,
        Handlers::new(
            "contracts-gigs",
            "marketplace",
            gigs::Gigs::new(inner.clone()),
        )
        .on::<marketplace::v1::GigPublished>()
        .on::<marketplace::v1::GigUpdated>()
        .on::<marketplace::v1::GigArchived>()
        .start(bus, inner.db.clone())
        .await?,
        Handlers::new(
            "contracts-escrow",
            "payments",
            escrow::Escrow::new(inner.clone()),
        )
        .on::<payments::v1::EscrowFunded>()
        .on::<payments::v1::EscrowReleased>()
        .on::<payments::v1::EscrowRefunded>()
        .on::<payments::v1::PaymentFailed>()
        .start(bus, inner.db.clone())
        .await?,
    ])
}
