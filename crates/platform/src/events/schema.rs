//! The tables of the event backbone, in each service's own database:
//! `outbox` (what the service published, written in the state change's
//! transaction), `inbox` (which events a consumer has applied, written in the
//! handler's transaction), `consumer_offsets` (in-process cursors) and
//! `dead_letters` (in-process poison events).

pub mod outbox {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "outbox")]
    pub struct Model {
        /// Insert order.
        #[sea_orm(primary_key)]
        pub seq: i64,
        #[sea_orm(unique)]
        pub event_id: Uuid,
        pub subject: String,
        pub event_type: String,
        pub aggregate_id: String,
        /// The encoded `EventEnvelope`.
        pub envelope: Vec<u8>,
        pub created_at: ChronoDateTimeUtc,
        pub published_at: Option<ChronoDateTimeUtc>,
        /// Position in the in-process stream, assigned by the relay.
        pub stream_seq: Option<i64>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod inbox {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "inbox")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub consumer: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub event_id: Uuid,
        pub applied_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod consumer_offsets {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "consumer_offsets")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub consumer: String,
        pub stream_seq: i64,
        pub updated_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod dead_letters {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "dead_letters")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub consumer: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub event_id: Uuid,
        pub error: String,
        pub envelope: Vec<u8>,
        pub failed_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub use migrations::{ConsumerTables, OutboxPendingIndex, OutboxStreamSeqIndex, OutboxTable};

mod migrations {
    use sea_orm_migration::prelude::*;

    fn col(name: &str) -> ColumnDef {
        ColumnDef::new(Alias::new(name))
    }

    /// The `outbox` table; producers include it in their migrator.
    pub struct OutboxTable;

    impl MigrationName for OutboxTable {
        fn name(&self) -> &str {
            "m20261121_000010_outbox"
        }
    }

    #[async_trait::async_trait]
    impl MigrationTrait for OutboxTable {
        async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            manager
                .create_table(
                    Table::create()
                        .table(Alias::new("outbox"))
                        .col(
                            col("seq")
                                .big_integer()
                                .not_null()
                                .auto_increment()
                                .primary_key(),
                        )
                        .col(col("event_id").uuid().not_null().unique_key())
                        .col(col("subject").string().not_null())
                        .col(col("event_type").string().not_null())
                        .col(col("aggregate_id").string().not_null())
                        .col(col("envelope").blob().not_null())
                        .col(col("created_at").timestamp_with_time_zone().not_null())
                        .col(col("published_at").timestamp_with_time_zone().null())
                        .col(col("stream_seq").big_integer().null())
                        .to_owned(),
                )
                .await?;
            manager
                .create_index(
                    Index::create()
                        .name("outbox_unpublished")
                        .table(Alias::new("outbox"))
                        .col(Alias::new("published_at"))
                        .col(Alias::new("seq"))
                        .to_owned(),
                )
                .await?;
            manager
                .create_index(
                    Index::create()
                        .name("outbox_stream_seq")
                        .table(Alias::new("outbox"))
                        .col(Alias::new("stream_seq"))
                        .to_owned(),
                )
                .await
        }
    }

    /// The relay's "what is not published yet" as a partial index. The index
    /// on (published_at, seq) it replaces kept an entry for every row ever
    /// written, and each published row left a dead one among the NULLs until
    /// vacuum: under a steady stream of events each relay pass walked tens of
    /// thousands of them (milliseconds a pass, on every service's outbox).
    /// Producers include it after `OutboxTable`.
    pub struct OutboxPendingIndex;

    impl MigrationName for OutboxPendingIndex {
        fn name(&self) -> &str {
            "m20261121_000012_outbox_pending"
        }
    }

    #[async_trait::async_trait]
    impl MigrationTrait for OutboxPendingIndex {
        async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            // The same statements on PostgreSQL and SQLite.
            let db = manager.get_connection();
            db.execute_unprepared(
                "CREATE INDEX outbox_pending ON outbox (seq) WHERE published_at IS NULL",
            )
            .await?;
            db.execute_unprepared("DROP INDEX outbox_unpublished")
                .await?;
            Ok(())
        }
    }

    /// `stream_seq` indexed only where it is set. It is set only where the
    /// outbox is the log (the in-process bus); behind JetStream every row
    /// kept a NULL entry, written on insert and again when the relay marks
    /// the row published (that update cannot be HOT: `published_at` is in
    /// the pending index's predicate). A third of the cost of marking a
    /// batch on PostgreSQL. SQLite keeps the full index: there the outbox
    /// is the log, and its `max(stream_seq)` would not use a partial one.
    /// Producers include it last.
    pub struct OutboxStreamSeqIndex;

    impl MigrationName for OutboxStreamSeqIndex {
        fn name(&self) -> &str {
            "m20261201_000001_outbox_stream_seq_partial"
        }
    }

    #[async_trait::async_trait]
    impl MigrationTrait for OutboxStreamSeqIndex {
        async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            if manager.get_database_backend() != sea_orm::DatabaseBackend::Postgres {
                return Ok(());
            }
            let db = manager.get_connection();
            db.execute_unprepared(
                "CREATE INDEX outbox_stream_seq_set ON outbox (stream_seq) \
                 WHERE stream_seq IS NOT NULL",
            )
            .await?;
            db.execute_unprepared("DROP INDEX outbox_stream_seq")
                .await?;
            Ok(())
        }
    }

    /// `inbox`, `consumer_offsets` and `dead_letters`; consumers include it.
    pub struct ConsumerTables;

    impl MigrationName for ConsumerTables {
        fn name(&self) -> &str {
            "m20261121_000011_consumer_tables"
        }
    }

    #[async_trait::async_trait]
    impl MigrationTrait for ConsumerTables {
        async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            manager
                .create_table(
                    Table::create()
                        .table(Alias::new("inbox"))
                        .col(col("consumer").string().not_null())
                        .col(col("event_id").uuid().not_null())
                        .col(col("applied_at").timestamp_with_time_zone().not_null())
                        .primary_key(
                            Index::create()
                                .col(Alias::new("consumer"))
                                .col(Alias::new("event_id")),
                        )
                        .to_owned(),
                )
                .await?;
            manager
                .create_table(
                    Table::create()
                        .table(Alias::new("consumer_offsets"))
                        .col(col("consumer").string().not_null().primary_key())
                        .col(col("stream_seq").big_integer().not_null())
                        .col(col("updated_at").timestamp_with_time_zone().not_null())
                        .to_owned(),
                )
                .await?;
            manager
                .create_table(
                    Table::create()
                        .table(Alias::new("dead_letters"))
                        .col(col("consumer").string().not_null())
                        .col(col("event_id").uuid().not_null())
                        .col(col("error").text().not_null())
                        .col(col("envelope").blob().not_null())
                        .col(col("failed_at").timestamp_with_time_zone().not_null())
                        .primary_key(
                            Index::create()
                                .col(Alias::new("consumer"))
                                .col(Alias::new("event_id")),
                        )
                        .to_owned(),
                )
                .await
        }
    }
}
