//! Queries on `contracts`, `milestones` and `timeline`.

use chrono::{DateTime, SubsecRound, Utc};
use frevix_platform::db::Txn;
use frevix_platform::ids::AccountId;
use sea_orm::{
    AccessMode, ColumnTrait, Condition, ConnectionTrait, DatabaseBackend, DatabaseConnection,
    DatabaseTransaction, DbErr, EntityTrait, IsolationLevel, QueryFilter, QueryOrder, QuerySelect,
    TransactionTrait,
};
use uuid::Uuid;

use super::entities::{contracts, milestones, timeline};
use super::{ContractRow, MilestoneRow, TimelineRow};
use crate::domain::{ContractId, MilestoneId, Party};

/// A read-only transaction whose statements all see one moment, so an
/// answer never shows a milestone's new state beside its contract's old
/// status (PostgreSQL: repeatable read; SQLite: any transaction).
pub async fn snapshot(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    if db.get_database_backend() == DatabaseBackend::Postgres {
        db.begin_with_config(
            Some(IsolationLevel::RepeatableRead),
            Some(AccessMode::ReadOnly),
        )
        .await
    } else {
        db.begin().await
    }
}

/// The most timeline entries one answer carries (the newest are kept).
pub const MAX_TIMELINE: u64 = 500;

/// Writes a new contract and its milestones with the transaction's other
/// writes; the contract as stored (times to the microsecond).
pub async fn insert_contract(
    txn: &Txn,
    mut contract: ContractRow,
    milestones: Vec<MilestoneRow>,
) -> Result<ContractRow, DbErr> {
    contract.created_at = stored_time(contract.created_at);
    contract.updated_at = stored_time(contract.updated_at);
    txn.defer(&contracts::Entity::insert(contracts::ActiveModel::from(
        contract.clone(),
    )));
    if !milestones.is_empty() {
        txn.defer(&milestones::Entity::insert_many(
            milestones.into_iter().map(milestones::ActiveModel::from),
        ));
    }
    Ok(contract)
}

/// `at` as the database keeps it: to the microsecond.
pub fn stored_time(at: DateTime<Utc>) -> DateTime<Utc> {
    at.trunc_subsecs(6)
}

pub async fn find_contract(
    db: &impl ConnectionTrait,
    id: ContractId,
) -> Result<Option<ContractRow>, DbErr> {
    contracts::Entity::find_by_id(id.0).one(db).await
}

/// The milestones of `contracts`, in each contract's order.
pub async fn milestones_of(
    db: &impl ConnectionTrait,
    contracts: &[ContractId],
) -> Result<Vec<MilestoneRow>, DbErr> {
    milestones::Entity::find()
        .filter(milestones::Column::ContractId.is_in(contracts.iter().copied()))
        .order_by_asc(milestones::Column::ContractId)
        .order_by_asc(milestones::Column::Position)
        .all(db)
        .await
}

/// Records a step taken on `contract` with the transaction's other writes;
/// the entry as stored.
pub async fn add_timeline(
    txn: &Txn,
    contract: ContractId,
    at: DateTime<Utc>,
    actor: Option<AccountId>,
    action: &str,
    milestone: Option<MilestoneId>,
    details: String,
) -> Result<TimelineRow, DbErr> {
    let row = TimelineRow {
        id: Uuid::now_v7(),
        contract_id: contract.0,
        at: stored_time(at),
        actor_id: actor.map(|a| a.0),
        action: action.to_owned(),
        milestone_id: milestone.map(|m| m.0),
        details,
    };
    txn.defer(&timeline::Entity::insert(timeline::ActiveModel::from(
        row.clone(),
    )));
    Ok(row)
}

/// The latest steps of `contract`, oldest first.
pub async fn timeline_of(
    db: &impl ConnectionTrait,
    contract: ContractId,
) -> Result<Vec<TimelineRow>, DbErr> {
    let mut rows = timeline::Entity::find()
        .filter(timeline::Column::ContractId.eq(contract.0))
        .order_by_desc(timeline::Column::Id)
        .limit(MAX_TIMELINE)
        .all(db)
        .await?;
    rows.reverse();
    Ok(rows)
}

/// What a list asks for.
pub struct ListFilter {
    pub account: AccountId,
    /// `None`: both sides.
    pub side: Option<Party>,
    /// A stored status name, or `None` for all.
    pub status: Option<&'static str>,
    /// A stored stage name, or `None` for all.
    pub stage: Option<&'static str>,
}

/// `account`'s contracts, most recent activity first, after `after`.
pub async fn list_for(
    db: &impl ConnectionTrait,
    filter: &ListFilter,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: u64,
) -> Result<Vec<ContractRow>, DbErr> {
    use contracts::Column as C;
    let mine = match filter.side {
        Some(Party::Client) => Condition::all().add(C::ClientId.eq(filter.account.0)),
        Some(Party::Freelancer) => Condition::all().add(C::FreelancerId.eq(filter.account.0)),
        None => Condition::any()
            .add(C::ClientId.eq(filter.account.0))
            .add(C::FreelancerId.eq(filter.account.0)),
    };
    let mut query = contracts::Entity::find().filter(mine);
    if let Some(status) = filter.status {
        query = query.filter(C::Status.eq(status));
    }
    if let Some(stage) = filter.stage {
        query = query.filter(C::Stage.eq(stage));
    }
    if let Some((at, id)) = after {
        query = query.filter(
            Condition::any()
                .add(C::UpdatedAt.lt(at))
                .add(Condition::all().add(C::UpdatedAt.eq(at)).add(C::Id.lt(id))),
        );
    }
    query
        .order_by_desc(C::UpdatedAt)
        .order_by_desc(C::Id)
        .limit(limit)
        .all(db)
        .await
}
