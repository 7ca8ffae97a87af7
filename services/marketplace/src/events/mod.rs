//! Marketplace's events: the gig events it publishes, and the consumers that
//! keep profiles and ratings from identity's and contracts' events.

mod accounts;
pub(crate) mod publish;
mod ratings;

use std::sync::Arc;

use frevix_platform::events::{Background, BusError, ConsumerSpec, EventBus};
use frevix_proto::{contracts, identity};
use prost::Name;
use sea_orm::DatabaseConnection;

pub async fn consume(bus: &EventBus, db: &DatabaseConnection) -> Result<Vec<Background>, BusError> {
    let accounts = ConsumerSpec {
        event_types: vec![
            identity::v1::UserRegistered::full_name(),
            identity::v1::AccountUpdated::full_name(),
        ],
        ..ConsumerSpec::new("marketplace-accounts", "identity")
    };
    let ratings = ConsumerSpec {
        event_types: vec![
            contracts::v1::ReviewPublished::full_name(),
            contracts::v1::ContractCompleted::full_name(),
        ],
        ..ConsumerSpec::new("marketplace-ratings", "contracts")
    };
    Ok(vec![
        bus.consume(accounts, db.clone(), Arc::new(accounts::Accounts))
            .await?,
        bus.consume(ratings, db.clone(), Arc::new(ratings::Ratings))
            .await?,
    ])
}
