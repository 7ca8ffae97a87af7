//! Messaging's settings (the `[messaging]` section of the Frevix config).

use frevix_platform::config::DatabaseConfig;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MessagingConfig {
    pub database: DatabaseConfig,
    /// How often an idle live feed sends a heartbeat.
    pub heartbeat_secs: u64,
    /// Messages one account may send a minute (bursts of a quarter).
    pub sends_per_minute: u32,
}

impl Default for MessagingConfig {
    fn default() -> Self {
        Self {
            database: DatabaseConfig::default(),
            heartbeat_secs: 15,
            sends_per_minute: 120,
        }
    }
}
