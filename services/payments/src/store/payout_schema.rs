//! Money out: freelancers' payout accounts at the provider, the payouts
//! their releases owe them (each sent once, after the clearance period and
//! once payouts are enabled), and the refunds a division owes a client's
//! card.

use sea_orm_migration::prelude::*;

use frevix_platform::db::schema::{col, index};

pub struct Payouts;

impl MigrationName for Payouts {
    fn name(&self) -> &str {
        "m20261130_000063_payouts"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Payouts {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("payout_accounts"))
                    .col(col("freelancer_id").uuid().not_null().primary_key())
                    .col(col("account_id").string_len(255).not_null().unique_key())
                    .col(col("country").string_len(2).not_null())
                    .col(col("payouts_enabled").boolean().not_null())
                    .col(col("created_at").timestamp_with_time_zone().not_null())
                    .col(col("updated_at").timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("payouts"))
                    // The released milestone: one payout each.
                    .col(col("milestone_id").uuid().not_null().primary_key())
                    .col(col("freelancer_id").uuid().not_null())
                    .col(col("contract_id").uuid().not_null())
                    .col(col("amount_minor").big_integer().not_null())
                    .col(col("currency").string_len(3).not_null())
                    .col(col("charge_id").string_len(255).not_null())
                    .col(col("due_at").timestamp_with_time_zone().not_null())
                    .col(col("transfer_id").string_len(255).null().unique_key())
                    .col(col("created_at").timestamp_with_time_zone().not_null())
                    .col(col("paid_at").timestamp_with_time_zone().null())
                    .check(("payout_amount_positive", Expr::cust("amount_minor > 0")))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "payouts_by_freelancer",
                "payouts",
                &["freelancer_id"],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("refunds"))
                    .col(col("milestone_id").uuid().not_null().primary_key())
                    .col(col("contract_id").uuid().not_null())
                    .col(col("amount_minor").big_integer().not_null())
                    .col(col("currency").string_len(3).not_null())
                    .col(col("charge_id").string_len(255).not_null())
                    .col(col("refund_id").string_len(255).null().unique_key())
                    .col(col("created_at").timestamp_with_time_zone().not_null())
                    .col(col("refunded_at").timestamp_with_time_zone().null())
                    .check(("refund_amount_positive", Expr::cust("amount_minor > 0")))
                    .to_owned(),
            )
            .await
    }
}
