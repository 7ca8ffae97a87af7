//! Identity's persistence: entities, migrations and the queries the API runs.
//! Every query takes any connection, so it runs inside or outside a
//! transaction.

pub mod accounts;
pub mod codes;
pub mod entities;
pub mod keys;
pub mod live_caller;
pub mod login_attempts;
pub mod migration;
mod migration_account_security;
mod migration_login_failures;
pub mod security_events;
pub mod sessions;
pub mod two_factor;

pub use migration::Migrator;
