//! Contracts' read model of gigs (kept from marketplace's events) and the
//! terms of each gig order.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::entities::{gigs, orders};
use super::{GigRow, OrderRow};
use crate::domain::ContractId;

/// Stores the gig as published now (a newer copy replaces the older).
pub async fn upsert_gig(db: &impl ConnectionTrait, row: GigRow) -> Result<(), DbErr> {
    use gigs::Column as C;
    gigs::Entity::insert(gigs::ActiveModel::from(row))
        .on_conflict(
            OnConflict::column(C::Id)
                .update_columns([C::SellerId, C::Status, C::Body, C::UpdatedAt])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Marks a gig as no longer for sale, if it is known.
pub async fn archive_gig(
    db: &impl ConnectionTrait,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    gigs::Entity::update_many()
        .col_expr(gigs::Column::Status, Expr::value("ARCHIVED"))
        .col_expr(gigs::Column::UpdatedAt, Expr::value(now))
        .filter(gigs::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn find_gig(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<GigRow>, DbErr> {
    gigs::Entity::find_by_id(id).one(db).await
}

pub async fn find_order(
    db: &impl ConnectionTrait,
    contract: ContractId,
) -> Result<Option<OrderRow>, DbErr> {
    orders::Entity::find_by_id(contract.0).one(db).await
}

/// Records the buyer's answers and starts the delivery clock, once; false
/// if they were already in.
pub async fn set_requirements(
    db: &impl ConnectionTrait,
    contract: ContractId,
    answers: String,
    at: DateTime<Utc>,
    due_at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    use orders::Column as C;
    let result = orders::Entity::update_many()
        .col_expr(C::Answers, Expr::value(answers))
        .col_expr(C::RequirementsAt, Expr::value(Some(at)))
        .col_expr(C::DueAt, Expr::value(Some(due_at)))
        .filter(C::ContractId.eq(contract.0))
        .filter(C::RequirementsAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}
