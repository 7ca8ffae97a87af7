//! `make bench`: identity's hot paths against baselines measured in the same
//! run on the same machine, so the figures mean something wherever they run.
//!
//! - Login throughput as a ratio to raw argon2id hashes/s (a login is one
//!   verification, so 1.0 would mean everything else is free).
//! - Authenticated GetMe requests/s with latency percentiles.
//! - Reads (GetMe with a token, ListCategories) as ratios to Health/Check
//!   in the same run, on SQLite and PostgreSQL (see [`reads`]).
//!
//! - Event relay throughput and commit → consumer latency (see [`events`]).
//! - SearchGigs over 100,000 gigs on PostgreSQL and SQLite (see [`search`]).
//! - Chat: memory per idle stream at 10,000 streams, and delivery latency
//!   at 2,000 messages/s against pgbench (see [`chat`]).
//! - Contracts: PlaceOrder and ApproveMilestone against pgbench, and
//!   100,000 durable timers fired by two replicas (see [`contracts`]).
//! - Payments: ledger release postings/s against pgbench of the same
//!   shape (see [`ledger`]), release latency through the services
//!   (see [`release`]), and Stripe webhook events recorded and applied per
//!   second (see [`webhooks`]).
//! - Overload: GetMe offered at twice the capacity with load shedding on
//!   (see [`overload`]).
//! - What Envoy adds to a unary call, and (only when asked for:
//!   `FREVIX_BENCH_ONLY=gateway-idle`, 11 minutes) a Subscribe through
//!   Envoy staying open while idle (see [`gateway`]).
//!
//! The identity server runs in this process on the all-in-one shape (SQLite)
//! or, with `FREVIX_BENCH_BACKEND=postgres`, on PostgreSQL.

// A benchmark driver: a failed set-up should stop it loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod chat;
mod chat_idle;
mod chat_outbox;
mod contracts;
mod events;
mod gateway;
mod ledger;
mod overload;
mod overload_chat;
mod pgbench;
mod reads;
mod release;
mod search;
mod webhooks;

use std::time::{Duration, Instant};

use frevix_proto::identity::v1 as pb;
use frevix_testkit::{Backend, TestApp, authed};

/// The server binary's allocator, so the servers measured in this process
/// allocate as `frevix` does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SECONDS: u64 = 5;

#[tokio::main]
async fn main() {
    match std::env::var("FREVIX_BENCH_ONLY").as_deref() {
        Ok("search") => {
            search::run(Backend::Postgres).await;
            search::run(Backend::Sqlite).await;
            return;
        }
        Ok("chat") => {
            chat::run().await;
            return;
        }
        Ok("contracts") => {
            contracts::run().await;
            return;
        }
        Ok("ledger") => {
            ledger::run().await;
            release::run().await;
            webhooks::run().await;
            return;
        }
        Ok("webhooks") => {
            webhooks::run().await;
            return;
        }
        Ok("gateway") => {
            gateway::run().await;
            return;
        }
        Ok("overload") => {
            overload::run().await;
            return;
        }
        Ok("overload-unary") => {
            overload::unary().await;
            return;
        }
        Ok("overload-chat") => {
            overload_chat::run().await;
            return;
        }
        Ok("events") => {
            events::run().await;
            return;
        }
        Ok("reads") => {
            reads::run().await;
            return;
        }
        Ok("gateway-idle") => {
            gateway::idle_subscription().await;
            return;
        }
        _ => {}
    }
    let backend = match std::env::var("FREVIX_BENCH_BACKEND").as_deref() {
        Ok("postgres") => Backend::Postgres,
        _ => Backend::Sqlite,
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("frevix bench: backend {backend:?}, {cores} cores, {SECONDS} s per measurement\n");

    let hashes = raw_hashes_per_second(cores).await;
    println!("baseline  argon2id (19 MiB, t=2, p=1) hashes/s on {cores} threads: {hashes:.1}");

    let app = TestApp::spawn_with(backend, |config| {
        let limits = &mut config.identity.rate_limits;
        limits.login_per_address = 1_000_000;
        limits.login_per_account_address = 1_000_000;
        config.identity.max_concurrent_hashes = cores;
        // The measured services get their production pools.
        for entry in frevix::registry::SERVICES {
            entry.database_mut(config).max_connections = 10;
        }
    })
    .await;
    let users: Vec<_> = futures_users(&app, 8).await;

    let logins = logins_per_second(&app, &users).await;
    println!(
        "login     logins/s: {logins:.1}   ratio to raw hashes/s: {:.2}",
        logins / hashes
    );

    let (get_me, p50, p99) = get_me_per_second(&app, &users).await;
    println!(
        "get_me    requests/s: {get_me:.0}   p50 {:.2} ms   p99 {:.2} ms   (64 in flight over 4 connections)",
        p50.as_secs_f64() * 1000.0,
        p99.as_secs_f64() * 1000.0
    );
    app.stop().await;

    println!();
    reads::run().await;

    println!();
    events::run().await;

    println!();
    search::run(Backend::Postgres).await;
    search::run(Backend::Sqlite).await;

    println!();
    contracts::run().await;

    println!();
    ledger::run().await;
    release::run().await;
    webhooks::run().await;

    println!();
    chat::run().await;

    println!();
    gateway::run().await;

    println!();
    overload::run().await;
}

async fn raw_hashes_per_second(threads: usize) -> f64 {
    let deadline = Instant::now() + Duration::from_secs(SECONDS);
    let started = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            tokio::task::spawn_blocking(move || {
                let mut count = 0u64;
                while Instant::now() < deadline {
                    frevix_identity::domain::password::hash("a perfectly fine passphrase").unwrap();
                    count += 1;
                }
                count
            })
        })
        .collect();
    let mut total = 0;
    for worker in workers {
        total += worker.await.unwrap();
    }
    total as f64 / started.elapsed().as_secs_f64()
}

async fn futures_users(app: &TestApp, n: usize) -> Vec<frevix_testkit::TestUser> {
    let mut users = Vec::new();
    for _ in 0..n {
        users.push(app.register().await);
    }
    users
}

async fn logins_per_second(app: &TestApp, users: &[frevix_testkit::TestUser]) -> f64 {
    let deadline = Instant::now() + Duration::from_secs(SECONDS);
    let started = Instant::now();
    let tasks: Vec<_> = users
        .iter()
        .map(|user| {
            let mut identity = app.identity.clone();
            let (email, password) = (user.email.clone(), user.password.clone());
            tokio::spawn(async move {
                let mut count = 0u64;
                while Instant::now() < deadline {
                    identity
                        .login(pb::LoginRequest {
                            email: email.clone(),
                            password: password.clone(),
                            device_name: "bench".into(),
                            second_factor_code: String::new(),
                        })
                        .await
                        .unwrap();
                    count += 1;
                }
                count
            })
        })
        .collect();
    let mut total = 0;
    for task in tasks {
        total += task.await.unwrap();
    }
    total as f64 / started.elapsed().as_secs_f64()
}

async fn get_me_per_second(
    app: &TestApp,
    users: &[frevix_testkit::TestUser],
) -> (f64, Duration, Duration) {
    let mut channels = Vec::new();
    for _ in 0..4 {
        let channel = tonic::transport::Channel::from_shared(app.url())
            .unwrap()
            .connect()
            .await
            .unwrap();
        channels.push(pb::identity_service_client::IdentityServiceClient::new(
            channel,
        ));
    }
    let deadline = Instant::now() + Duration::from_secs(SECONDS);
    let started = Instant::now();
    let tasks: Vec<_> = (0..64)
        .map(|i| {
            let mut identity = channels[i % channels.len()].clone();
            let token = users[i % users.len()].access_token.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                while Instant::now() < deadline {
                    let sent = Instant::now();
                    identity
                        .get_me(authed(&token, pb::GetMeRequest {}))
                        .await
                        .unwrap();
                    latencies.push(sent.elapsed());
                }
                latencies
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.unwrap());
    }
    let rate = latencies.len() as f64 / started.elapsed().as_secs_f64();
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 - 1.0) * q) as usize];
    (rate, at(0.5), at(0.99))
}
