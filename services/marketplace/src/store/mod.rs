//! Marketplace persistence: entities, migrations and queries. Lists and
//! nested values (skills, packages, portfolio) are JSON text columns, read
//! and written whole with their row.

pub mod catalog;
pub mod entities;
pub mod gigs;
pub mod jobs;
pub mod migration;
pub mod profiles;
pub mod records;
pub mod search;

pub use migration::Migrator;

/// JSON text of a value (serialization of plain data cannot fail).
pub fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "[]".to_owned())
}

/// A JSON text column as a value; a broken column reads as the default.
pub fn from_json<T: serde::de::DeserializeOwned + Default>(text: &str) -> T {
    serde_json::from_str(text).unwrap_or_default()
}
