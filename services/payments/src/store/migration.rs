//! Payments' schema, forward-only, for PostgreSQL and SQLite.

use sea_orm_migration::prelude::*;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(frevix_platform::db::idempotency::Migration),
            Box::new(frevix_platform::events::schema::OutboxTable),
            Box::new(frevix_platform::events::schema::ConsumerTables),
            Box::new(frevix_platform::events::schema::OutboxPendingIndex),
            Box::new(frevix_platform::auth::deny_feed::AccessDenialsTable),
            Box::new(frevix_platform::timers::schema::TimersTable),
            Box::new(super::ledger_schema::Ledger),
            Box::new(super::terms_schema::Terms),
            Box::new(super::funding_schema::Funding),
            Box::new(super::payout_schema::Payouts),
            Box::new(super::methods_schema::PaymentMethods),
            Box::new(super::chargeback_schema::Chargebacks),
            Box::new(frevix_platform::events::schema::OutboxStreamSeqIndex),
        ]
    }
}
