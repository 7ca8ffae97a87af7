//! One registered service as the binary sees it: the generic
//! [`Service`] turned into an object the commands loop over, with its
//! configuration section found in the registry's configuration struct
//! (any `C` with its [`Section`] and the [`Shell`] every service reads;
//! the registry writes both, so this file never names it).

use std::marker::PhantomData;
use std::sync::Arc;

use anyhow::Context as _;
use async_trait::async_trait;
use frevix_platform::auth::KeySet;
use frevix_platform::clock::Clock;
use frevix_platform::config::{AuthConfig, ConfigError, DatabaseConfig, ServerConfig};
use frevix_platform::db::connect_and_migrate;
use frevix_platform::events::{Background, EventBus, Retention};
use frevix_platform::mail::{MailOutbox, Mailer};
use frevix_platform::sea_orm::{DatabaseConnection, DbErr};
use frevix_platform::sea_orm_migration::MigratorTrait;
use frevix_platform::server::Server;
use frevix_platform::service::{Context, Routes, Service, ServiceConfig};
use secrecy::ExposeSecret as _;

/// Where `S`'s section sits in the configuration (written by the registry).
pub trait Section<S: Service> {
    const KEY: &'static str;
    fn section(&self) -> &S::Config;
    fn section_mut(&mut self) -> &mut S::Config;
}

/// The sections of the configuration every service reads.
pub trait Shell: Send + Sync + 'static {
    /// Where the all-in-one shape keeps its files.
    fn data_dir(&self) -> &std::path::Path;
    fn auth(&self) -> &AuthConfig;
    fn server(&self) -> &ServerConfig;
}

/// What every service of a process shares.
pub struct Shared {
    pub bus: EventBus,
    pub mailer: Arc<Mailer>,
    pub verification_keys: KeySet,
    pub clock: Clock,
}

/// A service started in this process.
pub struct Launched {
    /// Its database.
    pub db: DatabaseConnection,
    /// Its relay, consumers and background tasks.
    pub background: Vec<Background>,
}

/// A registered service, whatever its type.
#[async_trait]
pub trait Entry<C>: Send + Sync {
    fn name(&self) -> &'static str;
    /// The configuration section it reads (its name).
    fn section_key(&self) -> &'static str;
    fn mesh_port(&self) -> u16;
    fn public_methods(&self) -> &'static [&'static str];
    fn public_paths(&self) -> &'static [&'static str];
    fn issues_tokens(&self) -> bool;
    fn sends_mail(&self) -> bool;
    fn database<'c>(&self, config: &'c C) -> &'c DatabaseConfig;
    fn database_mut<'c>(&self, config: &'c mut C) -> &'c mut DatabaseConfig;
    /// Fills in the section's all-in-one defaults (after its database).
    fn resolve_all_in_one(&self, config: &mut C);
    /// Checks its database and its own section.
    fn validate(&self, config: &C) -> Result<(), ConfigError>;
    /// The names of its migrations, in order (tests key schema templates on them).
    fn migration_names(&self) -> Vec<String>;
    /// Applies its pending migrations to `db`.
    async fn migrate(&self, db: &DatabaseConnection) -> Result<(), DbErr>;
    /// Connects to `url` with up to `max_connections` and migrates.
    async fn connect(&self, url: &str, max_connections: u32) -> Result<DatabaseConnection, DbErr>;
    /// Connects, builds the service, adds its routes to `server`, and
    /// starts its relay and consumers.
    async fn launch(
        &self,
        config: &C,
        shared: &Shared,
        server: &mut Server,
    ) -> anyhow::Result<Launched>;
}

/// The [`Entry`] of service `S`.
pub struct Registered<S>(PhantomData<fn() -> S>);

impl<S> Registered<S> {
    pub const NEW: Self = Registered(PhantomData);
}

#[async_trait]
impl<S: Service, C> Entry<C> for Registered<S>
where
    C: Section<S> + Shell,
{
    fn name(&self) -> &'static str {
        S::NAME
    }

    fn section_key(&self) -> &'static str {
        <C as Section<S>>::KEY
    }

    fn mesh_port(&self) -> u16 {
        S::MESH_PORT
    }

    fn public_methods(&self) -> &'static [&'static str] {
        S::PUBLIC_METHODS
    }

    fn public_paths(&self) -> &'static [&'static str] {
        S::PUBLIC_PATHS
    }

    fn issues_tokens(&self) -> bool {
        S::ISSUES_TOKENS
    }

    fn sends_mail(&self) -> bool {
        S::SENDS_MAIL
    }

    fn database<'c>(&self, config: &'c C) -> &'c DatabaseConfig {
        Section::<S>::section(config).database()
    }

    fn database_mut<'c>(&self, config: &'c mut C) -> &'c mut DatabaseConfig {
        Section::<S>::section_mut(config).database_mut()
    }

    fn resolve_all_in_one(&self, config: &mut C) {
        let data_dir = config.data_dir().to_path_buf();
        let section = Section::<S>::section_mut(config);
        let database = section.database_mut();
        if database.url.expose_secret().is_empty() {
            let path = data_dir.join(format!("{}.db", S::NAME));
            database.url = frevix_platform::db::sqlite_url(&path).into();
        }
        section.resolve_all_in_one(&data_dir);
    }

    fn validate(&self, config: &C) -> Result<(), ConfigError> {
        let section = Section::<S>::section(config);
        section
            .database()
            .validate(&format!("{}.database", S::NAME))?;
        section.validate()
    }

    fn migration_names(&self) -> Vec<String> {
        S::Migrator::migrations()
            .iter()
            .map(|migration| migration.name().to_owned())
            .collect()
    }

    async fn migrate(&self, db: &DatabaseConnection) -> Result<(), DbErr> {
        S::Migrator::up(db, None).await
    }

    async fn connect(&self, url: &str, max_connections: u32) -> Result<DatabaseConnection, DbErr> {
        connect_and_migrate::<S::Migrator>(url, max_connections).await
    }

    async fn launch(
        &self,
        config: &C,
        shared: &Shared,
        server: &mut Server,
    ) -> anyhow::Result<Launched> {
        let name = S::NAME;
        let database = self.database(config);
        let db = connect_and_migrate::<S::Migrator>(
            database.url.expose_secret(),
            database.max_connections,
        )
        .await
        .with_context(|| format!("{name} database"))?;
        let (outbox, relay) = shared
            .bus
            .producer(S::NAME, db.clone())
            .await
            .with_context(|| format!("{name} events"))?;
        let mut background = vec![
            relay.spawn(),
            Retention::new(shared.bus.clone(), S::NAME, db.clone()).spawn(),
        ];
        let mail = MailOutbox::new();
        if S::SENDS_MAIL {
            background.push(mail.relay(db.clone(), shared.mailer.clone()));
        }
        let service = S::build(Context {
            config: Section::<S>::section(config).clone(),
            db: db.clone(),
            outbox,
            bus: shared.bus.clone(),
            mailer: shared.mailer.clone(),
            mail,
            clock: shared.clock.clone(),
            timers: frevix_platform::timers::Timers::new(shared.clock.clone()).with_lease(
                chrono::Duration::seconds(
                    i64::try_from(config.server().timer_lease_secs).unwrap_or(20),
                ),
            ),
            auth: config.auth().clone(),
            verification_keys: shared.verification_keys.clone(),
            data_dir: config.data_dir().to_path_buf(),
            max_message_bytes: server.max_message_bytes(),
            trust_forwarded_for: config.server().trust_forwarded_for,
        })
        .await
        .map_err(|error| anyhow::anyhow!("{name}: {error}"))?;
        service.routes(&mut Routes::new(server));
        background.extend(
            service
                .start(&shared.bus)
                .await
                .with_context(|| format!("{name} consumers"))?,
        );
        Ok(Launched { db, background })
    }
}

/// Writes the configuration struct, the section lookups and the
/// [`SERVICES`](crate::registry::SERVICES) list from the registry's lines.
macro_rules! registry {
    ($($name:ident: $service:ty),* $(,)?) => {
        /// The whole Frevix configuration: shared sections plus one per
        /// service. Loaded as defaults → `--config` TOML file → `FREVIX_…`
        /// environment → command-line flags, then validated with the
        /// failing key named.
        #[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
        #[serde(default, deny_unknown_fields)]
        pub struct FrevixConfig {
            /// Where the all-in-one shape keeps its SQLite files and mail.
            pub data_dir: std::path::PathBuf,
            pub log_format: $crate::config::LogFormat,
            pub server: frevix_platform::config::ServerConfig,
            pub auth: frevix_platform::config::AuthConfig,
            pub mail: frevix_platform::config::MailConfig,
            pub events: frevix_platform::events::EventsConfig,
            $(pub $name: <$service as frevix_platform::service::Service>::Config,)*
        }

        impl Default for FrevixConfig {
            fn default() -> Self {
                Self {
                    data_dir: std::path::PathBuf::from("data"),
                    log_format: $crate::config::LogFormat::Json,
                    server: Default::default(),
                    auth: Default::default(),
                    mail: Default::default(),
                    events: Default::default(),
                    $($name: Default::default(),)*
                }
            }
        }

        $(
            impl $crate::entry::Section<$service> for FrevixConfig {
                const KEY: &'static str = stringify!($name);

                fn section(&self) -> &<$service as frevix_platform::service::Service>::Config {
                    &self.$name
                }

                fn section_mut(&mut self) -> &mut <$service as frevix_platform::service::Service>::Config {
                    &mut self.$name
                }
            }
        )*

        impl $crate::entry::Shell for FrevixConfig {
            fn data_dir(&self) -> &std::path::Path {
                &self.data_dir
            }

            fn auth(&self) -> &frevix_platform::config::AuthConfig {
                &self.auth
            }

            fn server(&self) -> &frevix_platform::config::ServerConfig {
                &self.server
            }
        }

        /// A registered service of this binary.
        pub type ServiceEntry = dyn $crate::entry::Entry<FrevixConfig>;

        /// Every service, in the order they start in one process.
        pub static SERVICES: &[&ServiceEntry] = &[$(&$crate::entry::Registered::<$service>::NEW,)*];
    };
}
pub(crate) use registry;
