//! The sandbox's own database: what Stripe keeps on its side (intents,
//! connected accounts, transfers, refunds, each created once per
//! idempotency key) and the events it has still to deliver to payments'
//! inbox, as Stripe's webhooks retry until they are taken.

use sea_orm_migration::prelude::*;

use frevix_platform::db::schema::col;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(Objects)]
    }
}

struct Objects;

impl MigrationName for Objects {
    fn name(&self) -> &str {
        "m20261130_000001_sandbox_objects"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Objects {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("sandbox_objects"))
                    .col(col("id").string_len(64).not_null().primary_key())
                    .col(col("kind").string_len(32).not_null())
                    .col(
                        col("idempotency_key")
                            .string_len(255)
                            .not_null()
                            .unique_key(),
                    )
                    .col(col("fingerprint").string_len(64).not_null())
                    .col(col("amount_minor").big_integer().not_null())
                    .col(col("currency").string_len(3).not_null())
                    .col(col("status").string_len(32).not_null())
                    .col(col("secret").string_len(128).not_null())
                    // An intent's charge; a transfer's destination; a
                    // refund's charge.
                    .col(col("reference").string_len(64).null())
                    .col(col("failure").string_len(500).null())
                    .col(col("created_at").timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("sandbox_events"))
                    .col(col("id").string_len(64).not_null().primary_key())
                    .col(col("body").text().not_null())
                    .col(col("created_at").timestamp_with_time_zone().not_null())
                    .col(col("delivered_at").timestamp_with_time_zone().null())
                    .to_owned(),
            )
            .await
    }
}
