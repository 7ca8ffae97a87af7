//! Event backbone figures on PostgreSQL and JetStream:
//! - relay throughput (outbox commit → JetStream ack) as a ratio to raw
//!   async-nats publishing into a stream with the same settings, with the
//!   same number of acks in flight;
//! - latency from the producer's commit to the consumer's handler at a
//!   steady 1,000 events/s (the consumer's commit follows in the same
//!   transaction).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_nats::HeaderMap;
use frevix_platform::events::{
    ConsumerSpec, EventBus, EventHandler, EventsConfig, HandlerError, ReceivedEvent,
};
use frevix_proto::identity::v1::AccountUpdated;
use frevix_testkit::{TestDatabase, TestStreams};
use sea_orm_migration::prelude::*;

const EVENTS: usize = 20_000;
/// Rounds of raw publishing and of relaying, alternating.
const ROUNDS: usize = 5;

struct BenchMigrator;

#[async_trait::async_trait]
impl MigratorTrait for BenchMigrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(frevix_platform::events::schema::OutboxTable),
            Box::new(frevix_platform::events::schema::ConsumerTables),
            Box::new(frevix_platform::events::schema::OutboxPendingIndex),
            Box::new(frevix_platform::events::schema::OutboxStreamSeqIndex),
        ]
    }
}

pub async fn run() {
    let streams = TestStreams::new();
    let config = EventsConfig {
        nats_url: streams.url.clone(),
        subject_prefix: streams.prefix.clone(),
        relay_poll_ms: 10,
        ..EventsConfig::default()
    };
    let producer_db = TestDatabase::create::<BenchMigrator>("bench").await;
    let db = frevix_platform::db::connect_and_migrate::<BenchMigrator>(&producer_db.url, 10)
        .await
        .unwrap();
    let bus = EventBus::connect(&config).await.unwrap();
    let EventBus::JetStream(js) = &bus else {
        unreachable!()
    };

    // Baseline: raw publishing, same stream settings, same acks in flight.
    // Raw and relay rounds alternate, and the ratio is the median of each
    // pair's: one round is a fraction of a second, and the host's pace
    // (the broker's fsyncs, the CPU the other processes take) varies that
    // much from one second to the next, so a ratio of figures taken
    // seconds apart would measure the host as much as the relay.
    js.ensure_stream("raw").await.unwrap();
    let (outbox, relay) = bus.producer("bench", db.clone()).await.unwrap();
    let (mut raw_rounds, mut relay_rounds, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let raw = raw_publish(js, &config.subject_prefix, round).await;
        // The relay's events committed first, then drained.
        write_backlog(&db, &outbox, round).await;
        let started = Instant::now();
        relay.drain().await.unwrap();
        let relayed = EVENTS as f64 / started.elapsed().as_secs_f64();
        ratios.push(relayed / raw);
        raw_rounds.push(raw);
        relay_rounds.push(relayed);
    }
    let spread: Vec<String> = ratios.iter().map(|r| format!("{r:.2}")).collect();
    println!(
        "baseline  raw async-nats publish (256 acks in flight) msgs/s: {:.0}",
        median(raw_rounds)
    );
    println!(
        "relay     outbox → JetStream ack events/s: {:.0}   ratio to raw publish: {:.2}   (median of {ROUNDS} alternating rounds of {EVENTS}: {})",
        median(relay_rounds),
        median(ratios),
        spread.join(" ")
    );

    // Latency at a steady 1,000 events/s through relay and consumer.
    let consumer_db_guard = TestDatabase::create::<BenchMigrator>("bench").await;
    let consumer_db =
        frevix_platform::db::connect_and_migrate::<BenchMigrator>(&consumer_db_guard.url, 10)
            .await
            .unwrap();
    let clock = Arc::new(Clock::default());
    let relaying = relay.spawn();
    let consumer_vacuum = consumer_db.clone();
    let consumer = bus
        .consume(
            ConsumerSpec::new("latency", "bench"),
            consumer_db,
            clock.clone(),
        )
        .await
        .unwrap();
    // Skip the backlog of the throughput run.
    while clock.seen.lock().unwrap().len() < EVENTS * ROUNDS {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The backlog left dead rows behind (marked outbox rows, consumed
    // inboxes): vacuumed now, as autovacuum would have in a steady state,
    // rather than in the middle of the measurement.
    use sea_orm::ConnectionTrait as _;
    db.execute_unprepared("VACUUM ANALYZE").await.unwrap();
    consumer_vacuum
        .execute_unprepared("VACUUM ANALYZE")
        .await
        .unwrap();
    // Four writers at 250 events/s each, as concurrent requests would.
    let steady: u32 = 5_000;
    let started = Instant::now();
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (db, outbox) = (db.clone(), outbox.clone());
            tokio::spawn(async move {
                let mut committed = HashMap::new();
                let mut ticker = tokio::time::interval(Duration::from_millis(4));
                ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
                for i in 0..steady / 4 {
                    ticker.tick().await;
                    let txn = frevix_platform::db::Txn::begin(&db).await.unwrap();
                    let event = AccountUpdated {
                        account_id: format!("agg{w}-{}", i % 10),
                        display_name: format!("steady-{w}-{i}"),
                        roles: vec![],
                    };
                    let id = outbox
                        .publish(&txn, "account", &event.account_id, &event)
                        .await
                        .unwrap();
                    txn.commit().await.unwrap();
                    committed.insert(id, Instant::now());
                }
                committed
            })
        })
        .collect();
    let mut committed = HashMap::new();
    for writer in writers {
        committed.extend(writer.await.unwrap());
    }
    let rate = f64::from(steady) / started.elapsed().as_secs_f64();
    while clock.seen.lock().unwrap().len() < EVENTS * ROUNDS + steady as usize {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let seen = clock.seen.lock().unwrap().clone();
    let mut latencies: Vec<Duration> = committed
        .iter()
        .filter_map(|(id, at)| {
            seen.get(id)
                .map(|handled| handled.saturating_duration_since(*at))
        })
        .collect();
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 - 1.0) * q) as usize];
    println!(
        "latency   commit → consumer handler at {rate:.0} events/s: p50 {:.2} ms   p99 {:.2} ms",
        at(0.5).as_secs_f64() * 1000.0,
        at(0.99).as_secs_f64() * 1000.0
    );
    consumer.shutdown(Duration::from_secs(2)).await;
    relaying.shutdown(Duration::from_secs(2)).await;
}

/// Raw publishes per second: `EVENTS` in windows of 256 acks.
async fn raw_publish(
    js: &frevix_platform::events::JetStreamBus,
    prefix: &str,
    round: usize,
) -> f64 {
    let payload = bytes::Bytes::from(vec![7u8; 200]);
    let started = Instant::now();
    for batch in 0..EVENTS / 256 + 1 {
        let mut acks = Vec::new();
        for i in 0..256 {
            let mut headers = HeaderMap::new();
            headers.insert("Nats-Msg-Id", format!("raw-{round}-{batch}-{i}").as_str());
            acks.push(
                js.context()
                    .publish_with_headers(format!("{prefix}.raw.bench"), headers, payload.clone())
                    .await
                    .unwrap(),
            );
        }
        for ack in acks {
            ack.await.unwrap();
        }
    }
    ((EVENTS / 256 + 1) * 256) as f64 / started.elapsed().as_secs_f64()
}

/// `EVENTS` events committed 500 to a transaction, over 50 aggregates.
async fn write_backlog(
    db: &sea_orm::DatabaseConnection,
    outbox: &frevix_platform::events::Outbox,
    round: usize,
) {
    for chunk in 0..EVENTS / 500 {
        let txn = frevix_platform::db::Txn::begin(db).await.unwrap();
        for i in 0..500 {
            let event = AccountUpdated {
                account_id: format!("agg{}", i % 50),
                display_name: format!("{round}-{chunk}-{i}"),
                roles: vec![],
            };
            outbox
                .publish(&txn, "account", &event.account_id, &event)
                .await
                .unwrap();
        }
        txn.commit().await.unwrap();
    }
}

fn median(mut rounds: Vec<f64>) -> f64 {
    rounds.sort_by(f64::total_cmp);
    rounds[rounds.len() / 2]
}

/// Notes when each event reached the handler.
#[derive(Default)]
struct Clock {
    seen: Mutex<HashMap<uuid::Uuid, Instant>>,
}

#[async_trait::async_trait]
impl EventHandler for Clock {
    async fn handle(
        &self,
        _txn: &frevix_platform::db::Txn,
        event: &ReceivedEvent,
    ) -> Result<(), HandlerError> {
        self.seen.lock().unwrap().insert(event.id, Instant::now());
        Ok(())
    }
}
