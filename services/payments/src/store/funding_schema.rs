//! Funding's tables: a milestone's payment (one per milestone, tied to
//! one provider payment intent), and the inbox of the provider's events
//! (each applied once, whatever way it arrived).

use sea_orm_migration::prelude::*;

use frevix_platform::db::schema::{col, index};

pub struct Funding;

impl MigrationName for Funding {
    fn name(&self) -> &str {
        "m20261130_000062_funding"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Funding {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("fundings"))
                    .col(col("id").uuid().not_null().primary_key())
                    .col(col("milestone_id").uuid().not_null().unique_key())
                    .col(col("contract_id").uuid().not_null())
                    .col(col("client_id").uuid().not_null())
                    .col(col("amount_minor").big_integer().not_null())
                    .col(col("currency").string_len(3).not_null())
                    .col(col("provider").string_len(16).not_null())
                    .col(col("intent_id").string_len(255).not_null().unique_key())
                    .col(col("client_secret").string_len(255).not_null())
                    .col(col("status").string_len(32).not_null())
                    .col(col("failure_reason").string_len(500).null())
                    .col(col("next_action_url").string_len(500).null())
                    .col(col("confirmations").integer().not_null())
                    .col(col("created_at").timestamp_with_time_zone().not_null())
                    .col(col("updated_at").timestamp_with_time_zone().not_null())
                    .check(("funding_amount_positive", Expr::cust("amount_minor > 0")))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("fundings_by_contract", "fundings", &["contract_id"]))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("provider_events"))
                    .col(col("id").string_len(255).not_null().primary_key())
                    .col(col("kind").string_len(64).not_null())
                    .col(col("body").text().not_null())
                    .col(col("received_at").timestamp_with_time_zone().not_null())
                    .col(col("processed_at").timestamp_with_time_zone().null())
                    .to_owned(),
            )
            .await
    }
}
