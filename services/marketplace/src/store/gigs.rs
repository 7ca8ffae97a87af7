//! Queries on `gigs`.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect,
};

use super::entities::gigs;
use super::{from_json, records, to_json};
use crate::domain::gig::{GigContent, GigStatus};
use crate::domain::ids::{CategoryId, GigId};
use frevix_platform::ids::AccountId;

pub use gigs::Model as GigRow;

pub async fn insert_gig(
    db: &impl ConnectionTrait,
    id: GigId,
    seller: AccountId,
    content: &GigContent,
    now: DateTime<Utc>,
) -> Result<GigRow, DbErr> {
    gigs::ActiveModel {
        id: Set(id.0),
        seller_id: Set(seller.0),
        title: Set(content.title.clone()),
        description: Set(content.description.clone()),
        category_id: Set(content.category_id.0),
        tags: Set(to_json(&content.tags)),
        packages: Set(records::packages_json(&content.packages)),
        extras: Set(records::extras_json(&content.extras)),
        requirements: Set(to_json(&content.requirements)),
        gallery: Set(to_json(&content.gallery)),
        status: Set(GigStatus::Draft.as_str().to_owned()),
        currency: Set(currency_code(content)),
        min_price_minor: Set(min_price_minor(content)),
        min_delivery_days: Set(content.min_delivery_days()),
        rating_sum: Set(0),
        review_count: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
        published_at: Set(None),
    }
    .insert(db)
    .await
}

pub async fn find_gig(db: &impl ConnectionTrait, id: GigId) -> Result<Option<GigRow>, DbErr> {
    gigs::Entity::find_by_id(id.0).one(db).await
}

/// The search columns: the packages' currency and the cheapest price.
fn currency_code(content: &GigContent) -> String {
    content
        .currency()
        .map(|currency| currency.code().to_owned())
        .unwrap_or_default()
}

fn min_price_minor(content: &GigContent) -> i64 {
    content.min_price().map_or(0, |price| price.minor_units)
}

pub fn content_of(row: &GigRow) -> GigContent {
    GigContent {
        title: row.title.clone(),
        description: row.description.clone(),
        category_id: CategoryId(row.category_id),
        tags: from_json(&row.tags),
        packages: records::packages_from(&row.packages),
        extras: records::extras_from(&row.extras),
        requirements: from_json(&row.requirements),
        gallery: from_json(&row.gallery),
    }
}

pub fn status_of(row: &GigRow) -> GigStatus {
    GigStatus::parse(&row.status).unwrap_or(GigStatus::Archived)
}

pub async fn update_content(
    db: &impl ConnectionTrait,
    id: GigId,
    content: &GigContent,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    use gigs::Column as C;
    gigs::Entity::update_many()
        .col_expr(C::Title, Expr::value(content.title.clone()))
        .col_expr(C::Description, Expr::value(content.description.clone()))
        .col_expr(C::CategoryId, Expr::value(content.category_id))
        .col_expr(C::Tags, Expr::value(to_json(&content.tags)))
        .col_expr(
            C::Packages,
            Expr::value(records::packages_json(&content.packages)),
        )
        .col_expr(
            C::Extras,
            Expr::value(records::extras_json(&content.extras)),
        )
        .col_expr(C::Requirements, Expr::value(to_json(&content.requirements)))
        .col_expr(C::Gallery, Expr::value(to_json(&content.gallery)))
        .col_expr(C::Currency, Expr::value(currency_code(content)))
        .col_expr(C::MinPriceMinor, Expr::value(min_price_minor(content)))
        .col_expr(C::MinDeliveryDays, Expr::value(content.min_delivery_days()))
        .col_expr(C::UpdatedAt, Expr::value(now))
        .filter(C::Id.eq(id.0))
        .exec(db)
        .await?;
    Ok(())
}

/// Moves a gig from `from` to `to`; false if its status changed meanwhile.
pub async fn update_status(
    db: &impl ConnectionTrait,
    id: GigId,
    from: GigStatus,
    to: GigStatus,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    use gigs::Column as C;
    let mut update = gigs::Entity::update_many()
        .col_expr(C::Status, Expr::value(to.as_str()))
        .col_expr(C::UpdatedAt, Expr::value(now));
    if to == GigStatus::Published {
        update = update.col_expr(C::PublishedAt, Expr::value(Some(now)));
    }
    let result = update
        .filter(C::Id.eq(id.0))
        .filter(C::Status.eq(from.as_str()))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// A seller's gigs, newest first, after `after`.
pub async fn list_seller_gigs(
    db: &impl ConnectionTrait,
    seller: AccountId,
    status: Option<GigStatus>,
    after: Option<GigId>,
    limit: u64,
) -> Result<Vec<GigRow>, DbErr> {
    let mut query = gigs::Entity::find().filter(gigs::Column::SellerId.eq(seller.0));
    if let Some(status) = status {
        query = query.filter(gigs::Column::Status.eq(status.as_str()));
    }
    if let Some(after) = after {
        query = query.filter(gigs::Column::Id.lt(after.0));
    }
    query
        .order_by_desc(gigs::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// Adds a review to a gig's rating.
pub async fn add_gig_review(
    db: &impl ConnectionTrait,
    id: GigId,
    rating: i32,
) -> Result<(), DbErr> {
    use gigs::Column as C;
    gigs::Entity::update_many()
        .col_expr(C::RatingSum, Expr::col(C::RatingSum).add(i64::from(rating)))
        .col_expr(C::ReviewCount, Expr::col(C::ReviewCount).add(1))
        .filter(C::Id.eq(id.0))
        .exec(db)
        .await?;
    Ok(())
}
