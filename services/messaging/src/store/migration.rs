//! Messaging's first schema, forward-only, for PostgreSQL and SQLite, and
//! the helpers later migrations build with.

use sea_orm_migration::prelude::*;

pub(super) fn col(name: &str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
}

pub(super) fn index(
    name: &str,
    table: &str,
    columns: &[&str],
    unique: bool,
) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(Alias::new(table));
    for column in columns {
        index.col(Alias::new(*column));
    }
    if unique {
        index.unique();
    }
    index.to_owned()
}

pub(super) struct InitialSchema;

impl MigrationName for InitialSchema {
    fn name(&self) -> &str {
        "m20261121_000030_messaging_schema"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for InitialSchema {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("conversations"))
                    .col(col("id").uuid().not_null().primary_key())
                    .col(col("kind").string_len(16).not_null())
                    .col(col("direct_key").string_len(80).null().unique_key())
                    .col(col("contract_id").uuid().null().unique_key())
                    .col(col("title").string_len(200).not_null())
                    .col(col("last_seq").big_integer().not_null())
                    .col(col("created_at").timestamp_with_time_zone().not_null())
                    .col(
                        col("last_activity_at")
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("members"))
                    .col(col("conversation_id").uuid().not_null())
                    .col(col("account_id").uuid().not_null())
                    .col(col("last_read_seq").big_integer().not_null())
                    .col(col("joined_at").timestamp_with_time_zone().not_null())
                    .primary_key(
                        Index::create()
                            .col(Alias::new("conversation_id"))
                            .col(Alias::new("account_id")),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("members_account", "members", &["account_id"], false))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("messages"))
                    .col(col("id").uuid().not_null().primary_key())
                    .col(col("conversation_id").uuid().not_null())
                    .col(col("seq").big_integer().not_null())
                    .col(col("sender_id").uuid().not_null())
                    .col(col("client_message_id").string_len(64).not_null())
                    .col(col("text").text().not_null())
                    .col(col("created_at").timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "messages_seq",
                "messages",
                &["conversation_id", "seq"],
                true,
            ))
            .await?;
        manager
            .create_index(index(
                "messages_client_id",
                "messages",
                &["conversation_id", "sender_id", "client_message_id"],
                true,
            ))
            .await
    }
}
