//! Payments persistence: the ledger (its rules are the database's own, see
//! `ledger_schema`) and the contract terms it charges by.

pub mod entities;
mod ledger;
mod ledger_schema;
mod migration;
pub mod terms;
mod terms_schema;

pub use ledger::{PostError, Posted, balance, books, post};
pub use migration::Migrator;
