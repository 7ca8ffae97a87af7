//! Payments' settings (the `[payments]` section of the Frevix config).

use frevix_platform::config::{ConfigError, DatabaseConfig, serialize_redacted};
use frevix_platform::service::ServiceConfig;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

/// Who moves the real money.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// Stripe's test mode without a network (see `provider::sandbox`).
    #[default]
    Sandbox,
    /// Stripe's API (or Frevix's stand-in for it) at `payments.stripe.api_base`.
    Stripe,
}

/// How payments reaches Stripe (`[payments.stripe]`; in Kubernetes the keys
/// come from the `frevix-stripe` Secret).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StripeConfig {
    /// The platform's secret key (`sk_test_…` in test mode).
    #[serde(serialize_with = "serialize_redacted")]
    pub secret_key: SecretString,
    /// The key client apps use with Stripe.js and the mobile SDKs.
    pub publishable_key: String,
    /// The signing secret of the webhook endpoint (`whsec_…`).
    #[serde(serialize_with = "serialize_redacted")]
    pub webhook_secret: SecretString,
    /// Stripe's API, or a stand-in for it; ends in `/`.
    pub api_base: String,
    /// The longest one call to Stripe may take, per attempt.
    pub timeout_secs: u64,
    /// Where Stripe sends a client back after a card's authentication.
    pub return_url: String,
}

impl Default for StripeConfig {
    fn default() -> Self {
        Self {
            secret_key: SecretString::from(""),
            publishable_key: String::new(),
            webhook_secret: SecretString::from(""),
            api_base: "https://api.stripe.com/".to_owned(),
            timeout_secs: 20,
            return_url: "http://localhost:8080/".to_owned(),
        }
    }
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
    pub stripe: StripeConfig,
}

impl Default for PaymentsConfig {
    fn default() -> Self {
        Self {
            database: DatabaseConfig::default(),
            provider: ProviderKind::Sandbox,
            fee_bps: 1_000,
            clearance_days: 5,
            stripe: StripeConfig::default(),
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
        if self.provider == ProviderKind::Stripe {
            self.stripe.validate()?;
        }
        Ok(())
    }
}

impl StripeConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        let key = self.secret_key.expose_secret();
        if !(key.starts_with("sk_") || key.starts_with("rk_")) {
            return Err(ConfigError::invalid(
                "payments.stripe.secret_key",
                "must be a Stripe secret or restricted key (sk_… or rk_…)",
            ));
        }
        if !self.webhook_secret.expose_secret().starts_with("whsec_") {
            return Err(ConfigError::invalid(
                "payments.stripe.webhook_secret",
                "must be the webhook endpoint's signing secret (whsec_…)",
            ));
        }
        if !self.publishable_key.starts_with("pk_") {
            return Err(ConfigError::invalid(
                "payments.stripe.publishable_key",
                "must be a Stripe publishable key (pk_…)",
            ));
        }
        if url::Url::parse(&self.api_base).is_err() || !self.api_base.ends_with('/') {
            return Err(ConfigError::invalid(
                "payments.stripe.api_base",
                "must be a URL ending in / (https://api.stripe.com/)",
            ));
        }
        if !(1..=120).contains(&self.timeout_secs) {
            return Err(ConfigError::invalid(
                "payments.stripe.timeout_secs",
                "must be 1 to 120 seconds",
            ));
        }
        Ok(())
    }
}
