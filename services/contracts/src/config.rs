//! Contracts' settings (the `[contracts]` section of the Frevix config).

use frevix_platform::config::{ConfigError, DatabaseConfig};
use frevix_platform::service::ServiceConfig;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ContractsConfig {
    pub database: DatabaseConfig,
    /// The weekly limit of a new hourly contract until the client changes it.
    pub default_weekly_limit_minutes: i32,
}

impl Default for ContractsConfig {
    fn default() -> Self {
        Self {
            database: DatabaseConfig::default(),
            default_weekly_limit_minutes: 40 * 60,
        }
    }
}

impl ServiceConfig for ContractsConfig {
    fn database(&self) -> &DatabaseConfig {
        &self.database
    }

    fn database_mut(&mut self) -> &mut DatabaseConfig {
        &mut self.database
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if !(60..=7 * 24 * 60).contains(&self.default_weekly_limit_minutes) {
            return Err(ConfigError::invalid(
                "contracts.default_weekly_limit_minutes",
                "must be 60 to 10,080 (one hour to a whole week)",
            ));
        }
        Ok(())
    }
}
