//! Frevix messaging: conversations (direct, group, and one per contract
//! opened from contracts' events), messages numbered per conversation at
//! commit, read and delivery positions, a live feed that replays what a
//! client missed before it streams what is new (across replicas through
//! NATS), presence, typing, blocking, contact masking before a contract is
//! funded, and notifications (stored, live and mailed) from every
//! service's events.

mod api;
pub mod config;
mod convert;
pub mod domain;
pub mod error;
mod events;
mod facts;
mod hub;
mod notify;
mod presence;
mod slots;
pub mod store;
mod writer;

use std::sync::Arc;
use std::time::Duration;

use frevix_platform::events::{Background, BusError, EventBus};
use frevix_platform::rate_limit::KeyedLimiter;
use frevix_platform::service::{Context, Routes, Service, StartError};
use frevix_proto::messaging::v1::media_service_server::MediaServiceServer;
use frevix_proto::messaging::v1::messaging_service_server::MessagingServiceServer;
use frevix_proto::messaging::v1::notification_service_server::NotificationServiceServer;
use sea_orm::DatabaseConnection;
use secrecy::ExposeSecret as _;

pub use api::{MediaApi, MessagingApi, NotificationApi};
pub use config::MessagingConfig;
pub use store::Migrator;

/// The name messaging publishes its events under (`frevix.messaging.>`).
pub const PRODUCER: &str = <Messaging as Service>::NAME;

pub(crate) struct Inner {
    pub db: DatabaseConnection,
    pub hub: Arc<hub::Hub>,
    pub presence: Arc<presence::Presence>,
    pub heartbeat: Duration,
    pub sends: KeyedLimiter,
    /// Turns of the send path, and how long a send waits for one.
    pub send_turns: Arc<frevix_platform::shed::Limiter>,
    pub send_wait: Duration,
    pub typing: KeyedLimiter,
    /// Groups one account may create.
    pub groups: KeyedLimiter,
    pub edit_window: chrono::Duration,
    pub notifier: notify::Notifier,
    pub media: Arc<dyn object_store::ObjectStore>,
    pub media_config: config::MediaConfig,
    /// Group commit of sent messages.
    pub writer: writer::Writer,
    /// What sends are checked against, kept in memory.
    pub facts: Arc<facts::Facts>,
}

/// The connections of the send path (loading facts, group commit). On
/// PostgreSQL a pool of its own whose statements always run a generic plan:
/// they are key lookups taking arrays, and PostgreSQL, left to choose,
/// planned each execution anew for about as long as it took to run. The
/// other statements (search above all) keep plans made for their values.
/// SQLite has one connection, shared.
async fn send_pool(
    db: &DatabaseConnection,
    config: &MessagingConfig,
    connections: usize,
) -> Result<DatabaseConnection, sea_orm::DbErr> {
    if db.get_database_backend() != sea_orm::DatabaseBackend::Postgres {
        return Ok(db.clone());
    }
    let connections = u32::try_from(connections).unwrap_or(10);
    frevix_platform::db::connect_pool(
        config.database.url.expose_secret(),
        connections,
        connections,
        &[("plan_cache_mode", "force_generic_plan")],
    )
    .await
}

/// The object store `config` names, or a directory under `default_dir`.
fn media_store(
    config: &config::MediaConfig,
    default_dir: &std::path::Path,
) -> Result<Arc<dyn object_store::ObjectStore>, StartError> {
    if config.store_url.starts_with("s3://") {
        let s3 = object_store::aws::AmazonS3Builder::from_env()
            .with_url(config.store_url.clone())
            .build()?;
        return Ok(Arc::new(s3));
    }
    let dir = match config.store_url.strip_prefix("file://") {
        Some(dir) => std::path::PathBuf::from(dir),
        None => default_dir.to_path_buf(),
    };
    std::fs::create_dir_all(&dir)?;
    Ok(Arc::new(
        object_store::local::LocalFileSystem::new_with_prefix(dir)?,
    ))
}

/// The messaging service, ready to be served.
#[derive(Clone)]
pub struct Messaging {
    inner: Arc<Inner>,
    /// The send path's tasks, handed to the kit's drain by `start`.
    workers: Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

#[async_trait::async_trait]
impl Service for Messaging {
    const NAME: &'static str = "messaging";
    const MESH_PORT: u16 = 50055;
    const SENDS_MAIL: bool = true;
    type Config = MessagingConfig;
    type Migrator = Migrator;

    /// Messaging on its database, fanning out through the bus (NATS
    /// subjects and the presence bucket in the mesh), and keeping media
    /// where the config says (by default under the data directory).
    async fn build(context: Context<MessagingConfig>) -> Result<Self, StartError> {
        let Context {
            config,
            db,
            outbox,
            bus,
            mailer,
            data_dir,
            ..
        } = context;
        let config = &config;
        let media = media_store(&config.media, &data_dir.join("media"))?;
        let ttl = Duration::from_secs(config.presence_ttl_secs);
        let live = bus.live("presence", ttl).await?;
        let hub = hub::Hub::new(
            config.stream_buffer,
            config.max_streams_per_account,
            live.fanout.clone(),
        );
        let presence = presence::Presence::new(db.clone(), &hub, live.leases, ttl);
        let fanout = live.fanout.clone();
        let notifier = notify::Notifier::new(db.clone(), mailer, config.app_url.clone());
        // The send path's pool has two more connections for loading what
        // sends are checked against.
        let writers = match config.send_writers {
            0 => std::thread::available_parallelism().map_or(2, |n| n.get().max(2)),
            n => usize::try_from(n).unwrap_or(2),
        };
        let send_db = send_pool(&db, config, writers + 2).await?;
        let (writer, mut workers) = writer::Writer::start(send_db.clone(), outbox.clone(), writers);
        let (facts, askers) = facts::Facts::start(
            send_db,
            2,
            Duration::from_millis(config.send_facts_ttl_ms),
            fanout,
        )
        .await;
        workers.extend(askers);
        Ok(Self {
            workers: Arc::new(std::sync::Mutex::new(workers)),
            inner: Arc::new(Inner {
                db,
                hub,
                presence,
                heartbeat: Duration::from_secs(config.heartbeat_secs),
                sends: KeyedLimiter::per_minute(
                    config.sends_per_minute,
                    config.sends_per_minute / 4,
                ),
                send_turns: frevix_platform::shed::Limiter::new(if config.adaptive_sends {
                    frevix_platform::shed::Tuning::adaptive(4, config.max_concurrent_sends)
                } else {
                    frevix_platform::shed::Tuning::fixed(config.max_concurrent_sends)
                }),
                send_wait: Duration::from_millis(config.send_wait_ms),
                typing: KeyedLimiter::per_minute(120, 20),
                groups: KeyedLimiter::per_minute(
                    config.groups_per_minute,
                    config.groups_per_minute.max(1) * 5,
                ),
                edit_window: chrono::Duration::seconds(
                    i64::try_from(config.edit_window_secs).unwrap_or(900),
                ),
                notifier,
                media,
                media_config: config.media.clone(),
                writer,
                facts,
            }),
        })
    }

    /// MessagingService, NotificationService and MediaService (uploads
    /// arrive in chunks of at most 1 MiB).
    fn routes(&self, routes: &mut Routes<'_>) {
        let max = routes.max_message_bytes();
        let media_max = max.max(2 * 1024 * 1024);
        routes
            .grpc(frevix_platform::grpc_service!(
                MessagingServiceServer::new(MessagingApi::new(self.inner.clone())),
                max
            ))
            .grpc(frevix_platform::grpc_service!(
                NotificationServiceServer::new(NotificationApi::new(self.inner.clone())),
                max
            ))
            .grpc(frevix_platform::grpc_service!(
                MediaServiceServer::new(MediaApi::new(self.inner.clone())),
                media_max
            ));
    }

    /// Starts the consumers (contract conversations, system messages,
    /// notifications, the accounts read model), the notification mailer and
    /// the presence upkeep.
    async fn start(&self, bus: &EventBus) -> Result<Vec<Background>, BusError> {
        let mut background = events::consume(bus, &self.inner).await?;
        let presence = self.inner.presence.clone();
        background.push(Background::spawn(move |stop| async move {
            let mut stop = stop;
            tokio::select! {
                () = presence.run() => {}
                _ = stop.wait_for(|stopped| *stopped) => {}
            }
        }));
        let notifier = self.inner.notifier.clone();
        background.push(Background::spawn(move |stop| notifier.mail_loop(stop)));
        // The send path's writers and loaders end when the server has
        // drained and the last handler let go of them.
        let workers = self
            .workers
            .lock()
            .map(|mut workers| std::mem::take(&mut *workers))
            .unwrap_or_default();
        background.push(Background::tasks(workers));
        Ok(background)
    }
}
