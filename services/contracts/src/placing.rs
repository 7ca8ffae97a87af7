//! Group commit for new gig orders. Orders placed while a transaction is
//! committing are written together by the next one: one insert per table
//! for all of them, their ContractCreated events in one outbox insert, and
//! their idempotency keys claimed, each with its answer, by one statement.
//! Without keys a whole batch is one query string, which PostgreSQL runs as
//! one transaction: one round trip and one WAL flush for many orders, where
//! each order alone paid both. A lone order is written at once: nothing
//! waits to fill a batch ([`AskedTogether`]).
//!
//! A batch is all or nothing. Should it fail, each of its orders is written
//! again alone, so each gets its own answer. An order's ids are fixed before
//! it is written, so writing it again can never make a second order.

use std::collections::HashSet;

use frevix_platform::batch::AskedTogether;
use frevix_platform::db::Txn;
use frevix_platform::db::idempotency::{Claim, claim_together};
use frevix_platform::error::ApiError;
use frevix_platform::events::Outbox;
use sea_orm::DatabaseConnection;

use crate::error::Result;
use crate::events::publish;
use crate::store::{self, PlacedRows};

/// Transactions writing orders at once: while one commits, the next fills.
const WRITERS: usize = 2;
/// Orders one transaction writes at most.
const MAX_BATCH: usize = 64;

/// An order ready to be written, with its key's claim if it carried one.
pub struct NewOrder {
    pub rows: PlacedRows,
    pub claim: Option<Claim>,
}

/// What became of an order handed to the writers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placed {
    /// Written.
    Written,
    /// Not written: its idempotency key was claimed first by another call
    /// (committed now), whose answer is the answer.
    KeyTaken,
}

/// Hands orders to the writers and answers each once it is committed.
pub type Placer = AskedTogether<NewOrder, Result<Placed>>;

/// The writers, on `db`.
pub fn start(db: DatabaseConnection, outbox: Outbox) -> Placer {
    // The tasks end once the placer is dropped and its queue is empty.
    let (placer, _tasks) = AskedTogether::start(WRITERS, MAX_BATCH, move |orders| {
        let (db, outbox) = (db.clone(), outbox.clone());
        async move { write(&db, &outbox, orders).await }
    });
    placer
}

async fn write(
    db: &DatabaseConnection,
    outbox: &Outbox,
    orders: Vec<NewOrder>,
) -> Vec<Result<Placed>> {
    let together: Vec<&NewOrder> = orders.iter().collect();
    match write_together(db, outbox, &together).await {
        Ok(placed) => placed.into_iter().map(Ok).collect(),
        Err(error) if orders.len() == 1 => vec![Err(error)],
        Err(error) => {
            tracing::warn!(
                orders = orders.len(),
                error = %error,
                "orders written together failed; writing each alone"
            );
            let mut answers = Vec::with_capacity(orders.len());
            for order in &orders {
                let placed = write_together(db, outbox, &[order])
                    .await
                    .and_then(|placed| {
                        placed
                            .first()
                            .copied()
                            .ok_or_else(|| ApiError::internal("an order went unanswered").into())
                    });
                answers.push(placed);
            }
            answers
        }
    }
}

/// Writes `orders` in one transaction; what became of each, in order.
async fn write_together(
    db: &DatabaseConnection,
    outbox: &Outbox,
    orders: &[&NewOrder],
) -> Result<Vec<Placed>> {
    let txn = Txn::begin(db).await?;
    // A key named again in the batch (a retry that caught up with its first
    // call) is answered as the first is: only the first claims it.
    let mut keys = HashSet::new();
    let first: Vec<bool> = orders
        .iter()
        .map(|order| {
            order
                .claim
                .as_ref()
                .is_none_or(|claim| keys.insert((claim.scope.as_str(), claim.key.as_str())))
        })
        .collect();
    let claims: Vec<&Claim> = orders
        .iter()
        .zip(&first)
        .filter_map(|(order, first)| order.claim.as_ref().filter(|_| *first))
        .collect();
    let mut won = claim_together(&txn, &claims).await?.into_iter();
    let placed: Vec<Placed> = orders
        .iter()
        .zip(&first)
        .map(|(order, first)| match (&order.claim, first) {
            (None, _) => Placed::Written,
            (Some(_), true) if won.next() == Some(true) => Placed::Written,
            (Some(_), _) => Placed::KeyTaken,
        })
        .collect();
    let written: Vec<&PlacedRows> = orders
        .iter()
        .zip(&placed)
        .filter(|(_, placed)| **placed == Placed::Written)
        .map(|(order, _)| &order.rows)
        .collect();
    store::insert_placed(&txn, &written);
    let created: Vec<_> = written
        .iter()
        .map(|rows| (&rows.contract, std::slice::from_ref(&rows.milestone)))
        .collect();
    publish::contracts_created(outbox, &txn, &created);
    txn.commit().await?;
    Ok(placed)
}

#[cfg(test)]
#[path = "placing_tests.rs"]
mod tests;
