//! Queries on `email_codes`.

use chrono::{DateTime, Utc};
use frevix_platform::ids::AccountId;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter, QueryOrder,
};

use super::entities::email_codes::{self, Entity as Codes};
use crate::domain::codes::{Purpose, StoredCode};
use crate::domain::ids::CodeId;

/// Stores a new code, retiring any earlier one of the same purpose.
pub async fn replace_code(
    db: &impl ConnectionTrait,
    account: AccountId,
    purpose: Purpose,
    id: CodeId,
    code_hash: String,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    Codes::update_many()
        .col_expr(email_codes::Column::ConsumedAt, Expr::value(Some(now)))
        .filter(email_codes::Column::AccountId.eq(account.0))
        .filter(email_codes::Column::Purpose.eq(purpose.as_str()))
        .filter(email_codes::Column::ConsumedAt.is_null())
        .exec(db)
        .await?;
    email_codes::ActiveModel {
        id: Set(id.0),
        account_id: Set(account.0),
        purpose: Set(purpose.as_str().to_owned()),
        code_hash: Set(code_hash),
        attempts: Set(0),
        expires_at: Set(expires_at),
        consumed_at: Set(None),
        created_at: Set(now),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The newest code of `purpose` for the account, if any.
pub async fn find_latest_code(
    db: &impl ConnectionTrait,
    account: AccountId,
    purpose: Purpose,
) -> Result<Option<(StoredCode, DateTime<Utc>)>, DbErr> {
    let row = Codes::find()
        .filter(email_codes::Column::AccountId.eq(account.0))
        .filter(email_codes::Column::Purpose.eq(purpose.as_str()))
        .order_by_desc(email_codes::Column::Id)
        .one(db)
        .await?;
    Ok(row.map(|row| {
        (
            StoredCode {
                id: row.id,
                code_hash: row.code_hash,
                attempts: row.attempts,
                expires_at: row.expires_at,
                consumed: row.consumed_at.is_some(),
            },
            row.created_at,
        )
    }))
}

/// An attempt counted against a code: its hash, and whether it was used.
pub struct ClaimedAttempt {
    pub code_hash: String,
    pub consumed: bool,
}

/// Counts one attempt at the code before it is compared, in one statement:
/// the row is only updated while the code is unexpired and under
/// `max_attempts`, so however many requests race, at most `max_attempts`
/// of them ever get the hash to compare. A used code counts attempts too,
/// so the requests racing the one that used it are counted alike whether
/// they came before or after it. `None` when the attempt is refused.
pub async fn claim_attempt(
    db: &impl ConnectionTrait,
    id: CodeId,
    max_attempts: i32,
    now: DateTime<Utc>,
) -> Result<Option<ClaimedAttempt>, DbErr> {
    let rows = Codes::update_many()
        .col_expr(
            email_codes::Column::Attempts,
            Expr::col(email_codes::Column::Attempts).add(1),
        )
        .filter(email_codes::Column::Id.eq(id))
        .filter(email_codes::Column::Attempts.lt(max_attempts))
        .filter(email_codes::Column::ExpiresAt.gt(now))
        .exec_with_returning(db)
        .await?;
    Ok(rows.into_iter().next().map(|row| ClaimedAttempt {
        code_hash: row.code_hash,
        consumed: row.consumed_at.is_some(),
    }))
}

/// Marks a code used; false if another request used it first.
pub async fn consume_code(
    db: &impl ConnectionTrait,
    id: CodeId,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let result = Codes::update_many()
        .col_expr(email_codes::Column::ConsumedAt, Expr::value(Some(now)))
        .filter(email_codes::Column::Id.eq(id))
        .filter(email_codes::Column::ConsumedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}
