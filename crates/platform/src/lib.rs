//! The shared platform of every Frevix service: what differs between the mesh
//! and the all-in-one shape sits behind its two seams (the database and the
//! event transport), so services are written once.

pub mod auth;
pub mod batch;
pub mod clock;
pub mod config;
pub mod db;
pub mod error;
pub mod events;
pub mod ids;
pub mod live;
pub mod mail;
pub mod malformed;
pub mod mask;
pub mod money;
pub mod paging;
#[cfg(test)]
mod parsers_fuzz;
pub mod rate_limit;
pub mod request;
pub mod server;
pub mod service;
pub mod shed;
pub mod telemetry;
pub mod text;
pub mod timers;

pub use rusqlite;
pub use sea_orm;
pub use sea_orm_migration;
