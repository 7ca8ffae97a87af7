//! The event backbone on its production parts: PostgreSQL outboxes and
//! inboxes, NATS JetStream streams and durable consumers.

// Helpers panic on a broken set-up; that is the test failing loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use crate::support::*;
use frevix_platform::events::{ConsumerSpec, EventBus, EventsConfig, Tail};
use frevix_proto::identity::v1::AccountUpdated;
use frevix_testkit::{TestDatabase, TestStreams};

fn config(streams: &TestStreams) -> EventsConfig {
    EventsConfig {
        nats_url: streams.url.clone(),
        subject_prefix: streams.prefix.clone(),
        relay_poll_ms: 50,
        ..EventsConfig::default()
    }
}

fn spec() -> ConsumerSpec {
    ConsumerSpec {
        max_attempts: 3,
        first_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
        ..ConsumerSpec::new("recorder", "identity")
    }
}

async fn databases() -> (
    TestDatabase,
    TestDatabase,
    sea_orm::DatabaseConnection,
    sea_orm::DatabaseConnection,
) {
    let producer = TestDatabase::create::<TestMigrator>("events").await;
    let consumer = TestDatabase::create::<TestMigrator>("events").await;
    let producer_db = reconnect(&producer.url).await;
    let consumer_db = reconnect(&consumer.url).await;
    (producer, consumer, producer_db, consumer_db)
}

async fn stream_messages(bus: &EventBus, producer: &str) -> u64 {
    let EventBus::JetStream(js) = bus else {
        panic!("jetstream bus")
    };
    let mut stream = js
        .context()
        .get_stream(bus.config().stream_name(producer))
        .await
        .unwrap();
    stream.info().await.unwrap().state.messages
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_that_dies_after_publishing_republishes_and_the_consumer_applies_once() {
    let streams = TestStreams::new();
    let (_p, _c, db, consumer_db) = databases().await;
    let bus = EventBus::connect(&config(&streams)).await.unwrap();
    let (outbox, relay) = bus.producer("identity", db.clone()).await.unwrap();
    write_events(&db, &outbox, "a", &numbered("v", 0..10)).await;

    assert_eq!(relay.pass_then_crash().await.unwrap(), 10);
    assert_eq!(relay.depth().await.unwrap(), 10, "nothing was marked sent");
    assert_eq!(
        relay.pass().await.unwrap(),
        10,
        "the restarted relay publishes again"
    );
    assert_eq!(relay.depth().await.unwrap(), 0);
    assert_eq!(
        stream_messages(&bus, "identity").await,
        10,
        "JetStream dropped the duplicates"
    );

    let consumer = bus
        .consume(spec(), consumer_db.clone(), Arc::new(Recorder::default()))
        .await
        .unwrap();
    assert_applied_once_in_order(&consumer_db, "a", &numbered("v", 0..10)).await;
    consumer.shutdown(Duration::from_secs(2)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pass_publishes_batch_after_batch_in_order_and_marks_them_together() {
    let (_p, _c, db, consumer_db) = databases().await;
    batch_after_batch(db, consumer_db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_producer_behind_jetstream_publishes_batch_after_batch() {
    let dir = tempfile::tempdir().unwrap();
    let (_p, _c, _, consumer_db) = databases().await;
    batch_after_batch(sqlite(dir.path(), "producer").await, consumer_db).await;
}

/// 100 events with batches of 7: a pass publishes eight batches and
/// removes them together, the next one the rest; consumed once, in order.
async fn batch_after_batch(
    db: sea_orm::DatabaseConnection,
    consumer_db: sea_orm::DatabaseConnection,
) {
    let streams = TestStreams::new();
    let bus = EventBus::connect(&EventsConfig {
        relay_batch: 7,
        ..config(&streams)
    })
    .await
    .unwrap();
    let (outbox, relay) = bus.producer("identity", db.clone()).await.unwrap();
    write_events(&db, &outbox, "a", &numbered("v", 0..100)).await;

    // Eight batches of seven at most in one pass, then the rest.
    assert_eq!(relay.pass().await.unwrap(), 56);
    assert_eq!(relay.depth().await.unwrap(), 44);
    assert_eq!(relay.pass().await.unwrap(), 44);
    assert_eq!(relay.depth().await.unwrap(), 0);
    assert_eq!(relay.pass().await.unwrap(), 0);
    assert_eq!(stream_messages(&bus, "identity").await, 100);

    let consumer = bus
        .consume(spec(), consumer_db.clone(), Arc::new(Recorder::default()))
        .await
        .unwrap();
    assert_applied_once_in_order(&consumer_db, "a", &numbered("v", 0..100)).await;
    consumer.shutdown(Duration::from_secs(2)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_go_on_while_nats_is_down_and_drain_in_order_when_it_returns() {
    let mut nats = OwnNats::start().await;
    let streams = TestStreams::at(nats.url());
    let (_p, _c, db, consumer_db) = databases().await;
    let bus = EventBus::connect(&config(&streams)).await.unwrap();
    let (outbox, relay) = bus.producer("identity", db.clone()).await.unwrap();
    let relaying = relay.clone().spawn();
    let consumer = bus
        .consume(spec(), consumer_db.clone(), Arc::new(Recorder::default()))
        .await
        .unwrap();

    write_events(&db, &outbox, "a", &numbered("v", 0..20)).await;
    wait_applied(&consumer_db, 20, Duration::from_secs(10)).await;

    nats.stop();
    write_events(&db, &outbox, "a", &numbered("v", 20..50)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        relay.depth().await.unwrap(),
        30,
        "the outbox holds what NATS could not take"
    );

    nats.resume().await;
    // Nothing lost, nothing doubled, order kept.
    assert_applied_once_in_order(&consumer_db, "a", &numbered("v", 0..50)).await;
    assert_eq!(relay.depth().await.unwrap(), 0);
    consumer.shutdown(Duration::from_secs(2)).await;
    relaying.shutdown(Duration::from_secs(2)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_handler_is_retried_and_a_poison_event_is_dead_lettered() {
    let streams = TestStreams::new();
    let (_p, _c, db, consumer_db) = databases().await;
    let bus = EventBus::connect(&config(&streams)).await.unwrap();
    let (outbox, relay) = bus.producer("identity", db.clone()).await.unwrap();
    let relaying = relay.spawn();
    let recorder = Arc::new(Recorder::default());
    let consumer = bus
        .consume(spec(), consumer_db.clone(), recorder.clone())
        .await
        .unwrap();

    let values: Vec<String> = ["first", "flaky", "poison", "last"]
        .map(str::to_owned)
        .to_vec();
    write_events(&db, &outbox, "a", &values).await;
    let rows = wait_applied(&consumer_db, 3, Duration::from_secs(10)).await;
    assert_eq!(
        values_of(&rows, "a"),
        ["first", "flaky", "last"],
        "the poison event did not stop the others"
    );
    let attempts = recorder.attempts.lock().unwrap().clone();
    assert_eq!(
        attempts["flaky"], 3,
        "failed twice, applied on the third attempt"
    );
    assert_eq!(attempts["poison"], 3, "bounded by max_attempts");

    let EventBus::JetStream(js) = &bus else {
        panic!()
    };
    let dlq = js
        .context()
        .get_stream(bus.config().stream_name("dlq"))
        .await
        .unwrap();
    let message = dlq
        .get_last_raw_message_by_subject(&format!("{}.dlq.recorder", streams.prefix))
        .await
        .unwrap();
    let error = message.headers.get("Frevix-Error").unwrap().to_string();
    assert!(error.contains("poison"), "{error}");
    let dead: AccountUpdated = frevix_platform::events::ReceivedEvent::open(&message.payload, 0, 1)
        .unwrap()
        .decode()
        .unwrap();
    assert_eq!(dead.display_name, "poison");
    consumer.shutdown(Duration::from_secs(2)).await;
    relaying.shutdown(Duration::from_secs(2)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_relays_publish_each_event_once_in_order_per_aggregate() {
    let streams = TestStreams::new();
    let producer = TestDatabase::create::<TestMigrator>("events").await;
    let first_db = reconnect(&producer.url).await;
    let second_db = reconnect(&producer.url).await;
    let first_bus = EventBus::connect(&config(&streams)).await.unwrap();
    let second_bus = EventBus::connect(&config(&streams)).await.unwrap();
    let (outbox, first) = first_bus
        .producer("identity", first_db.clone())
        .await
        .unwrap();
    let (_, second) = second_bus
        .producer("identity", second_db.clone())
        .await
        .unwrap();
    let relays = [first.clone().spawn(), second.spawn()];

    write_concurrently(&first_db, &outbox).await;
    wait_drained(&first).await;
    assert_eq!(
        stream_messages(&first_bus, "identity").await,
        200,
        "each event published once"
    );

    let EventBus::JetStream(js) = &first_bus else {
        panic!()
    };
    let mut tail = Tail::jetstream(js, "identity", true).await.unwrap();
    assert_in_order_per_aggregate(&mut tail).await;
    for relay in relays {
        relay.shutdown(Duration::from_secs(2)).await;
    }
}
