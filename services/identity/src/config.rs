//! Identity's settings (the `[identity]` section of the Frevix config).

use frevix_platform::config::{ConfigError, DatabaseConfig};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IdentityConfig {
    pub database: DatabaseConfig,
    /// Lifetime of an access token; keep it short, it cannot be revoked.
    pub access_token_ttl_secs: u64,
    /// Lifetime of a login session (and so of its refresh tokens).
    pub session_ttl_days: u64,
    /// How long one signing key signs before a new one takes over.
    pub signing_key_rotation_days: u64,
    /// Lifetime of a mailed code.
    pub code_ttl_secs: u64,
    /// Wrong attempts a mailed code survives.
    pub code_max_attempts: i32,
    /// Password hashes computed at once; each takes ~19 MiB.
    pub max_concurrent_hashes: usize,
    pub rate_limits: RateLimits,
}

/// Per-minute limits (with bursts) on the RPCs attackers like.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimits {
    pub login_per_address: u32,
    /// Per account and client address (the database throttle in
    /// `domain::throttle` slows guessing further).
    pub login_per_account_address: u32,
    pub sign_up_per_address: u32,
    /// Password-reset and verification mails, per address and per email.
    pub mail_per_address: u32,
    pub mail_per_email: u32,
    /// Codes presented (VerifyEmail, ResetPassword), per address and per
    /// email; each code also dies after `code_max_attempts` wrong tries.
    pub code_per_address: u32,
    pub code_per_email: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            login_per_address: 60,
            login_per_account_address: 20,
            sign_up_per_address: 20,
            mail_per_address: 20,
            mail_per_email: 3,
            code_per_address: 30,
            code_per_email: 10,
        }
    }
}

impl Default for IdentityConfig {
    fn default() -> Self {
        Self {
            database: DatabaseConfig::default(),
            access_token_ttl_secs: 15 * 60,
            session_ttl_days: 30,
            signing_key_rotation_days: 30,
            code_ttl_secs: 15 * 60,
            code_max_attempts: 5,
            max_concurrent_hashes: 4,
            rate_limits: RateLimits::default(),
        }
    }
}

impl IdentityConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        let checks: [(&str, u64, u64, u64); 6] = [
            (
                "identity.access_token_ttl_secs",
                self.access_token_ttl_secs,
                // Short lifetimes are for tests of expiry; 15 min is the default.
                5,
                3600,
            ),
            ("identity.session_ttl_days", self.session_ttl_days, 1, 365),
            (
                "identity.signing_key_rotation_days",
                self.signing_key_rotation_days,
                1,
                365,
            ),
            ("identity.code_ttl_secs", self.code_ttl_secs, 60, 86_400),
            (
                "identity.code_max_attempts",
                u64::try_from(self.code_max_attempts).unwrap_or(0),
                1,
                20,
            ),
            (
                "identity.max_concurrent_hashes",
                self.max_concurrent_hashes as u64,
                1,
                256,
            ),
        ];
        for (key, value, min, max) in checks {
            if !(min..=max).contains(&value) {
                return Err(ConfigError::invalid(
                    key,
                    format!("must be between {min} and {max}"),
                ));
            }
        }
        Ok(())
    }
}
