//! Queries on `sessions` and `refresh_tokens`.

use chrono::{DateTime, Utc};
use frevix_platform::ids::{AccountId, SessionId};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::entities::refresh_tokens::{self, Entity as RefreshTokens};
use super::entities::sessions::{self, Entity as Sessions};
use crate::domain::ids::RefreshTokenId;

pub use refresh_tokens::Model as RefreshTokenRow;
pub use sessions::Model as SessionRow;

/// A login session about to be stored.
pub struct NewSession {
    pub id: SessionId,
    pub account_id: AccountId,
    pub device_name: String,
    pub user_agent: String,
    pub ip_address: String,
    pub now: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// Whether the login proved a second factor.
    pub second_factor: bool,
}

pub async fn insert_session(
    db: &impl ConnectionTrait,
    session: NewSession,
) -> Result<SessionRow, DbErr> {
    sessions::ActiveModel {
        id: Set(session.id.0),
        account_id: Set(session.account_id.0),
        device_name: Set(session.device_name),
        user_agent: Set(session.user_agent),
        ip_address: Set(session.ip_address),
        created_at: Set(session.now),
        last_used_at: Set(session.now),
        expires_at: Set(session.expires_at),
        revoked_at: Set(None),
        revoke_reason: Set(None),
        authenticated_at: Set(Some(session.now)),
        second_factor: Set(session.second_factor),
    }
    .insert(db)
    .await
}

pub async fn find_session(
    db: &impl ConnectionTrait,
    id: SessionId,
) -> Result<Option<SessionRow>, DbErr> {
    Sessions::find_by_id(id.0).one(db).await
}

/// Whether the account has ever signed in from `address` (a device the
/// owner uses, which the account-wide login throttle lets through).
pub async fn has_signed_in_from(
    db: &impl ConnectionTrait,
    account: AccountId,
    address: &str,
) -> Result<bool, DbErr> {
    Ok(Sessions::find()
        .filter(sessions::Column::AccountId.eq(account.0))
        .filter(sessions::Column::IpAddress.eq(address))
        .one(db)
        .await?
        .is_some())
}

/// Whether the account has ever signed in.
pub async fn has_any_session(db: &impl ConnectionTrait, account: AccountId) -> Result<bool, DbErr> {
    Ok(Sessions::find()
        .filter(sessions::Column::AccountId.eq(account.0))
        .one(db)
        .await?
        .is_some())
}

/// Whether a session may still be used at `now`.
pub fn is_live(session: &SessionRow, now: DateTime<Utc>) -> bool {
    session.revoked_at.is_none() && session.expires_at > now
}

pub async fn touch_session(
    db: &impl ConnectionTrait,
    id: SessionId,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    Sessions::update_many()
        .col_expr(sessions::Column::LastUsedAt, Expr::value(now))
        .filter(sessions::Column::Id.eq(id.0))
        .exec(db)
        .await?;
    Ok(())
}

/// Revokes one session of `account`; false if there was no such live session.
pub async fn revoke_session(
    db: &impl ConnectionTrait,
    account: AccountId,
    id: SessionId,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let result = Sessions::update_many()
        .col_expr(sessions::Column::RevokedAt, Expr::value(Some(now)))
        .col_expr(
            sessions::Column::RevokeReason,
            Expr::value(Some(reason.to_owned())),
        )
        .filter(sessions::Column::Id.eq(id.0))
        .filter(sessions::Column::AccountId.eq(account.0))
        .filter(sessions::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Revokes every live session of `account` except `keep`; returns those revoked.
pub async fn revoke_all_sessions(
    db: &impl ConnectionTrait,
    account: AccountId,
    keep: Option<SessionId>,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<Vec<SessionId>, DbErr> {
    let mut update = Sessions::update_many()
        .col_expr(sessions::Column::RevokedAt, Expr::value(Some(now)))
        .col_expr(
            sessions::Column::RevokeReason,
            Expr::value(Some(reason.to_owned())),
        )
        .filter(sessions::Column::AccountId.eq(account.0))
        .filter(sessions::Column::RevokedAt.is_null());
    if let Some(keep) = keep {
        update = update.filter(sessions::Column::Id.ne(keep.0));
    }
    Ok(update
        .exec_with_returning(db)
        .await?
        .into_iter()
        .map(|row| SessionId(row.id))
        .collect())
}

/// Live sessions of `account`, newest first, after `after`.
pub async fn list_live_sessions(
    db: &impl ConnectionTrait,
    account: AccountId,
    after: Option<SessionId>,
    limit: u64,
    now: DateTime<Utc>,
) -> Result<Vec<SessionRow>, DbErr> {
    let mut query = Sessions::find()
        .filter(sessions::Column::AccountId.eq(account.0))
        .filter(sessions::Column::RevokedAt.is_null())
        .filter(sessions::Column::ExpiresAt.gt(now));
    if let Some(after) = after {
        query = query.filter(sessions::Column::Id.lt(after));
    }
    query
        .order_by_desc(sessions::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

pub async fn insert_refresh_token(
    db: &impl ConnectionTrait,
    session: SessionId,
    token_hash: String,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    refresh_tokens::ActiveModel {
        id: Set(Uuid::now_v7()),
        session_id: Set(session.0),
        token_hash: Set(token_hash),
        created_at: Set(now),
        used_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(())
}

pub async fn find_refresh_token(
    db: &impl ConnectionTrait,
    token_hash: &str,
) -> Result<Option<RefreshTokenRow>, DbErr> {
    RefreshTokens::find()
        .filter(refresh_tokens::Column::TokenHash.eq(token_hash))
        .one(db)
        .await
}

/// Marks a refresh token used; false if a racing request used it first.
pub async fn use_refresh_token(
    db: &impl ConnectionTrait,
    id: RefreshTokenId,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let result = RefreshTokens::update_many()
        .col_expr(refresh_tokens::Column::UsedAt, Expr::value(Some(now)))
        .filter(refresh_tokens::Column::Id.eq(id))
        .filter(refresh_tokens::Column::UsedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Records that the session's holder proved who they are at `now`.
pub async fn mark_authenticated(
    db: &impl ConnectionTrait,
    id: SessionId,
    second_factor: bool,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let mut update = Sessions::update_many()
        .col_expr(sessions::Column::AuthenticatedAt, Expr::value(Some(now)))
        .filter(sessions::Column::Id.eq(id.0));
    if second_factor {
        update = update.col_expr(sessions::Column::SecondFactor, Expr::value(true));
    }
    update.exec(db).await?;
    Ok(())
}
