//! Mail survives a crash: a sign-up commits while the mail server is
//! unreachable, the process is killed (SIGKILL) before the code could be
//! sent, and the next process sends it, once, then clears its body.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use frevix_proto::identity::v1::{self as pb, identity_service_client::IdentityServiceClient};
use frevix_testkit::{
    Backend, SmtpSink, TestDatabase, TestStreams, on_both_backends, read_mail, unique_email,
};
use sea_orm::{ConnectionTrait, Database, Statement};
use tonic::transport::Channel;

/// Where the database is and how to start a process on it.
struct Setup {
    backend: Backend,
    dir: tempfile::TempDir,
    database_url: String,
    _database: Option<TestDatabase>,
    _streams: Option<TestStreams>,
}

impl Setup {
    async fn new(backend: Backend) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        match backend {
            Backend::Postgres => {
                let entry = frevix::registry::service("identity").unwrap();
                let database = TestDatabase::create_for(entry).await;
                Setup {
                    backend,
                    database_url: database.url.clone(),
                    dir,
                    _database: Some(database),
                    _streams: Some(TestStreams::new()),
                }
            }
            Backend::Sqlite => Setup {
                backend,
                database_url: frevix_platform::db::sqlite_url(&dir.path().join("data/identity.db")),
                dir,
                _database: None,
                _streams: None,
            },
        }
    }

    /// Starts identity (alone on PostgreSQL, the all-in-one on SQLite)
    /// mailing through `smtp_url`.
    async fn start(&self, smtp_url: &str) -> (tokio::process::Child, Channel) {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let listen = format!("127.0.0.1:{port}");
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_frevix"));
        command
            .env("FREVIX_MAIL__SMTP_URL", smtp_url)
            .env("RUST_LOG", "warn")
            .kill_on_drop(true)
            .stdout(std::process::Stdio::null());
        match self.backend {
            Backend::Postgres => {
                let streams = self._streams.as_ref().unwrap();
                command
                    .args(["serve", "identity", "--listen", &listen])
                    .env("FREVIX_IDENTITY__DATABASE__URL", &self.database_url)
                    .env(
                        "FREVIX_IDENTITY__MASTER_KEY_FILE",
                        self.dir.path().join("master.key"),
                    )
                    .env("FREVIX_EVENTS__NATS_URL", &streams.url)
                    .env("FREVIX_EVENTS__SUBJECT_PREFIX", &streams.prefix);
            }
            Backend::Sqlite => {
                command
                    .args(["serve", "all", "--listen", &listen, "--data-dir"])
                    .arg(self.data_dir());
            }
        }
        let child = command.spawn().unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(channel) = Channel::from_shared(format!("http://{listen}"))
                .unwrap()
                .connect()
                .await
            {
                return (child, channel);
            }
            assert!(Instant::now() < deadline, "frevix never came up");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }
}

async fn mail_rows(url: &str) -> Vec<(String, bool)> {
    let db = Database::connect(url).await.unwrap();
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT body, sent_at IS NOT NULL AS sent FROM mail_outbox",
        ))
        .await
        .unwrap();
    let found = rows
        .iter()
        .map(|row| {
            (
                row.try_get::<String>("", "body").unwrap(),
                row.try_get::<bool>("", "sent").unwrap(),
            )
        })
        .collect();
    db.close().await.unwrap();
    found
}

async fn wait_for_mail(maildir: &Path, to: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while read_mail(maildir, to).is_empty() {
        assert!(Instant::now() < deadline, "the code never went out");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn a_code_committed_before_a_crash_is_mailed_once_after_restart(backend: Backend) {
    let setup = Setup::new(backend).await;
    let maildir = setup.dir.path().join("maildir");
    let sink = SmtpSink::start(&maildir).await;
    // Nothing listens on port 9: every send fails and is retried later.
    let (mut first, channel) = setup.start("smtp://127.0.0.1:9").await;
    let email = unique_email("crash");
    IdentityServiceClient::new(channel)
        .sign_up(pb::SignUpRequest {
            email: email.clone(),
            password: "a perfectly fine passphrase".into(),
            display_name: "Crash Test".into(),
            roles: vec![pb::Role::Client as i32],
        })
        .await
        .unwrap();
    // Let the relay try (and fail) once, then kill the process outright.
    tokio::time::sleep(Duration::from_millis(500)).await;
    first.start_kill().unwrap();
    first.wait().await.unwrap();
    assert!(read_mail(&maildir, &email).is_empty());
    let queued = mail_rows(&setup.database_url).await;
    assert_eq!(queued.len(), 1);
    assert!(!queued[0].1, "not sent yet");

    let (_second, _) = setup
        .start(&format!("smtp://127.0.0.1:{}", sink.port))
        .await;
    wait_for_mail(&maildir, &email).await;
    // Past a few more relay passes: still one message.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let mail = read_mail(&maildir, &email);
    assert_eq!(mail.len(), 1, "{mail:?}");
    assert!(frevix_testkit::code_in(&mail[0]).is_some());
    let sent = mail_rows(&setup.database_url).await;
    assert_eq!(
        sent,
        [(String::new(), true)],
        "sent, and the code is not kept"
    );
}

on_both_backends!(a_code_committed_before_a_crash_is_mailed_once_after_restart);
