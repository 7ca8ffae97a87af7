//! Payments' settings (the `[payments]` section of the Frevix config).

use frevix_platform::config::{ConfigError, DatabaseConfig};
use frevix_platform::service::ServiceConfig;
use serde::{Deserialize, Serialize};

/// Who moves the real money.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// Stripe's test mode without a network (see `provider::sandbox`).
    #[default]
    Sandbox,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PaymentsConfig {
    pub database: DatabaseConfig,
    pub provider: ProviderKind,
    /// The platform's fee on released money, in basis points (1,000 = 10 %).
    pub fee_bps: u32,
    /// Days released money waits before it is transferred to the
    /// freelancer (time for a card dispute to surface).
    pub clearance_days: u32,
}

impl Default for PaymentsConfig {
    fn default() -> Self {
        Self {
            database: DatabaseConfig::default(),
            provider: ProviderKind::Sandbox,
            fee_bps: 1_000,
            clearance_days: 5,
        }
    }
}

impl ServiceConfig for PaymentsConfig {
    fn database(&self) -> &DatabaseConfig {
        &self.database
    }

    fn database_mut(&mut self) -> &mut DatabaseConfig {
        &mut self.database
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if self.fee_bps > 5_000 {
            return Err(ConfigError::invalid(
                "payments.fee_bps",
                "must be 0 to 5,000 basis points (at most half of a release)",
            ));
        }
        if self.clearance_days > 90 {
            return Err(ConfigError::invalid(
                "payments.clearance_days",
                "must be 0 to 90 days",
            ));
        }
        Ok(())
    }
}
