//! Contracts persistence: contracts, their milestones and their timeline,
//! read and written whole with their contract.

mod contracts;
pub mod entities;
mod migration;

pub use contracts::*;
pub use entities::contracts::Model as ContractRow;
pub use entities::milestones::Model as MilestoneRow;
pub use entities::timeline::Model as TimelineRow;
pub use migration::Migrator;
