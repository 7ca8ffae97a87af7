//! Identity's settings (the `[identity]` section of the Frevix config).

use frevix_platform::config::{ConfigError, DatabaseConfig};
use frevix_platform::service::ServiceConfig;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IdentityConfig {
    pub database: DatabaseConfig,
    /// Base64 of 32 random bytes (`openssl rand -base64 32`): seals signing
    /// keys and 2FA secrets, peppers mailed codes. Required in the mesh (a
    /// Kubernetes Secret); losing it invalidates those, changing it needs a
    /// re-seal.
    #[serde(serialize_with = "frevix_platform::config::serialize_redacted")]
    pub master_key: SecretString,
    /// Where a generated master key is kept when none is configured (the
    /// all-in-one sets it under its data directory).
    pub master_key_file: PathBuf,
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
            master_key: SecretString::from(""),
            master_key_file: PathBuf::new(),
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

impl ServiceConfig for IdentityConfig {
    fn database(&self) -> &DatabaseConfig {
        &self.database
    }

    fn database_mut(&mut self) -> &mut DatabaseConfig {
        &mut self.database
    }

    /// The all-in-one shape keeps a generated master key beside its data.
    fn resolve_all_in_one(&mut self, data_dir: &Path) {
        if self.master_key.expose_secret().is_empty() && self.master_key_file.as_os_str().is_empty()
        {
            self.master_key_file = data_dir.join("identity-master.key");
        }
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let master_key = self.master_key.expose_secret();
        if master_key.is_empty() && self.master_key_file.as_os_str().is_empty() {
            return Err(ConfigError::invalid(
                "identity.master_key",
                "is required: set FREVIX_IDENTITY__MASTER_KEY=$(openssl rand -base64 32) from a secret store",
            ));
        }
        if !master_key.is_empty() {
            crate::secrets::check_master_key(master_key)
                .map_err(|problem| ConfigError::invalid("identity.master_key", problem))?;
        }
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
