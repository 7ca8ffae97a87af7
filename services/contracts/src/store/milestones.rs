//! Queries on `milestones` and `deliveries`, and the contract's status as
//! its milestones move.

use chrono::{DateTime, Utc};
use frevix_platform::db::Txn;
use frevix_platform::money::Money;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter, QueryOrder,
};
use uuid::Uuid;

use super::entities::{contracts, deliveries, milestone_proposals, milestones, orders};
use super::{DeliveryRow, MilestoneRow, ProposalRow};
use crate::domain::Stage;
use crate::domain::stage::stage_of;
use crate::domain::{ContractId, ContractStatus, Milestone, MilestoneId, MilestoneStatus};

/// Milestone `id` of `contract`.
pub async fn find_milestone(
    db: &impl ConnectionTrait,
    contract: ContractId,
    id: MilestoneId,
) -> Result<Option<MilestoneRow>, DbErr> {
    milestones::Entity::find_by_id(id.0)
        .filter(milestones::Column::ContractId.eq(contract.0))
        .one(db)
        .await
}

/// The milestone's state as the domain sees it; `None` if its stored
/// status or currency is unknown.
pub fn milestone_state(row: &MilestoneRow, currency: &str) -> Option<Milestone> {
    Some(Milestone {
        status: MilestoneStatus::parse(&row.status)?,
        amount: Money::from_stored(currency, row.amount_minor)?,
        funded: row.funded_minor,
        released: row.released_minor,
        refunded: row.refunded_minor,
        revisions_used: row.revisions_used,
    })
}

/// Stores `next` over `before`; false if the milestone changed meanwhile
/// (another step won the race and this one must be asked again).
pub async fn update_milestone(
    db: &impl ConnectionTrait,
    before: &MilestoneRow,
    next: &Milestone,
) -> Result<bool, DbErr> {
    use milestones::Column as C;
    let result = milestones::Entity::update_many()
        .col_expr(C::Status, Expr::value(next.status.as_str()))
        .col_expr(C::FundedMinor, Expr::value(next.funded))
        .col_expr(C::ReleasedMinor, Expr::value(next.released))
        .col_expr(C::RefundedMinor, Expr::value(next.refunded))
        .col_expr(C::RevisionsUsed, Expr::value(next.revisions_used))
        .filter(C::Id.eq(before.id))
        .filter(C::Status.eq(before.status.clone()))
        .filter(C::FundedMinor.eq(before.funded_minor))
        .filter(C::ReleasedMinor.eq(before.released_minor))
        .filter(C::RefundedMinor.eq(before.refunded_minor))
        .filter(C::RevisionsUsed.eq(before.revisions_used))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Sets the contract's status (and the stage that follows), and marks it
/// as just active.
pub async fn set_contract_status(
    db: &impl ConnectionTrait,
    contract: ContractId,
    status: ContractStatus,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    contracts::Entity::update_many()
        .col_expr(contracts::Column::Status, Expr::value(status.as_str()))
        .col_expr(contracts::Column::UpdatedAt, Expr::value(now))
        .filter(contracts::Column::Id.eq(contract.0))
        .exec(db)
        .await?;
    refresh_stage(db, contract, status).await
}

/// Sets the contract's status and stage, known already, in one statement
/// sent with the transaction's other writes.
pub async fn set_status_and_stage(
    txn: &Txn,
    contract: ContractId,
    status: ContractStatus,
    stage: Stage,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    txn.defer(
        &contracts::Entity::update_many()
            .col_expr(contracts::Column::Status, Expr::value(status.as_str()))
            .col_expr(contracts::Column::Stage, Expr::value(stage.as_str()))
            .col_expr(contracts::Column::UpdatedAt, Expr::value(now))
            .filter(contracts::Column::Id.eq(contract.0)),
    );
    Ok(())
}

/// Stores the stage of `contract` in `status`, from its milestones and
/// its order's lateness as they are now.
pub async fn refresh_stage(
    db: &impl ConnectionTrait,
    contract: ContractId,
    status: ContractStatus,
) -> Result<(), DbErr> {
    let milestones: Vec<MilestoneStatus> = milestones::Entity::find()
        .filter(milestones::Column::ContractId.eq(contract.0))
        .all(db)
        .await?
        .iter()
        .filter_map(|m| MilestoneStatus::parse(&m.status))
        .collect();
    let late = orders::Entity::find_by_id(contract.0)
        .one(db)
        .await?
        .is_some_and(|order| order.late_at.is_some());
    let stage = stage_of(status, &milestones, late);
    contracts::Entity::update_many()
        .col_expr(contracts::Column::Stage, Expr::value(stage.as_str()))
        .filter(contracts::Column::Id.eq(contract.0))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn insert_delivery(
    db: &impl ConnectionTrait,
    contract: ContractId,
    milestone: MilestoneId,
    message: String,
    attachments: &[Uuid],
    at: DateTime<Utc>,
) -> Result<DeliveryRow, DbErr> {
    deliveries::ActiveModel {
        id: Set(Uuid::now_v7()),
        contract_id: Set(contract.0),
        milestone_id: Set(milestone.0),
        message: Set(message),
        attachments: Set(attachments
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" ")),
        submitted_at: Set(at),
    }
    .insert(db)
    .await
}

/// Every delivery of `contract`, oldest first.
pub async fn deliveries_of(
    db: &impl ConnectionTrait,
    contract: ContractId,
) -> Result<Vec<DeliveryRow>, DbErr> {
    deliveries::Entity::find()
        .filter(deliveries::Column::ContractId.eq(contract.0))
        .order_by_asc(deliveries::Column::Id)
        .all(db)
        .await
}

/// Sets when a milestone is due (a gig order's, once its clock starts).
pub async fn set_milestone_due(
    db: &impl ConnectionTrait,
    milestone: MilestoneId,
    due_at: DateTime<Utc>,
) -> Result<(), DbErr> {
    milestones::Entity::update_many()
        .col_expr(milestones::Column::DueAt, Expr::value(Some(due_at)))
        .filter(milestones::Column::Id.eq(milestone.0))
        .exec(db)
        .await?;
    Ok(())
}

/// Marks the contract as just active (lists sort on it).
pub async fn touch_contract(
    txn: &Txn,
    contract: ContractId,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    txn.defer(
        &contracts::Entity::update_many()
            .col_expr(contracts::Column::UpdatedAt, Expr::value(now))
            .filter(contracts::Column::Id.eq(contract.0)),
    );
    Ok(())
}

/// The milestones the client proposed on `contract`, oldest first.
pub async fn proposals_of(
    db: &impl ConnectionTrait,
    contract: ContractId,
) -> Result<Vec<ProposalRow>, DbErr> {
    milestone_proposals::Entity::find()
        .filter(milestone_proposals::Column::ContractId.eq(contract.0))
        .order_by_asc(milestone_proposals::Column::Id)
        .all(db)
        .await
}

pub async fn insert_proposal(db: &impl ConnectionTrait, row: ProposalRow) -> Result<(), DbErr> {
    milestone_proposals::ActiveModel::from(row)
        .insert(db)
        .await?;
    Ok(())
}

/// Takes proposal `id` of `contract` away (accepted or declined); `None` if
/// it was not there.
pub async fn take_proposal(
    db: &impl ConnectionTrait,
    contract: ContractId,
    id: Uuid,
) -> Result<Option<ProposalRow>, DbErr> {
    let Some(row) = milestone_proposals::Entity::find_by_id(id)
        .filter(milestone_proposals::Column::ContractId.eq(contract.0))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    milestone_proposals::Entity::delete_by_id(id)
        .exec(db)
        .await?;
    Ok(Some(row))
}

/// Appends an accepted milestone and adds it to the contract's total.
pub async fn append_milestone(db: &impl ConnectionTrait, row: MilestoneRow) -> Result<(), DbErr> {
    let (contract, amount) = (row.contract_id, row.amount_minor);
    milestones::ActiveModel::from(row).insert(db).await?;
    contracts::Entity::update_many()
        .col_expr(
            contracts::Column::TotalMinor,
            Expr::col(contracts::Column::TotalMinor).add(amount),
        )
        .filter(contracts::Column::Id.eq(contract))
        .exec(db)
        .await?;
    Ok(())
}
