//! Envoy in front of a test app: the rendered all-in-one configuration of
//! `gateway-envoy/`, on free ports, the way `make run` users put it.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tonic::transport::Channel;

use crate::app::TestApp;

/// The repository's root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running Envoy; killed when dropped.
pub struct Gateway {
    _child: tokio::process::Child,
    _config: tempfile::NamedTempFile,
    pub port: u16,
    /// A connection through it, made once a public call passed.
    pub channel: Channel,
}

impl TestApp {
    /// Envoy in front of this app. The app should run with
    /// `server.cors_allowed_origins = []`, as services behind Envoy do.
    pub async fn spawn_gateway(&self) -> Gateway {
        use frevix_proto::marketplace::v1 as marketplace;
        let (port, admin) = (free_port(), free_port());
        let config = tempfile::Builder::new().suffix(".yaml").tempfile().unwrap();
        let rendered = tokio::process::Command::new("python3")
            .arg(repo().join("gateway-envoy/render.py"))
            .args(["--shape", "all-in-one", "--out"])
            .arg(config.path())
            .env("FREVIX_GATEWAY_PORT", port.to_string())
            .env("FREVIX_GATEWAY_ADMIN_PORT", admin.to_string())
            .env(
                "FREVIX_GATEWAY_ALL_IN_ONE_PORT",
                self.addr.port().to_string(),
            )
            .status()
            .await
            .unwrap();
        assert!(rendered.success(), "render.py failed");
        let envoy = std::env::var("FREVIX_TEST_ENVOY_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|_| repo().join(".venv/bin/envoy"));
        let child = tokio::process::Command::new(envoy)
            .arg("-c")
            .arg(config.path())
            .args(["--log-level", "warn", "--base-id"])
            .arg(port.to_string())
            .kill_on_drop(true)
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Ready once a public call goes through (the cluster's first health
        // check has passed).
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(channel) = Channel::from_shared(format!("http://127.0.0.1:{port}"))
                .unwrap()
                .connect()
                .await
            {
                let answered =
                    marketplace::marketplace_service_client::MarketplaceServiceClient::new(
                        channel.clone(),
                    )
                    .list_categories(marketplace::ListCategoriesRequest {})
                    .await;
                if answered.is_ok() {
                    return Gateway {
                        _child: child,
                        _config: config,
                        port,
                        channel,
                    };
                }
            }
            assert!(Instant::now() < deadline, "envoy never passed a call");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}
