//! Queries on `accounts`.

use chrono::{DateTime, Utc};
use frevix_platform::auth::{Role, Roles};
use frevix_platform::ids::AccountId;
use sea_orm::sea_query::{Expr, ExprTrait, LikeExpr};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect,
};

use super::entities::accounts::{self, Entity as Accounts};
use crate::domain::account::AccountStatus;

pub use accounts::Model as AccountRow;

/// A new account as sign-up or the admin command makes it.
pub struct NewAccount<'a> {
    pub id: AccountId,
    pub email: &'a str,
    pub display_name: &'a str,
    pub password_hash: String,
    pub status: AccountStatus,
    pub roles: Roles,
    pub now: DateTime<Utc>,
}

pub async fn insert_account(
    db: &impl ConnectionTrait,
    account: NewAccount<'_>,
) -> Result<AccountRow, DbErr> {
    accounts::ActiveModel {
        id: Set(account.id.0),
        email: Set(account.email.to_owned()),
        display_name: Set(account.display_name.to_owned()),
        password_hash: Set(account.password_hash),
        status: Set(account.status.as_str().to_owned()),
        is_client: Set(account.roles.client),
        is_freelancer: Set(account.roles.freelancer),
        is_admin: Set(account.roles.admin),
        failed_logins: Set(0),
        last_failed_login_at: Set(None),
        email_verified_at: Set((account.status == AccountStatus::Active).then_some(account.now)),
        suspension_reason: Set(None),
        created_at: Set(account.now),
        updated_at: Set(account.now),
    }
    .insert(db)
    .await
}

pub async fn find_account_by_email(
    db: &impl ConnectionTrait,
    email: &str,
) -> Result<Option<AccountRow>, DbErr> {
    Accounts::find()
        .filter(accounts::Column::Email.eq(email))
        .one(db)
        .await
}

pub async fn find_account_by_id(
    db: &impl ConnectionTrait,
    id: AccountId,
) -> Result<Option<AccountRow>, DbErr> {
    Accounts::find_by_id(id.0).one(db).await
}

pub async fn update_account_status(
    db: &impl ConnectionTrait,
    id: AccountId,
    status: AccountStatus,
    suspension_reason: Option<String>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let mut update = Accounts::update_many()
        .col_expr(accounts::Column::Status, Expr::value(status.as_str()))
        .col_expr(
            accounts::Column::SuspensionReason,
            Expr::value(suspension_reason),
        )
        .col_expr(accounts::Column::UpdatedAt, Expr::value(now));
    if status == AccountStatus::Active {
        update = update.col_expr(accounts::Column::EmailVerifiedAt, Expr::value(Some(now)));
    }
    update
        .filter(accounts::Column::Id.eq(id.0))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn update_password_hash(
    db: &impl ConnectionTrait,
    id: AccountId,
    password_hash: String,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    Accounts::update_many()
        .col_expr(accounts::Column::PasswordHash, Expr::value(password_hash))
        .col_expr(accounts::Column::FailedLogins, Expr::value(0))
        .col_expr(accounts::Column::UpdatedAt, Expr::value(now))
        .filter(accounts::Column::Id.eq(id.0))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn update_profile(
    db: &impl ConnectionTrait,
    id: AccountId,
    display_name: &str,
    roles: Roles,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    Accounts::update_many()
        .col_expr(accounts::Column::DisplayName, Expr::value(display_name))
        .col_expr(accounts::Column::IsClient, Expr::value(roles.client))
        .col_expr(
            accounts::Column::IsFreelancer,
            Expr::value(roles.freelancer),
        )
        .col_expr(accounts::Column::IsAdmin, Expr::value(roles.admin))
        .col_expr(accounts::Column::UpdatedAt, Expr::value(now))
        .filter(accounts::Column::Id.eq(id.0))
        .exec(db)
        .await?;
    Ok(())
}

/// Filters of the admin account list.
#[derive(Debug, Default, serde::Serialize)]
pub struct AccountFilter {
    pub email_contains: String,
    pub role: Option<Role>,
    pub status: Option<&'static str>,
}

/// Accounts newest first (UUIDv7 ids sort by creation), after `after`.
pub async fn list_accounts(
    db: &impl ConnectionTrait,
    filter: &AccountFilter,
    after: Option<AccountId>,
    limit: u64,
) -> Result<Vec<AccountRow>, DbErr> {
    let mut query = Accounts::find();
    if !filter.email_contains.is_empty() {
        let escaped = filter
            .email_contains
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        query = query.filter(
            Expr::col(accounts::Column::Email)
                .like(LikeExpr::new(format!("%{escaped}%")).escape('\\')),
        );
    }
    query = match filter.role {
        Some(Role::Client) => query.filter(accounts::Column::IsClient.eq(true)),
        Some(Role::Freelancer) => query.filter(accounts::Column::IsFreelancer.eq(true)),
        Some(Role::Admin) => query.filter(accounts::Column::IsAdmin.eq(true)),
        None => query,
    };
    if let Some(status) = filter.status {
        query = query.filter(accounts::Column::Status.eq(status));
    }
    if let Some(after) = after {
        query = query.filter(accounts::Column::Id.lt(after));
    }
    query
        .order_by_desc(accounts::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// The roles stored on a row.
pub fn roles_of(row: &AccountRow) -> Roles {
    Roles {
        client: row.is_client,
        freelancer: row.is_freelancer,
        admin: row.is_admin,
    }
}

/// The status stored on a row (unknown text reads as suspended, the safe side).
pub fn status_of(row: &AccountRow) -> AccountStatus {
    AccountStatus::parse(&row.status).unwrap_or(AccountStatus::Suspended)
}
