//! A service of the mesh as its own `frevix` process beside a test app
//! (a second replica, or a process a test kills).

use std::time::{Duration, Instant};

use frevix::registry;
use tonic::transport::Channel;

use crate::TestApp;

/// A `frevix serve <service>` process beside a test app: the same
/// database, NATS and identity keys. Killed when dropped.
pub struct ServiceProcess {
    pub child: tokio::process::Child,
    pub port: u16,
    /// A connection to it, made once it answers.
    pub channel: Channel,
}

impl TestApp {
    /// Starts the `frevix` binary at `binary` serving `service` alone (a
    /// second replica beside this app), with `env` added (for example
    /// `FREVIX_MESSAGING__PRESENCE_TTL_SECS`).
    pub async fn spawn_process(
        &self,
        service: &str,
        binary: &std::path::Path,
        env: &[(&str, &str)],
    ) -> ServiceProcess {
        self.spawn_process_on(service, binary, env, None).await
    }

    /// [`Self::spawn_process`], the process kept to the CPUs `cpus` names
    /// (a `taskset` list such as `"1"`) from its first instruction, so its
    /// runtime sizes itself to them: a benchmark gives the server and the
    /// load it measures a core each.
    pub async fn spawn_process_on(
        &self,
        service: &str,
        binary: &std::path::Path,
        env: &[(&str, &str)],
        cpus: Option<&str>,
    ) -> ServiceProcess {
        use secrecy::ExposeSecret;
        let entry = registry::service(service).unwrap_or_else(|| panic!("no service {service}"));
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let config = &self.config;
        let section = service.to_ascii_uppercase();
        let mut command = match cpus {
            Some(cpus) => {
                let mut taskset = tokio::process::Command::new("taskset");
                taskset.args(["-c", cpus]).arg(binary);
                taskset
            }
            None => tokio::process::Command::new(binary),
        };
        command
            .args(["serve", service, "--listen", &format!("127.0.0.1:{port}")])
            .env(
                format!("FREVIX_{section}__DATABASE__URL"),
                entry.database(config).url.expose_secret(),
            )
            .env("FREVIX_EVENTS__NATS_URL", &config.events.nats_url)
            .env(
                "FREVIX_EVENTS__SUBJECT_PREFIX",
                &config.events.subject_prefix,
            )
            .env(
                "FREVIX_AUTH__JWKS_URL",
                format!("{}/.well-known/jwks.json", self.url()),
            )
            .env(
                "FREVIX_MAIL__SMTP_URL",
                config.mail.smtp_url.expose_secret(),
            )
            // Identity's keys are sealed with the app's master key.
            .env(
                "FREVIX_IDENTITY__MASTER_KEY",
                config.identity.master_key.expose_secret(),
            )
            .env(
                "FREVIX_IDENTITY__MASTER_KEY_FILE",
                &config.identity.master_key_file,
            )
            .env("RUST_LOG", "warn")
            .kill_on_drop(true)
            .stdout(std::process::Stdio::null());
        for (key, value) in env {
            command.env(key, value);
        }
        let child = command.spawn().unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        let channel = loop {
            let attempt = Channel::from_shared(format!("http://127.0.0.1:{port}"))
                .unwrap()
                .connect()
                .await;
            match attempt {
                Ok(channel) => break channel,
                Err(error) => {
                    assert!(
                        Instant::now() < deadline,
                        "{service} never came up: {error}"
                    );
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        };
        ServiceProcess {
            child,
            port,
            channel,
        }
    }
}
