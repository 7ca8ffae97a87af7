//! Notifications and their preferences, and when each account was last
//! mailed about each conversation (message digests go out at most hourly).

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use crate::domain::{ConversationId, EmailState};

use super::entities::{message_digests, notification_prefs, notifications};

pub use notification_prefs::Model as PreferenceRow;
pub use notifications::Model as NotificationRow;

/// Stores a notification unless its source already made one; true if new.
pub async fn insert(db: &impl ConnectionTrait, row: NotificationRow) -> Result<bool, DbErr> {
    let result = notifications::Entity::insert(notifications::ActiveModel {
        id: Set(row.id),
        account_id: Set(row.account_id),
        kind: Set(row.kind),
        title: Set(row.title),
        body: Set(row.body),
        subject_id: Set(row.subject_id),
        read: Set(row.read),
        shown: Set(row.shown),
        email_state: Set(row.email_state),
        source_key: Set(row.source_key),
        created_at: Set(row.created_at),
    })
    .on_conflict_do_nothing()
    .exec(db)
    .await?;
    Ok(matches!(result, sea_orm::TryInsertResult::Inserted(_)))
}

/// `account`'s notifications, newest first, older than `before`.
pub async fn list(
    db: &impl ConnectionTrait,
    account: Uuid,
    unread_only: bool,
    before: Option<Uuid>,
    limit: u64,
) -> Result<Vec<NotificationRow>, DbErr> {
    let mut query = notifications::Entity::find()
        .filter(notifications::Column::AccountId.eq(account))
        // Mail-only notifications are not shown in the app.
        .filter(notifications::Column::Shown.eq(true));
    if unread_only {
        query = query.filter(notifications::Column::Read.eq(false));
    }
    if let Some(before) = before {
        query = query.filter(notifications::Column::Id.lt(before));
    }
    query
        .order_by_desc(notifications::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

pub async fn unread_count(db: &impl ConnectionTrait, account: Uuid) -> Result<u64, DbErr> {
    notifications::Entity::find()
        .filter(notifications::Column::AccountId.eq(account))
        .filter(notifications::Column::Read.eq(false))
        .filter(notifications::Column::Shown.eq(true))
        .count(db)
        .await
}

/// Marks `ids` (or, when `None`, all) of `account`'s notifications read.
pub async fn mark_read(
    db: &impl ConnectionTrait,
    account: Uuid,
    ids: Option<Vec<Uuid>>,
) -> Result<(), DbErr> {
    let mut update = notifications::Entity::update_many()
        .col_expr(notifications::Column::Read, Expr::value(true))
        .filter(notifications::Column::AccountId.eq(account))
        .filter(notifications::Column::Read.eq(false));
    if let Some(ids) = ids {
        update = update.filter(notifications::Column::Id.is_in(ids));
    }
    update.exec(db).await?;
    Ok(())
}

/// Notifications waiting to be mailed, oldest first.
pub async fn pending_mail(
    db: &impl ConnectionTrait,
    limit: u64,
) -> Result<Vec<NotificationRow>, DbErr> {
    notifications::Entity::find()
        .filter(notifications::Column::EmailState.eq(EmailState::Pending.as_str()))
        .order_by_asc(notifications::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

pub async fn mark_mailed(db: &impl ConnectionTrait, id: Uuid) -> Result<(), DbErr> {
    notifications::Entity::update_many()
        .col_expr(
            notifications::Column::EmailState,
            Expr::value(EmailState::Sent.as_str()),
        )
        .filter(notifications::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn preferences(
    db: &impl ConnectionTrait,
    account: Uuid,
) -> Result<Vec<PreferenceRow>, DbErr> {
    notification_prefs::Entity::find()
        .filter(notification_prefs::Column::AccountId.eq(account))
        .all(db)
        .await
}

pub async fn set_preference(db: &impl ConnectionTrait, row: PreferenceRow) -> Result<(), DbErr> {
    notification_prefs::Entity::insert(notification_prefs::ActiveModel {
        account_id: Set(row.account_id),
        kind: Set(row.kind),
        in_app: Set(row.in_app),
        email: Set(row.email),
    })
    .on_conflict(
        OnConflict::columns([
            notification_prefs::Column::AccountId,
            notification_prefs::Column::Kind,
        ])
        .update_columns([
            notification_prefs::Column::InApp,
            notification_prefs::Column::Email,
        ])
        .to_owned(),
    )
    .exec(db)
    .await?;
    Ok(())
}

/// When `account` was last mailed about `conversation`.
pub async fn last_digest(
    db: &impl ConnectionTrait,
    account: Uuid,
    conversation: ConversationId,
) -> Result<Option<DateTime<Utc>>, DbErr> {
    Ok(
        message_digests::Entity::find_by_id((account, conversation.0))
            .one(db)
            .await?
            .map(|row| row.sent_at),
    )
}

pub async fn record_digest(
    db: &impl ConnectionTrait,
    account: Uuid,
    conversation: ConversationId,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    message_digests::Entity::insert(message_digests::ActiveModel {
        account_id: Set(account),
        conversation_id: Set(conversation.0),
        sent_at: Set(at),
    })
    .on_conflict(
        OnConflict::columns([
            message_digests::Column::AccountId,
            message_digests::Column::ConversationId,
        ])
        .update_column(message_digests::Column::SentAt)
        .to_owned(),
    )
    .exec(db)
    .await?;
    Ok(())
}
