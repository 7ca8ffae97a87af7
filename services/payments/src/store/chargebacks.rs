//! Card disputes as Frevix keeps them: opened once per provider dispute,
//! closed once (a conditional update), newest first for ADMINs.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, ExprTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

use super::entities::chargebacks;

pub type ChargebackRow = chargebacks::Model;

/// Records a dispute unless known; false if it was.
pub async fn open(db: &impl ConnectionTrait, row: ChargebackRow) -> Result<bool, DbErr> {
    let model: chargebacks::ActiveModel = row.into();
    let inserted = chargebacks::Entity::insert(model)
        .on_conflict(OnConflict::new().do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    Ok(inserted == 1)
}

pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<Option<ChargebackRow>, DbErr> {
    chargebacks::Entity::find_by_id(id.to_owned()).one(db).await
}

/// The open dispute on `milestone`'s charge, if any.
pub async fn open_on(
    db: &impl ConnectionTrait,
    milestone: Uuid,
) -> Result<Option<ChargebackRow>, DbErr> {
    chargebacks::Entity::find()
        .filter(chargebacks::Column::MilestoneId.eq(milestone))
        .filter(chargebacks::Column::Status.eq("open"))
        .one(db)
        .await
}

/// Closes an open dispute as `status`; false if it was closed already.
pub async fn close(
    db: &impl ConnectionTrait,
    id: &str,
    status: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let result = chargebacks::Entity::update_many()
        .col_expr(chargebacks::Column::Status, Expr::value(status))
        .col_expr(chargebacks::Column::ClosedAt, Expr::value(Some(now)))
        .filter(chargebacks::Column::Id.eq(id))
        .filter(chargebacks::Column::Status.eq("open"))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Notes that the milestone was approved while the dispute held it.
pub async fn wait_for_release(db: &impl ConnectionTrait, id: &str) -> Result<(), DbErr> {
    chargebacks::Entity::update_many()
        .col_expr(chargebacks::Column::ReleaseWaiting, Expr::value(true))
        .filter(chargebacks::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Disputes newest first, after the cursor (time, id), optionally of one
/// status.
pub async fn list(
    db: &impl ConnectionTrait,
    status: Option<&str>,
    after: Option<(DateTime<Utc>, String)>,
    limit: u64,
) -> Result<Vec<ChargebackRow>, DbErr> {
    let mut query = chargebacks::Entity::find();
    if let Some(status) = status {
        query = query.filter(chargebacks::Column::Status.eq(status));
    }
    if let Some((at, id)) = after {
        query = query.filter(
            chargebacks::Column::OpenedAt
                .lt(at)
                .or(chargebacks::Column::OpenedAt
                    .eq(at)
                    .and(chargebacks::Column::Id.lt(id))),
        );
    }
    query
        .order_by_desc(chargebacks::Column::OpenedAt)
        .order_by_desc(chargebacks::Column::Id)
        .limit(limit)
        .all(db)
        .await
}
