use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "two_factor")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub account_id: Uuid,
    /// The TOTP secret, sealed with the master key.
    pub secret_sealed: String,
    /// None while enrolment waits for its first code.
    pub confirmed_at: Option<ChronoDateTimeUtc>,
    /// The last 30-second step a code was accepted for (no code twice).
    pub last_used_step: i64,
    pub created_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
