//! Payout accounts, payouts owed and refunds owed. Every write is
//! conditional ("unless there", "unless paid"), so a repeated event or a
//! timer firing again after a crash changes nothing.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ActiveValue, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::entities::{payout_accounts, payouts, refunds};

pub type AccountRow = payout_accounts::Model;
pub type PayoutRow = payouts::Model;
pub type RefundRow = refunds::Model;

pub async fn find_account(
    db: &impl ConnectionTrait,
    freelancer: Uuid,
) -> Result<Option<AccountRow>, DbErr> {
    payout_accounts::Entity::find_by_id(freelancer)
        .one(db)
        .await
}

/// Records the freelancer's account unless they have one; answers theirs.
pub async fn insert_account(
    db: &impl ConnectionTrait,
    row: AccountRow,
) -> Result<AccountRow, DbErr> {
    let freelancer = row.freelancer_id;
    let model: payout_accounts::ActiveModel = row.into();
    // Racing callers share one provider account: the row may conflict on
    // the freelancer or on the account, whichever index is checked first.
    payout_accounts::Entity::insert(model)
        .on_conflict(OnConflict::new().do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    find_account(db, freelancer)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("payout account of {freelancer}")))
}

/// Sets whether the provider's `account` pays out; answers its freelancer
/// when that changed.
pub async fn set_enabled(
    db: &impl ConnectionTrait,
    account: &str,
    enabled: bool,
    now: DateTime<Utc>,
) -> Result<Option<Uuid>, DbErr> {
    let rows = payout_accounts::Entity::update_many()
        .col_expr(
            payout_accounts::Column::PayoutsEnabled,
            Expr::value(enabled),
        )
        .col_expr(payout_accounts::Column::UpdatedAt, Expr::value(now))
        .filter(payout_accounts::Column::AccountId.eq(account))
        .filter(payout_accounts::Column::PayoutsEnabled.ne(enabled))
        .exec_with_returning(db)
        .await?;
    Ok(rows.into_iter().next().map(|row| row.freelancer_id))
}

/// Records what a release owes the freelancer; false if it was recorded.
pub async fn insert_payout(db: &impl ConnectionTrait, row: PayoutRow) -> Result<bool, DbErr> {
    let model: payouts::ActiveModel = row.into();
    let inserted = payouts::Entity::insert(model)
        .on_conflict(
            OnConflict::column(payouts::Column::MilestoneId)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(inserted == 1)
}

pub async fn find_payout(
    db: &impl ConnectionTrait,
    milestone: Uuid,
) -> Result<Option<PayoutRow>, DbErr> {
    payouts::Entity::find_by_id(milestone).one(db).await
}

/// The freelancer's payouts not yet sent.
pub async fn unpaid(db: &impl ConnectionTrait, freelancer: Uuid) -> Result<Vec<PayoutRow>, DbErr> {
    payouts::Entity::find()
        .filter(payouts::Column::FreelancerId.eq(freelancer))
        .filter(payouts::Column::PaidAt.is_null())
        .all(db)
        .await
}

/// Marks a payout sent by `transfer`; false if it was sent already.
pub async fn mark_paid(
    db: &impl ConnectionTrait,
    milestone: Uuid,
    transfer: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let result = payouts::Entity::update_many()
        .col_expr(payouts::Column::TransferId, Expr::value(transfer))
        .col_expr(payouts::Column::PaidAt, Expr::value(Some(now)))
        .filter(payouts::Column::MilestoneId.eq(milestone))
        .filter(payouts::Column::PaidAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Records what a division owes the client's card; false if recorded.
pub async fn insert_refund(db: &impl ConnectionTrait, row: RefundRow) -> Result<bool, DbErr> {
    let mut model: refunds::ActiveModel = row.into();
    model.refund_id = ActiveValue::Set(None);
    let inserted = refunds::Entity::insert(model)
        .on_conflict(
            OnConflict::column(refunds::Column::MilestoneId)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(inserted == 1)
}

pub async fn find_refund(
    db: &impl ConnectionTrait,
    milestone: Uuid,
) -> Result<Option<RefundRow>, DbErr> {
    refunds::Entity::find_by_id(milestone).one(db).await
}

/// Marks a refund made by the provider's `refund`; false if made already.
pub async fn mark_refunded(
    db: &impl ConnectionTrait,
    milestone: Uuid,
    refund: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let result = refunds::Entity::update_many()
        .col_expr(refunds::Column::RefundId, Expr::value(refund))
        .col_expr(refunds::Column::RefundedAt, Expr::value(Some(now)))
        .filter(refunds::Column::MilestoneId.eq(milestone))
        .filter(refunds::Column::RefundedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}
