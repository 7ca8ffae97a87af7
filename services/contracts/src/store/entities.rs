//! sea-orm entities of contracts' tables.

pub mod contracts {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "contracts")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        /// GIG_ORDER, FIXED_PRICE or HOURLY.
        pub kind: String,
        /// The contract's status (see `domain::ContractStatus`).
        pub status: String,
        pub client_id: Uuid,
        pub freelancer_id: Uuid,
        pub title: String,
        pub currency: String,
        /// The milestones' sum (0 for hourly contracts).
        pub total_minor: i64,
        pub proposal_id: Option<Uuid>,
        pub job_id: Option<Uuid>,
        pub gig_id: Option<Uuid>,
        /// Hourly contracts: the rate and the weekly limit.
        pub hourly_rate_minor: Option<i64>,
        pub weekly_limit_minutes: Option<i32>,
        pub paused: bool,
        pub created_at: ChronoDateTimeUtc,
        /// Which tab it shows under (see `domain::Stage`).
        pub stage: String,
        /// Until when the parties may review each other (set once the
        /// contract ended with money paid out).
        pub reviews_close_at: Option<ChronoDateTimeUtc>,
        /// The last step taken (lists sort on it).
        pub updated_at: ChronoDateTimeUtc,
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
        /// From 1, in the order agreed.
        pub position: i32,
        pub title: String,
        pub amount_minor: i64,
        pub status: String,
        pub funded_minor: i64,
        pub released_minor: i64,
        pub refunded_minor: i64,
        pub revisions_used: i32,
        pub due_at: Option<ChronoDateTimeUtc>,
        /// Once a cancellation or a dispute divided its escrow: what goes
        /// back to the client.
        pub settled_refund_minor: Option<i64>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod timeline {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "timeline")]
    pub struct Model {
        /// UUIDv7: the order entries were written in.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub contract_id: Uuid,
        pub at: ChronoDateTimeUtc,
        /// None when Frevix acted (an event, a timer).
        pub actor_id: Option<Uuid>,
        pub action: String,
        pub milestone_id: Option<Uuid>,
        pub details: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod deliveries {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "deliveries")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub contract_id: Uuid,
        pub milestone_id: Uuid,
        pub message: String,
        /// Media ids separated by spaces.
        pub attachments: String,
        pub submitted_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod gigs {
    use sea_orm::entity::prelude::*;

    /// Contracts' copy of a gig as marketplace last published it.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "gigs")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub seller_id: Uuid,
        /// PUBLISHED, PAUSED or ARCHIVED.
        pub status: String,
        /// The whole `frevix.marketplace.v1.Gig`, encoded.
        pub body: Vec<u8>,
        pub updated_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod orders {
    use sea_orm::entity::prelude::*;

    /// What a gig order bought.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "orders")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub contract_id: Uuid,
        pub gig_id: Uuid,
        pub package_tier: i32,
        pub package_name: String,
        pub quantity: i32,
        /// Extra ids separated by spaces.
        pub extras: String,
        pub delivery_days: i32,
        pub revisions_included: i32,
        /// The gig's requirement questions when ordered (JSON).
        pub questions: String,
        /// The buyer's answers (JSON).
        pub answers: String,
        /// When the answers came in: the delivery clock's start.
        pub requirements_at: Option<ChronoDateTimeUtc>,
        pub due_at: Option<ChronoDateTimeUtc>,
        /// When the due time passed before the delivery was approved
        /// (cleared by an extension).
        pub late_at: Option<ChronoDateTimeUtc>,
        /// A deadline extension the seller asked for, waiting for the
        /// buyer: how many days more, why, since when.
        pub extension_days: Option<i32>,
        pub extension_reason: String,
        pub extension_requested_at: Option<ChronoDateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod cancellations {
    use sea_orm::entity::prelude::*;

    /// A request to end a contract, and its answer.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "cancellations")]
    pub struct Model {
        /// UUIDv7: the latest request of a contract sorts last.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub contract_id: Uuid,
        pub requested_by: Uuid,
        pub reason: String,
        /// What goes back to the client.
        pub refund_minor: i64,
        /// See `domain::CancellationStatus`.
        pub status: String,
        pub requested_at: ChronoDateTimeUtc,
        pub answered_at: Option<ChronoDateTimeUtc>,
        /// None when the window passed.
        pub answered_by: Option<Uuid>,
        pub answer_reason: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod disputes {
    use sea_orm::entity::prelude::*;

    /// A disagreement an ADMIN decides.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "disputes")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub contract_id: Uuid,
        pub client_id: Uuid,
        pub freelancer_id: Uuid,
        pub opened_by: Uuid,
        pub reason: String,
        /// Media ids separated by spaces.
        pub attachments: String,
        pub currency: String,
        /// The escrow in dispute when it was opened.
        pub amount_minor: i64,
        /// OPEN or RESOLVED.
        pub status: String,
        pub opened_at: ChronoDateTimeUtc,
        pub escalated_at: Option<ChronoDateTimeUtc>,
        pub resolved_at: Option<ChronoDateTimeUtc>,
        pub resolved_by: Option<Uuid>,
        pub client_share_bps: Option<i32>,
        pub decision: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod dispute_statements {
    use sea_orm::entity::prelude::*;

    /// What a party said in a dispute.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "dispute_statements")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub dispute_id: Uuid,
        pub author_id: Uuid,
        pub text: String,
        /// Media ids separated by spaces.
        pub attachments: String,
        pub at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod reviews {
    use sea_orm::entity::prelude::*;

    /// One party's review of the other.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "reviews")]
    pub struct Model {
        /// UUIDv7: newer reviews sort later.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub contract_id: Uuid,
        pub reviewer_id: Uuid,
        pub reviewee_id: Uuid,
        /// CLIENT or FREELANCER: the reviewer's side.
        pub reviewer_role: String,
        pub rating: i32,
        /// JSON: `[["Quality", 5], …]`.
        pub sub_ratings: String,
        pub comment: String,
        pub gig_id: Option<Uuid>,
        pub submitted_at: ChronoDateTimeUtc,
        /// None while only its author sees it.
        pub published_at: Option<ChronoDateTimeUtc>,
        pub reply: String,
        pub reply_at: Option<ChronoDateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod time_entries {
    use sea_orm::entity::prelude::*;

    /// Time the freelancer of an hourly contract worked.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "time_entries")]
    pub struct Model {
        /// UUIDv7: newer entries sort later.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub contract_id: Uuid,
        pub work_date: ChronoDate,
        /// The Monday of its week.
        pub week_start: ChronoDate,
        pub minutes: i32,
        pub memo: String,
        /// Set once its week closed into an invoice.
        pub invoice_id: Option<Uuid>,
        pub created_at: ChronoDateTimeUtc,
        pub updated_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod invoices {
    use sea_orm::entity::prelude::*;

    /// A closed week of an hourly contract.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "invoices")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub contract_id: Uuid,
        pub week_start: ChronoDate,
        pub minutes: i32,
        /// The contract's rate when the week closed.
        pub rate_minor: i64,
        pub amount_minor: i64,
        /// See `domain::hourly::InvoiceStatus`.
        pub status: String,
        /// While pending review: when it is approved unless disputed.
        pub review_until: Option<ChronoDateTimeUtc>,
        pub dispute_reason: String,
        pub created_at: ChronoDateTimeUtc,
        pub approved_at: Option<ChronoDateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod milestone_proposals {
    use sea_orm::entity::prelude::*;

    /// A milestone the client proposed, waiting for the freelancer.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "milestone_proposals")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub contract_id: Uuid,
        pub title: String,
        pub amount_minor: i64,
        pub due_in_days: i32,
        pub proposed_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
