//! Payments persistence: the ledger (its rules are the database's own, see
//! `ledger_schema`), the contract terms it charges by, milestone payments
//! and the provider's events.

mod chargeback_schema;
pub mod chargebacks;
pub mod entities;
mod funding_schema;
pub mod fundings;
pub mod inbox;
mod ledger;
mod ledger_schema;
pub mod methods;
mod methods_schema;
mod migration;
mod payout_schema;
pub mod payouts;
pub mod terms;
mod terms_schema;
pub mod views;

pub use ledger::{
    PostError, Posted, balance, books, find_transaction, find_transaction_by_provider_ref, post,
};
pub use migration::Migrator;
