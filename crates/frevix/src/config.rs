//! How the configuration is loaded for a shape: defaults → `--config` TOML
//! file → `FREVIX_…` environment → command-line flags, then each served
//! service's section resolved and validated with the failing key named.
//! The struct itself ([`FrevixConfig`]) is written by the registry.

use std::net::SocketAddr;
use std::path::Path;

use frevix_platform::config::{self, ConfigError, MailConfig};
use frevix_platform::service::Service;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

pub use crate::registry::FrevixConfig;
use crate::registry::{SERVICES, ServiceEntry};

/// What to serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Every service on one port, SQLite files under the data directory.
    AllInOne,
    /// One registered service alone, for the mesh.
    One(&'static str),
}

impl Shape {
    /// Service `S` alone.
    pub fn of<S: Service>() -> Shape {
        Shape::One(S::NAME)
    }

    /// `all` or the name of a registered service.
    pub fn parse(name: &str) -> Option<Shape> {
        if name == "all" {
            return Some(Shape::AllInOne);
        }
        crate::registry::service(name).map(|entry| Shape::One(entry.name()))
    }

    /// The services this shape runs, in registry order.
    pub fn services(self) -> impl Iterator<Item = &'static ServiceEntry> {
        SERVICES
            .iter()
            .copied()
            .filter(move |entry| self.serves(entry.name()))
    }

    pub fn serves(self, service: &str) -> bool {
        match self {
            Shape::AllInOne => true,
            Shape::One(name) => name == service,
        }
    }

    pub fn default_listen(self) -> SocketAddr {
        let port = match self {
            Shape::AllInOne => 50050,
            Shape::One(_) => self
                .services()
                .next()
                .map_or(50050, |entry| entry.mesh_port()),
        };
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    pub fn name(self) -> &'static str {
        match self {
            Shape::AllInOne => "all",
            Shape::One(name) => name,
        }
    }
}

/// How log lines look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Json,
    Text,
}

/// Command-line values that override every other layer.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub listen: Option<SocketAddr>,
    pub data_dir: Option<std::path::PathBuf>,
}

impl FrevixConfig {
    /// Loads and validates the configuration for `shape`.
    pub fn load(
        shape: Shape,
        file: Option<&Path>,
        overrides: &Overrides,
    ) -> Result<Self, ConfigError> {
        let mut defaults = FrevixConfig::default();
        defaults.server.listen = shape.default_listen();
        if shape == Shape::AllInOne {
            defaults.log_format = LogFormat::Text;
        }
        let mut loaded: FrevixConfig = config::load(&defaults, file)?;
        if let Some(listen) = overrides.listen {
            loaded.server.listen = listen;
        }
        if let Some(dir) = &overrides.data_dir {
            loaded.data_dir = dir.clone();
        }
        loaded.resolve(shape);
        loaded.validate(shape)?;
        Ok(loaded)
    }

    /// Fills in what the shape implies: the all-in-one shape keeps each
    /// service's SQLite file and the mail under the data directory.
    pub fn resolve(&mut self, shape: Shape) {
        if shape == Shape::AllInOne {
            for entry in SERVICES {
                entry.resolve_all_in_one(self);
            }
            if self.mail.dir == MailConfig::default().dir {
                self.mail.dir = self.data_dir.join("mail");
            }
        }
    }

    pub fn validate(&self, shape: Shape) -> Result<(), ConfigError> {
        self.server.validate("server")?;
        for entry in shape.services() {
            entry.validate(self)?;
        }
        if !shape.services().any(|entry| entry.issues_tokens()) && self.auth.jwks_url.is_empty() {
            return Err(ConfigError::invalid(
                "auth.jwks_url",
                "is required without identity in the process: set FREVIX_AUTH__JWKS_URL=http://identity:50051/.well-known/jwks.json",
            ));
        }
        if self.auth.issuer.is_empty() {
            return Err(ConfigError::invalid("auth.issuer", "must not be empty"));
        }
        if self.auth.audience.is_empty() {
            return Err(ConfigError::invalid("auth.audience", "must not be empty"));
        }
        self.events.validate()?;
        if shape != Shape::AllInOne && self.events.nats_url.is_empty() {
            return Err(ConfigError::invalid(
                "events.nats_url",
                "is required when serving one service (the mesh): set FREVIX_EVENTS__NATS_URL=nats://host:4222",
            ));
        }
        if shape != Shape::AllInOne
            && shape.services().any(|entry| entry.sends_mail())
            && self.mail.smtp_url.expose_secret().is_empty()
        {
            return Err(ConfigError::invalid(
                "mail.smtp_url",
                "is required when serving one service (the mesh): set FREVIX_MAIL__SMTP_URL=smtp://host:port",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
// figment::Jail's closures return its own (large) error type.
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;
    use secrecy::SecretString;
    use std::path::PathBuf;

    #[test]
    fn environment_overrides_the_file_and_flags_override_both() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "frevix.toml",
                "[server]\nlisten = \"127.0.0.1:6000\"\nrequest_timeout_secs = 7\n",
            )?;
            jail.set_env("FREVIX_SERVER__REQUEST_TIMEOUT_SECS", "9");
            jail.set_env("FREVIX_IDENTITY__ACCESS_TOKEN_TTL_SECS", "600");
            let config = FrevixConfig::load(
                Shape::AllInOne,
                Some(Path::new("frevix.toml")),
                &Overrides {
                    listen: None,
                    data_dir: Some(PathBuf::from("elsewhere")),
                },
            )
            .map_err(|e| e.to_string())?;
            assert_eq!(
                config.server.listen,
                SocketAddr::from(([127, 0, 0, 1], 6000))
            );
            assert_eq!(config.server.request_timeout_secs, 9);
            assert_eq!(config.identity.access_token_ttl_secs, 600);
            assert_eq!(
                config.identity.database.url.expose_secret(),
                "sqlite://elsewhere/identity.db?mode=rwc"
            );
            Ok(())
        });
    }

    #[test]
    fn a_bad_value_names_its_key() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("FREVIX_IDENTITY__CODE_MAX_ATTEMPTS", "0");
            let error =
                FrevixConfig::load(Shape::AllInOne, None, &Overrides::default()).unwrap_err();
            assert!(
                error.to_string().contains("identity.code_max_attempts"),
                "{error}"
            );

            jail.set_env("FREVIX_IDENTITY__CODE_MAX_ATTEMPTS", "5");
            jail.set_env("FREVIX_SERVER__LISTEN", "not an address");
            let error =
                FrevixConfig::load(Shape::AllInOne, None, &Overrides::default()).unwrap_err();
            assert!(
                error.to_string().to_lowercase().contains("server.listen"),
                "{error}"
            );
            Ok(())
        });
    }

    #[test]
    fn one_service_needs_a_database_url_and_smtp() {
        figment::Jail::expect_with(|_| {
            let error = FrevixConfig::load(Shape::One("identity"), None, &Overrides::default())
                .unwrap_err();
            assert!(
                error.to_string().contains("identity.database.url"),
                "{error}"
            );
            Ok(())
        });
        figment::Jail::expect_with(|jail| {
            jail.set_env("FREVIX_IDENTITY__DATABASE__URL", "postgres://db/identity");
            jail.set_env("FREVIX_EVENTS__NATS_URL", "nats://127.0.0.1:4222");
            let error = FrevixConfig::load(Shape::One("identity"), None, &Overrides::default())
                .unwrap_err();
            assert!(error.to_string().contains("identity.master_key"), "{error}");
            jail.set_env(
                "FREVIX_IDENTITY__MASTER_KEY",
                "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
            );
            let error = FrevixConfig::load(Shape::One("identity"), None, &Overrides::default())
                .unwrap_err();
            assert!(error.to_string().contains("mail.smtp_url"), "{error}");
            jail.set_env("FREVIX_IDENTITY__MASTER_KEY", "too short");
            let error = FrevixConfig::load(Shape::One("identity"), None, &Overrides::default())
                .unwrap_err();
            assert!(error.to_string().contains("identity.master_key"), "{error}");
            Ok(())
        });
    }

    #[test]
    fn secrets_never_show_in_a_dump() {
        let mut config = FrevixConfig::default();
        config.identity.database.url = SecretString::from("postgres://user:hunter2@db/identity");
        let dumped = format!("{config:?} {}", serde_json_like(&config));
        assert!(!dumped.contains("hunter2"), "{dumped}");
    }

    fn serde_json_like(config: &FrevixConfig) -> String {
        figment::Figment::from(figment::providers::Serialized::defaults(config))
            .extract::<figment::value::Value>()
            .map(|value| format!("{value:?}"))
            .unwrap_or_default()
    }
}
