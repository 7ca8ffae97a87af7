//! The whole product as a child process a test can crash and restart
//! (`payments_crash`), and what its sandbox provider holds.

use std::path::Path;
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, Statement};
use tonic::transport::Channel;
use tonic::{Code, Status};

/// The all-in-one product as a child process on a data directory of its own.
pub struct Product {
    pub dir: tempfile::TempDir,
    pub port: u16,
    child: Option<tokio::process::Child>,
    pub crashes: usize,
    /// Settings of every run beyond the test's own (e.g. the provider).
    env: Vec<(String, String)>,
}

impl Product {
    /// Starts it, to crash at `crash_at`, with `env` set for every run.
    pub async fn start_with(crash_at: &str, env: Vec<(String, String)>) -> Product {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut product = Product {
            dir: tempfile::tempdir().unwrap(),
            port,
            child: None,
            crashes: 0,
            env,
        };
        product.launch(Some(crash_at));
        product
    }

    fn launch(&mut self, crash_at: Option<&str>) {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_frevix"));
        command
            .args([
                "serve",
                "all",
                "--listen",
                &format!("127.0.0.1:{}", self.port),
            ])
            .arg("--data-dir")
            .arg(self.dir.path())
            .env_remove("FREVIX_CONFIG")
            .env("FREVIX_PAYMENTS__CLEARANCE_DAYS", "0")
            // A timer claimed by the killed process fires again soon.
            .env("FREVIX_SERVER__TIMER_LEASE_SECS", "3")
            .env("RUST_LOG", "error")
            .stdout(std::process::Stdio::null())
            .kill_on_drop(true);
        for (key, _) in std::env::vars() {
            if key.starts_with("FREVIX_") && key.ends_with("__DATABASE__URL") {
                command.env_remove(key);
            }
        }
        command.envs(self.env.iter().map(|(k, v)| (k, v)));
        match crash_at {
            Some(point) => command.env("FREVIX_TEST_CRASH_AT", point),
            None => command.env_remove("FREVIX_TEST_CRASH_AT"),
        };
        // What each run says on its way out, to see where it stopped.
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("stderr.log"))
            .unwrap();
        command.stderr(log);
        self.child = Some(command.spawn().unwrap());
    }

    /// Starts the product again (without the crash) if it has died.
    pub fn revive(&mut self) {
        let dead = self
            .child
            .as_mut()
            .is_none_or(|child| child.try_wait().unwrap().is_some());
        if dead {
            self.crashes += 1;
            self.launch(None);
        }
    }

    /// A connection, once the product answers.
    pub async fn channel(&mut self) -> Channel {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            self.revive();
            let attempt = Channel::from_shared(format!("http://127.0.0.1:{}", self.port))
                .unwrap()
                .connect()
                .await;
            if let Ok(channel) = attempt {
                return channel;
            }
            assert!(Instant::now() < deadline, "the product never came up");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Whether `status` says the process went away (retry after reviving it).
pub fn lost(status: &Status) -> bool {
    matches!(
        status.code(),
        Code::Unavailable | Code::Unknown | Code::Cancelled | Code::Internal
    ) && !status
        .message()
        .contains("internal error; it has been logged")
}

/// (kind, amount) of every object the sandbox provider holds.
pub async fn provider_objects(dir: &Path) -> Vec<(String, String, i64)> {
    let url = frevix_platform::db::sqlite_url(&dir.join("payments-sandbox.db"));
    let db = sea_orm::Database::connect(url).await.unwrap();
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT kind, status, amount_minor FROM sandbox_objects ORDER BY kind",
        ))
        .await
        .unwrap();
    rows.iter()
        .map(|row| {
            (
                row.try_get("", "kind").unwrap(),
                row.try_get("", "status").unwrap(),
                row.try_get("", "amount_minor").unwrap(),
            )
        })
        .collect()
}
