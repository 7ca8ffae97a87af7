//! Queries on `security_events`, the per-account security log.

use chrono::{DateTime, Utc};
use frevix_platform::ids::AccountId;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::entities::security_events::{self, Entity as SecurityEvents};
use crate::domain::ids::SecurityEventId;

pub use security_events::Model as SecurityEventRow;

/// Where a security event came from.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub ip_address: String,
    pub user_agent: String,
    pub device_name: String,
}

fn bounded(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

pub async fn insert_event(
    db: &impl ConnectionTrait,
    account: AccountId,
    kind: &str,
    origin: &Origin,
    new_device: bool,
    detail: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    security_events::ActiveModel {
        id: Set(Uuid::now_v7()),
        account_id: Set(account.0),
        kind: Set(kind.to_owned()),
        ip_address: Set(bounded(&origin.ip_address, 64)),
        user_agent: Set(bounded(&origin.user_agent, 300)),
        device_name: Set(bounded(&origin.device_name, 100)),
        new_device: Set(new_device),
        detail: Set(bounded(detail, 200)),
        created_at: Set(now),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The account's events, newest first, before `before` (a page's last id).
pub async fn list_events(
    db: &impl ConnectionTrait,
    account: AccountId,
    before: Option<SecurityEventId>,
    limit: u64,
) -> Result<Vec<SecurityEventRow>, DbErr> {
    let mut query = SecurityEvents::find().filter(security_events::Column::AccountId.eq(account.0));
    if let Some(before) = before {
        query = query.filter(security_events::Column::Id.lt(before));
    }
    query
        .order_by_desc(security_events::Column::Id)
        .limit(limit)
        .all(db)
        .await
}
