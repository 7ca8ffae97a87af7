//! Typed, layered configuration: defaults, then an optional TOML file, then
//! `FREVIX_…` environment variables (`FREVIX_SERVER__LISTEN` sets
//! `server.listen`). Every failure names the key it is about, and secrets are
//! wrapped so they never reach a log line.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// A configuration that could not be used, naming the key at fault.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Load(#[from] Box<figment::Error>),
    #[error("configuration key `{key}`: {problem}")]
    Invalid { key: String, problem: String },
}

impl ConfigError {
    pub fn invalid(key: impl Into<String>, problem: impl Into<String>) -> Self {
        ConfigError::Invalid {
            key: key.into(),
            problem: problem.into(),
        }
    }
}

/// `FREVIX_…` variables that belong to tools (the test harness, benchmarks,
/// the chaos run, `--config`, `admin create-admin`) rather than to the configuration.
const TOOL_VARIABLES: &[&str] = &["test_", "bench_", "chaos_", "admin_", "config"];

/// Loads `T` from `defaults`, then `file` (if given), then the environment.
pub fn load<T: DeserializeOwned + Serialize>(
    defaults: &T,
    file: Option<&Path>,
) -> Result<T, ConfigError> {
    let mut figment = Figment::from(Serialized::defaults(defaults));
    if let Some(file) = file {
        if !file.exists() {
            return Err(ConfigError::invalid(
                "--config",
                format!("{} does not exist", file.display()),
            ));
        }
        figment = figment.merge(Toml::file(file));
    }
    figment
        .merge(
            Env::prefixed("FREVIX_")
                .filter(|key| {
                    let key = key.as_str().to_ascii_lowercase();
                    !TOOL_VARIABLES.iter().any(|tool| key.starts_with(tool))
                })
                .split("__"),
        )
        .extract()
        .map_err(|e| ConfigError::Load(Box::new(e)))
}

/// How a server listens and what it accepts.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    /// Longest a unary call may take before DEADLINE_EXCEEDED.
    pub request_timeout_secs: u64,
    /// Calls served at once by the whole process; more wait their turn for
    /// at most `max_queue_wait_ms`, then are refused with UNAVAILABLE and
    /// retry advice (load shedding). With `adaptive_concurrency` (off by
    /// default: `make bench` compares both) the limit moves between
    /// `min_concurrent_requests` and this, lowered when the calls served
    /// slow down from queueing and raised when they do not.
    pub max_concurrent_requests: usize,
    pub min_concurrent_requests: usize,
    pub adaptive_concurrency: bool,
    /// How long a call waits for a turn when the process is at capacity.
    pub max_queue_wait_ms: u64,
    /// HTTP/2 streams one connection may have open at once.
    pub max_concurrent_streams: u32,
    /// Largest message accepted or sent, in bytes.
    pub max_message_bytes: usize,
    pub keepalive_interval_secs: u64,
    pub keepalive_timeout_secs: u64,
    /// How long in-flight calls and streams get to finish on SIGTERM.
    pub shutdown_grace_secs: u64,
    /// Origins allowed to call over grpc-web, exactly as browsers send them;
    /// `*` allows any (which lets every web page a signed-in user visits use
    /// their token: only for throwaway setups). By default the local
    /// development origins of the browser client (Vite on port 5173).
    pub cors_allowed_origins: Vec<String>,
    /// Take the client address from `x-forwarded-for` (only behind a trusted proxy).
    pub trust_forwarded_for: bool,
    /// How long a replica's claim on a due durable timer holds: a timer
    /// claimed by a replica that died fires elsewhere after this. It may be
    /// shorter than a slow effect: a firing timer is held by its row lock.
    pub timer_lease_secs: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 50050)),
            request_timeout_secs: 30,
            max_concurrent_requests: 1024,
            min_concurrent_requests: 4,
            adaptive_concurrency: false,
            max_queue_wait_ms: 200,
            max_concurrent_streams: 256,
            max_message_bytes: 4 * 1024 * 1024,
            keepalive_interval_secs: 30,
            keepalive_timeout_secs: 10,
            shutdown_grace_secs: 20,
            cors_allowed_origins: vec![
                "http://localhost:5173".to_owned(),
                "http://127.0.0.1:5173".to_owned(),
            ],
            trust_forwarded_for: false,
            timer_lease_secs: 20,
        }
    }
}

impl ServerConfig {
    /// How the process's concurrency limit moves (the minimum is held to
    /// the maximum when it is set above it).
    pub fn shed_tuning(&self) -> crate::shed::Tuning {
        if self.adaptive_concurrency {
            crate::shed::Tuning::adaptive(
                self.min_concurrent_requests,
                self.max_concurrent_requests,
            )
        } else {
            crate::shed::Tuning::fixed(self.max_concurrent_requests)
        }
    }

    pub fn validate(&self, prefix: &str) -> Result<(), ConfigError> {
        positive(prefix, "request_timeout_secs", self.request_timeout_secs)?;
        if !(2..=3_600).contains(&self.timer_lease_secs) {
            return Err(ConfigError::invalid(
                format!("{prefix}.timer_lease_secs"),
                "must be 2 to 3,600 seconds",
            ));
        }
        positive(
            prefix,
            "max_concurrent_requests",
            self.max_concurrent_requests as u64,
        )?;
        if self.max_concurrent_requests > 1 << 20 || self.max_queue_wait_ms > 60_000 {
            return Err(ConfigError::invalid(
                format!("{prefix}.max_queue_wait_ms"),
                "max_concurrent_requests must be sane and max_queue_wait_ms at most 60,000",
            ));
        }
        positive(
            prefix,
            "min_concurrent_requests",
            self.min_concurrent_requests as u64,
        )?;
        positive(
            prefix,
            "max_concurrent_streams",
            u64::from(self.max_concurrent_streams),
        )?;
        positive(
            prefix,
            "keepalive_interval_secs",
            self.keepalive_interval_secs,
        )?;
        positive(
            prefix,
            "keepalive_timeout_secs",
            self.keepalive_timeout_secs,
        )?;
        if !(1024..=64 * 1024 * 1024).contains(&self.max_message_bytes) {
            return Err(ConfigError::invalid(
                format!("{prefix}.max_message_bytes"),
                "must be between 1 KiB and 64 MiB",
            ));
        }
        Ok(())
    }

    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs)
    }
}

fn positive(prefix: &str, key: &str, value: u64) -> Result<(), ConfigError> {
    if value == 0 {
        return Err(ConfigError::invalid(
            format!("{prefix}.{key}"),
            "must be greater than 0",
        ));
    }
    Ok(())
}

/// Where a service keeps its data.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `postgres://…` or `sqlite://path`; empty in the all-in-one shape,
    /// which uses a file under the data directory.
    #[serde(serialize_with = "serialize_redacted")]
    pub url: SecretString,
    pub max_connections: u32,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: SecretString::from(""),
            max_connections: 10,
        }
    }
}

impl DatabaseConfig {
    pub fn validate(&self, key: &str) -> Result<(), ConfigError> {
        let url = self.url.expose_secret();
        if crate::db::Engine::of(url).is_none() {
            return Err(ConfigError::invalid(
                format!("{key}.url"),
                "must start with postgres:// or sqlite:",
            ));
        }
        positive(key, "max_connections", u64::from(self.max_connections))
    }
}

/// How access tokens are checked.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// The `iss` claim identity writes and every service demands.
    pub issuer: String,
    /// The `aud` claim identity writes and every service demands.
    pub audience: String,
    /// Identity's JWKS, for services in other processes. Empty when identity
    /// runs in the same process and shares its keys directly.
    pub jwks_url: String,
    /// How often the JWKS is fetched again (an unknown `kid` also triggers it).
    pub jwks_refresh_secs: u64,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            issuer: "https://identity.frevix.dev".to_owned(),
            audience: "frevix".to_owned(),
            jwks_url: String::new(),
            jwks_refresh_secs: 300,
        }
    }
}

/// How outgoing mail leaves.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MailConfig {
    /// `smtp://host:port`, `smtps://user:pass@host`, or empty to write `.eml`
    /// files into `dir` instead (the all-in-one default).
    #[serde(serialize_with = "serialize_redacted")]
    pub smtp_url: SecretString,
    pub dir: PathBuf,
    pub from: String,
}

impl Default for MailConfig {
    fn default() -> Self {
        Self {
            smtp_url: SecretString::from(""),
            dir: PathBuf::from("data/mail"),
            from: "Frevix <no-reply@frevix.dev>".to_owned(),
        }
    }
}

/// Secrets serialize as a placeholder, so a dumped config never shows them.
pub fn serialize_redacted<S: serde::Serializer>(
    secret: &SecretString,
    s: S,
) -> Result<S::Ok, S::Error> {
    if secret.expose_secret().is_empty() {
        s.serialize_str("")
    } else {
        s.serialize_str("[redacted]")
    }
}
