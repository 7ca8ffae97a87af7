use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "freelancer_profiles")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub account_id: Uuid,
    pub display_name: String,
    pub headline: String,
    pub bio: String,
    pub skills: String,
    pub hourly_rate_currency: Option<String>,
    pub hourly_rate_minor: Option<i64>,
    pub experience_level: i32,
    pub languages: String,
    pub country: String,
    pub availability: i32,
    pub back_on: Option<ChronoDateTimeUtc>,
    pub portfolio: String,
    pub avatar_media_id: Option<Uuid>,
    pub rating_sum: i64,
    pub review_count: i32,
    pub completed_contracts: i32,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
