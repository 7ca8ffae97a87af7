//! A running Frevix for one test.

mod events;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Once;
use std::time::{Duration, Instant};

use frevix::app::App;
use frevix::config::{FrevixConfig, Shape};
use frevix::registry::SERVICES;
use frevix_platform::clock::Clock;
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

    /// Stops serving and waits for the drain.
    pub async fn stop(mut self) {
        self.halt().await;
    }

    /// Stops serving, and the work its services do in the background
    /// (relays, consumers, timers), keeping its databases and streams: a
    /// service process started beside it ([`Self::spawn_process`]) goes on
    /// alone on them.
    pub async fn halt(&mut self) {
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
