//! Queries on `reviews`, and the review window kept with the contract.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, FromQueryResult,
    QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::ReviewRow;
use super::entities::{contracts, reviews};
use crate::domain::ContractId;

/// Opens the contract's review window until `close_at`, once; false if it
/// was open already.
pub async fn open_reviews(
    db: &impl ConnectionTrait,
    contract: ContractId,
    close_at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let result = contracts::Entity::update_many()
        .col_expr(
            contracts::Column::ReviewsCloseAt,
            Expr::value(Some(close_at)),
        )
        .filter(contracts::Column::Id.eq(contract.0))
        .filter(contracts::Column::ReviewsCloseAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

pub async fn insert_review(db: &impl ConnectionTrait, row: ReviewRow) -> Result<(), DbErr> {
    reviews::ActiveModel::from(row).insert(db).await?;
    Ok(())
}

pub async fn find_review(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<ReviewRow>, DbErr> {
    reviews::Entity::find_by_id(id).one(db).await
}

/// The contract's reviews (at most one per side), oldest first.
pub async fn reviews_of(
    db: &impl ConnectionTrait,
    contract: ContractId,
) -> Result<Vec<ReviewRow>, DbErr> {
    reviews::Entity::find()
        .filter(reviews::Column::ContractId.eq(contract.0))
        .order_by_asc(reviews::Column::Id)
        .all(db)
        .await
}

/// Publishes the contract's reviews not yet visible; answers them.
pub async fn publish_reviews(
    db: &impl ConnectionTrait,
    contract: ContractId,
    at: DateTime<Utc>,
) -> Result<Vec<ReviewRow>, DbErr> {
    let waiting: Vec<ReviewRow> = reviews_of(db, contract)
        .await?
        .into_iter()
        .filter(|review| review.published_at.is_none())
        .collect();
    if waiting.is_empty() {
        return Ok(waiting);
    }
    reviews::Entity::update_many()
        .col_expr(reviews::Column::PublishedAt, Expr::value(Some(at)))
        .filter(reviews::Column::ContractId.eq(contract.0))
        .filter(reviews::Column::PublishedAt.is_null())
        .exec(db)
        .await?;
    Ok(waiting
        .into_iter()
        .map(|review| ReviewRow {
            published_at: Some(at),
            ..review
        })
        .collect())
}

/// Records the reviewee's reply, once; false if there was one.
pub async fn reply(
    db: &impl ConnectionTrait,
    review: Uuid,
    text: &str,
    at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let result = reviews::Entity::update_many()
        .col_expr(reviews::Column::Reply, Expr::value(text))
        .col_expr(reviews::Column::ReplyAt, Expr::value(Some(at)))
        .filter(reviews::Column::Id.eq(review))
        .filter(reviews::Column::ReplyAt.is_null())
        .filter(reviews::Column::PublishedAt.is_not_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Whose published reviews a list shows.
pub struct ReviewFilter {
    /// Reviews of this user, or of this gig.
    pub reviewee: Option<Uuid>,
    pub gig: Option<Uuid>,
    /// CLIENT or FREELANCER: written by that side; `None`: both.
    pub reviewer_role: Option<&'static str>,
}

impl ReviewFilter {
    fn condition(&self) -> Condition {
        use reviews::Column as C;
        let mut condition = Condition::all().add(C::PublishedAt.is_not_null());
        if let Some(reviewee) = self.reviewee {
            condition = condition.add(C::RevieweeId.eq(reviewee));
        }
        if let Some(gig) = self.gig {
            condition = condition.add(C::GigId.eq(gig));
        }
        if let Some(role) = self.reviewer_role {
            condition = condition.add(C::ReviewerRole.eq(role));
        }
        condition
    }
}

/// Published reviews, newest first, after `after`.
pub async fn list_reviews(
    db: &impl ConnectionTrait,
    filter: &ReviewFilter,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: u64,
) -> Result<Vec<ReviewRow>, DbErr> {
    use reviews::Column as C;
    let mut query = reviews::Entity::find().filter(filter.condition());
    if let Some((at, id)) = after {
        query = query.filter(
            Condition::any().add(C::PublishedAt.lt(at)).add(
                Condition::all()
                    .add(C::PublishedAt.eq(at))
                    .add(C::Id.lt(id)),
            ),
        );
    }
    query
        .order_by_desc(C::PublishedAt)
        .order_by_desc(C::Id)
        .limit(limit)
        .all(db)
        .await
}

#[derive(FromQueryResult)]
struct StarCount {
    rating: i32,
    count: i64,
}

/// How many published reviews gave each rating.
pub async fn star_counts(
    db: &impl ConnectionTrait,
    filter: &ReviewFilter,
) -> Result<Vec<(i32, i64)>, DbErr> {
    use reviews::Column as C;
    let rows = reviews::Entity::find()
        .select_only()
        .column(C::Rating)
        .column_as(C::Id.count(), "count")
        .filter(filter.condition())
        .group_by(C::Rating)
        .into_model::<StarCount>()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| (row.rating, row.count))
        .collect())
}
