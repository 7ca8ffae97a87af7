//! Payments persistence: the ledger (its rules are the database's own, see
//! `ledger_schema`), the contract terms it charges by, milestone payments
//! and the provider's events.

pub mod entities;
pub mod fundings;
mod funding_schema;
pub mod inbox;
mod ledger;
mod ledger_schema;
mod migration;
pub mod terms;
pub mod views;
mod terms_schema;

pub use ledger::{PostError, Posted, balance, books, find_transaction, post};
pub use migration::Migrator;
