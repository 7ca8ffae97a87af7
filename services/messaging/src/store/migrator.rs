//! Messaging's migrations, in the order they run: the platform's tables
//! (outbox, inbox, access denials, mail outbox) among its own.

use sea_orm_migration::prelude::*;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(frevix_platform::events::schema::OutboxTable),
            Box::new(frevix_platform::events::schema::ConsumerTables),
            Box::new(super::migration::InitialSchema),
            Box::new(super::migration_features::Features),
            Box::new(frevix_platform::events::schema::OutboxPendingIndex),
            Box::new(super::migration_search_pending::SearchPendingList),
            Box::new(frevix_platform::auth::deny_feed::AccessDenialsTable),
            Box::new(super::migration_thumbnails::MediaThumbnails),
            Box::new(frevix_platform::mail::schema::MailOutboxTable),
            Box::new(frevix_platform::events::schema::OutboxStreamSeqIndex),
        ]
    }
}
