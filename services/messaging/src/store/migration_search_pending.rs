//! The search index's pending list, kept small. GIN indexes collect new
//! entries in a pending list and merge it into the index when it passes
//! `gin_pending_list_limit` (4 MB by default), inside whichever insert
//! crosses the limit. In the message writer that insert holds conversation
//! locks other sends wait for: measured with pgbench inserting messages of
//! varied text, the default stalled an insert for 194 ms now and then,
//! 256 kB for at most 22 ms, at the same throughput. PostgreSQL only.

use sea_orm_migration::prelude::*;

pub struct SearchPendingList;

impl MigrationName for SearchPendingList {
    fn name(&self) -> &str {
        "m20261121_000032_messages_search_pending_list"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for SearchPendingList {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared(
                    "ALTER INDEX messages_search SET (gin_pending_list_limit = 256)",
                )
                .await?;
        }
        Ok(())
    }
}
