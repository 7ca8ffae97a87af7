//! Assembles and runs Frevix: every service of a shape on one server, with
//! its database, mailer and authentication wired from the configuration.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use frevix_identity::{Dependencies, Identity, Migrator as IdentityMigrator};
use frevix_platform::auth::{Authenticator, KeySet, TokenVerifier, deny_feed};
use frevix_platform::db::connect_and_migrate;
use frevix_platform::events::{Background, EventBus};
use frevix_platform::mail::Mailer;
use frevix_platform::server::Server;
use secrecy::ExposeSecret;
use tokio::net::TcpListener;

use crate::config::{FrevixConfig, Shape};

/// A built server bound to its port, not yet serving.
pub struct App {
    bus: EventBus,
    server: Server,
    listener: TcpListener,
    /// Relays and consumers, stopped after the server has drained.
    background: Vec<Background>,
    shutdown_grace: std::time::Duration,
}

impl App {
    /// Connects databases (applying migrations), builds the services of
    /// `shape`, and binds the listener.
    pub async fn build(config: &FrevixConfig, shape: Shape) -> anyhow::Result<App> {
        let listener = TcpListener::bind(config.server.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.server.listen))?;
        Self::build_on(config, shape, listener).await
    }

    /// Like [`App::build`] on a listener the caller bound (port 0 in tests).
    pub async fn build_on(
        config: &FrevixConfig,
        shape: Shape,
        listener: TcpListener,
    ) -> anyhow::Result<App> {
        let keys = KeySet::default();
        let verifier = if config.auth.jwks_url.is_empty() {
            TokenVerifier::local(&config.auth, keys.clone())
        } else {
            TokenVerifier::remote(&config.auth)
        };
        let mut public_methods = Vec::new();
        if shape.serves_identity() {
            public_methods.extend_from_slice(frevix_identity::PUBLIC_METHODS);
        }
        if shape.serves_marketplace() {
            public_methods.extend_from_slice(frevix_marketplace::PUBLIC_METHODS);
        }
        if shape.serves_messaging() {
            public_methods.extend_from_slice(frevix_messaging::PUBLIC_METHODS);
        }
        let auth = Arc::new(Authenticator::new(verifier, public_methods));
        let mut server = Server::new(config.server.clone(), auth.clone());
        let bus = EventBus::connect(&config.events).await.context("events")?;
        let mut background = Vec::new();
        // Where this process keeps the deny list it learns from identity's
        // events (identity itself checks its own tables on every call).
        let mut deny_store = None;

        if shape.serves_identity() {
            let db = connect_and_migrate::<IdentityMigrator>(
                config.identity.database.url.expose_secret(),
                config.identity.database.max_connections,
            )
            .await
            .context("identity database")?;
            let mailer = Arc::new(Mailer::from_config(&config.mail).context("mail")?);
            let (outbox, relay) = bus
                .producer(frevix_identity::PRODUCER, db.clone())
                .await
                .context("identity events")?;
            background.push(relay.spawn());
            let identity = Identity::build(
                config.identity.clone(),
                Dependencies {
                    db,
                    auth: config.auth.clone(),
                    mailer,
                    outbox,
                    verification_keys: keys,
                    trust_forwarded_for: config.server.trust_forwarded_for,
                },
            )
            .await
            .context("identity")?;
            server.add_service(identity.grpc_service(server.max_message_bytes()));
            server.add_http(identity.http_routes());
        }
        if shape.serves_marketplace() {
            let db = connect_and_migrate::<frevix_marketplace::Migrator>(
                config.marketplace.database.url.expose_secret(),
                config.marketplace.database.max_connections,
            )
            .await
            .context("marketplace database")?;
            let (outbox, relay) = bus
                .producer(frevix_marketplace::PRODUCER, db.clone())
                .await
                .context("marketplace events")?;
            background.push(relay.spawn());
            deny_store.get_or_insert((db.clone(), "marketplace-access"));
            let marketplace = frevix_marketplace::Marketplace::new(db, outbox);
            background.extend(
                marketplace
                    .consume(&bus)
                    .await
                    .context("marketplace consumers")?,
            );
            server.add_service(marketplace.grpc_service(server.max_message_bytes()));
        }
        if shape.serves_messaging() {
            let db = connect_and_migrate::<frevix_messaging::Migrator>(
                config.messaging.database.url.expose_secret(),
                config.messaging.database.max_connections,
            )
            .await
            .context("messaging database")?;
            let (outbox, relay) = bus
                .producer(frevix_messaging::PRODUCER, db.clone())
                .await
                .context("messaging events")?;
            background.push(relay.spawn());
            let mailer = Arc::new(Mailer::from_config(&config.mail).context("mail")?);
            deny_store.get_or_insert((db.clone(), "messaging-access"));
            let messaging = frevix_messaging::Messaging::new(
                db,
                outbox,
                &config.messaging,
                &bus,
                mailer,
                &config.data_dir.join("media"),
            )
            .await
            .context("messaging")?;
            background.extend(
                messaging
                    .consume(&bus)
                    .await
                    .context("messaging consumers")?,
            );
            server.add_service(messaging.grpc_service(server.max_message_bytes()));
            server.add_service(messaging.notification_service());
            server.add_service(messaging.media_service(server.max_message_bytes()));
        }
        if let Some((db, consumer)) = deny_store {
            background.push(
                deny_feed::start(&bus, db, auth.deny_list().clone(), consumer)
                    .await
                    .context("deny list")?,
            );
        }
        Ok(App {
            bus,
            server,
            listener,
            background,
            shutdown_grace: std::time::Duration::from_secs(config.server.shutdown_grace_secs),
        })
    }

    /// The event transport this process uses (tests publish through it).
    pub fn events(&self) -> EventBus {
        self.bus.clone()
    }

    pub fn local_addr(&self) -> anyhow::Result<SocketAddr> {
        Ok(self.listener.local_addr()?)
    }

    /// Serves until `shutdown` resolves, then drains.
    pub async fn serve(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let served = self.server.serve(self.listener, shutdown).await;
        // Calls have drained; let relays publish what they committed.
        for task in self.background {
            task.shutdown(self.shutdown_grace).await;
        }
        served?;
        Ok(())
    }
}
