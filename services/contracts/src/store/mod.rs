//! Contracts persistence: contracts, their milestones and their timeline,
//! read and written whole with their contract.

mod contracts;
mod deadlines;
mod endings;
pub mod entities;
mod gigs;
mod hourly;
mod lifecycle_schema;
mod migration;
mod milestones;
mod placed;
mod reviews;

pub use contracts::*;
pub use deadlines::*;
pub use endings::*;
pub use entities::cancellations::Model as CancellationRow;
pub use entities::contracts::Model as ContractRow;
pub use entities::deliveries::Model as DeliveryRow;
pub use entities::dispute_statements::Model as StatementRow;
pub use entities::disputes::Model as DisputeRow;
pub use entities::gigs::Model as GigRow;
pub use entities::invoices::Model as InvoiceRow;
pub use entities::milestone_proposals::Model as ProposalRow;
pub use entities::milestones::Model as MilestoneRow;
pub use entities::orders::Model as OrderRow;
pub use entities::reviews::Model as ReviewRow;
pub use entities::time_entries::Model as TimeEntryRow;
pub use entities::timeline::Model as TimelineRow;
pub use gigs::*;
pub use hourly::*;
pub use migration::Migrator;
pub use milestones::*;
pub use placed::*;
pub use reviews::*;
