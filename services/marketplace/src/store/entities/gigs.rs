use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "gigs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub seller_id: Uuid,
    pub title: String,
    pub description: String,
    pub category_id: Uuid,
    pub tags: String,
    pub packages: String,
    pub extras: String,
    pub requirements: String,
    pub gallery: String,
    pub status: String,
    pub currency: String,
    pub min_price_minor: i64,
    pub min_delivery_days: i32,
    pub rating_sum: i64,
    pub review_count: i32,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
    pub published_at: Option<ChronoDateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
