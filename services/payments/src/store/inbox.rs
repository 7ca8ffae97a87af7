//! The inbox of the provider's events: each event id recorded once, then
//! applied once by a durable timer scheduled in the same transaction (so a
//! recorded event is applied even if the process dies right after, and a
//! repeated delivery of it changes nothing).

use chrono::{DateTime, Utc};
use frevix_platform::db::Txn;
use frevix_platform::timers::Timers;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};

use super::entities::provider_events;
use crate::provider::ProviderEvent;

/// The timer kind that applies a recorded event (its subject: the event id).
pub const APPLY_EVENT: &str = "provider.event";

/// Records `event` under the provider's `id` and schedules its application;
/// false if that id was recorded before (nothing changes then).
pub async fn record(
    txn: &Txn,
    timers: &Timers,
    id: &str,
    event: &ProviderEvent,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let body = serde_json::to_string(event).map_err(|e| DbErr::Custom(e.to_string()))?;
    let inserted = provider_events::Entity::insert(provider_events::ActiveModel {
        id: Set(id.to_owned()),
        kind: Set(event.kind().to_owned()),
        body: Set(body),
        received_at: Set(now),
        processed_at: Set(None),
    })
    .on_conflict(
        OnConflict::column(provider_events::Column::Id)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    if inserted == 1 {
        timers.schedule(txn, APPLY_EVENT, id, now, "").await?;
    }
    Ok(inserted == 1)
}

/// The recorded event `id`, unless it was applied already.
pub async fn take(db: &impl ConnectionTrait, id: &str) -> Result<Option<ProviderEvent>, DbErr> {
    let Some(row) = provider_events::Entity::find_by_id(id.to_owned())
        .filter(provider_events::Column::ProcessedAt.is_null())
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    serde_json::from_str(&row.body)
        .map(Some)
        .map_err(|e| DbErr::Custom(format!("provider event {id} does not parse: {e}")))
}

/// Marks `id` applied.
pub async fn mark_applied(
    db: &impl ConnectionTrait,
    id: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    provider_events::Entity::update_many()
        .col_expr(provider_events::Column::ProcessedAt, Expr::value(Some(now)))
        .filter(provider_events::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}
