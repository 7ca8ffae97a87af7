use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "jobs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub client_id: Uuid,
    pub title: String,
    pub description: String,
    pub category_id: Uuid,
    pub skills: String,
    pub hourly: bool,
    pub currency: String,
    pub budget_min_minor: i64,
    pub budget_max_minor: i64,
    pub expected_duration: i32,
    pub experience_level: i32,
    pub visibility: i32,
    pub status: String,
    pub proposal_count: i32,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
