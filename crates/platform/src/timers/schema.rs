//! The `timers` table, in the database of each service that keeps timers.

use sea_orm_migration::prelude::*;

use crate::db::schema::col;

/// Creates `timers`; the migrator of every service with timers includes it.
pub struct TimersTable;

impl MigrationName for TimersTable {
    fn name(&self) -> &str {
        "m20261130_000002_timers"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for TimersTable {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let table = Alias::new("timers");
        manager
            .create_table(
                Table::create()
                    .table(table.clone())
                    .if_not_exists()
                    .col(col("id").uuid().not_null().primary_key())
                    .col(col("kind").string_len(64).not_null())
                    .col(col("subject").string_len(128).not_null())
                    .col(col("due_at").timestamp_with_time_zone().not_null())
                    .col(col("payload").text().not_null())
                    .col(col("attempts").integer().not_null())
                    .col(col("lease_until").timestamp_with_time_zone().null())
                    .col(col("lease_token").uuid().null())
                    .col(col("last_error").text().null())
                    .col(col("created_at").timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        // One timer per kind and subject: scheduling again moves it.
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("timers_kind_subject")
                    .table(table.clone())
                    .col(Alias::new("kind"))
                    .col(Alias::new("subject"))
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("timers_due")
                    .table(table)
                    .col(Alias::new("due_at"))
                    .to_owned(),
            )
            .await
    }
}
