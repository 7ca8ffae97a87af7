//! A running Frevix for one test.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Once;
use std::time::{Duration, Instant};

use frevix::app::App;
use frevix::config::{FrevixConfig, Shape};
use frevix::registry::{self, SERVICES};
use frevix_platform::clock::Clock;
use frevix_platform::events::{JetStreamBus, Tail};
use std::collections::HashMap;

use frevix_platform::events::{Background, EventBus, Outbox};
use frevix_proto::contracts::v1::contract_service_client::ContractServiceClient;
use frevix_proto::identity::v1::{self as pb, identity_service_client::IdentityServiceClient};
use frevix_proto::marketplace::v1::marketplace_service_client::MarketplaceServiceClient;
use frevix_proto::messaging::v1::media_service_client::MediaServiceClient;
use frevix_proto::messaging::v1::messaging_service_client::MessagingServiceClient;
use frevix_proto::messaging::v1::notification_service_client::NotificationServiceClient;
use frevix_proto::payments::v1::payment_service_client::PaymentServiceClient;
use secrecy::SecretString;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::Channel;

use crate::events::TestStreams;
use crate::mail::{CapturedMail, SmtpSink, code_in, read_mail};
use crate::postgres::TestDatabase;

/// Which database (and mail path) a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// PostgreSQL, with mail over SMTP: the mesh's parts.
    Postgres,
    /// SQLite files, with mail as `.eml` files: the all-in-one shape.
    Sqlite,
}

/// A verified, logged-in user.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub email: String,
    pub password: String,
    pub account_id: String,
    pub access_token: String,
    pub refresh_token: String,
    pub session_id: String,
    /// The base32 TOTP secret, once two-factor authentication is on.
    pub two_factor_secret: String,
}

/// One running application.
pub struct TestApp {
    pub backend: Backend,
    pub addr: SocketAddr,
    pub config: FrevixConfig,
    pub identity: IdentityServiceClient<Channel>,
    pub marketplace: MarketplaceServiceClient<Channel>,
    pub contracts: ContractServiceClient<Channel>,
    pub payments: PaymentServiceClient<Channel>,
    pub messaging: MessagingServiceClient<Channel>,
    pub notifications: NotificationServiceClient<Channel>,
    pub media: MediaServiceClient<Channel>,
    /// The process's event transport, for publishing as another service.
    pub bus: EventBus,
    /// The clock its services read.
    pub clock: Clock,
    fake_producers:
        tokio::sync::Mutex<HashMap<String, (Outbox, Background, sea_orm::DatabaseConnection)>>,
    mail_dir: PathBuf,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<anyhow::Result<()>>>,
    _smtp: Option<SmtpSink>,
    _streams: Option<TestStreams>,
    _databases: Vec<TestDatabase>,
    _dir: Option<tempfile::TempDir>,
}

static TRACING: Once = Once::new();

/// Connections each service's pool may open in a test app on PostgreSQL.
const TEST_POOL: u32 = 8;

fn init_tracing() {
    TRACING.call_once(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            let _ = frevix_platform::telemetry::init(
                "frevix-test",
                frevix_platform::telemetry::LogFormat::Text,
            );
        }
    });
}

/// A unique address, so tests never collide on one database.
pub fn unique_email(prefix: &str) -> String {
    format!(
        "{prefix}-{}@example.com",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    )
}

/// `message` with `authorization: Bearer <token>`.
pub fn authed<T>(token: &str, message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    request
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> TestApp {
        Self::spawn_with(backend, |_| {}).await
    }

    /// Spawns with a configuration `tweak` applied last.
    pub async fn spawn_with(backend: Backend, tweak: impl FnOnce(&mut FrevixConfig)) -> TestApp {
        Self::spawn_timed(backend, Clock::system(), tweak).await
    }

    /// Spawns with services reading `clock` (a [`crate::TestClock`]'s, to
    /// move time instead of waiting).
    pub async fn spawn_timed(
        backend: Backend,
        clock: Clock,
        tweak: impl FnOnce(&mut FrevixConfig),
    ) -> TestApp {
        init_tracing();
        let dir = tempfile::tempdir().unwrap();
        let mut config = FrevixConfig {
            data_dir: dir.path().join("data"),
            ..FrevixConfig::default()
        };
        config.server.listen = SocketAddr::from(([127, 0, 0, 1], 0));
        config.server.shutdown_grace_secs = 2;
        let mut streams = None;
        let (database, smtp, mail_dir) = match backend {
            Backend::Postgres => {
                let mut database = Vec::new();
                for entry in SERVICES {
                    let created = TestDatabase::create_for(*entry).await;
                    let db = entry.database_mut(&mut config);
                    db.url = SecretString::from(created.url.clone());
                    // Tests run side by side on one PostgreSQL (100
                    // connections by default): each service of each app
                    // gets a few.
                    db.max_connections = TEST_POOL;
                    database.push(created);
                }
                let maildir = dir.path().join("maildir");
                let smtp = SmtpSink::start(&maildir).await;
                config.mail.smtp_url =
                    SecretString::from(format!("smtp://127.0.0.1:{}", smtp.port));
                let isolated = TestStreams::new();
                config.events.nats_url = isolated.url.clone();
                config.events.subject_prefix = isolated.prefix.clone();
                streams = Some(isolated);
                (database, Some(smtp), maildir)
            }
            Backend::Sqlite => (Vec::new(), None, config.data_dir.join("mail")),
        };
        config.resolve(Shape::AllInOne);
        tweak(&mut config);
        let mut app = Self::start(backend, config, Shape::AllInOne, mail_dir, clock).await;
        app._smtp = smtp;
        app._streams = streams;
        app._databases = database;
        app._dir = Some(dir);
        app
    }

    /// A second server on the same databases and mail, configured by
    /// `tweak` (for example to verify tokens through this one's JWKS).
    pub async fn spawn_beside(
        &self,
        shape: Shape,
        tweak: impl FnOnce(&mut FrevixConfig),
    ) -> TestApp {
        let mut config = self.config.clone();
        config.server.listen = SocketAddr::from(([127, 0, 0, 1], 0));
        if shape != Shape::AllInOne && self.backend == Backend::Sqlite {
            // The mesh shape insists on SMTP; nothing is mailed in these tests.
            config.mail.smtp_url = SecretString::from("smtp://127.0.0.1:9");
        }
        // The mesh shape insists on JetStream too.
        let mut streams = None;
        if shape != Shape::AllInOne && config.events.nats_url.is_empty() {
            let isolated = TestStreams::new();
            config.events.nats_url = isolated.url.clone();
            config.events.subject_prefix = isolated.prefix.clone();
            streams = Some(isolated);
        }
        tweak(&mut config);
        let mut app = Self::start(
            self.backend,
            config,
            shape,
            self.mail_dir.clone(),
            self.clock.clone(),
        )
        .await;
        app._streams = streams;
        app
    }

    async fn start(
        backend: Backend,
        config: FrevixConfig,
        shape: Shape,
        mail_dir: PathBuf,
        clock: Clock,
    ) -> TestApp {
        config.validate(shape).unwrap();
        let listener = tokio::net::TcpListener::bind(config.server.listen)
            .await
            .unwrap();
        let app = App::build_on(&config, shape, listener, clock.clone())
            .await
            .unwrap();
        let bus = app.events();
        let addr = app.local_addr().unwrap();
        let (shutdown, stop) = oneshot::channel::<()>();
        let task = tokio::spawn(app.serve(async move {
            let _ = stop.await;
        }));
        let channel = Channel::from_shared(format!("http://{addr}"))
            .unwrap()
            .connect()
            .await
            .unwrap();
        TestApp {
            backend,
            addr,
            config,
            identity: IdentityServiceClient::new(channel.clone()),
            marketplace: MarketplaceServiceClient::new(channel.clone()),
            contracts: ContractServiceClient::new(channel.clone()),
            payments: PaymentServiceClient::new(channel.clone()),
            messaging: MessagingServiceClient::new(channel.clone()),
            notifications: NotificationServiceClient::new(channel.clone()),
            media: MediaServiceClient::new(channel)
                .max_decoding_message_size(8 * 1024 * 1024)
                .max_encoding_message_size(8 * 1024 * 1024),
            bus,
            clock,
            fake_producers: tokio::sync::Mutex::new(HashMap::new()),
            mail_dir,
            shutdown: Some(shutdown),
            task: Some(task),
            _smtp: None,
            _streams: None,
            _databases: Vec::new(),
            _dir: None,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Where this app's mail lands (SMTP maildir or `.eml` directory).
    pub fn mail_dir(&self) -> &std::path::Path {
        &self.mail_dir
    }

    /// Every message sent to `to` so far, oldest first.
    pub fn mail_to(&self, to: &str) -> Vec<CapturedMail> {
        read_mail(&self.mail_dir, to)
    }

    /// Waits for the `nth` (1-based) message to `to` and returns its code.
    pub async fn code_from_mail(&self, to: &str, nth: usize) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let mail = self.mail_to(to);
            if let Some(message) = mail.get(nth - 1) {
                return code_in(message)
                    .unwrap_or_else(|| panic!("no code in mail: {}", message.raw));
            }
            assert!(
                Instant::now() < deadline,
                "no mail #{nth} to {to} within 10 s (have {})",
                mail.len()
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Signs up a CLIENT + FREELANCER account (not verified yet).
    pub async fn sign_up(&self, email: &str, password: &str) -> pb::Account {
        self.identity
            .clone()
            .sign_up(pb::SignUpRequest {
                email: email.to_owned(),
                password: password.to_owned(),
                display_name: "Test Person".to_owned(),
                roles: vec![pb::Role::Client as i32, pb::Role::Freelancer as i32],
            })
            .await
            .unwrap()
            .into_inner()
            .account
            .unwrap()
    }

    /// Signs up, verifies through the mailed code, and logs in.
    pub async fn register(&self) -> TestUser {
        let email = unique_email("user");
        let password = "a perfectly fine passphrase".to_owned();
        self.sign_up(&email, &password).await;
        let code = self.code_from_mail(&email, 1).await;
        self.identity
            .clone()
            .verify_email(pb::VerifyEmailRequest {
                email: email.clone(),
                code,
            })
            .await
            .unwrap();
        self.login(&email, &password).await
    }

    pub async fn login(&self, email: &str, password: &str) -> TestUser {
        let response = self
            .identity
            .clone()
            .login(pb::LoginRequest {
                email: email.to_owned(),
                password: password.to_owned(),
                device_name: "test".to_owned(),
                second_factor_code: String::new(),
            })
            .await
            .unwrap()
            .into_inner();
        let tokens = response.tokens.unwrap();
        TestUser {
            email: email.to_owned(),
            password: password.to_owned(),
            account_id: response.account.unwrap().id,
            access_token: tokens.access_token,
            refresh_token: tokens.refresh_token,
            session_id: tokens.session_id,
            two_factor_secret: String::new(),
        }
    }

    /// Waits (up to 10 s) for an event of type `E` from `producer` that
    /// satisfies `wanted`, reading the producer's stream from its start.
    pub async fn wait_for_event<E: prost::Name + Default>(
        &self,
        producer: &str,
        wanted: impl Fn(&E) -> bool,
    ) -> E {
        let mut tail = self.tail(producer).await;
        let deadline = Duration::from_secs(10);
        tokio::time::timeout(deadline, async {
            loop {
                let event = tail.next().await.unwrap();
                if let Ok(decoded) = event.decode::<E>()
                    && wanted(&decoded)
                {
                    return decoded;
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("no matching {} within {deadline:?}", E::full_name()))
    }

    /// Every event `producer` has published so far, in stream order.
    pub async fn published_events(
        &self,
        producer: &str,
    ) -> Vec<frevix_platform::events::ReceivedEvent> {
        let mut tail = self.tail(producer).await;
        let mut events = Vec::new();
        // The first event may be slow to come on a busy machine; after it,
        // a pause means the end of what was published.
        loop {
            let wait = if events.is_empty() { 2_000 } else { 500 };
            match tokio::time::timeout(Duration::from_millis(wait), tail.next()).await {
                Ok(Ok(event)) => events.push(event),
                _ => return events,
            }
        }
    }

    /// The `E` events `producer` has published, once there are `expected`
    /// of them (a read of the log can stop short while the machine is busy,
    /// so it is read again until then, for up to 15 s), checked again a
    /// moment later: still exactly `expected`, none doubled.
    pub async fn published_exactly<E: prost::Name + Default>(
        &self,
        producer: &str,
        expected: usize,
    ) -> Vec<E> {
        let read = || async {
            self.published_events(producer)
                .await
                .iter()
                .filter(|event| event.is::<E>())
                .map(|event| event.decode::<E>().unwrap())
                .collect::<Vec<E>>()
        };
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let events = read().await;
            if events.len() >= expected || Instant::now() >= deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        let events = read().await;
        assert_eq!(events.len(), expected, "{}", E::full_name());
        events
    }

    /// Publishes `event` as `producer` would, through this process's
    /// transport: through the outbox of `producer` itself when it is one of
    /// this app's services (so its consumers read it wherever they read
    /// that service's events), or else through a stand-in's outbox (a
    /// service not built yet, such as payments).
    pub async fn publish_as<E: prost::Name>(
        &self,
        producer: &'static str,
        aggregate_id: &str,
        event: &E,
    ) {
        let mut producers = self.fake_producers.lock().await;
        if !producers.contains_key(producer) {
            let db = match registry::service(producer) {
                Some(entry) => {
                    let url =
                        secrecy::ExposeSecret::expose_secret(&entry.database(&self.config).url)
                            .to_owned();
                    entry.connect(&url, 2).await.unwrap()
                }
                None => {
                    let dir = self
                        ._dir
                        .as_ref()
                        .map_or_else(std::env::temp_dir, |d| d.path().to_path_buf());
                    let name = format!("fake-{producer}-{}.db", uuid::Uuid::new_v4().simple());
                    let url = frevix_platform::db::sqlite_url(&dir.join(name));
                    frevix_platform::db::connect_and_migrate::<FakeProducer>(&url, 1)
                        .await
                        .unwrap()
                }
            };
            let (outbox, relay) = self.bus.producer(producer, db.clone()).await.unwrap();
            producers.insert(producer.to_owned(), (outbox, relay.spawn(), db));
        }
        let (outbox, _, db) = &producers[producer];
        let txn = frevix_platform::db::Txn::begin(db).await.unwrap();
        outbox
            .publish(&txn, "test", aggregate_id, event)
            .await
            .unwrap();
        txn.commit().await.unwrap();
    }

    async fn tail(&self, producer: &str) -> Tail {
        if self.config.events.nats_url.is_empty() {
            let entry = registry::service(producer)
                .unwrap_or_else(|| panic!("no outbox known for {producer}"));
            let url =
                secrecy::ExposeSecret::expose_secret(&entry.database(&self.config).url).to_owned();
            let db = sea_orm::Database::connect(url.as_str()).await.unwrap();
            Tail::outbox(db, true).await.unwrap()
        } else {
            let bus = JetStreamBus::connect(self.config.events.clone())
                .await
                .unwrap();
            Tail::jetstream(&bus, producer, true).await.unwrap()
        }
    }

    /// Stops serving and waits for the drain.
    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap().unwrap();
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

/// The outbox table alone: the database of a producer a test stands in for.
struct FakeProducer;

#[async_trait::async_trait]
impl sea_orm_migration::MigratorTrait for FakeProducer {
    fn migrations() -> Vec<Box<dyn sea_orm_migration::MigrationTrait>> {
        vec![
            Box::new(frevix_platform::events::schema::OutboxTable),
            Box::new(frevix_platform::events::schema::OutboxPendingIndex),
        ]
    }
}
