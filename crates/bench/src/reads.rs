//! The reads every screen of every app makes, against the server's own floor
//! measured in the same run: `grpc.health.v1.Health/Check` is a tonic
//! request through all of Frevix's layers with no token, no handler work and
//! no database, so "GetMe at 0.07 of Health/Check" says how much of a read's
//! cost is ours. Closed loop, 8 connections × 16 streams (the shape of
//! issue 19's h2load figures), on the all-in-one (SQLite) and on PostgreSQL:
//!
//! - GetMe with a token (token check, deny list, one-row read);
//! - ListCategories with no token (the catalog, the same rows every time).
//!
//! `FREVIX_BENCH_ONLY=reads`; `FREVIX_BENCH_READS_SECONDS` (default 5);
//! `FREVIX_BENCH_READS_BACKEND=sqlite|postgres` and
//! `FREVIX_BENCH_READS_CALLS=GetMe,…` narrow it (for a profiler).

use std::future::Future;
use std::time::{Duration, Instant};

use frevix_proto::identity::v1::{GetMeRequest, identity_service_client::IdentityServiceClient};
use frevix_proto::marketplace::v1::{
    ListCategoriesRequest, marketplace_service_client::MarketplaceServiceClient,
};
use frevix_testkit::{Backend, TestApp, authed};
use tonic::transport::Channel;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

use crate::overload::env_or;

const CONNECTIONS: usize = 8;
const STREAMS: usize = 16;

/// Requests a second and latency percentiles of one closed loop.
struct Figures {
    rate: f64,
    p50: Duration,
    p99: Duration,
}

impl Figures {
    fn show(&self, name: &str, floor: Option<f64>) {
        let ratio = floor.map_or(String::new(), |floor| {
            format!("   ratio to Health/Check: {:.2}", self.rate / floor)
        });
        println!(
            "          {name:<16} {:>7.0}/s   p50 {:>6.2} ms   p99 {:>6.2} ms{ratio}",
            self.rate,
            self.p50.as_secs_f64() * 1000.0,
            self.p99.as_secs_f64() * 1000.0,
        );
    }
}

pub async fn run() {
    let only: String = env_or("FREVIX_BENCH_READS_BACKEND", String::new());
    for backend in [Backend::Sqlite, Backend::Postgres] {
        if only.is_empty() || format!("{backend:?}").eq_ignore_ascii_case(&only) {
            one(backend).await;
        }
    }
}

/// Whether `name` is among the calls asked for (all when none are named).
fn wanted(name: &str) -> bool {
    let calls: String = env_or("FREVIX_BENCH_READS_CALLS", String::new());
    calls.is_empty() || calls.split(',').any(|call| call == name)
}

async fn one(backend: Backend) {
    let app = TestApp::spawn_with(backend, |config| {
        // The measured services get their production pools.
        for entry in frevix::registry::SERVICES {
            entry.database_mut(config).max_connections = 10;
        }
    })
    .await;
    let user = app.register().await;
    let mut channels = Vec::new();
    for _ in 0..CONNECTIONS {
        let channel = Channel::from_shared(app.url())
            .unwrap()
            .connect()
            .await
            .unwrap();
        channels.push(channel);
    }
    println!(
        "reads     {backend:?}: {CONNECTIONS} connections × {STREAMS} streams, closed loop, one process"
    );
    let health = closed_loop(&channels, |channel| async move {
        HealthClient::new(channel)
            .check(HealthCheckRequest {
                service: String::new(),
            })
            .await
            .unwrap();
    })
    .await;
    health.show("Health/Check", None);
    let token = user.access_token.clone();
    if wanted("GetMe") {
        let get_me = closed_loop(&channels, move |channel| {
            let request = authed(&token, GetMeRequest {});
            async move {
                IdentityServiceClient::new(channel)
                    .get_me(request)
                    .await
                    .unwrap();
            }
        })
        .await;
        get_me.show("GetMe", Some(health.rate));
    }
    if wanted("ListCategories") {
        let categories = closed_loop(&channels, |channel| async move {
            MarketplaceServiceClient::new(channel)
                .list_categories(ListCategoriesRequest {})
                .await
                .unwrap();
        })
        .await;
        categories.show("ListCategories", Some(health.rate));
    }
    app.stop().await;
}

/// `call` from CONNECTIONS × STREAMS tasks until the time is up, after a
/// second of warm-up.
async fn closed_loop<F, Fut>(channels: &[Channel], call: F) -> Figures
where
    F: Fn(Channel) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    let seconds: u64 = env_or("FREVIX_BENCH_READS_SECONDS", 5);
    let warm_until = Instant::now() + Duration::from_secs(1);
    let deadline = warm_until + Duration::from_secs(seconds);
    let tasks: Vec<_> = (0..CONNECTIONS * STREAMS)
        .map(|i| {
            let channel = channels[i % channels.len()].clone();
            let call = call.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                loop {
                    let sent = Instant::now();
                    if sent >= deadline {
                        break;
                    }
                    call(channel.clone()).await;
                    if sent >= warm_until {
                        latencies.push(sent.elapsed());
                    }
                }
                latencies
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.unwrap());
    }
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 - 1.0) * q) as usize];
    Figures {
        rate: latencies.len() as f64 / seconds as f64,
        p50: at(0.5),
        p99: at(0.99),
    }
}
