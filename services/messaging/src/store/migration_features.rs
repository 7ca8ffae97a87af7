//! The second step of messaging's schema: groups with admins, per-member
//! archive, mute and delivery positions, message replies, attachments,
//! edits, deletion and masking, blocks, funded pairs (for masking), the
//! accounts read model, notifications with preferences, media with where
//! they are attached, and full-text search over messages.

use sea_orm_migration::prelude::*;

use super::migration::{col, index};

pub struct Features;

impl MigrationName for Features {
    fn name(&self) -> &str {
        "m20261121_000031_messaging_features"
    }
}

fn add_column(table: &str, column: ColumnDef) -> TableAlterStatement {
    let mut column = column;
    Table::alter()
        .table(Alias::new(table))
        .add_column(&mut column)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Features {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per ALTER: SQLite adds columns one at a time.
        let columns = [
            // Edits and deletes are numbered per conversation, so a client
            // resuming learns those it missed.
            (
                "conversations",
                col("change_seq")
                    .big_integer()
                    .not_null()
                    .default(0)
                    .to_owned(),
            ),
            (
                "messages",
                col("changed_seq")
                    .big_integer()
                    .not_null()
                    .default(0)
                    .to_owned(),
            ),
            (
                "members",
                col("admin").boolean().not_null().default(false).to_owned(),
            ),
            (
                "members",
                col("archived")
                    .boolean()
                    .not_null()
                    .default(false)
                    .to_owned(),
            ),
            (
                "members",
                col("muted").boolean().not_null().default(false).to_owned(),
            ),
            (
                "messages",
                col("kind")
                    .string_len(8)
                    .not_null()
                    .default("USER")
                    .to_owned(),
            ),
            (
                "messages",
                col("reply_to_seq")
                    .big_integer()
                    .not_null()
                    .default(0)
                    .to_owned(),
            ),
            (
                "messages",
                col("attachments").text().not_null().default("").to_owned(),
            ),
            (
                "messages",
                col("edited_at")
                    .timestamp_with_time_zone()
                    .null()
                    .to_owned(),
            ),
            (
                "messages",
                col("deleted")
                    .boolean()
                    .not_null()
                    .default(false)
                    .to_owned(),
            ),
            (
                "messages",
                col("masked").boolean().not_null().default(false).to_owned(),
            ),
            ("messages", col("original_text").text().null().to_owned()),
            (
                "messages",
                col("system_code")
                    .string_len(64)
                    .not_null()
                    .default("")
                    .to_owned(),
            ),
        ];
        for (table, column) in columns {
            manager.alter_table(add_column(table, column)).await?;
        }
        manager
            .create_index(index(
                "messages_changed",
                "messages",
                &["conversation_id", "changed_seq"],
                false,
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("message_edits"))
                    .col(col("id").uuid().not_null().primary_key())
                    .col(col("message_id").uuid().not_null())
                    .col(col("text").text().not_null())
                    .col(col("replaced_at").timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "message_edits_message",
                "message_edits",
                &["message_id", "id"],
                false,
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("blocks"))
                    .col(col("blocker_id").uuid().not_null())
                    .col(col("blocked_id").uuid().not_null())
                    .col(col("created_at").timestamp_with_time_zone().not_null())
                    .primary_key(
                        Index::create()
                            .col(Alias::new("blocker_id"))
                            .col(Alias::new("blocked_id")),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("funded_pairs"))
                    .col(col("pair_key").string_len(80).not_null().primary_key())
                    .col(col("contract_id").uuid().not_null())
                    .col(col("funded_at").timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("accounts"))
                    .col(col("account_id").uuid().not_null().primary_key())
                    .col(col("display_name").string_len(200).not_null().default(""))
                    .col(col("email").string_len(320).not_null().default(""))
                    .col(col("presence_hidden").boolean().not_null().default(false))
                    .col(col("last_seen_at").timestamp_with_time_zone().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("notifications"))
                    .col(col("id").uuid().not_null().primary_key())
                    .col(col("account_id").uuid().not_null())
                    .col(col("kind").string_len(64).not_null())
                    .col(col("title").string_len(300).not_null())
                    .col(col("body").text().not_null())
                    .col(col("subject_id").string_len(64).not_null())
                    .col(col("read").boolean().not_null())
                    .col(col("shown").boolean().not_null())
                    // NONE, PENDING (to be mailed) or SENT.
                    .col(col("email_state").string_len(8).not_null())
                    // What made it (event id and account), so a replay adds nothing.
                    .col(col("source_key").string_len(120).not_null().unique_key())
                    .col(col("created_at").timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "notifications_account",
                "notifications",
                &["account_id", "id"],
                false,
            ))
            .await?;
        manager
            .create_index(index(
                "notifications_email",
                "notifications",
                &["email_state"],
                false,
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("notification_prefs"))
                    .col(col("account_id").uuid().not_null())
                    .col(col("kind").string_len(64).not_null())
                    .col(col("in_app").boolean().not_null())
                    .col(col("email").boolean().not_null())
                    .primary_key(
                        Index::create()
                            .col(Alias::new("account_id"))
                            .col(Alias::new("kind")),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("message_digests"))
                    .col(col("account_id").uuid().not_null())
                    .col(col("conversation_id").uuid().not_null())
                    .col(col("sent_at").timestamp_with_time_zone().not_null())
                    .primary_key(
                        Index::create()
                            .col(Alias::new("account_id"))
                            .col(Alias::new("conversation_id")),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("media"))
                    .col(col("id").uuid().not_null().primary_key())
                    .col(col("owner_id").uuid().not_null())
                    .col(col("name").string_len(255).not_null())
                    .col(col("content_type").string_len(100).not_null())
                    .col(col("size_bytes").big_integer().not_null())
                    .col(col("sha256").string_len(64).not_null())
                    .col(col("public").boolean().not_null())
                    .col(col("created_at").timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("media_owner", "media", &["owner_id"], false))
            .await?;
        // Where a medium is attached: a conversation or a contract.
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("media_links"))
                    .col(col("media_id").uuid().not_null())
                    .col(col("place").string_len(16).not_null())
                    .col(col("place_id").uuid().not_null())
                    .primary_key(
                        Index::create()
                            .col(Alias::new("media_id"))
                            .col(Alias::new("place"))
                            .col(Alias::new("place_id")),
                    )
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        let statements: &[&str] = match manager.get_database_backend() {
            sea_orm::DatabaseBackend::Postgres => &[
                "ALTER TABLE messages ADD COLUMN search_vector tsvector \
                 GENERATED ALWAYS AS (to_tsvector('simple', text)) STORED",
                "CREATE INDEX messages_search ON messages USING GIN (search_vector)",
            ],
            _ => &[
                "CREATE VIRTUAL TABLE messages_fts USING fts5(text, content='messages', \
                 content_rowid='rowid', tokenize='unicode61')",
                "CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN \
                 INSERT INTO messages_fts(rowid, text) VALUES (new.rowid, new.text); END",
                "CREATE TRIGGER messages_fts_update AFTER UPDATE OF text ON messages BEGIN \
                 INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.rowid, old.text); \
                 INSERT INTO messages_fts(rowid, text) VALUES (new.rowid, new.text); END",
                "CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN \
                 INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.rowid, old.text); END",
                "INSERT INTO messages_fts(rowid, text) SELECT rowid, text FROM messages",
            ],
        };
        for statement in statements {
            db.execute_unprepared(statement).await?;
        }
        Ok(())
    }
}
