//! A gig order's deadline: marked late, extended, and the extension the
//! seller asks for; and the stage counts of the orders pages.

use chrono::{DateTime, Utc};
use frevix_platform::ids::AccountId;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, QueryFilter,
    QuerySelect,
};

use super::entities::{contracts, orders};
use crate::domain::{ContractId, Party};

/// Marks the order late, once; false if it was already.
pub async fn mark_late(
    db: &impl ConnectionTrait,
    contract: ContractId,
    at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let result = orders::Entity::update_many()
        .col_expr(orders::Column::LateAt, Expr::value(Some(at)))
        .filter(orders::Column::ContractId.eq(contract.0))
        .filter(orders::Column::LateAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Records the seller's request for `days` more; false if one waits already.
pub async fn ask_extension(
    db: &impl ConnectionTrait,
    contract: ContractId,
    days: i32,
    reason: &str,
    at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    use orders::Column as C;
    let result = orders::Entity::update_many()
        .col_expr(C::ExtensionDays, Expr::value(Some(days)))
        .col_expr(C::ExtensionReason, Expr::value(reason))
        .col_expr(C::ExtensionRequestedAt, Expr::value(Some(at)))
        .filter(C::ContractId.eq(contract.0))
        .filter(C::ExtensionDays.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Answers the waiting extension: `new_due` when granted (the order is no
/// longer late), `None` when refused. False if none was waiting.
pub async fn answer_extension(
    db: &impl ConnectionTrait,
    contract: ContractId,
    new_due: Option<DateTime<Utc>>,
) -> Result<bool, DbErr> {
    use orders::Column as C;
    let mut update = orders::Entity::update_many()
        .col_expr(C::ExtensionDays, Expr::value(Option::<i32>::None))
        .col_expr(C::ExtensionReason, Expr::value(""))
        .col_expr(
            C::ExtensionRequestedAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        );
    if let Some(due) = new_due {
        update = update
            .col_expr(C::DueAt, Expr::value(Some(due)))
            .col_expr(C::LateAt, Expr::value(Option::<DateTime<Utc>>::None));
    }
    let result = update
        .filter(C::ContractId.eq(contract.0))
        .filter(C::ExtensionDays.is_not_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

#[derive(FromQueryResult)]
struct StageCount {
    stage: String,
    count: i64,
}

/// How many of `account`'s contracts (on `side`, or both) are in each
/// stage; stages with none are left out.
pub async fn count_stages(
    db: &impl ConnectionTrait,
    account: AccountId,
    side: Option<Party>,
) -> Result<Vec<(String, i64)>, DbErr> {
    use contracts::Column as C;
    let mine = match side {
        Some(Party::Client) => Condition::all().add(C::ClientId.eq(account.0)),
        Some(Party::Freelancer) => Condition::all().add(C::FreelancerId.eq(account.0)),
        None => Condition::any()
            .add(C::ClientId.eq(account.0))
            .add(C::FreelancerId.eq(account.0)),
    };
    let rows = contracts::Entity::find()
        .select_only()
        .column(C::Stage)
        .column_as(C::Id.count(), "count")
        .filter(mine)
        .group_by(C::Stage)
        .into_model::<StageCount>()
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|row| (row.stage, row.count)).collect())
}
