//! Frevix payments: the money side of a contract. Clients fund milestones
//! into escrow; an approved milestone is released to the freelancer minus
//! the platform's fee; a cancellation or a dispute refunds the client's
//! share. Every figure shown to anyone is read from the [`ledger`], a
//! double-entry book whose rules the database itself enforces; what may be
//! charged comes from contracts' events ([`terms`]), never from a client.

pub mod ledger;
pub mod store;
pub mod terms;

pub use store::Migrator;
