//! The ledger's vocabulary: accounts, postings and transactions, and the
//! rules a transaction must meet before it is written. The database checks
//! the same rules again when it is written (see `store::ledger_schema`):
//! code can have bugs, the books cannot.
//!
//! Every amount is signed minor units: a posting adds its amount to its
//! account's balance, and the postings of a transaction sum to zero. Money
//! from outside (a client's card) enters through an external account whose
//! balance goes negative by what came in; every other account holds money
//! and never goes below zero.

mod account;
mod moves;
mod transaction;

pub use account::{Account, AccountKind};
pub use moves::{Escrow, fee, payout};
pub use transaction::{
    LedgerError, MAX_POSTINGS, Posting, Transaction, TransactionId, TransactionKind,
};
