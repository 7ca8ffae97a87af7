//! Retention of the event tables: rows go once nothing can need them, and
//! nothing still needed goes (a consumer that is behind still gets every
//! event it has not read).

use std::sync::Arc;
use std::time::Duration;

use crate::support::*;
use chrono::Utc;
use frevix_platform::events::{ConsumerSpec, EventBus, EventsConfig, Pruned, Retention};
use frevix_testkit::{TestDatabase, TestStreams};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

async fn count(db: &DatabaseConnection, table: &str) -> i64 {
    db.query_one_raw(Statement::from_string(
        db.get_database_backend(),
        format!("SELECT COUNT(*) AS n FROM {table}"),
    ))
    .await
    .unwrap()
    .unwrap()
    .try_get::<i64>("", "n")
    .unwrap()
}

fn spec() -> ConsumerSpec {
    ConsumerSpec::new("recorder", "identity")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_in_process_log_keeps_what_a_lagging_consumer_has_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite(dir.path(), "producer").await;
    let ahead_db = sqlite(dir.path(), "ahead").await;
    let behind_db = sqlite(dir.path(), "behind").await;
    let bus = EventBus::connect(&EventsConfig {
        relay_poll_ms: 50,
        ..EventsConfig::default()
    })
    .await
    .unwrap();
    let (outbox, relay) = bus.producer("identity", db.clone()).await.unwrap();
    let relaying = relay.spawn();
    let ahead = bus
        .consume(spec(), ahead_db.clone(), Arc::new(Recorder::default()))
        .await
        .unwrap();
    let behind = bus
        .consume(spec(), behind_db.clone(), Arc::new(Recorder::default()))
        .await
        .unwrap();
    write_events(&db, &outbox, "a", &numbered("v", 0..10)).await;
    wait_applied(&behind_db, 10, Duration::from_secs(10)).await;
    // One consumer stops reading; ten more events come.
    behind.abort();
    write_events(&db, &outbox, "a", &numbered("v", 10..20)).await;
    wait_applied(&ahead_db, 20, Duration::from_secs(10)).await;

    let retention = Retention::new(bus.clone(), "identity", db.clone());
    assert_eq!(
        retention.pass(Utc::now()).await.unwrap(),
        Pruned::default(),
        "recent events stay however far everyone has read"
    );
    let later = Utc::now() + chrono::Duration::days(31);
    assert_eq!(retention.pass(later).await.unwrap().outbox, 10);
    assert_eq!(count(&db, "outbox").await, 10, "the unread ten stay");

    // The lagging consumer comes back and gets exactly what it missed.
    let behind = bus
        .consume(spec(), behind_db.clone(), Arc::new(Recorder::default()))
        .await
        .unwrap();
    assert_applied_once_in_order(&behind_db, "a", &numbered("v", 0..20)).await;
    assert_eq!(retention.pass(later).await.unwrap().outbox, 10);
    assert_eq!(count(&db, "outbox").await, 0);

    // Inboxes: kept while the stream could redeliver, then gone.
    let inbox = Retention::new(bus.clone(), "consumer", ahead_db.clone());
    assert_eq!(inbox.pass(Utc::now()).await.unwrap().inbox, 0);
    assert_eq!(inbox.pass(later).await.unwrap().inbox, 20);
    assert_eq!(count(&ahead_db, "inbox").await, 0);
    for task in [ahead, behind, relaying] {
        task.shutdown(Duration::from_secs(2)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn published_rows_go_with_their_pass_and_unpublished_ones_stay() {
    let streams = TestStreams::new();
    let producer = TestDatabase::create::<TestMigrator>("events").await;
    let consumer = TestDatabase::create::<TestMigrator>("events").await;
    let db = reconnect(&producer.url).await;
    let consumer_db = reconnect(&consumer.url).await;
    let bus = EventBus::connect(&EventsConfig {
        nats_url: streams.url.clone(),
        subject_prefix: streams.prefix.clone(),
        relay_poll_ms: 50,
        ..EventsConfig::default()
    })
    .await
    .unwrap();
    let (outbox, relay) = bus.producer("identity", db.clone()).await.unwrap();
    write_events(&db, &outbox, "a", &numbered("v", 0..5)).await;
    assert_eq!(relay.pass().await.unwrap(), 5);
    assert_eq!(
        count(&db, "outbox").await,
        0,
        "behind JetStream a published row goes with the pass that published it"
    );
    // Committed, not yet published (the relay is not running).
    write_events(&db, &outbox, "a", &numbered("v", 5..8)).await;
    // A row an earlier version marked published instead of deleting it.
    write_events(&db, &outbox, "old", &numbered("w", 0..1)).await;
    db.execute_unprepared("UPDATE outbox SET published_at = now() WHERE aggregate_id = 'old'")
        .await
        .unwrap();

    let retention = Retention::new(bus.clone(), "identity", db.clone());
    assert_eq!(retention.pass(Utc::now()).await.unwrap().outbox, 0);
    let past_window = Utc::now() + chrono::Duration::minutes(3);
    assert_eq!(
        retention.pass(past_window).await.unwrap().outbox,
        1,
        "a marked row goes after the duplicate window"
    );
    assert_eq!(count(&db, "outbox").await, 3, "unpublished rows stay");
    assert_eq!(relay.pass().await.unwrap(), 3, "and are still published");

    let consuming = bus
        .consume(spec(), consumer_db.clone(), Arc::new(Recorder::default()))
        .await
        .unwrap();
    assert_applied_once_in_order(&consumer_db, "a", &numbered("v", 0..8)).await;
    let inbox = Retention::new(bus.clone(), "consumer", consumer_db.clone());
    assert_eq!(inbox.pass(past_window).await.unwrap().inbox, 0);
    let past_max_age = Utc::now() + chrono::Duration::days(31);
    assert_eq!(inbox.pass(past_max_age).await.unwrap().inbox, 8);
    consuming.shutdown(Duration::from_secs(2)).await;
}
