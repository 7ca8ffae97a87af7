//! What the kit hands a service to build itself from, and where it puts
//! its routes.

use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::Arc;

use sea_orm::DatabaseConnection;
use tonic::server::NamedService;

use crate::auth::KeySet;
use crate::clock::Clock;
use crate::config::AuthConfig;
use crate::events::{EventBus, Outbox};
use crate::mail::{MailOutbox, Mailer};
use crate::server::Server;
use crate::timers::Timers;

/// Everything a service is built from.
pub struct Context<C> {
    /// Its configuration section, validated.
    pub config: C,
    /// Its own database, migrated.
    pub db: DatabaseConnection,
    /// Where its events go, in the transaction of the change.
    pub outbox: Outbox,
    /// The event transport (for live fan-out beside the durable events).
    pub bus: EventBus,
    pub mailer: Arc<Mailer>,
    /// Where mail is queued in a change's transaction; the kit runs its
    /// relay for services that send mail.
    pub mail: MailOutbox,
    pub clock: Clock,
    /// Durable timers on the service's database and clock (services with
    /// timers include `TimersTable` in their migrator and start a runner).
    pub timers: Timers,
    /// How access tokens are issued and checked.
    pub auth: AuthConfig,
    /// The keys this process's verifier trusts; a token issuer puts its
    /// public keys here.
    pub verification_keys: KeySet,
    /// Where the all-in-one shape keeps files (media by default).
    pub data_dir: PathBuf,
    /// The largest message the server accepts or sends.
    pub max_message_bytes: usize,
    /// Whether `x-forwarded-for` names the client (behind a trusted proxy).
    pub trust_forwarded_for: bool,
}

/// The server a service adds its routes to.
pub struct Routes<'a> {
    server: &'a mut Server,
}

impl<'a> Routes<'a> {
    pub fn new(server: &'a mut Server) -> Self {
        Self { server }
    }

    /// Adds a gRPC service; its health status follows the server's.
    pub fn grpc<S>(&mut self, service: S) -> &mut Self
    where
        S: tower::Service<http::Request<tonic::body::Body>, Error = Infallible>
            + NamedService
            + Clone
            + Send
            + Sync
            + 'static,
        S::Response: axum::response::IntoResponse,
        S::Future: Send + 'static,
    {
        self.server.add_service(service);
        self
    }

    /// Adds plain HTTP routes (JWKS, webhooks) served on the same port.
    pub fn http(&mut self, router: axum::Router) -> &mut Self {
        self.server.add_http(router);
        self
    }

    /// The largest message the server accepts or sends.
    pub fn max_message_bytes(&self) -> usize {
        self.server.max_message_bytes()
    }
}
