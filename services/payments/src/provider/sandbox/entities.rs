//! sea-orm entities of the sandbox's own tables.

pub mod sandbox_objects {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "sandbox_objects")]
    pub struct Model {
        /// `pi_sbx_…`, `acct_sbx_…`, `tr_sbx_…`, `re_sbx_…`.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// `payment_intent`, `account`, `transfer`, `refund`.
        pub kind: String,
        pub idempotency_key: String,
        /// What a reuse of the key must match.
        pub fingerprint: String,
        pub amount_minor: i64,
        pub currency: String,
        pub status: String,
        /// An intent's client secret.
        pub secret: String,
        /// An intent's charge, a transfer's destination, a refund's charge.
        pub reference: Option<String>,
        pub failure: Option<String>,
        pub created_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod sandbox_events {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "sandbox_events")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// The event as `provider::ProviderEvent` JSON.
        pub body: String,
        pub created_at: ChronoDateTimeUtc,
        pub delivered_at: Option<ChronoDateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
