//! Queries on `two_factor` and `recovery_codes`. Accepting a code is one
//! conditional statement each: a TOTP step is taken only if it is newer
//! than the last one used, a recovery code only if unused, so two racing
//! requests cannot both use one code.

use chrono::{DateTime, Utc};
use frevix_platform::ids::AccountId;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::entities::recovery_codes::{self, Entity as RecoveryCodes};
use super::entities::two_factor::{self, Entity as TwoFactor};

pub use two_factor::Model as TwoFactorRow;

pub async fn find(
    db: &impl ConnectionTrait,
    account: AccountId,
) -> Result<Option<TwoFactorRow>, DbErr> {
    TwoFactor::find_by_id(account.0).one(db).await
}

/// Whether the account signs in with a second factor.
pub async fn is_enabled(db: &impl ConnectionTrait, account: AccountId) -> Result<bool, DbErr> {
    Ok(find(db, account)
        .await?
        .is_some_and(|row| row.confirmed_at.is_some()))
}

/// Starts (or restarts) an enrolment; false if a confirmed factor exists.
pub async fn begin(
    db: &impl ConnectionTrait,
    account: AccountId,
    secret_sealed: String,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    TwoFactor::delete_many()
        .filter(two_factor::Column::AccountId.eq(account.0))
        .filter(two_factor::Column::ConfirmedAt.is_null())
        .exec(db)
        .await?;
    let inserted = TwoFactor::insert(two_factor::ActiveModel {
        account_id: Set(account.0),
        secret_sealed: Set(secret_sealed),
        confirmed_at: Set(None),
        last_used_step: Set(0),
        created_at: Set(now),
    })
    .on_conflict(
        OnConflict::column(two_factor::Column::AccountId)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(inserted == 1)
}

/// Uses the code of `step`: true only if no code of this step or a later
/// one was used before.
pub async fn use_step(
    db: &impl ConnectionTrait,
    account: AccountId,
    step: i64,
) -> Result<bool, DbErr> {
    let result = TwoFactor::update_many()
        .col_expr(two_factor::Column::LastUsedStep, Expr::value(step))
        .filter(two_factor::Column::AccountId.eq(account.0))
        .filter(two_factor::Column::LastUsedStep.lt(step))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Turns an enrolment on; false if it was already on (or is gone).
pub async fn confirm(
    db: &impl ConnectionTrait,
    account: AccountId,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let result = TwoFactor::update_many()
        .col_expr(two_factor::Column::ConfirmedAt, Expr::value(Some(now)))
        .filter(two_factor::Column::AccountId.eq(account.0))
        .filter(two_factor::Column::ConfirmedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Removes the factor and its recovery codes.
pub async fn remove(db: &impl ConnectionTrait, account: AccountId) -> Result<(), DbErr> {
    TwoFactor::delete_many()
        .filter(two_factor::Column::AccountId.eq(account.0))
        .exec(db)
        .await?;
    RecoveryCodes::delete_many()
        .filter(recovery_codes::Column::AccountId.eq(account.0))
        .exec(db)
        .await?;
    Ok(())
}

/// Replaces the account's recovery codes with `hashes`.
pub async fn replace_recovery_codes(
    db: &impl ConnectionTrait,
    account: AccountId,
    hashes: Vec<String>,
) -> Result<(), DbErr> {
    RecoveryCodes::delete_many()
        .filter(recovery_codes::Column::AccountId.eq(account.0))
        .exec(db)
        .await?;
    let rows = hashes.into_iter().map(|hash| recovery_codes::ActiveModel {
        id: Set(Uuid::now_v7()),
        account_id: Set(account.0),
        code_hash: Set(hash),
        used_at: Set(None),
    });
    RecoveryCodes::insert_many(rows)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Uses a recovery code; false if it is not one of the account's unused ones.
pub async fn use_recovery_code(
    db: &impl ConnectionTrait,
    account: AccountId,
    hash: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let result = RecoveryCodes::update_many()
        .col_expr(recovery_codes::Column::UsedAt, Expr::value(Some(now)))
        .filter(recovery_codes::Column::AccountId.eq(account.0))
        .filter(recovery_codes::Column::CodeHash.eq(hash))
        .filter(recovery_codes::Column::UsedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}
