//! Payments' ledger on PostgreSQL: releases posted per second (escrow →
//! freelancer payable less the fee, the fee → platform revenue; the
//! database checks every rule of the books as it writes), 8 writers,
//! against pgbench running a transaction of the same shape in the same
//! run: three balances updated (the platform's revenue row shared by all,
//! as in the ledger), three entries and a header inserted, 8 clients.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use frevix_payments::ledger::Escrow;
use frevix_payments::store;
use frevix_platform::db::{Txn, connect_and_migrate};
use frevix_platform::money::{Currency, Money};
use frevix_testkit::TestDatabase;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use uuid::Uuid;

const SECONDS: u64 = 5;
const WRITERS: usize = 8;
const MILESTONES: usize = 30_000;
const PARTIES: usize = 100;

pub async fn run() {
    let database = TestDatabase::create::<frevix_payments::Migrator>("payments").await;
    let db = connect_and_migrate::<frevix_payments::Migrator>(&database.url, WRITERS as u32)
        .await
        .unwrap();
    let baseline = pgbench(&db, &database.url).await;
    println!(
        "baseline  pgbench (3 balances updated, one shared; 3 entries and a header inserted; 8 clients) tps: {baseline:.0}"
    );
    let freelancers: Vec<Uuid> = (0..PARTIES).map(|_| Uuid::now_v7()).collect();
    let escrows: Arc<Vec<Escrow>> = Arc::new(
        (0..MILESTONES)
            .map(|i| Escrow {
                contract: Uuid::now_v7(),
                milestone: Uuid::now_v7(),
                client: Uuid::now_v7(),
                freelancer: freelancers[i % PARTIES],
                currency: Currency::USD,
            })
            .collect(),
    );
    let (funded, fund_rate) = post_all(
        &db,
        &escrows,
        |escrow, i| {
            escrow
                .fund(Money::new(Currency::USD, 10_000), &format!("ch_bench_{i}"))
                .unwrap()
        },
        Duration::from_secs(120),
    )
    .await;
    println!(
        "payments  fund postings/s: {fund_rate:.0}   ratio to pgbench: {:.2}   ({funded} funded)",
        fund_rate / baseline
    );
    let funded_escrows = Arc::new(escrows[..funded].to_vec());
    let (released, release_rate) = post_all(
        &db,
        &funded_escrows,
        |escrow, _| {
            escrow
                .release(Money::new(Currency::USD, 10_000), 1_000)
                .unwrap()
        },
        Duration::from_secs(SECONDS),
    )
    .await;
    println!(
        "payments  release postings/s: {release_rate:.0}   ratio to pgbench: {:.2}   ({released} releases)",
        release_rate / baseline
    );
    let problems = store::books(&db).await.unwrap();
    println!(
        "payments  books after the run: {}",
        if problems.is_empty() {
            "balanced, every rule holds".to_owned()
        } else {
            format!("{} problems: {problems:?}", problems.len())
        }
    );
}

/// Posts `make(escrow)` for each escrow, `WRITERS` at a time, until done or
/// `limit` passed; how many and how many per second.
async fn post_all(
    db: &DatabaseConnection,
    escrows: &Arc<Vec<Escrow>>,
    make: fn(&Escrow, usize) -> frevix_payments::ledger::Transaction,
    limit: Duration,
) -> (usize, f64) {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut writers = tokio::task::JoinSet::new();
    for _ in 0..WRITERS {
        let (db, escrows, next) = (db.clone(), escrows.clone(), next.clone());
        writers.spawn(async move {
            let mut done = 0;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= escrows.len() || started.elapsed() >= limit {
                    return done;
                }
                let transaction = make(&escrows[i], i);
                let txn = Txn::begin(&db).await.unwrap();
                store::post(&txn, &transaction, chrono::Utc::now())
                    .await
                    .unwrap();
                txn.commit().await.unwrap();
                done += 1;
            }
        });
    }
    let mut done = 0;
    while let Some(count) = writers.join_next().await {
        done += count.unwrap();
    }
    (done, done as f64 / started.elapsed().as_secs_f64())
}

/// Transactions/s of pgbench running a release's shape.
async fn pgbench(db: &DatabaseConnection, url: &str) -> f64 {
    for statement in [
        "CREATE TABLE bench_accounts (key text PRIMARY KEY, balance bigint NOT NULL)",
        "CREATE TABLE bench_entries (tx bigint, seq int, account text NOT NULL, amount bigint NOT NULL, PRIMARY KEY (tx, seq))",
        "CREATE TABLE bench_transactions (id bigint PRIMARY KEY, kind text NOT NULL, created_at timestamptz NOT NULL)",
        "INSERT INTO bench_accounts SELECT 'escrow:' || g, 10000 FROM generate_series(1, 30000) g",
        "INSERT INTO bench_accounts SELECT 'payable:' || g, 0 FROM generate_series(1, 100) g",
        "INSERT INTO bench_accounts VALUES ('revenue', 0)",
    ] {
        db.execute_unprepared(statement).await.unwrap();
    }
    crate::pgbench::tps(url, "release", "\\set m random(1, 30000)\n\
         \\set f random(1, 100)\n\
         \\set t random(1, 9000000000000000)\n\
         BEGIN;\n\
         UPDATE bench_accounts SET balance = balance - 10000 WHERE key = 'escrow:' || :m;\n\
         UPDATE bench_accounts SET balance = balance + 9000 WHERE key = 'payable:' || :f;\n\
         UPDATE bench_accounts SET balance = balance + 1000 WHERE key = 'revenue';\n\
         INSERT INTO bench_entries VALUES (:t, 0, 'escrow:' || :m, -10000), (:t, 1, 'payable:' || :f, 9000), (:t, 2, 'revenue', 1000);\n\
         INSERT INTO bench_transactions VALUES (:t, 'release', now());\n\
         END;\n", SECONDS).await
}
