//! Messaging's settings (the `[messaging]` section of the Frevix config).

use frevix_platform::config::{ConfigError, DatabaseConfig};
use frevix_platform::service::ServiceConfig;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MessagingConfig {
    pub database: DatabaseConfig,
    /// How often an idle live feed sends a heartbeat.
    pub heartbeat_secs: u64,
    /// Messages one account may send a minute (bursts of a quarter).
    pub sends_per_minute: u32,
    /// Groups one account may create a minute (bursts of five minutes').
    pub groups_per_minute: u32,
    /// Live streams (Subscribe, Chat) one account may hold on a replica;
    /// opening one more closes the oldest.
    pub max_streams_per_account: usize,
    /// How long after sending a message its sender may edit it.
    pub edit_window_secs: u64,
    /// Events one live stream may have waiting before it is told to resync.
    pub stream_buffer: usize,
    /// How long a replica's presence entries live unless refreshed (mesh).
    pub presence_ttl_secs: u64,
    /// Transactions writing sent messages at once (group commit); 0 picks
    /// one per core, at least 2. Fewer writers make bigger batches, so
    /// less work a message; more overlap commits on a database with many
    /// cores.
    pub send_writers: u32,
    /// Sends (SendMessage and Chat's send frames) in progress at once in
    /// this process at most. A send that finds no turn within
    /// `send_wait_ms` is refused, UNAVAILABLE `OVER_CAPACITY` with retry
    /// advice, instead of queueing behind more than the database can take.
    pub max_concurrent_sends: usize,
    pub send_wait_ms: u64,
    /// Let the send limit move between 4 and `max_concurrent_sends` with
    /// the latency of the sends served (off by default; `make bench`
    /// compares both).
    pub adaptive_sends: bool,
    /// How long a replica keeps a conversation's members and blocks to
    /// check sends against without reading them again. A change is heard
    /// at once from the replica that made it; this bounds how long one is
    /// missed should that word be lost (the live fan-out is at most once).
    pub send_facts_ttl_ms: u64,
    /// Where links in notification mail point (the web app).
    pub app_url: String,
    pub media: MediaConfig,
}

/// Where attachments are kept and what is accepted.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MediaConfig {
    /// `s3://bucket/prefix` (credentials and endpoint from the usual
    /// `AWS_*` variables, for S3-compatible stores) or `file:///dir`; empty
    /// means `<data_dir>/media`.
    pub store_url: String,
    /// The largest file accepted.
    pub max_bytes: u64,
    /// Content types accepted.
    pub allowed_types: Vec<String>,
}

impl Default for MediaConfig {
    fn default() -> Self {
        Self {
            store_url: String::new(),
            max_bytes: 25 * 1024 * 1024,
            allowed_types: [
                "image/png",
                "image/jpeg",
                "image/gif",
                "image/webp",
                "application/pdf",
                "application/zip",
                "text/plain",
                "video/mp4",
                "audio/mpeg",
            ]
            .map(str::to_owned)
            .to_vec(),
        }
    }
}

impl Default for MessagingConfig {
    fn default() -> Self {
        Self {
            database: DatabaseConfig::default(),
            heartbeat_secs: 15,
            sends_per_minute: 120,
            groups_per_minute: 2,
            max_streams_per_account: 10,
            edit_window_secs: 900,
            stream_buffer: 1024,
            presence_ttl_secs: 30,
            send_writers: 0,
            max_concurrent_sends: 256,
            send_wait_ms: 200,
            adaptive_sends: false,
            send_facts_ttl_ms: 5_000,
            app_url: "http://localhost:5173".to_owned(),
            media: MediaConfig::default(),
        }
    }
}

impl ServiceConfig for MessagingConfig {
    fn database(&self) -> &DatabaseConfig {
        &self.database
    }

    fn database_mut(&mut self) -> &mut DatabaseConfig {
        &mut self.database
    }

    fn validate(&self) -> Result<(), ConfigError> {
        self.database.validate("messaging.database")?;
        let checks = [
            (
                "messaging.heartbeat_secs",
                (1..=300).contains(&self.heartbeat_secs),
                "must be 1 to 300",
            ),
            (
                "messaging.sends_per_minute",
                self.sends_per_minute > 0,
                "must be at least 1",
            ),
            (
                "messaging.groups_per_minute",
                (1..=1000).contains(&self.groups_per_minute),
                "must be 1 to 1000",
            ),
            (
                "messaging.max_streams_per_account",
                (1..=1000).contains(&self.max_streams_per_account),
                "must be 1 to 1000",
            ),
            (
                "messaging.edit_window_secs",
                self.edit_window_secs <= 7 * 24 * 3600,
                "must be at most a week (604800)",
            ),
            (
                "messaging.max_concurrent_sends",
                (1..=65_536).contains(&self.max_concurrent_sends),
                "must be 1 to 65536",
            ),
            (
                "messaging.send_wait_ms",
                self.send_wait_ms <= 60_000,
                "must be at most 60000",
            ),
            (
                "messaging.send_facts_ttl_ms",
                self.send_facts_ttl_ms <= 60_000,
                "must be at most 60000 (0 reads them for every send)",
            ),
            (
                "messaging.stream_buffer",
                (8..=65_536).contains(&self.stream_buffer),
                "must be 8 to 65536",
            ),
            (
                "messaging.presence_ttl_secs",
                (3..=600).contains(&self.presence_ttl_secs),
                "must be 3 to 600",
            ),
            (
                "messaging.send_writers",
                self.send_writers <= 64,
                "must be 0 (one per core) to 64",
            ),
        ];
        let media = [
            (
                "messaging.media.max_bytes",
                (1..=1 << 31).contains(&self.media.max_bytes),
                "must be 1 byte to 2 GiB",
            ),
            (
                "messaging.media.store_url",
                self.media.store_url.is_empty()
                    || ["s3://", "file://"]
                        .iter()
                        .any(|scheme| self.media.store_url.starts_with(scheme)),
                "must start with s3:// or file://",
            ),
        ];
        for (key, ok, problem) in checks.into_iter().chain(media) {
            if !ok {
                return Err(ConfigError::invalid(key, problem));
            }
        }
        Ok(())
    }
}
