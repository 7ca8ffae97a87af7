//! Marketplace's settings (the `[marketplace]` section of the Frevix config).

use frevix_platform::config::DatabaseConfig;
use frevix_platform::service::ServiceConfig;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MarketplaceConfig {
    pub database: DatabaseConfig,
}

impl ServiceConfig for MarketplaceConfig {
    fn database(&self) -> &DatabaseConfig {
        &self.database
    }

    fn database_mut(&mut self) -> &mut DatabaseConfig {
        &mut self.database
    }
}
