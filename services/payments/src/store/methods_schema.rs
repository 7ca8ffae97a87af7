//! Clients' saved cards, charged off-session for approved hourly weeks.

use sea_orm_migration::prelude::*;

use frevix_platform::db::schema::col;

pub struct PaymentMethods;

impl MigrationName for PaymentMethods {
    fn name(&self) -> &str {
        "m20261130_000064_payment_methods"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for PaymentMethods {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("payment_methods"))
                    .col(col("client_id").uuid().not_null().primary_key())
                    .col(col("customer_id").string_len(255).not_null())
                    .col(col("payment_method").string_len(255).not_null())
                    .col(col("brand").string_len(32).not_null())
                    .col(col("last4").string_len(4).not_null())
                    .col(col("saved_at").timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await
    }
}
