//! The rules of a contract, free of storage and transport: who may do what
//! to a milestone in which state, where the money of each milestone stands,
//! what a contract's status follows from its milestones, and what an order
//! costs and when it is due, and how escrow is divided when a contract
//! ends early.

pub mod contract;
pub mod ending;
pub mod hourly;
pub mod ids;
pub mod milestone;
pub mod next;
pub mod order;
pub mod requirements;
pub mod review;
pub mod settlement;
pub mod stage;

pub use contract::{ContractKind, ContractStatus, Party};
pub use ending::{CancellationStatus, DisputeStatus, Held};
pub use ids::{CancellationId, ContractId, DisputeId, MilestoneId};
pub use milestone::{Milestone, MilestoneCommand, MilestoneStatus, Refusal};
pub use stage::Stage;
