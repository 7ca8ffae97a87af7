//! Marketplace's settings (the `[marketplace]` section of the Frevix config).

use frevix_platform::config::DatabaseConfig;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MarketplaceConfig {
    pub database: DatabaseConfig,
}
