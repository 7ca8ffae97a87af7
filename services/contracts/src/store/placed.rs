//! New gig orders written together: each table's rows of every order in
//! one insert, sent with the transaction's other writes.

use frevix_platform::db::Txn;
use sea_orm::EntityTrait;

use super::entities::{contracts, milestones, orders, timeline};
use super::{ContractRow, MilestoneRow, OrderRow, TimelineRow};

/// The rows one new gig order writes.
#[derive(Debug, Clone)]
pub struct PlacedRows {
    /// Its times as the database keeps them (to the microsecond).
    pub contract: ContractRow,
    pub milestone: MilestoneRow,
    pub order: OrderRow,
    /// "Ordered …", the first entry of its timeline.
    pub placed: TimelineRow,
}

/// Writes `placed` with the transaction's other writes: four inserts
/// whatever their number.
pub fn insert_placed(txn: &Txn, placed: &[&PlacedRows]) {
    if placed.is_empty() {
        return;
    }
    txn.defer(&contracts::Entity::insert_many(
        placed
            .iter()
            .map(|p| contracts::ActiveModel::from(p.contract.clone())),
    ));
    txn.defer(&milestones::Entity::insert_many(
        placed
            .iter()
            .map(|p| milestones::ActiveModel::from(p.milestone.clone())),
    ));
    txn.defer(&orders::Entity::insert_many(
        placed
            .iter()
            .map(|p| orders::ActiveModel::from(p.order.clone())),
    ));
    txn.defer(&timeline::Entity::insert_many(
        placed
            .iter()
            .map(|p| timeline::ActiveModel::from(p.placed.clone())),
    ));
}
