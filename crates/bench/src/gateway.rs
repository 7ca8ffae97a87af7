//! What Envoy adds to a unary call: authenticated GetMe one at a time,
//! directly to the all-in-one process and through Envoy (the rendered
//! all-in-one configuration), in the same run.

use std::time::Instant;

use frevix_proto::identity::v1::{self as pb, identity_service_client::IdentityServiceClient};
use frevix_testkit::{Backend, TestApp, authed};
use tonic::transport::Channel;

const CALLS: usize = 3_000;

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
    let envoy = frevix_testkit::repo().join(".venv/bin/envoy");
    if !envoy.exists() {
        println!("gateway   skipped: no .venv/bin/envoy (make tools installs it)");
        return;
    }
    let app =
        TestApp::spawn_with(Backend::Sqlite, |c| c.server.cors_allowed_origins = vec![]).await;
    let user = app.register().await;
    let gateway = app.spawn_gateway().await;
    let through = gateway.channel.clone();
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
    drop(gateway);
}
