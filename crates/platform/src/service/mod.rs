//! What a Frevix service is to the process that runs it. A service says
//! its name, its configuration section, its schema and which RPCs need no
//! token; it is built from a [`Context`] the kit assembles (its database
//! migrated, its outbox and relay, the event bus, mail, clock), then
//! registers its gRPC services and starts its consumers. The `frevix`
//! binary keeps one registry of services and every command loops over it,
//! so a new service is its crate plus one line there.

mod context;
mod grpc;

use std::fmt::Debug;
use std::path::Path;

use async_trait::async_trait;
use sea_orm_migration::MigratorTrait;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::config::{ConfigError, DatabaseConfig};
use crate::events::{Background, BusError, EventBus};

pub use context::{Context, Routes};

/// Why a service could not start.
pub type StartError = Box<dyn std::error::Error + Send + Sync>;

/// A service's section of the configuration (`[identity]`, `FREVIX_IDENTITY__…`).
pub trait ServiceConfig:
    Debug + Clone + Default + Serialize + DeserializeOwned + Send + Sync + 'static
{
    fn database(&self) -> &DatabaseConfig;
    fn database_mut(&mut self) -> &mut DatabaseConfig;

    /// Checks the section's own values, naming the failing key in full
    /// (`identity.code_ttl_secs`). The database URL is checked by the kit.
    fn validate(&self) -> Result<(), ConfigError> {
        Ok(())
    }

    /// Fills in what the all-in-one shape implies (files under `data_dir`).
    /// The kit sets the database to a SQLite file there first.
    fn resolve_all_in_one(&mut self, data_dir: &Path) {
        let _ = data_dir;
    }
}

/// One service of the mesh.
#[async_trait]
pub trait Service: Sized + Send + Sync + 'static {
    /// Its name: the configuration section, the event producer
    /// (`frevix.<name>.>`), the `frevix serve <name>` argument.
    const NAME: &'static str;
    /// Where it listens alone in the mesh (127.0.0.1:<port> by default).
    const MESH_PORT: u16;
    /// Full gRPC paths anyone may call without an access token.
    const PUBLIC_METHODS: &'static [&'static str] = &[];
    /// Prefixes of plain HTTP paths anyone may reach without an access
    /// token (a provider's webhooks, hosted pages), each ending in `/`.
    const PUBLIC_PATHS: &'static [&'static str] = &[];
    /// Signs access tokens; the other services verify them through its JWKS.
    const ISSUES_TOKENS: bool = false;
    /// Sends mail: serving it alone needs SMTP, and the kit runs the relay
    /// of its `mail_outbox` (its migrator must include
    /// [`crate::mail::schema::MailOutboxTable`]).
    const SENDS_MAIL: bool = false;

    type Config: ServiceConfig;
    type Migrator: MigratorTrait;

    /// Assembles the service; nothing runs yet.
    async fn build(context: Context<Self::Config>) -> Result<Self, StartError>;

    /// Adds its gRPC services (and any plain HTTP routes).
    fn routes(&self, routes: &mut Routes<'_>);

    /// Starts its consumers and background tasks, stopped after the server drains.
    async fn start(&self, bus: &EventBus) -> Result<Vec<Background>, BusError> {
        let _ = bus;
        Ok(Vec::new())
    }
}
