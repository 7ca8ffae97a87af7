//! Card disputes (chargebacks): one per provider dispute, on the charge
//! that funded a milestone or an hourly week.

use sea_orm_migration::prelude::*;

use frevix_platform::db::schema::{col, index};

pub struct Chargebacks;

impl MigrationName for Chargebacks {
    fn name(&self) -> &str {
        "m20261130_000065_chargebacks"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Chargebacks {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("chargebacks"))
                    .col(col("id").string_len(255).not_null().primary_key())
                    .col(col("charge_id").string_len(255).not_null())
                    // The milestone (or hourly invoice) the charge funded.
                    .col(col("milestone_id").uuid().not_null())
                    .col(col("contract_id").uuid().not_null())
                    .col(col("amount_minor").big_integer().not_null())
                    .col(col("currency").string_len(3).not_null())
                    .col(col("reason").string_len(100).not_null())
                    // open, won, lost
                    .col(col("status").string_len(8).not_null())
                    // What it took out of escrow (not released before it).
                    .col(col("held_minor").big_integer().not_null())
                    // Approved while the dispute held the escrow.
                    .col(col("release_waiting").boolean().not_null())
                    .col(col("opened_at").timestamp_with_time_zone().not_null())
                    .col(col("closed_at").timestamp_with_time_zone().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "chargebacks_by_milestone",
                "chargebacks",
                &["milestone_id"],
            ))
            .await
    }
}
