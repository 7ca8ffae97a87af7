//! Contracts persistence: contracts, their milestones and their timeline,
//! read and written whole with their contract.

mod contracts;
pub mod entities;
mod migration;
mod milestones;

pub use contracts::*;
pub use entities::contracts::Model as ContractRow;
pub use entities::deliveries::Model as DeliveryRow;
pub use entities::milestones::Model as MilestoneRow;
pub use entities::timeline::Model as TimelineRow;
pub use migration::Migrator;
pub use milestones::*;
