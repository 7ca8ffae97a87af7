//! Contracts on PostgreSQL, as ratios to the same run's pgbench:
//! - `PlaceOrder` and `ApproveMilestone` transactions/s (64 in flight over
//!   4 connections) against pgbench running a transaction of a comparable
//!   shape (update one row, insert two) with 8 clients, against pgbench
//!   running each one's own statements on the real tables ([`baselines`]),
//!   and against GetMe through the same server (what any authenticated call
//!   costs at least);
//! - the same two steps with contracts alone, as the mesh runs it (its own
//!   process; the services that react to its events elsewhere), when
//!   `FREVIX_BENCH_FREVIX_BIN` names the binary (`make bench` does);
//! - durable timers: 100,000 due timers fired by two replicas (their own
//!   pools and runners), the time it took, and that none fired twice.

mod baselines;

use std::sync::Arc;
use std::time::{Duration, Instant};

use frevix_platform::db::Txn;
use frevix_platform::events::HandlerError;
use frevix_platform::timers::{OnTimer, Timer, Timers};
use frevix_proto::common::v1::Money;
use frevix_proto::contracts::v1::{self as pb, contract_service_client::ContractServiceClient};
use frevix_proto::marketplace::v1 as marketplace;
use frevix_proto::payments::v1 as payments;
use frevix_testkit::{Backend, TestApp, TestClock, TestDatabase, TestUser, authed};
use sea_orm::{ConnectionTrait, Statement};
use sea_orm_migration::prelude::*;
use secrecy::ExposeSecret;
use tonic::transport::Channel;
use uuid::Uuid;

const SECONDS: u64 = 5;
const IN_FLIGHT: usize = 64;
const TIMERS: i64 = 100_000;

pub async fn run() {
    let app = TestApp::spawn_with(Backend::Postgres, |config| {
        for entry in frevix::registry::SERVICES {
            entry.database_mut(config).max_connections = 10;
        }
    })
    .await;
    let url = frevix::registry::service("contracts")
        .unwrap()
        .database(&app.config)
        .url
        .expose_secret()
        .to_owned();
    let baseline = baselines::pgbench(&url).await;
    println!("baseline  pgbench (update 1 row, insert 2; 8 clients) tps: {baseline:.0}");

    let seller = app.register().await;
    let gig = publish_gig(&app, &seller).await;
    let buyers = vec![app.register().await, app.register().await];
    let channels = channels(&app).await;
    let reads = authenticated_reads(&app, &buyers).await;
    println!(
        "baseline  GetMe (an authenticated one-row read, same server) req/s: {reads:.0}   ratio to pgbench: {:.2}",
        reads / baseline
    );
    let (orders, placed) = place_orders(&channels, &buyers, &gig).await;
    let same = baselines::place_order(&url).await;
    println!(
        "contracts PlaceOrder tx/s: {orders:.0}   ratio to pgbench: {:.2}   to GetMe: {:.2}   to pgbench of its own statements ({same:.0} tps): {:.2}",
        orders / baseline,
        orders / reads,
        orders / same
    );

    let waiting = deliver(&app, &channels[0], &seller, &buyers, &placed, 1_000).await;
    let approvals = approve(&channels, &buyers, &waiting).await;
    let same = baselines::approve(&url).await;
    println!(
        "contracts ApproveMilestone tx/s: {approvals:.0}   ratio to pgbench: {:.2}   to GetMe: {:.2}   to pgbench of its own statements ({same:.0} tps): {:.2}   ({} approvals)",
        approvals / baseline,
        approvals / reads,
        approvals / same,
        waiting.len()
    );
    if let Ok(binary) = std::env::var("FREVIX_BENCH_FREVIX_BIN") {
        alone(app, &binary, &url, baseline, &seller, &buyers, &gig).await;
    } else {
        app.stop().await;
    }

    let (elapsed, doubled) = timers().await;
    println!(
        "timers    {TIMERS} due timers, two replicas: {:.1} s ({:.0}/s), fired twice: {doubled}",
        elapsed.as_secs_f64(),
        TIMERS as f64 / elapsed.as_secs_f64()
    );
}

/// The same two steps with contracts as the mesh runs it: its own `frevix
/// serve contracts` process, the services that react to its events
/// (messaging's conversation per order, payments' terms) elsewhere. In
/// the all-in-one above they share these two cores with it, and under
/// load they take more of them than contracts does.
async fn alone(
    mut app: TestApp,
    binary: &str,
    url: &str,
    baseline: f64,
    seller: &TestUser,
    buyers: &[TestUser],
    gig: &marketplace::Gig,
) {
    let process = app
        .spawn_process(
            "contracts",
            std::path::Path::new(binary),
            &[("FREVIX_CONTRACTS__DATABASE__MAX_CONNECTIONS", "10")],
        )
        .await;
    let mut channels = Vec::new();
    for _ in 0..4 {
        let channel = Channel::from_shared(format!("http://127.0.0.1:{}", process.port))
            .unwrap()
            .connect()
            .await
            .unwrap();
        channels.push(ContractServiceClient::new(channel));
    }
    // It answers (and holds identity's keys) before the rest stops.
    place(&channels[0], &buyers[0], gig).await.unwrap();
    app.halt().await;
    let (orders, placed) = place_orders(&channels, buyers, gig).await;
    println!(
        "contracts alone PlaceOrder tx/s: {orders:.0}   ratio to pgbench: {:.2}",
        orders / baseline
    );
    let waiting = deliver(&app, &channels[0], seller, buyers, &placed, 1_000).await;
    let approvals = approve(&channels, buyers, &waiting).await;
    let same = baselines::approve(url).await;
    println!(
        "contracts alone ApproveMilestone tx/s: {approvals:.0}   ratio to pgbench: {:.2}   to pgbench of its own statements ({same:.0} tps): {:.2}",
        approvals / baseline,
        approvals / same
    );
    drop(process);
    app.stop().await;
}

fn usd(minor_units: i64) -> Option<Money> {
    Some(Money {
        currency_code: "USD".into(),
        minor_units,
    })
}

/// A published gig that asks nothing of its buyers, once contracts has it.
async fn publish_gig(app: &TestApp, seller: &TestUser) -> marketplace::Gig {
    let gig = marketplace::Gig {
        id: Uuid::now_v7().to_string(),
        seller_id: seller.account_id.clone(),
        title: "A logo".into(),
        packages: vec![marketplace::GigPackage {
            tier: marketplace::PackageTier::Basic as i32,
            name: "Basic".into(),
            price: usd(5_000),
            delivery_days: 3,
            revisions: 1,
            ..Default::default()
        }],
        status: marketplace::GigStatus::Published as i32,
        ..Default::default()
    };
    app.publish_as(
        "marketplace",
        &gig.id,
        &marketplace::GigPublished {
            gig: Some(gig.clone()),
        },
    )
    .await;
    let probe = app.register().await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while place(&app.contracts, &probe, &gig)
        .await
        .is_err_and(|s| s.code() == tonic::Code::NotFound)
    {
        assert!(Instant::now() < deadline, "the gig never reached contracts");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    gig
}

async fn place(
    contracts: &ContractServiceClient<Channel>,
    buyer: &TestUser,
    gig: &marketplace::Gig,
) -> Result<pb::Contract, tonic::Status> {
    contracts
        .clone()
        .place_order(authed(
            &buyer.access_token,
            pb::PlaceOrderRequest {
                gig_id: gig.id.clone(),
                package_tier: marketplace::PackageTier::Basic as i32,
                extra_ids: vec![],
                quantity: 1,
            },
        ))
        .await
        .map(|r| r.into_inner().contract.unwrap_or_default())
}

async fn channels(app: &TestApp) -> Vec<ContractServiceClient<Channel>> {
    let mut channels = Vec::new();
    for _ in 0..4 {
        let channel = Channel::from_shared(app.url())
            .unwrap()
            .connect()
            .await
            .unwrap();
        channels.push(ContractServiceClient::new(channel));
    }
    channels
}

/// GetMe requests/s, 64 in flight over 4 connections: what any
/// authenticated call through the same server costs at least (token
/// verification, the layers, one row).
async fn authenticated_reads(app: &TestApp, users: &[TestUser]) -> f64 {
    use frevix_proto::identity::v1 as identity;
    let mut clients = Vec::new();
    for _ in 0..4 {
        let channel = Channel::from_shared(app.url())
            .unwrap()
            .connect()
            .await
            .unwrap();
        clients.push(identity::identity_service_client::IdentityServiceClient::new(channel));
    }
    let deadline = Instant::now() + Duration::from_secs(SECONDS);
    let started = Instant::now();
    let tasks: Vec<_> = (0..IN_FLIGHT)
        .map(|i| {
            let mut client = clients[i % clients.len()].clone();
            let token = users[i % users.len()].access_token.clone();
            tokio::spawn(async move {
                let mut count = 0u64;
                while Instant::now() < deadline {
                    client
                        .get_me(authed(&token, identity::GetMeRequest {}))
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

/// Orders placed per second, and the orders (buyer index, contract).
async fn place_orders(
    channels: &[ContractServiceClient<Channel>],
    buyers: &[TestUser],
    gig: &marketplace::Gig,
) -> (f64, Vec<(usize, pb::Contract)>) {
    let deadline = Instant::now() + Duration::from_secs(SECONDS);
    let started = Instant::now();
    let tasks: Vec<_> = (0..IN_FLIGHT)
        .map(|i| {
            let contracts = channels[i % channels.len()].clone();
            let buyer = buyers[i % buyers.len()].clone();
            let gig = gig.clone();
            let buyers_count = buyers.len();
            tokio::spawn(async move {
                let mut placed = Vec::new();
                while Instant::now() < deadline {
                    let contract = place(&contracts, &buyer, &gig).await.unwrap();
                    placed.push((i % buyers_count, contract));
                }
                placed
            })
        })
        .collect();
    let mut placed = Vec::new();
    for task in tasks {
        placed.extend(task.await.unwrap());
    }
    (
        placed.len() as f64 / started.elapsed().as_secs_f64(),
        placed,
    )
}

/// Funds (as payments) and delivers up to `n` of the orders; the ones
/// waiting for their buyer's answer.
async fn deliver(
    app: &TestApp,
    contracts: &ContractServiceClient<Channel>,
    seller: &TestUser,
    buyers: &[TestUser],
    placed: &[(usize, pb::Contract)],
    n: usize,
) -> Vec<(usize, pb::Contract)> {
    let chosen: Vec<(usize, pb::Contract)> = placed.iter().take(n).cloned().collect();
    for (buyer, contract) in &chosen {
        let milestone = &contract.milestones[0];
        let funded = payments::EscrowFunded {
            contract_id: contract.id.clone(),
            milestone_id: milestone.id.clone(),
            client_id: buyers[*buyer].account_id.clone(),
            freelancer_id: seller.account_id.clone(),
            amount: milestone.amount.clone(),
            invoice_id: String::new(),
        };
        app.publish_as("payments", &contract.id, &funded).await;
    }
    let mut waiting = Vec::new();
    for (buyer, contract) in chosen {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let request = pb::SubmitDeliveryRequest {
                contract_id: contract.id.clone(),
                milestone_id: contract.milestones[0].id.clone(),
                message: "Done.".into(),
                attachment_ids: vec![],
            };
            match contracts
                .clone()
                .submit_delivery(authed(&seller.access_token, request))
                .await
            {
                Ok(_) => break,
                // Not funded yet: payments' event is on its way.
                Err(status) if status.code() == tonic::Code::FailedPrecondition => {
                    assert!(Instant::now() < deadline, "never funded: {status:?}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(status) => panic!("{status:?}"),
            }
        }
        waiting.push((buyer, contract));
    }
    waiting
}

/// Approvals per second over `waiting`, 64 in flight.
async fn approve(
    channels: &[ContractServiceClient<Channel>],
    buyers: &[TestUser],
    waiting: &[(usize, pb::Contract)],
) -> f64 {
    let work = Arc::new(std::sync::Mutex::new(waiting.to_vec()));
    let started = Instant::now();
    let tasks: Vec<_> = (0..IN_FLIGHT)
        .map(|i| {
            let contracts = channels[i % channels.len()].clone();
            let work = work.clone();
            let tokens: Vec<String> = buyers.iter().map(|b| b.access_token.clone()).collect();
            tokio::spawn(async move {
                loop {
                    let next = work.lock().unwrap().pop();
                    let Some((buyer, contract)) = next else {
                        return;
                    };
                    let request = pb::ApproveMilestoneRequest {
                        contract_id: contract.id.clone(),
                        milestone_id: contract.milestones[0].id.clone(),
                    };
                    contracts
                        .clone()
                        .approve_milestone(authed(&tokens[buyer], request))
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    waiting.len() as f64 / started.elapsed().as_secs_f64()
}

struct TimerTables;

#[async_trait::async_trait]
impl MigratorTrait for TimerTables {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(frevix_platform::timers::schema::TimersTable)]
    }
}

/// Records each firing, with no constraint: a double firing shows.
struct Count;

#[async_trait::async_trait]
impl OnTimer for Count {
    async fn fire(&self, txn: &Txn, timer: &Timer) -> Result<(), HandlerError> {
        txn.execute_raw(Statement::from_sql_and_values(
            sea_orm::DatabaseBackend::Postgres,
            "INSERT INTO fired (subject) VALUES ($1)",
            [timer.subject.clone().into()],
        ))
        .await?;
        Ok(())
    }
}

/// The time two replicas took to fire every one of 100,000 due timers,
/// and how many fired more than once.
async fn timers() -> (Duration, i64) {
    let database = TestDatabase::create::<TimerTables>("bench_timers").await;
    let db = sea_orm::Database::connect(&database.url).await.unwrap();
    db.execute_unprepared("CREATE TABLE fired (subject text NOT NULL)")
        .await
        .unwrap();
    let clock = TestClock::new();
    db.execute_raw(Statement::from_sql_and_values(
        sea_orm::DatabaseBackend::Postgres,
        "INSERT INTO timers (id, kind, subject, due_at, payload, attempts, created_at) \
         SELECT gen_random_uuid(), 'bench.fire', 't' || g, $1, '', 0, $1 \
         FROM generate_series(1, $2) g",
        [clock.now().into(), TIMERS.into()],
    ))
    .await
    .unwrap();
    clock.advance(chrono::Duration::seconds(1));
    let handler: Arc<dyn OnTimer> = Arc::new(Count);
    let connect = || async {
        frevix_platform::db::connect_and_migrate::<TimerTables>(&database.url, 10)
            .await
            .unwrap()
    };
    let started = Instant::now();
    let replicas = [
        Timers::new(clock.clock()).runner(connect().await, handler.clone()),
        Timers::new(clock.clock()).runner(connect().await, handler.clone()),
    ];
    let count = |sql: &'static str| {
        let db = db.clone();
        async move {
            db.query_one_raw(Statement::from_string(
                sea_orm::DatabaseBackend::Postgres,
                sql,
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get::<i64>("", "n")
            .unwrap()
        }
    };
    let deadline = Instant::now() + Duration::from_secs(300);
    while count("SELECT COUNT(DISTINCT subject) AS n FROM fired").await < TIMERS {
        assert!(
            Instant::now() < deadline,
            "timers still unfired after 300 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let elapsed = started.elapsed();
    for replica in replicas {
        replica.shutdown(Duration::from_secs(5)).await;
    }
    let doubled = count("SELECT COUNT(*) - COUNT(DISTINCT subject) AS n FROM fired").await;
    (elapsed, doubled)
}
