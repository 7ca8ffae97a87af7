//! Overload: authenticated GetMe, then chat sends ([`crate::overload_chat`]),
//! offered at twice what the server serves, with a fixed limit and with
//! the adaptive one. The server is its own `frevix serve` process kept to
//! CPU 1, the load (this process) to CPU 0, so neither steals the other's
//! time (PostgreSQL runs where the kernel puts it; without
//! `FREVIX_BENCH_FREVIX_BIN`, the all-in-one runs in this process). In
//! each:
//! - capacity: calls served per second with 64 in flight and no limit in
//!   the way (a closed loop against a shedding limit would also measure
//!   the CPU its own refusals take);
//! - then, with load shedding at `FREVIX_BENCH_SHED_CAPACITY` calls at once
//!   (default 2) and then at the adaptive limit (4 to 1,024), each with a
//!   wait of `FREVIX_BENCH_SHED_WAIT_MS` (default 1) for a turn:
//!   - unloaded: calls offered at half the capacity (open loop), their p99;
//!   - overloaded: calls offered at twice it; the p99 of those served as a
//!     ratio to the unloaded p99 (goal ≤ 2) and the p99 of refusals (goal
//!     < 5 ms);
//!   - floor: Health/Check at the overloaded rate on the same connections,
//!     what the load's side and the transport add to any call.
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
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

pub const SECONDS: u64 = 5;

pub fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

pub async fn run() {
    unary().await;
    crate::overload_chat::run().await;
}

/// GetMe with the fixed limit, then the adaptive one.
pub async fn unary() {
    let capacity: usize = env_or("FREVIX_BENCH_SHED_CAPACITY", 2);
    let wait_ms: u64 = env_or("FREVIX_BENCH_SHED_WAIT_MS", 1);
    // The capacity, with no limit in the way: a closed loop against a
    // shedding limit measures the CPU its own refusals take as well.
    let Some(served) = get_me(Limit::None, wait_ms, None).await else {
        return;
    };
    println!("overload  GetMe capacity, no limit, 64 in flight: {served:.0}/s");
    get_me(Limit::Fixed(capacity), wait_ms, Some(served)).await;
    get_me(Limit::Adaptive, wait_ms, Some(served)).await;
}

/// How the server limits calls at once.
#[derive(Clone, Copy)]
enum Limit {
    /// 1,024: none in practice.
    None,
    Fixed(usize),
    /// 4 to 1,024.
    Adaptive,
}

/// With no `capacity`, GetMe's served rate with 64 in flight; with one,
/// GetMe offered at half and at twice it. With `FREVIX_BENCH_FREVIX_BIN`
/// (make bench sets it) identity is its own `frevix serve identity`
/// process on PostgreSQL, kept to CPU 1 while this process, the load, is
/// kept to CPU 0: the load does not steal the server's time (PostgreSQL
/// runs where the kernel puts it). Without it, the all-in-one in this
/// process on SQLite, sharing both cores with the load.
async fn get_me(limit: Limit, wait_ms: u64, capacity: Option<f64>) -> Option<f64> {
    let binary = std::env::var("FREVIX_BENCH_FREVIX_BIN").ok();
    let backend = if binary.is_some() {
        Backend::Postgres
    } else {
        Backend::Sqlite
    };
    let (max, adaptive) = match limit {
        Limit::None | Limit::Adaptive => (1_024, matches!(limit, Limit::Adaptive)),
        Limit::Fixed(calls) => (calls, false),
    };
    let app = TestApp::spawn_with(backend, |config| {
        config.server.max_concurrent_requests = max;
        config.server.adaptive_concurrency = adaptive;
        config.server.max_queue_wait_ms = wait_ms;
        for entry in frevix::registry::SERVICES {
            entry.database_mut(config).max_connections = 10;
        }
    })
    .await;
    let user = app.register().await;
    let (capacity_env, adaptive_env, wait_env) =
        (max.to_string(), adaptive.to_string(), wait_ms.to_string());
    let (url, process, shape) = match &binary {
        Some(binary) => {
            let process = app
                .spawn_process_on(
                    "identity",
                    std::path::Path::new(binary),
                    &[
                        ("FREVIX_SERVER__MAX_CONCURRENT_REQUESTS", &capacity_env),
                        ("FREVIX_SERVER__ADAPTIVE_CONCURRENCY", &adaptive_env),
                        ("FREVIX_SERVER__MAX_QUEUE_WAIT_MS", &wait_env),
                        ("FREVIX_IDENTITY__DATABASE__MAX_CONNECTIONS", "10"),
                    ],
                    Some("1"),
                )
                .await;
            let url = format!("http://127.0.0.1:{}", process.port);
            (url, Some(process), "identity alone on CPU 1, load on CPU 0")
        }
        None => (app.url(), None, "all-in-one in the load's process"),
    };
    let _pinned = process.as_ref().map(|_| Pinned::to("0"));
    let mut channels = Vec::new();
    for _ in 0..4 {
        let channel = Channel::from_shared(url.clone())
            .unwrap()
            .connect()
            .await
            .unwrap();
        channels.push(channel);
    }
    let clients: Vec<_> = channels
        .iter()
        .cloned()
        .map(IdentityServiceClient::new)
        .collect();
    let token = user.access_token.clone();
    let served = match capacity {
        None => Some(closed_loop(&clients, &token).await),
        Some(capacity) => {
            let limit = match limit {
                Limit::Adaptive => "an adaptive limit (4 to 1,024)".to_owned(),
                Limit::Fixed(_) | Limit::None => format!("{max} calls"),
            };
            println!("overload  GetMe ({shape}), shedding at {limit}, {wait_ms} ms wait");
            let calm = open_loop(&clients, &token, capacity / 2.0).await;
            let crowd = open_loop(&clients, &token, capacity * 2.0).await;
            report(capacity, &calm, &crowd);
            report_floor(capacity * 2.0, &floor(&channels, capacity * 2.0).await);
            None
        }
    };
    drop(process);
    app.stop().await;
    served
}

/// This process kept to the CPUs `cpus` names (every thread) until dropped.
pub struct Pinned;

impl Pinned {
    pub fn to(cpus: &str) -> Self {
        set_affinity(cpus);
        Pinned
    }
}

impl Drop for Pinned {
    fn drop(&mut self) {
        set_affinity("0-1023");
    }
}

fn set_affinity(cpus: &str) {
    let pid = std::process::id().to_string();
    let status = std::process::Command::new("taskset")
        .args(["-a", "-c", "-p", cpus, &pid])
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "taskset -a -c -p {cpus} {pid} failed");
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

/// Health checks at the overloaded step's rate, as a floor for its times.
pub fn report_floor(rate: f64, floor: &Outcomes) {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "overload  floor: Health/Check at {rate:.0}/s on the same connections: p50 {:.2} ms, p99 {:.2} ms",
        ms(at(&floor.served, 0.5)),
        ms(at(&floor.served, 0.99)),
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

/// GetMe sent at `rate` per second for the measurement's length.
async fn open_loop(clients: &[IdentityServiceClient<Channel>], token: &str, rate: f64) -> Outcomes {
    let clients = clients.to_vec();
    let token = token.to_owned();
    calls_at(rate, move |i| {
        let mut client = clients[i % clients.len()].clone();
        let request = authed(&token, pb::GetMeRequest {});
        async move { client.get_me(request).await.map(drop) }
    })
    .await
}

/// Health checks sent at `rate` per second on the same connections: what
/// the load's side and the transport add to a call that costs nothing.
async fn floor(channels: &[Channel], rate: f64) -> Outcomes {
    let clients: Vec<_> = channels.iter().cloned().map(HealthClient::new).collect();
    calls_at(rate, move |i| {
        let mut client = clients[i % clients.len()].clone();
        async move { client.check(HealthCheckRequest::default()).await.map(drop) }
    })
    .await
}

/// Calls made by `call` at `rate` per second for the measurement's length,
/// each at its time; how long each took, by outcome.
pub async fn calls_at<F, C>(rate: f64, call: F) -> Outcomes
where
    F: Fn(usize) -> C,
    C: std::future::Future<Output = Result<(), tonic::Status>> + Send + 'static,
{
    let (tx, mut rx) = mpsc::unbounded_channel();
    let interval = Duration::from_secs_f64(1.0 / rate.max(1.0));
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let total = (rate * SECONDS as f64) as usize;
    for i in 0..total {
        ticks.tick().await;
        let answer = call(i);
        let tx = tx.clone();
        tokio::spawn(async move {
            let sent = Instant::now();
            let answer = answer.await;
            let _ = tx.send((sent.elapsed(), answer.map_err(|s| s.code())));
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
