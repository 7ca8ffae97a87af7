//! The tables of a contract's later life, added after its first schema:
//! cancellations and disputes, deadlines and stages, reviews, hourly weeks,
//! milestones added to a contract under way. Forward-only, like the rest.

use sea_orm_migration::prelude::*;

use frevix_platform::db::schema::{col, index};

pub struct Endings;

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

pub struct Deadlines;

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

pub struct Reviews;

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

pub struct Hourly;

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

pub struct MilestoneProposals;

impl MigrationName for MilestoneProposals {
    fn name(&self) -> &str {
        "m20261130_000048_contracts_milestone_proposals"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for MilestoneProposals {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("milestone_proposals"))
                    .col(col("id").uuid().not_null().primary_key())
                    .col(col("contract_id").uuid().not_null())
                    .col(col("title").string_len(200).not_null())
                    .col(col("amount_minor").big_integer().not_null())
                    .col(col("due_in_days").integer().not_null())
                    .col(col("proposed_at").timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "milestone_proposals_contract",
                "milestone_proposals",
                &["contract_id", "id"],
            ))
            .await
    }
}
