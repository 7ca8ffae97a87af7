//! Payments persistence: the ledger (its rules are the database's own, see
//! `ledger_schema`).

pub mod entities;
mod ledger;
mod ledger_schema;
mod migration;

pub use ledger::{PostError, Posted, balance, books, post};
pub use migration::Migrator;
