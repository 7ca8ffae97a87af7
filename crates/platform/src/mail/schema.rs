//! The `mail_outbox` table, in the database of each service that mails.

use sea_orm_migration::prelude::*;

use crate::db::schema::col;

/// Creates `mail_outbox`; the migrator of every service that sends mail
/// includes it.
pub struct MailOutboxTable;

impl MigrationName for MailOutboxTable {
    fn name(&self) -> &str {
        "m20261130_000001_mail_outbox"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for MailOutboxTable {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let table = Alias::new("mail_outbox");
        manager
            .create_table(
                Table::create()
                    .table(table.clone())
                    .if_not_exists()
                    .col(col("id").uuid().not_null().primary_key())
                    .col(col("recipient").string().not_null())
                    .col(col("subject").string().not_null())
                    .col(col("body").text().not_null())
                    .col(col("created_at").timestamp_with_time_zone().not_null())
                    .col(col("attempts").integer().not_null())
                    .col(col("next_attempt_at").timestamp_with_time_zone().not_null())
                    .col(col("lease_until").timestamp_with_time_zone().null())
                    .col(col("sent_at").timestamp_with_time_zone().null())
                    .col(col("failed_at").timestamp_with_time_zone().null())
                    .col(col("last_error").text().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("mail_outbox_due")
                    .table(table)
                    .col(Alias::new("next_attempt_at"))
                    .to_owned(),
            )
            .await
    }
}
