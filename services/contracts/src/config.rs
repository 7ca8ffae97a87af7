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
    /// Days a buyer has to answer a gig order's delivery before it is
    /// approved automatically.
    pub order_review_days: i32,
    /// The same for a job contract's milestone.
    pub job_review_days: i32,
    /// Days the other party has to answer a cancellation request before it
    /// is accepted automatically.
    pub cancellation_answer_days: i32,
    /// Hours an open dispute waits before it is marked escalated for
    /// ADMINs.
    pub dispute_escalation_hours: i32,
    /// Days the parties have to review each other once a contract ended
    /// with money paid out.
    pub review_window_days: i32,
    /// Days a client has to dispute a week's invoice of an hourly contract
    /// before it is approved for charging.
    pub invoice_review_days: i32,
}

impl Default for ContractsConfig {
    fn default() -> Self {
        Self {
            database: DatabaseConfig::default(),
            default_weekly_limit_minutes: 40 * 60,
            order_review_days: 3,
            job_review_days: 14,
            cancellation_answer_days: 2,
            dispute_escalation_hours: 72,
            review_window_days: 14,
            invoice_review_days: 5,
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
        for (key, days) in [
            ("contracts.order_review_days", self.order_review_days),
            ("contracts.job_review_days", self.job_review_days),
            (
                "contracts.cancellation_answer_days",
                self.cancellation_answer_days,
            ),
            ("contracts.review_window_days", self.review_window_days),
            ("contracts.invoice_review_days", self.invoice_review_days),
        ] {
            if !(1..=60).contains(&days) {
                return Err(ConfigError::invalid(key, "must be 1 to 60 days"));
            }
        }
        if !(1..=24 * 60).contains(&self.dispute_escalation_hours) {
            return Err(ConfigError::invalid(
                "contracts.dispute_escalation_hours",
                "must be 1 to 1,440 hours",
            ));
        }
        Ok(())
    }
}
