//! The mesh as `make mesh` runs it — every service its own `frevix serve`
//! process with its own database, Envoy in front, an SMTP server, payments
//! talking to the Stripe stand-in (in this process, so the checker can read
//! what the provider holds) — owned by the chaos run, so its fault driver
//! can SIGKILL a service and start it again on the same port, and restart
//! the broker and the database (through `scripts/test-services.sh`, which
//! started private ones for this run).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use frevix_stripe_standin::{Endpoint, StandIn};
use frevix_testkit::SmtpSink;
use sea_orm::ConnectionTrait as _;
use tokio::process::{Child, Command};
use tokio::sync::Mutex;

pub const SERVICES: [&str; 5] = [
    "identity",
    "marketplace",
    "contracts",
    "payments",
    "messaging",
];
pub const WEBHOOK_SECRET: &str = "whsec_frevix_chaos";
pub const ADMIN_EMAIL: &str = "admin@chaos.frevix.test";
pub const ADMIN_PASSWORD: &str = "the chaos admin's passphrase";

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// One service of the mesh and its process, when it runs.
pub struct Service {
    pub name: &'static str,
    pub port: u16,
    env: Vec<(String, String)>,
    child: Mutex<Option<Child>>,
}

pub struct Mesh {
    pub dir: PathBuf,
    frevix: PathBuf,
    pub services: Vec<Service>,
    pub gateway: u16,
    /// PostgreSQL's URL (its `postgres` database) and NATS's.
    pub postgres: String,
    pub nats: String,
    pub standin: StandIn,
    _smtp: SmtpSink,
    _envoy: Child,
}

/// `count` ports that are free now, below Linux's ephemeral range: a port
/// in it could be taken as the source port of some outgoing connection
/// while its service is down, and the service could not come back.
fn free_ports(count: usize) -> anyhow::Result<Vec<u16>> {
    let mut ports = Vec::new();
    for port in 24_000..32_000u16 {
        if ports.len() == count {
            return Ok(ports);
        }
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            ports.push(port);
        }
    }
    bail!("no {count} free ports between 24000 and 32000")
}

/// The database of `service` for this run.
pub fn database_url(postgres: &str, service: &str) -> String {
    let server = postgres
        .rsplit_once('/')
        .map_or(postgres, |(server, _)| server);
    format!("{server}/chaos_{service}")
}

async fn fresh_databases(postgres: &str) -> anyhow::Result<()> {
    let db = sea_orm::Database::connect(postgres).await?;
    for service in SERVICES {
        db.execute_unprepared(&format!(
            "DROP DATABASE IF EXISTS chaos_{service} WITH (FORCE)"
        ))
        .await?;
        db.execute_unprepared(&format!("CREATE DATABASE chaos_{service}"))
            .await?;
    }
    Ok(())
}

impl Mesh {
    /// Starts everything on fresh databases under `dir`.
    pub async fn start(
        dir: &Path,
        frevix: &Path,
        postgres: &str,
        nats: &str,
    ) -> anyhow::Result<Mesh> {
        std::fs::create_dir_all(dir.join("logs"))?;
        std::fs::create_dir_all(dir.join("media"))?;
        fresh_databases(postgres).await?;
        let ports = free_ports(SERVICES.len() + 2)?;
        let (gateway, admin) = (ports[0], ports[1]);
        let smtp = SmtpSink::start(&dir.join("mail")).await;
        let standin = StandIn::start("127.0.0.1:0".parse()?).await?;
        standin.set_endpoint(Endpoint {
            url: format!("http://127.0.0.1:{gateway}/webhooks/stripe"),
            secret: WEBHOOK_SECRET.into(),
        });
        let identity_port = ports[2];
        let common = [
            ("FREVIX_EVENTS__NATS_URL", nats.to_owned()),
            (
                "FREVIX_MAIL__SMTP_URL",
                format!("smtp://127.0.0.1:{}", smtp.port),
            ),
            (
                "FREVIX_AUTH__JWKS_URL",
                format!("http://127.0.0.1:{identity_port}/.well-known/jwks.json"),
            ),
            ("FREVIX_SERVER__CORS_ALLOWED_ORIGINS", "[]".to_owned()),
            ("FREVIX_SERVER__TRUST_FORWARDED_FOR", "true".to_owned()),
            ("FREVIX_LOG_FORMAT", "text".to_owned()),
        ];
        let mut services = Vec::new();
        for (name, port) in SERVICES.into_iter().zip(ports[2..].iter().copied()) {
            let mut env: Vec<(String, String)> = common
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect();
            env.push((
                format!("FREVIX_{}__DATABASE__URL", name.to_uppercase()),
                database_url(postgres, name),
            ));
            env.extend(extra(name, dir, &standin));
            services.push(Service {
                name,
                port,
                env,
                child: Mutex::new(None),
            });
        }
        let envoy = envoy(dir, gateway, admin, &services).await?;
        let mesh = Mesh {
            dir: dir.to_owned(),
            frevix: frevix.to_owned(),
            services,
            gateway,
            postgres: postgres.to_owned(),
            nats: nats.to_owned(),
            standin,
            _smtp: smtp,
            _envoy: envoy,
        };
        for index in 0..mesh.services.len() {
            mesh.start_service(index).await?;
        }
        for service in &mesh.services {
            wait_listening(service.port, Duration::from_secs(120))
                .await
                .with_context(|| format!("{} never listened", service.name))?;
        }
        mesh.create_admin().await?;
        Ok(mesh)
    }

    pub fn gateway_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.gateway)
    }

    pub fn mail_dir(&self) -> PathBuf {
        self.dir.join("mail")
    }

    /// Starts service `index` (again), its output appended to its log.
    pub async fn start_service(&self, index: usize) -> anyhow::Result<()> {
        let service = &self.services[index];
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("logs").join(format!("{}.log", service.name)))?;
        let child = frevix(&self.frevix)
            .args(["serve", service.name, "--listen"])
            .arg(format!("127.0.0.1:{}", service.port))
            .envs(service.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", self.frevix.display()))?;
        *service.child.lock().await = Some(child);
        Ok(())
    }

    /// SIGKILLs service `index` and waits until it is gone.
    pub async fn kill_service(&self, index: usize) -> anyhow::Result<()> {
        if let Some(mut child) = self.services[index].child.lock().await.take() {
            child.start_kill()?;
            child.wait().await?;
        }
        Ok(())
    }

    /// Each running service's process id.
    pub async fn pids(&self) -> Vec<(&'static str, u32)> {
        let mut pids = Vec::new();
        for service in &self.services {
            if let Some(pid) = service.child.lock().await.as_ref().and_then(Child::id) {
                pids.push((service.name, pid));
            }
        }
        pids
    }

    /// Whether every service's process is still alive (none exited by
    /// itself: a crash of ours, not the fault driver's).
    pub async fn exited(&self) -> Vec<String> {
        let mut exited = Vec::new();
        for service in &self.services {
            if let Some(child) = service.child.lock().await.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                exited.push(format!("{} ({status})", service.name));
            }
        }
        exited
    }

    /// Stops every service gracefully (SIGTERM), so nothing more happens
    /// while the checker reads.
    pub async fn stop(&self) {
        for service in &self.services {
            if let Some(mut child) = service.child.lock().await.take() {
                if let Some(pid) = child.id() {
                    let _ = Command::new("kill")
                        .args(["-TERM", &pid.to_string()])
                        .status()
                        .await;
                }
                let _ = tokio::time::timeout(Duration::from_secs(20), child.wait()).await;
            }
        }
    }

    async fn create_admin(&self) -> anyhow::Result<()> {
        let identity = &self.services[0];
        let status = frevix(&self.frevix)
            .args(["admin", "create-admin", "--email", ADMIN_EMAIL])
            .envs(identity.env.iter().map(|(k, v)| (k, v)))
            .env("FREVIX_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .stdout(Stdio::null())
            .status()
            .await?;
        if !status.success() {
            bail!("frevix admin create-admin failed: {status}");
        }
        Ok(())
    }
}

/// The `frevix` binary with none of this run's own `FREVIX_…` variables
/// (the private servers' ports and such), which it would read as settings.
fn frevix(binary: &Path) -> Command {
    let mut command = Command::new(binary);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("FREVIX_") {
            command.env_remove(key);
        }
    }
    command
}

/// What one service needs beyond the common settings.
fn extra(name: &str, dir: &Path, standin: &StandIn) -> Vec<(String, String)> {
    let pairs: Vec<(&str, String)> = match name {
        "identity" => vec![
            (
                "FREVIX_IDENTITY__MASTER_KEY_FILE",
                dir.join("identity-master.key").display().to_string(),
            ),
            // The longest allowed: a sign-in outlasts a saga slowed by faults.
            ("FREVIX_IDENTITY__ACCESS_TOKEN_TTL_SECS", "3600".to_owned()),
        ],
        "messaging" => vec![(
            "FREVIX_MESSAGING__MEDIA__STORE_URL",
            format!("file://{}", dir.join("media").display()),
        )],
        "payments" => vec![
            ("FREVIX_PAYMENTS__PROVIDER", "stripe".to_owned()),
            (
                "FREVIX_PAYMENTS__STRIPE__API_BASE",
                standin.base().to_owned(),
            ),
            (
                "FREVIX_PAYMENTS__STRIPE__SECRET_KEY",
                "sk_test_frevix_chaos".to_owned(),
            ),
            (
                "FREVIX_PAYMENTS__STRIPE__PUBLISHABLE_KEY",
                "pk_test_frevix_chaos".to_owned(),
            ),
            (
                "FREVIX_PAYMENTS__STRIPE__WEBHOOK_SECRET",
                WEBHOOK_SECRET.to_owned(),
            ),
            (
                "FREVIX_PAYMENTS__STRIPE__RETURN_URL",
                "http://127.0.0.1/".to_owned(),
            ),
            // Releases are paid out at once, not after days.
            ("FREVIX_PAYMENTS__CLEARANCE_DAYS", "0".to_owned()),
            // A stalled provider call gives up soon, as a timeout does.
            ("FREVIX_PAYMENTS__STRIPE__TIMEOUT_SECS", "3".to_owned()),
        ],
        _ => Vec::new(),
    };
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

/// Envoy with the mesh's configuration rendered for these ports.
async fn envoy(dir: &Path, port: u16, admin: u16, services: &[Service]) -> anyhow::Result<Child> {
    let config = dir.join("envoy.yaml");
    let mut render = Command::new("python3");
    render
        .arg(repo().join("gateway-envoy/render.py"))
        .args(["--shape", "mesh", "--out"])
        .arg(&config)
        .env("FREVIX_GATEWAY_PORT", port.to_string())
        .env("FREVIX_GATEWAY_ADMIN_PORT", admin.to_string());
    for service in services {
        render.env(
            format!("FREVIX_GATEWAY_{}_PORT", service.name.to_uppercase()),
            service.port.to_string(),
        );
    }
    if !render.status().await?.success() {
        bail!("gateway-envoy/render.py failed");
    }
    let bin = std::env::var("FREVIX_TEST_ENVOY_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|_| repo().join(".venv/bin/envoy"));
    let log = std::fs::File::create(dir.join("logs/envoy.log"))?;
    let child = Command::new(bin)
        .arg("-c")
        .arg(&config)
        .args(["--log-level", "warn", "--base-id"])
        .arg(port.to_string())
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .context("starting envoy (scripts/tools.sh installs it)")?;
    Ok(child)
}

async fn wait_listening(port: u16, within: Duration) -> anyhow::Result<()> {
    let deadline = Instant::now() + within;
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        if Instant::now() > deadline {
            bail!("nothing listens on {port}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}
