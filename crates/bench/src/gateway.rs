//! What Envoy adds to a unary call: authenticated GetMe one at a time,
//! directly to the all-in-one process and through Envoy (the rendered
//! all-in-one configuration), in the same run.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use frevix_proto::identity::v1::{self as pb, identity_service_client::IdentityServiceClient};
use frevix_testkit::{Backend, TestApp, authed};
use tonic::transport::Channel;

const CALLS: usize = 3_000;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn latencies(channel: Channel, token: &str) -> (f64, f64) {
    let mut client = IdentityServiceClient::new(channel);
    for _ in 0..200 {
        client
            .get_me(authed(token, pb::GetMeRequest {}))
            .await
            .unwrap();
    }
    let mut measured = Vec::with_capacity(CALLS);
    for _ in 0..CALLS {
        let started = Instant::now();
        client
            .get_me(authed(token, pb::GetMeRequest {}))
            .await
            .unwrap();
        measured.push(started.elapsed());
    }
    measured.sort();
    let at = |q: f64| measured[((CALLS as f64 * q) as usize).min(CALLS - 1)].as_secs_f64() * 1000.0;
    (at(0.50), at(0.99))
}

pub async fn run() {
    let envoy = repo().join(".venv/bin/envoy");
    if !envoy.exists() {
        println!("gateway   skipped: no .venv/bin/envoy (make tools installs it)");
        return;
    }
    let app =
        TestApp::spawn_with(Backend::Sqlite, |c| c.server.cors_allowed_origins = vec![]).await;
    let user = app.register().await;
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
            app.addr.port().to_string(),
        )
        .status()
        .await
        .unwrap();
    assert!(rendered.success());
    let mut child = tokio::process::Command::new(envoy)
        .arg("-c")
        .arg(config.path())
        .args(["--log-level", "warn", "--base-id"])
        .arg(port.to_string())
        .kill_on_drop(true)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let through = loop {
        if let Ok(channel) = Channel::from_shared(format!("http://127.0.0.1:{port}"))
            .unwrap()
            .connect()
            .await
        {
            let mut client = IdentityServiceClient::new(channel.clone());
            if client
                .get_me(authed(&user.access_token, pb::GetMeRequest {}))
                .await
                .is_ok()
            {
                break channel;
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let direct = Channel::from_shared(app.url())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let (direct_p50, direct_p99) = latencies(direct, &user.access_token).await;
    let (envoy_p50, envoy_p99) = latencies(through, &user.access_token).await;
    println!(
        "gateway   GetMe one at a time ({CALLS} calls): direct p50 {direct_p50:.2} ms p99 {direct_p99:.2} ms; through Envoy p50 {envoy_p50:.2} ms p99 {envoy_p99:.2} ms; Envoy adds p50 {:.2} ms p99 {:.2} ms",
        envoy_p50 - direct_p50,
        envoy_p99 - direct_p99
    );
    child.start_kill().unwrap();
    let _ = child.wait().await;
}
