//! What payments keeps of contracts (see `terms`): contracts, their
//! milestones, and approved hourly invoices.

use sea_orm_migration::prelude::*;

use frevix_platform::db::schema::{col, index};

pub struct Terms;

impl MigrationName for Terms {
    fn name(&self) -> &str {
        "m20261130_000061_contract_terms"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Terms {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("contracts"))
                    .col(col("id").uuid().not_null().primary_key())
                    .col(col("client_id").uuid().not_null())
                    .col(col("freelancer_id").uuid().not_null())
                    .col(col("currency").string_len(3).not_null())
                    .col(col("hourly_rate_minor").big_integer().null())
                    .col(col("weekly_limit_minutes").integer().null())
                    .col(col("created_at").timestamp_with_time_zone().not_null())
                    .col(col("ended_at").timestamp_with_time_zone().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("milestones"))
                    .col(col("id").uuid().not_null().primary_key())
                    .col(col("contract_id").uuid().not_null())
                    .col(col("position").integer().not_null())
                    .col(col("title").string_len(200).not_null())
                    .col(col("amount_minor").big_integer().not_null())
                    .check(("milestone_amount_positive", Expr::cust("amount_minor > 0")))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "milestones_by_contract",
                "milestones",
                &["contract_id"],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("invoices"))
                    .col(col("id").uuid().not_null().primary_key())
                    .col(col("contract_id").uuid().not_null())
                    .col(col("week_start").string_len(10).not_null())
                    .col(col("minutes").integer().not_null())
                    .col(col("amount_minor").big_integer().not_null())
                    .col(col("approved_at").timestamp_with_time_zone().not_null())
                    .check(("invoice_amount_positive", Expr::cust("amount_minor > 0")))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("invoices_by_contract", "invoices", &["contract_id"]))
            .await
    }
}
