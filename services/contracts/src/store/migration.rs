//! Contracts' schema, forward-only, for PostgreSQL and SQLite.

use sea_orm_migration::prelude::*;

use frevix_platform::db::schema::{col, index};

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(frevix_platform::db::idempotency::Migration),
            Box::new(frevix_platform::events::schema::OutboxTable),
            Box::new(frevix_platform::events::schema::ConsumerTables),
            Box::new(frevix_platform::events::schema::OutboxPendingIndex),
            Box::new(frevix_platform::auth::deny_feed::AccessDenialsTable),
            Box::new(frevix_platform::timers::schema::TimersTable),
            Box::new(InitialSchema),
            Box::new(Deliveries),
            Box::new(GigOrders),
            Box::new(OrderRequirements),
            Box::new(Endings),
            Box::new(Deadlines),
            Box::new(Reviews),
            Box::new(Hourly),
        ]
    }
}

struct InitialSchema;

impl MigrationName for InitialSchema {
    fn name(&self) -> &str {
        "m20261130_000040_contracts_schema"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for InitialSchema {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("contracts"))
                    .col(col("id").uuid().not_null().primary_key())
                    .col(col("kind").string_len(16).not_null())
                    .col(col("status").string_len(24).not_null())
                    .col(col("client_id").uuid().not_null())
                    .col(col("freelancer_id").uuid().not_null())
                    .col(col("title").string_len(200).not_null())
                    .col(col("currency").string_len(3).not_null())
                    .col(col("total_minor").big_integer().not_null())
                    .col(col("proposal_id").uuid().null())
                    .col(col("job_id").uuid().null())
                    .col(col("gig_id").uuid().null())
                    .col(col("hourly_rate_minor").big_integer().null())
                    .col(col("weekly_limit_minutes").integer().null())
                    .col(col("paused").boolean().not_null())
                    .col(col("created_at").timestamp_with_time_zone().not_null())
                    .col(col("updated_at").timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        // Each side's list, most recent activity first.
        for (name, party) in [
            ("contracts_client", "client_id"),
            ("contracts_freelancer", "freelancer_id"),
        ] {
            manager
                .create_index(index(name, "contracts", &[party, "updated_at", "id"]))
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("milestones"))
                    .col(col("id").uuid().not_null().primary_key())
                    .col(col("contract_id").uuid().not_null())
                    .col(col("position").integer().not_null())
                    .col(col("title").string_len(200).not_null())
                    .col(col("amount_minor").big_integer().not_null())
                    .col(col("status").string_len(24).not_null())
                    .col(col("funded_minor").big_integer().not_null())
                    .col(col("released_minor").big_integer().not_null())
                    .col(col("refunded_minor").big_integer().not_null())
                    .col(col("revisions_used").integer().not_null())
                    .col(col("due_at").timestamp_with_time_zone().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "milestones_contract",
                "milestones",
                &["contract_id", "position"],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("timeline"))
                    .col(col("id").uuid().not_null().primary_key())
                    .col(col("contract_id").uuid().not_null())
                    .col(col("at").timestamp_with_time_zone().not_null())
                    .col(col("actor_id").uuid().null())
                    .col(col("action").string_len(40).not_null())
                    .col(col("milestone_id").uuid().null())
                    .col(col("details").text().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "timeline_contract",
                "timeline",
                &["contract_id", "id"],
            ))
            .await
    }
}

struct Deliveries;

impl MigrationName for Deliveries {
    fn name(&self) -> &str {
        "m20261130_000041_contracts_deliveries"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Deliveries {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("deliveries"))
                    .col(col("id").uuid().not_null().primary_key())
                    .col(col("contract_id").uuid().not_null())
                    .col(col("milestone_id").uuid().not_null())
                    .col(col("message").text().not_null())
                    .col(col("attachments").text().not_null())
                    .col(col("submitted_at").timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "deliveries_contract",
                "deliveries",
                &["contract_id", "id"],
            ))
            .await
    }
}

struct GigOrders;

impl MigrationName for GigOrders {
    fn name(&self) -> &str {
        "m20261130_000042_contracts_gig_orders"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for GigOrders {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("gigs"))
                    .col(col("id").uuid().not_null().primary_key())
                    .col(col("seller_id").uuid().not_null())
                    .col(col("status").string_len(16).not_null())
                    .col(col("body").binary().not_null())
                    .col(col("updated_at").timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("orders"))
                    .col(col("contract_id").uuid().not_null().primary_key())
                    .col(col("gig_id").uuid().not_null())
                    .col(col("package_tier").integer().not_null())
                    .col(col("package_name").string_len(40).not_null())
                    .col(col("quantity").integer().not_null())
                    .col(col("extras").text().not_null())
                    .col(col("delivery_days").integer().not_null())
                    .col(col("revisions_included").integer().not_null())
                    .to_owned(),
            )
            .await
    }
}

struct OrderRequirements;

impl MigrationName for OrderRequirements {
    fn name(&self) -> &str {
        "m20261130_000043_contracts_order_requirements"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for OrderRequirements {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column a statement: SQLite alters a table one change at a time.
        let columns = [
            col("questions").text().not_null().default("[]").to_owned(),
            col("answers").text().not_null().default("[]").to_owned(),
            col("requirements_at")
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
            col("due_at").timestamp_with_time_zone().null().to_owned(),
        ];
        for column in columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new("orders"))
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

struct Endings;

impl MigrationName for Endings {
    fn name(&self) -> &str {
        "m20261130_000044_contracts_cancellations_disputes"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Endings {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("cancellations"))
                    .col(col("id").uuid().not_null().primary_key())
                    .col(col("contract_id").uuid().not_null())
                    .col(col("requested_by").uuid().not_null())
                    .col(col("reason").text().not_null())
                    .col(col("refund_minor").big_integer().not_null())
                    .col(col("status").string_len(16).not_null())
                    .col(col("requested_at").timestamp_with_time_zone().not_null())
                    .col(col("answered_at").timestamp_with_time_zone().null())
                    .col(col("answered_by").uuid().null())
                    .col(col("answer_reason").text().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "cancellations_contract",
                "cancellations",
                &["contract_id", "id"],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("disputes"))
                    .col(col("id").uuid().not_null().primary_key())
                    .col(col("contract_id").uuid().not_null())
                    .col(col("client_id").uuid().not_null())
                    .col(col("freelancer_id").uuid().not_null())
                    .col(col("opened_by").uuid().not_null())
                    .col(col("reason").text().not_null())
                    .col(col("attachments").text().not_null())
                    .col(col("currency").string_len(3).not_null())
                    .col(col("amount_minor").big_integer().not_null())
                    .col(col("status").string_len(16).not_null())
                    .col(col("opened_at").timestamp_with_time_zone().not_null())
                    .col(col("escalated_at").timestamp_with_time_zone().null())
                    .col(col("resolved_at").timestamp_with_time_zone().null())
                    .col(col("resolved_by").uuid().null())
                    .col(col("client_share_bps").integer().null())
                    .col(col("decision").text().not_null())
                    .to_owned(),
            )
            .await?;
        // The ADMINs' queue, oldest first; a contract's disputes.
        manager
            .create_index(index(
                "disputes_queue",
                "disputes",
                &["status", "opened_at", "id"],
            ))
            .await?;
        manager
            .create_index(index(
                "disputes_contract",
                "disputes",
                &["contract_id", "id"],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("dispute_statements"))
                    .col(col("id").uuid().not_null().primary_key())
                    .col(col("dispute_id").uuid().not_null())
                    .col(col("author_id").uuid().not_null())
                    .col(col("text").text().not_null())
                    .col(col("attachments").text().not_null())
                    .col(col("at").timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "dispute_statements_dispute",
                "dispute_statements",
                &["dispute_id", "id"],
            ))
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("milestones"))
                    .add_column(col("settled_refund_minor").big_integer().null())
                    .to_owned(),
            )
            .await
    }
}

struct Deadlines;

impl MigrationName for Deadlines {
    fn name(&self) -> &str {
        "m20261130_000045_contracts_deadlines_and_stages"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Deadlines {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let order_columns = [
            col("late_at").timestamp_with_time_zone().null().to_owned(),
            col("extension_days").integer().null().to_owned(),
            col("extension_reason")
                .text()
                .not_null()
                .default("")
                .to_owned(),
            col("extension_requested_at")
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
        ];
        for column in order_columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new("orders"))
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("contracts"))
                    .add_column(
                        col("stage")
                            .string_len(24)
                            .not_null()
                            .default("PENDING_FUNDING"),
                    )
                    .to_owned(),
            )
            .await?;
        // Contracts made before stages start from their status (a waiting
        // delivery shows once its contract next moves).
        manager
            .get_connection()
            .execute_unprepared("UPDATE contracts SET stage = status")
            .await?;
        // Each side's tab, most recent activity first.
        for (name, party) in [
            ("contracts_client_stage", "client_id"),
            ("contracts_freelancer_stage", "freelancer_id"),
        ] {
            manager
                .create_index(index(
                    name,
                    "contracts",
                    &[party, "stage", "updated_at", "id"],
                ))
                .await?;
        }
        Ok(())
    }
}

struct Reviews;

impl MigrationName for Reviews {
    fn name(&self) -> &str {
        "m20261130_000046_contracts_reviews"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Reviews {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("reviews"))
                    .col(col("id").uuid().not_null().primary_key())
                    .col(col("contract_id").uuid().not_null())
                    .col(col("reviewer_id").uuid().not_null())
                    .col(col("reviewee_id").uuid().not_null())
                    .col(col("reviewer_role").string_len(16).not_null())
                    .col(col("rating").integer().not_null())
                    .col(col("sub_ratings").text().not_null())
                    .col(col("comment").text().not_null())
                    .col(col("gig_id").uuid().null())
                    .col(col("submitted_at").timestamp_with_time_zone().not_null())
                    .col(col("published_at").timestamp_with_time_zone().null())
                    .col(col("reply").text().not_null())
                    .col(col("reply_at").timestamp_with_time_zone().null())
                    .to_owned(),
            )
            .await?;
        // Once per side of a contract, whatever races.
        manager
            .create_index(
                index("reviews_once", "reviews", &["contract_id", "reviewer_role"])
                    .unique()
                    .to_owned(),
            )
            .await?;
        // A user's and a gig's published reviews, newest first.
        manager
            .create_index(index(
                "reviews_reviewee",
                "reviews",
                &["reviewee_id", "published_at", "id"],
            ))
            .await?;
        manager
            .create_index(index(
                "reviews_gig",
                "reviews",
                &["gig_id", "published_at", "id"],
            ))
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("contracts"))
                    .add_column(col("reviews_close_at").timestamp_with_time_zone().null())
                    .to_owned(),
            )
            .await
    }
}

struct Hourly;

impl MigrationName for Hourly {
    fn name(&self) -> &str {
        "m20261130_000047_contracts_hourly"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Hourly {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("time_entries"))
                    .col(col("id").uuid().not_null().primary_key())
                    .col(col("contract_id").uuid().not_null())
                    .col(col("work_date").date().not_null())
                    .col(col("week_start").date().not_null())
                    .col(col("minutes").integer().not_null())
                    .col(col("memo").text().not_null())
                    .col(col("invoice_id").uuid().null())
                    .col(col("created_at").timestamp_with_time_zone().not_null())
                    .col(col("updated_at").timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "time_entries_week",
                "time_entries",
                &["contract_id", "week_start", "work_date"],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("invoices"))
                    .col(col("id").uuid().not_null().primary_key())
                    .col(col("contract_id").uuid().not_null())
                    .col(col("week_start").date().not_null())
                    .col(col("minutes").integer().not_null())
                    .col(col("rate_minor").big_integer().not_null())
                    .col(col("amount_minor").big_integer().not_null())
                    .col(col("status").string_len(16).not_null())
                    .col(col("review_until").timestamp_with_time_zone().null())
                    .col(col("dispute_reason").text().not_null())
                    .col(col("created_at").timestamp_with_time_zone().not_null())
                    .col(col("approved_at").timestamp_with_time_zone().null())
                    .to_owned(),
            )
            .await?;
        // One invoice a week, however often the week is closed.
        manager
            .create_index(
                index("invoices_week", "invoices", &["contract_id", "week_start"])
                    .unique()
                    .to_owned(),
            )
            .await
    }
}
