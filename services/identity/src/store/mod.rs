//! Identity's persistence: entities, migrations and the queries the API runs.
//! Every query takes any connection, so it runs inside or outside a
//! transaction.

pub mod accounts;
pub mod codes;
pub mod entities;
pub mod keys;
pub mod login_attempts;
pub mod migration;
mod migration_login_failures;
pub mod sessions;

pub use migration::Migrator;
