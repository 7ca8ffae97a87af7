//! Overload: authenticated GetMe, then chat sends ([`crate::overload_chat`]),
//! offered at twice what the server serves, with a fixed limit and with
//! the adaptive one. The all-in-one process runs with load shedding set to
//! `FREVIX_BENCH_SHED_CAPACITY` calls at once (default 12), then to the
//! adaptive limit (4 to 1,024), each with a wait of
//! `FREVIX_BENCH_SHED_WAIT_MS` (default 1) for a turn. In each:
//! - capacity: calls served per second with 64 in flight;
//! - unloaded: calls offered at half that rate (open loop), their p99;
//! - overloaded: calls offered at twice that rate; the p99 of those served
//!   as a ratio to the unloaded p99 (goal ≤ 2) and the p99 of refusals
//!   (goal < 5 ms).
//!
//! Open loop: each call leaves at its scheduled time whatever the earlier
//! ones are doing, as users do, so a slow server meets more calls, not
//! fewer.

use std::time::{Duration, Instant};

use frevix_proto::identity::v1::{self as pb, identity_service_client::IdentityServiceClient};
use frevix_testkit::{Backend, TestApp, authed};
use tokio::sync::mpsc;
use tonic::Code;
use tonic::transport::Channel;

pub const SECONDS: u64 = 5;

pub fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

pub async fn run() {
    let capacity: usize = env_or("FREVIX_BENCH_SHED_CAPACITY", 12);
    let wait_ms: u64 = env_or("FREVIX_BENCH_SHED_WAIT_MS", 1);
    for adaptive in [false, true] {
        get_me(capacity, wait_ms, adaptive).await;
    }
    crate::overload_chat::run().await;
}

/// GetMe at half and at twice its capacity, the limit fixed at `capacity`
/// or adaptive (4 to 1,024).
async fn get_me(capacity: usize, wait_ms: u64, adaptive: bool) {
    let app = TestApp::spawn_with(Backend::Sqlite, |config| {
        config.server.max_concurrent_requests = if adaptive { 1_024 } else { capacity };
        config.server.adaptive_concurrency = adaptive;
        config.server.max_queue_wait_ms = wait_ms;
        for entry in frevix::registry::SERVICES {
            entry.database_mut(config).max_connections = 10;
        }
    })
    .await;
    let user = app.register().await;
    let mut clients = Vec::new();
    for _ in 0..4 {
        let channel = Channel::from_shared(app.url())
            .unwrap()
            .connect()
            .await
            .unwrap();
        clients.push(IdentityServiceClient::new(channel));
    }
    let token = user.access_token.clone();
    let served = closed_loop(&clients, &token).await;
    let limit = if adaptive {
        "an adaptive limit (4 to 1,024)".to_owned()
    } else {
        format!("{capacity} calls")
    };
    println!(
        "overload  GetMe, shedding at {limit}, {wait_ms} ms wait; served with 64 in flight: {served:.0}/s"
    );
    let calm = open_loop(&clients, &token, served / 2.0).await;
    let crowd = open_loop(&clients, &token, served * 2.0).await;
    report(served, &calm, &crowd);
    app.stop().await;
}

/// The half and twice steps, the served p99 as a ratio to the unloaded.
pub fn report(capacity: f64, calm: &Outcomes, crowd: &Outcomes) {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "overload  at {:.0}/s (half): {} served, p50 {:.2} ms, p99 {:.2} ms, {} refused",
        capacity / 2.0,
        calm.served.len(),
        ms(at(&calm.served, 0.5)),
        ms(at(&calm.served, 0.99)),
        calm.refused.len()
    );
    println!(
        "overload  at {:.0}/s (twice): {} served, p50 {:.2} ms, p99 {:.2} ms ({:.2} × unloaded p99); {} refused, p99 {:.2} ms; {} other errors",
        capacity * 2.0,
        crowd.served.len(),
        ms(at(&crowd.served, 0.5)),
        ms(at(&crowd.served, 0.99)),
        at(&crowd.served, 0.99).as_secs_f64() / at(&calm.served, 0.99).as_secs_f64().max(1e-9),
        crowd.refused.len(),
        ms(at(&crowd.refused, 0.99)),
        crowd.failed
    );
}

/// Calls served per second with 64 in flight, each calling again at once.
async fn closed_loop(clients: &[IdentityServiceClient<Channel>], token: &str) -> f64 {
    let deadline = Instant::now() + Duration::from_secs(SECONDS);
    let started = Instant::now();
    let tasks: Vec<_> = (0..64)
        .map(|i| {
            let mut client = clients[i % clients.len()].clone();
            let token = token.to_owned();
            tokio::spawn(async move {
                let mut served = 0u64;
                while Instant::now() < deadline {
                    if client
                        .get_me(authed(&token, pb::GetMeRequest {}))
                        .await
                        .is_ok()
                    {
                        served += 1;
                    }
                }
                served
            })
        })
        .collect();
    let mut served = 0;
    for task in tasks {
        served += task.await.unwrap();
    }
    served as f64 / started.elapsed().as_secs_f64()
}

#[derive(Default)]
pub struct Outcomes {
    pub served: Vec<Duration>,
    pub refused: Vec<Duration>,
    pub failed: usize,
}

/// Calls sent at `rate` per second for the measurement's length, each at
/// its time; how long each took, by outcome.
async fn open_loop(clients: &[IdentityServiceClient<Channel>], token: &str, rate: f64) -> Outcomes {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let interval = Duration::from_secs_f64(1.0 / rate.max(1.0));
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let total = (rate * SECONDS as f64) as usize;
    for i in 0..total {
        ticks.tick().await;
        let mut client = clients[i % clients.len()].clone();
        let token = token.to_owned();
        let tx = tx.clone();
        tokio::spawn(async move {
            let sent = Instant::now();
            let answer = client.get_me(authed(&token, pb::GetMeRequest {})).await;
            let _ = tx.send((sent.elapsed(), answer.map(drop).map_err(|s| s.code())));
        });
    }
    drop(tx);
    let mut outcomes = Outcomes::default();
    while let Some((took, answer)) = rx.recv().await {
        match answer {
            Ok(()) => outcomes.served.push(took),
            Err(Code::Unavailable) => outcomes.refused.push(took),
            Err(_) => outcomes.failed += 1,
        }
    }
    outcomes.served.sort();
    outcomes.refused.sort();
    outcomes
}

pub fn at(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 * q) as usize).min(sorted.len() - 1)]
}
