//! Frevix identity: accounts, credentials (argon2id), login sessions with
//! rotating refresh tokens, mailed one-time codes, and the ES256 keys that
//! sign access tokens (served as JWKS). Built by the service kit ([`Service::build`]);
//! the `frevix` binary serves it alone or beside the other services.

pub mod admin;
mod api;
pub mod config;
pub mod domain;
pub mod error;
mod events;
mod http;
pub mod keys;
pub mod secrets;
pub mod store;

use std::sync::Arc;

use frevix_platform::config::AuthConfig;
use frevix_platform::events::Outbox;
use frevix_platform::events::{Background, BusError, EventBus};
use frevix_platform::mail::MailOutbox;
use frevix_platform::rate_limit::KeyedLimiter;
use frevix_platform::service::{Context, Routes, Service, StartError};
use frevix_proto::identity::v1::identity_service_server::IdentityServiceServer;
use sea_orm::DatabaseConnection;
use secrecy::ExposeSecret as _;
use tokio::sync::Semaphore;

pub use api::IdentityApi;
pub use config::IdentityConfig;
pub use store::Migrator;
use store::live_caller::LiveCallers;

/// The name identity publishes its events under (`frevix.identity.>`).
pub const PRODUCER: &str = <Identity as Service>::NAME;

/// RPCs anyone may call without an access token.
pub const PUBLIC_METHODS: &[&str] = &[
    "/frevix.identity.v1.IdentityService/SignUp",
    "/frevix.identity.v1.IdentityService/VerifyEmail",
    "/frevix.identity.v1.IdentityService/ResendVerification",
    "/frevix.identity.v1.IdentityService/Login",
    "/frevix.identity.v1.IdentityService/Refresh",
    "/frevix.identity.v1.IdentityService/RequestPasswordReset",
    "/frevix.identity.v1.IdentityService/ResetPassword",
];

/// What the handlers share.
pub(crate) struct Inner {
    pub db: DatabaseConnection,
    /// Where the live-caller check reads (every authenticated call).
    pub live_callers: LiveCallers,
    pub config: IdentityConfig,
    pub auth: AuthConfig,
    pub keys: keys::KeyRing,
    /// Mail sent after the change that causes it commits.
    pub mail: MailOutbox,
    pub outbox: Outbox,
    pub hashing: Semaphore,
    pub limits: Limiters,
    pub trust_forwarded_for: bool,
    pub secrets: Arc<secrets::Secrets>,
}

/// Rate limiters of the RPCs attackers like.
pub(crate) struct Limiters {
    pub login_per_address: KeyedLimiter,
    pub login_per_account_address: KeyedLimiter,
    pub sign_up_per_address: KeyedLimiter,
    pub mail_per_address: KeyedLimiter,
    pub mail_per_email: KeyedLimiter,
    pub code_per_address: KeyedLimiter,
    pub code_per_email: KeyedLimiter,
}

/// The identity service, ready to be served.
#[derive(Clone)]
pub struct Identity {
    inner: Arc<Inner>,
}

#[async_trait::async_trait]
impl Service for Identity {
    const NAME: &'static str = "identity";
    const MESH_PORT: u16 = 50051;
    const PUBLIC_METHODS: &'static [&'static str] = PUBLIC_METHODS;
    const ISSUES_TOKENS: bool = true;
    const SENDS_MAIL: bool = true;
    type Config = IdentityConfig;
    type Migrator = Migrator;

    /// Loads (or creates) the signing keys and assembles the service.
    async fn build(context: Context<IdentityConfig>) -> Result<Self, StartError> {
        let config = context.config;
        let secrets = Arc::new(secrets::Secrets::load(
            &config.master_key,
            &config.master_key_file,
        )?);
        let ring = keys::KeyRing::new(
            context.verification_keys,
            config.signing_key_rotation_days,
            config.access_token_ttl_secs,
            secrets.clone(),
        );
        ring.refresh(&context.db).await?;
        let live_callers = LiveCallers::open(
            config.database.url.expose_secret(),
            config.database.max_connections,
        )
        .await?;
        let r = &config.rate_limits;
        let limits = Limiters {
            login_per_address: KeyedLimiter::per_minute(
                r.login_per_address,
                r.login_per_address / 2,
            ),
            login_per_account_address: KeyedLimiter::per_minute(
                r.login_per_account_address,
                r.login_per_account_address / 2,
            ),
            sign_up_per_address: KeyedLimiter::per_minute(
                r.sign_up_per_address,
                r.sign_up_per_address / 2,
            ),
            mail_per_address: KeyedLimiter::per_minute(r.mail_per_address, r.mail_per_address / 2),
            mail_per_email: KeyedLimiter::per_minute(r.mail_per_email, r.mail_per_email),
            code_per_address: KeyedLimiter::per_minute(r.code_per_address, r.code_per_address / 2),
            code_per_email: KeyedLimiter::per_minute(r.code_per_email, r.code_per_email),
        };
        Ok(Self {
            inner: Arc::new(Inner {
                db: context.db,
                live_callers,
                hashing: Semaphore::new(config.max_concurrent_hashes),
                config,
                auth: context.auth,
                keys: ring,
                mail: context.mail,
                outbox: context.outbox,
                limits,
                trust_forwarded_for: context.trust_forwarded_for,
                secrets,
            }),
        })
    }

    /// IdentityService, and `GET /.well-known/jwks.json`.
    fn routes(&self, routes: &mut Routes<'_>) {
        let max = routes.max_message_bytes();
        routes
            .grpc(frevix_platform::grpc_service!(
                IdentityServiceServer::new(IdentityApi::new(self.inner.clone())),
                max
            ))
            .http(http::routes(self.inner.keys.clone()));
    }

    /// The signing-key refresher.
    async fn start(&self, _bus: &EventBus) -> Result<Vec<Background>, BusError> {
        Ok(vec![self.inner.keys.refresher(self.inner.db.clone())])
    }
}
