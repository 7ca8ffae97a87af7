//! Contracts' schema, forward-only, for PostgreSQL and SQLite.

use sea_orm_migration::prelude::*;

use frevix_platform::db::schema::{col, index};

use super::lifecycle_schema as lifecycle;

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
            Box::new(lifecycle::Endings),
            Box::new(lifecycle::Deadlines),
            Box::new(lifecycle::Reviews),
            Box::new(lifecycle::Hourly),
            Box::new(lifecycle::MilestoneProposals),
            Box::new(frevix_platform::events::schema::OutboxStreamSeqIndex),
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
