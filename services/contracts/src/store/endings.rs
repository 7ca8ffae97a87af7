//! Queries on `cancellations`, `disputes` and `dispute_statements`, and
//! the contract row lock every change of a contract takes first.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::entities::{cancellations, contracts, dispute_statements, disputes, milestones};
use super::{CancellationRow, ContractRow, DisputeRow, StatementRow};
use crate::domain::{
    CancellationId, CancellationStatus, ContractId, DisputeId, DisputeStatus, MilestoneId,
};

/// The most statements one dispute takes.
pub const MAX_STATEMENTS: u64 = 50;

/// The contract, locked until the transaction ends (PostgreSQL: the row;
/// SQLite has a single writer), so that every change of one contract — a
/// party's step, payments' event, a timer — decides on what the one before
/// left.
pub async fn lock_contract(
    db: &impl ConnectionTrait,
    id: ContractId,
) -> Result<Option<ContractRow>, DbErr> {
    contracts::Entity::find_by_id(id.0)
        .lock_exclusive()
        .one(db)
        .await
}

/// The contract's latest cancellation request, if any.
pub async fn latest_cancellation(
    db: &impl ConnectionTrait,
    contract: ContractId,
) -> Result<Option<CancellationRow>, DbErr> {
    cancellations::Entity::find()
        .filter(cancellations::Column::ContractId.eq(contract.0))
        .order_by_desc(cancellations::Column::Id)
        .one(db)
        .await
}

pub async fn find_cancellation(
    db: &impl ConnectionTrait,
    id: CancellationId,
) -> Result<Option<CancellationRow>, DbErr> {
    cancellations::Entity::find_by_id(id.0).one(db).await
}

pub async fn insert_cancellation(
    db: &impl ConnectionTrait,
    row: CancellationRow,
) -> Result<(), DbErr> {
    cancellations::ActiveModel::from(row).insert(db).await?;
    Ok(())
}

/// Answers the open request `id`: its new status, when, by whom (`None`:
/// the window passed) and why. False if it was no longer open.
pub async fn answer_cancellation(
    db: &impl ConnectionTrait,
    id: CancellationId,
    status: CancellationStatus,
    at: DateTime<Utc>,
    by: Option<Uuid>,
    reason: &str,
) -> Result<bool, DbErr> {
    use cancellations::Column as C;
    let result = cancellations::Entity::update_many()
        .col_expr(C::Status, Expr::value(status.as_str()))
        .col_expr(C::AnsweredAt, Expr::value(Some(at)))
        .col_expr(C::AnsweredBy, Expr::value(by))
        .col_expr(C::AnswerReason, Expr::value(reason))
        .filter(C::Id.eq(id.0))
        .filter(C::Status.eq(CancellationStatus::Open.as_str()))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// The contract's latest dispute, if any.
pub async fn latest_dispute(
    db: &impl ConnectionTrait,
    contract: ContractId,
) -> Result<Option<DisputeRow>, DbErr> {
    disputes::Entity::find()
        .filter(disputes::Column::ContractId.eq(contract.0))
        .order_by_desc(disputes::Column::Id)
        .one(db)
        .await
}

pub async fn find_dispute(
    db: &impl ConnectionTrait,
    id: DisputeId,
) -> Result<Option<DisputeRow>, DbErr> {
    disputes::Entity::find_by_id(id.0).one(db).await
}

pub async fn insert_dispute(db: &impl ConnectionTrait, row: DisputeRow) -> Result<(), DbErr> {
    disputes::ActiveModel::from(row).insert(db).await?;
    Ok(())
}

/// Marks an open dispute as waiting too long; false if it was resolved or
/// marked already.
pub async fn escalate_dispute(
    db: &impl ConnectionTrait,
    id: DisputeId,
    at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    use disputes::Column as C;
    let result = disputes::Entity::update_many()
        .col_expr(C::EscalatedAt, Expr::value(Some(at)))
        .filter(C::Id.eq(id.0))
        .filter(C::Status.eq(DisputeStatus::Open.as_str()))
        .filter(C::EscalatedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Records an ADMIN's decision on an open dispute; false if it was not open.
pub async fn resolve_dispute(
    db: &impl ConnectionTrait,
    id: DisputeId,
    at: DateTime<Utc>,
    by: Uuid,
    client_share_bps: i32,
    decision: &str,
) -> Result<bool, DbErr> {
    use disputes::Column as C;
    let result = disputes::Entity::update_many()
        .col_expr(C::Status, Expr::value(DisputeStatus::Resolved.as_str()))
        .col_expr(C::ResolvedAt, Expr::value(Some(at)))
        .col_expr(C::ResolvedBy, Expr::value(Some(by)))
        .col_expr(C::ClientShareBps, Expr::value(Some(client_share_bps)))
        .col_expr(C::Decision, Expr::value(decision))
        .filter(C::Id.eq(id.0))
        .filter(C::Status.eq(DisputeStatus::Open.as_str()))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Disputes of `status`, oldest first, after `after`.
pub async fn list_disputes(
    db: &impl ConnectionTrait,
    status: DisputeStatus,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: u64,
) -> Result<Vec<DisputeRow>, DbErr> {
    use disputes::Column as C;
    let mut query = disputes::Entity::find().filter(C::Status.eq(status.as_str()));
    if let Some((at, id)) = after {
        query = query.filter(
            Condition::any()
                .add(C::OpenedAt.gt(at))
                .add(Condition::all().add(C::OpenedAt.eq(at)).add(C::Id.gt(id))),
        );
    }
    query
        .order_by_asc(C::OpenedAt)
        .order_by_asc(C::Id)
        .limit(limit)
        .all(db)
        .await
}

pub async fn insert_statement(db: &impl ConnectionTrait, row: StatementRow) -> Result<(), DbErr> {
    dispute_statements::ActiveModel::from(row)
        .insert(db)
        .await?;
    Ok(())
}

/// The dispute's statements, oldest first.
pub async fn statements_of(
    db: &impl ConnectionTrait,
    dispute: DisputeId,
) -> Result<Vec<StatementRow>, DbErr> {
    dispute_statements::Entity::find()
        .filter(dispute_statements::Column::DisputeId.eq(dispute.0))
        .order_by_asc(dispute_statements::Column::Id)
        .limit(MAX_STATEMENTS)
        .all(db)
        .await
}

/// Records what a settlement gives back to the client from a milestone.
pub async fn set_settled_refund(
    db: &impl ConnectionTrait,
    milestone: MilestoneId,
    refund: i64,
) -> Result<(), DbErr> {
    milestones::Entity::update_many()
        .col_expr(
            milestones::Column::SettledRefundMinor,
            Expr::value(Some(refund)),
        )
        .filter(milestones::Column::Id.eq(milestone.0))
        .exec(db)
        .await?;
    Ok(())
}
