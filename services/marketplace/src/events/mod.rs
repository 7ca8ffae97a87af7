//! Marketplace's events: the gig events it publishes, and the consumers that
//! keep profiles and ratings from identity's and contracts' events.

mod accounts;
pub(crate) mod publish;
mod ratings;

use frevix_platform::events::{Background, BusError, EventBus, Handlers};
use frevix_proto::{contracts, identity};
use sea_orm::DatabaseConnection;

pub async fn consume(bus: &EventBus, db: &DatabaseConnection) -> Result<Vec<Background>, BusError> {
    Ok(vec![
        Handlers::new("marketplace-accounts", "identity", accounts::Accounts)
            .on::<identity::v1::UserRegistered>()
            .on::<identity::v1::AccountUpdated>()
            .start(bus, db.clone())
            .await?,
        Handlers::new("marketplace-ratings", "contracts", ratings::Ratings)
            .on::<contracts::v1::ReviewPublished>()
            .on::<contracts::v1::ContractCompleted>()
            .start(bus, db.clone())
            .await?,
    ])
}
