//! sea-orm entities of payments' tables: the ledger, and the contract
//! terms it charges by.

pub mod ledger_accounts {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "ledger_accounts")]
    pub struct Model {
        /// `kind:owner:currency` (see `ledger::Account`).
        #[sea_orm(primary_key, auto_increment = false)]
        pub key: String,
        pub kind: String,
        pub owner: Uuid,
        pub currency: String,
        /// The sum of the account's entries, kept by the database.
        pub balance_minor: i64,
        pub may_go_negative: bool,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod ledger_transactions {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "ledger_transactions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub kind: String,
        pub currency: String,
        pub contract_id: Option<Uuid>,
        pub milestone_id: Option<Uuid>,
        pub provider_ref: Option<String>,
        /// What a replay under the same id must match.
        pub fingerprint: String,
        pub created_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod ledger_entries {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "ledger_entries")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub transaction_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub seq: i32,
        pub account_key: String,
        pub currency: String,
        pub amount_minor: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod contracts {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "contracts")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub client_id: Uuid,
        pub freelancer_id: Uuid,
        pub currency: String,
        /// Hourly contracts: the rate and the weekly limit.
        pub hourly_rate_minor: Option<i64>,
        pub weekly_limit_minutes: Option<i32>,
        pub created_at: ChronoDateTimeUtc,
        /// When it was cancelled or its dispute resolved: no more funding.
        pub ended_at: Option<ChronoDateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod milestones {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "milestones")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub contract_id: Uuid,
        pub position: i32,
        pub title: String,
        /// What funding it charges, in the contract's currency.
        pub amount_minor: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod invoices {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "invoices")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub contract_id: Uuid,
        /// The Monday of the week, YYYY-MM-DD.
        pub week_start: String,
        pub minutes: i32,
        pub amount_minor: i64,
        pub approved_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod fundings {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "fundings")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub milestone_id: Uuid,
        pub contract_id: Uuid,
        pub client_id: Uuid,
        pub amount_minor: i64,
        pub currency: String,
        /// `sandbox` or `stripe`.
        pub provider: String,
        pub intent_id: String,
        pub client_secret: String,
        /// The intent's status as last heard (`provider::IntentStatus`).
        pub status: String,
        pub failure_reason: Option<String>,
        pub next_action_url: Option<String>,
        /// Confirmations asked for so far (names each attempt's key).
        pub confirmations: i32,
        pub created_at: ChronoDateTimeUtc,
        pub updated_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod provider_events {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "provider_events")]
    pub struct Model {
        /// The provider's event id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub kind: String,
        /// The event as `provider::ProviderEvent` JSON.
        pub body: String,
        pub received_at: ChronoDateTimeUtc,
        pub processed_at: Option<ChronoDateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod payout_accounts {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "payout_accounts")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub freelancer_id: Uuid,
        /// The provider's connected account.
        pub account_id: String,
        pub country: String,
        pub payouts_enabled: bool,
        pub created_at: ChronoDateTimeUtc,
        pub updated_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod payouts {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "payouts")]
    pub struct Model {
        /// The released milestone.
        #[sea_orm(primary_key, auto_increment = false)]
        pub milestone_id: Uuid,
        pub freelancer_id: Uuid,
        pub contract_id: Uuid,
        /// What the freelancer is owed for it (after the fee).
        pub amount_minor: i64,
        pub currency: String,
        /// The funding charge the transfer draws on.
        pub charge_id: String,
        /// Not before (the clearance period).
        pub due_at: ChronoDateTimeUtc,
        pub transfer_id: Option<String>,
        pub created_at: ChronoDateTimeUtc,
        pub paid_at: Option<ChronoDateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod refunds {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "refunds")]
    pub struct Model {
        /// The divided milestone.
        #[sea_orm(primary_key, auto_increment = false)]
        pub milestone_id: Uuid,
        pub contract_id: Uuid,
        pub amount_minor: i64,
        pub currency: String,
        /// The funding charge refunded.
        pub charge_id: String,
        pub refund_id: Option<String>,
        pub created_at: ChronoDateTimeUtc,
        pub refunded_at: Option<ChronoDateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod payment_methods {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "payment_methods")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub client_id: Uuid,
        /// The provider's customer the card is saved on.
        pub customer_id: String,
        pub payment_method: String,
        pub brand: String,
        pub last4: String,
        pub saved_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod chargebacks {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "chargebacks")]
    pub struct Model {
        /// The provider's dispute id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub charge_id: String,
        pub milestone_id: Uuid,
        pub contract_id: Uuid,
        pub amount_minor: i64,
        pub currency: String,
        pub reason: String,
        /// `open`, `won`, `lost`.
        pub status: String,
        pub held_minor: i64,
        pub release_waiting: bool,
        pub opened_at: ChronoDateTimeUtc,
        pub closed_at: Option<ChronoDateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
