//! Assembles and runs Frevix: every registered service of a shape on one
//! server, with its database, events, mailer and authentication wired from
//! the configuration.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use frevix_platform::auth::{Authenticator, KeySet, TokenVerifier, deny_feed};
use frevix_platform::clock::Clock;
use frevix_platform::events::{Background, EventBus};
use frevix_platform::mail::Mailer;
use frevix_platform::server::Server;
use tokio::net::TcpListener;

use crate::config::{FrevixConfig, Shape};
use crate::entry::Shared;

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
        Self::build_on(config, shape, listener, Clock::system()).await
    }

    /// Like [`App::build`] on a listener the caller bound (port 0 in tests)
    /// and with the clock the services read (tests move it).
    pub async fn build_on(
        config: &FrevixConfig,
        shape: Shape,
        listener: TcpListener,
        clock: Clock,
    ) -> anyhow::Result<App> {
        let keys = KeySet::default();
        let verifier = if config.auth.jwks_url.is_empty() {
            TokenVerifier::local(&config.auth, keys.clone())
        } else {
            TokenVerifier::remote(&config.auth)
        };
        let public_methods: Vec<&str> = shape
            .services()
            .flat_map(|entry| entry.public_methods().iter().copied())
            .collect();
        let public_paths: Vec<&str> = shape
            .services()
            .flat_map(|entry| entry.public_paths().iter().copied())
            .collect();
        let auth =
            Arc::new(Authenticator::new(verifier, public_methods).with_public_paths(public_paths));
        let mut server = Server::new(config.server.clone(), auth.clone());
        let shared = Shared {
            bus: EventBus::connect(&config.events).await.context("events")?,
            mailer: Arc::new(Mailer::from_config(&config.mail).context("mail")?),
            verification_keys: keys,
            clock,
        };
        let mut background = Vec::new();
        // Where this process keeps the deny list it learns from the token
        // issuer's events: the first service that does not issue tokens
        // (the issuer checks its own tables on every call).
        let mut deny_store = None;
        for entry in shape.services() {
            let launched = entry.launch(config, &shared, &mut server).await?;
            background.extend(launched.background);
            if !entry.issues_tokens() && deny_store.is_none() {
                deny_store = Some((launched.db, format!("{}-access", entry.name())));
            }
        }
        if let Some((db, consumer)) = deny_store {
            background.push(
                deny_feed::start(&shared.bus, db, auth.deny_list().clone(), &consumer)
                    .await
                    .context("deny list")?,
            );
        }
        let bus = shared.bus;
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
