//! Frevix identity: accounts, credentials (argon2id), login sessions with
//! rotating refresh tokens, mailed one-time codes, and the ES256 keys that
//! sign access tokens (served as JWKS). Built from config by [`Identity::build`];
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

use frevix_platform::auth::KeySet;
use frevix_platform::config::AuthConfig;
use frevix_platform::events::Outbox;
use frevix_platform::mail::Mailer;
use frevix_platform::rate_limit::KeyedLimiter;
use frevix_proto::identity::v1::identity_service_server::IdentityServiceServer;
use sea_orm::DatabaseConnection;
use tokio::sync::Semaphore;

pub use api::IdentityApi;
pub use config::IdentityConfig;
pub use store::Migrator;

/// The name identity publishes its events under (`frevix.identity.>`).
pub const PRODUCER: &str = "identity";

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
    pub config: IdentityConfig,
    pub auth: AuthConfig,
    pub keys: keys::KeyRing,
    pub mailer: Arc<Mailer>,
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

/// What [`Identity::build`] needs besides its own config.
pub struct Dependencies {
    pub db: DatabaseConnection,
    pub auth: AuthConfig,
    pub mailer: Arc<Mailer>,
    /// Where identity's events are written (see `frevix.identity.v1` events).
    pub outbox: Outbox,
    /// Where the public keys go so this process's verifier trusts them.
    pub verification_keys: KeySet,
    pub trust_forwarded_for: bool,
}

impl Identity {
    /// Loads (or creates) the signing keys and assembles the service.
    pub async fn build(config: IdentityConfig, deps: Dependencies) -> error::Result<Self> {
        let secrets = Arc::new(secrets::Secrets::load(
            &config.master_key,
            &config.master_key_file,
        )?);
        let ring = keys::KeyRing::new(
            deps.verification_keys,
            config.signing_key_rotation_days,
            config.access_token_ttl_secs,
            secrets.clone(),
        );
        ring.refresh(&deps.db).await?;
        ring.spawn_refresher(deps.db.clone());
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
                db: deps.db,
                hashing: Semaphore::new(config.max_concurrent_hashes),
                config,
                auth: deps.auth,
                keys: ring,
                mailer: deps.mailer,
                outbox: deps.outbox,
                limits,
                trust_forwarded_for: deps.trust_forwarded_for,
                secrets,
            }),
        })
    }

    /// The gRPC service with message-size limits both ways.
    pub fn grpc_service(&self, max_message_bytes: usize) -> IdentityServiceServer<IdentityApi> {
        IdentityServiceServer::new(IdentityApi::new(self.inner.clone()))
            .max_decoding_message_size(max_message_bytes)
            .max_encoding_message_size(max_message_bytes)
    }

    /// `GET /.well-known/jwks.json`.
    pub fn http_routes(&self) -> axum::Router {
        http::routes(self.inner.keys.clone())
    }
}
