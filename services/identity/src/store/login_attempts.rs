//! The login-attempt buckets (see `domain::throttle`): per account and
//! address in `login_attempts`, account-wide on `accounts`. An attempt is
//! claimed by compare-and-swap on the count it was judged on, so of racing
//! requests judged on the same count exactly one claims it and the others
//! are judged again on the new count.

use std::time::Duration;

use chrono::{DateTime, Utc};
use frevix_platform::ids::AccountId;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use super::entities::accounts::{self, Entity as Accounts};
use super::entities::login_attempts::{self, Entity as Attempts};
use crate::domain::throttle::{Count, Schedule};

/// Rounds of judging before a request that keeps losing races is told to wait.
const MAX_ROUNDS: usize = 8;

/// Counts one attempt from `address` at the account, or says how long to wait.
pub async fn claim_address_attempt(
    db: &impl ConnectionTrait,
    account: AccountId,
    address: &str,
    schedule: Schedule,
    now: DateTime<Utc>,
) -> Result<Result<(), Duration>, DbErr> {
    Attempts::insert(login_attempts::ActiveModel {
        account_id: Set(account.0),
        client_address: Set(address.to_owned()),
        attempts: Set(0),
        last_attempt_at: Set(now),
    })
    .on_conflict(
        OnConflict::columns([
            login_attempts::Column::AccountId,
            login_attempts::Column::ClientAddress,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    for _ in 0..MAX_ROUNDS {
        let Some(row) = Attempts::find_by_id((account.0, address.to_owned()))
            .one(db)
            .await?
        else {
            return Err(DbErr::RecordNotFound("login attempts".into()));
        };
        let count = Count {
            attempts: row.attempts,
            last_attempt_at: (row.attempts > 0).then_some(row.last_attempt_at),
        };
        if let Some(wait) = schedule.wait(count, now) {
            return Ok(Err(wait));
        }
        let claimed = Attempts::update_many()
            .col_expr(
                login_attempts::Column::Attempts,
                Expr::value(schedule.current(count, now) + 1),
            )
            .col_expr(login_attempts::Column::LastAttemptAt, Expr::value(now))
            .filter(login_attempts::Column::AccountId.eq(account.0))
            .filter(login_attempts::Column::ClientAddress.eq(address))
            .filter(login_attempts::Column::Attempts.eq(row.attempts))
            .exec(db)
            .await?;
        if claimed.rows_affected == 1 {
            return Ok(Ok(()));
        }
    }
    Ok(Err(Duration::from_secs(1)))
}

/// Counts one attempt at the account from anywhere, or says how long to wait.
pub async fn claim_account_attempt(
    db: &impl ConnectionTrait,
    account: AccountId,
    schedule: Schedule,
    now: DateTime<Utc>,
) -> Result<Result<(), Duration>, DbErr> {
    for _ in 0..MAX_ROUNDS {
        let Some(row) = Accounts::find_by_id(account.0).one(db).await? else {
            return Err(DbErr::RecordNotFound("account".into()));
        };
        let count = Count {
            attempts: row.failed_logins,
            last_attempt_at: row.last_failed_login_at,
        };
        if let Some(wait) = schedule.wait(count, now) {
            return Ok(Err(wait));
        }
        let claimed = Accounts::update_many()
            .col_expr(
                accounts::Column::FailedLogins,
                Expr::value(schedule.current(count, now) + 1),
            )
            .col_expr(accounts::Column::LastFailedLoginAt, Expr::value(Some(now)))
            .filter(accounts::Column::Id.eq(account.0))
            .filter(accounts::Column::FailedLogins.eq(row.failed_logins))
            .exec(db)
            .await?;
        if claimed.rows_affected == 1 {
            return Ok(Ok(()));
        }
    }
    Ok(Err(Duration::from_secs(1)))
}

/// After a correct password: the address starts over, and the account-wide
/// count gives back the attempt that succeeded (it counts failures only).
pub async fn forget_successful_attempt(
    db: &impl ConnectionTrait,
    account: AccountId,
    address: &str,
    account_wide_claimed: bool,
) -> Result<(), DbErr> {
    Attempts::delete_many()
        .filter(login_attempts::Column::AccountId.eq(account.0))
        .filter(login_attempts::Column::ClientAddress.eq(address))
        .exec(db)
        .await?;
    if account_wide_claimed {
        Accounts::update_many()
            .col_expr(
                accounts::Column::FailedLogins,
                Expr::col(accounts::Column::FailedLogins).sub(1),
            )
            .filter(accounts::Column::Id.eq(account.0))
            .filter(accounts::Column::FailedLogins.gt(0))
            .exec(db)
            .await?;
    }
    Ok(())
}
