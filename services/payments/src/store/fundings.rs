//! Milestone payments: one row per milestone, tied to the provider's
//! intent, with the status last heard from it. The status is a view for
//! the client's screen; the ledger says whether money is in escrow.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, ExprTrait, QueryFilter};
use uuid::Uuid;

use super::entities::fundings;
use crate::provider::IntentStatus;

pub type FundingRow = fundings::Model;

/// Statuses nothing moves a payment away from.
const FINAL: [&str; 2] = ["succeeded", "canceled"];

pub async fn find_for_milestone(
    db: &impl ConnectionTrait,
    milestone: Uuid,
) -> Result<Option<FundingRow>, DbErr> {
    fundings::Entity::find()
        .filter(fundings::Column::MilestoneId.eq(milestone))
        .one(db)
        .await
}

pub async fn find_for_intent(
    db: &impl ConnectionTrait,
    intent: &str,
) -> Result<Option<FundingRow>, DbErr> {
    fundings::Entity::find()
        .filter(fundings::Column::IntentId.eq(intent))
        .one(db)
        .await
}

/// Records a milestone's payment unless it has one (racing callers share
/// the first); answers the milestone's payment either way.
pub async fn insert(db: &impl ConnectionTrait, row: FundingRow) -> Result<FundingRow, DbErr> {
    let milestone = row.milestone_id;
    let model: fundings::ActiveModel = row.into();
    // Racing callers share one intent, so the row may conflict on the
    // milestone or on the intent, whichever index is checked first: any
    // conflict means the first caller's row stands.
    fundings::Entity::insert(model)
        .on_conflict(OnConflict::new().do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    find_for_milestone(db, milestone)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("funding of milestone {milestone}")))
}

/// Counts one more confirmation of `id` and answers its number, which
/// names the attempt's idempotency key.
pub async fn next_confirmation(db: &impl ConnectionTrait, id: Uuid) -> Result<i32, DbErr> {
    let rows = fundings::Entity::update_many()
        .col_expr(
            fundings::Column::Confirmations,
            Expr::col(fundings::Column::Confirmations).add(1),
        )
        .filter(fundings::Column::Id.eq(id))
        .exec_with_returning(db)
        .await?;
    rows.into_iter()
        .next()
        .map(|row| row.confirmations)
        .ok_or_else(|| DbErr::RecordNotFound(format!("funding {id}")))
}

/// What the provider last said about a payment.
pub struct Heard<'a> {
    pub status: IntentStatus,
    pub failure: Option<&'a str>,
    pub next_action_url: Option<&'a str>,
}

/// Sets what was heard about the intent, unless the payment is final
/// already (an answer overtaken by the success event changes nothing).
pub async fn hear(
    db: &impl ConnectionTrait,
    intent: &str,
    heard: Heard<'_>,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let result = fundings::Entity::update_many()
        .col_expr(fundings::Column::Status, Expr::value(heard.status.as_str()))
        .col_expr(
            fundings::Column::FailureReason,
            Expr::value(heard.failure.map(str::to_owned)),
        )
        .col_expr(
            fundings::Column::NextActionUrl,
            Expr::value(heard.next_action_url.map(str::to_owned)),
        )
        .col_expr(fundings::Column::UpdatedAt, Expr::value(now))
        .filter(fundings::Column::IntentId.eq(intent))
        .filter(fundings::Column::Status.is_not_in(FINAL))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// A new payment of `milestone` of `contract` by the provider's `intent`.
pub fn new_row(
    contract: &super::terms::ContractRow,
    milestone: &super::terms::MilestoneRow,
    provider: &str,
    intent: &crate::provider::Intent,
    now: DateTime<Utc>,
) -> FundingRow {
    FundingRow {
        id: Uuid::now_v7(),
        milestone_id: milestone.id,
        contract_id: contract.id,
        client_id: contract.client_id,
        amount_minor: milestone.amount_minor,
        currency: contract.currency.clone(),
        provider: provider.to_owned(),
        intent_id: intent.id.clone(),
        client_secret: intent.client_secret.clone(),
        status: intent.status.as_str().to_owned(),
        failure_reason: intent.failure.clone(),
        next_action_url: intent.next_action_url.clone(),
        confirmations: 0,
        created_at: now,
        updated_at: now,
    }
}
