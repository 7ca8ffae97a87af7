//! The rules of a contract, free of storage and transport: who may do what
//! to a milestone in which state, where the money of each milestone stands,
//! what a contract's status follows from its milestones, and what an order
//! costs and when it is due.

pub mod contract;
pub mod ids;
pub mod milestone;
pub mod order;
pub mod requirements;

pub use contract::{ContractKind, ContractStatus, Party};
pub use ids::{ContractId, MilestoneId};
pub use milestone::{Milestone, MilestoneCommand, MilestoneStatus, Refusal};
