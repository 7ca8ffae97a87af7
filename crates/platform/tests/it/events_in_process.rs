//! The event backbone of the all-in-one shape: SQLite outboxes as the log and
//! the in-process transport, with the same guarantees as JetStream. (A relay
//! dying between publishing and marking cannot happen here: numbering the
//! rows is the publishing, in one transaction.)

// Helpers panic on a broken set-up; that is the test failing loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use crate::support::*;
use frevix_platform::events::{ConsumerSpec, EventBus, EventsConfig, Tail};
use sea_orm::{ConnectionTrait, Statement};

fn config() -> EventsConfig {
    EventsConfig {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_survive_a_restart_and_are_applied_once_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite(dir.path(), "producer").await;
    let consumer_db = sqlite(dir.path(), "consumer").await;
    let bus = EventBus::connect(&config()).await.unwrap();
    let (outbox, relay) = bus.producer("identity", db.clone()).await.unwrap();
    let relaying = relay.spawn();
    let consumer = bus
        .consume(spec(), consumer_db.clone(), Arc::new(Recorder::default()))
        .await
        .unwrap();
    write_events(&db, &outbox, "a", &numbered("v", 0..10)).await;
    wait_applied(&consumer_db, 10, Duration::from_secs(10)).await;

    // The process dies; more changes were committed before it did.
    consumer.abort();
    relaying.abort();
    write_events(&db, &outbox, "a", &numbered("v", 10..25)).await;
    drop((bus, db, consumer_db));

    // A new process on the same files.
    let db = sqlite(dir.path(), "producer").await;
    let consumer_db = sqlite(dir.path(), "consumer").await;
    let bus = EventBus::connect(&config()).await.unwrap();
    let (_, relay) = bus.producer("identity", db.clone()).await.unwrap();
    let relaying = relay.spawn();
    let consumer = bus
        .consume(spec(), consumer_db.clone(), Arc::new(Recorder::default()))
        .await
        .unwrap();
    assert_applied_once_in_order(&consumer_db, "a", &numbered("v", 0..25)).await;
    consumer.shutdown(Duration::from_secs(2)).await;
    relaying.shutdown(Duration::from_secs(2)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_handler_is_retried_and_a_poison_event_is_dead_lettered() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite(dir.path(), "producer").await;
    let consumer_db = sqlite(dir.path(), "consumer").await;
    let bus = EventBus::connect(&config()).await.unwrap();
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
    assert_eq!(values_of(&rows, "a"), ["first", "flaky", "last"]);
    let attempts = recorder.attempts.lock().unwrap().clone();
    assert_eq!(attempts["flaky"], 3);
    assert_eq!(attempts["poison"], 3);

    let dead = consumer_db
        .query_all_raw(Statement::from_string(
            consumer_db.get_database_backend(),
            "SELECT consumer, error FROM dead_letters",
        ))
        .await
        .unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(
        dead[0].try_get::<String>("", "consumer").unwrap(),
        "recorder"
    );
    assert!(
        dead[0]
            .try_get::<String>("", "error")
            .unwrap()
            .contains("poison")
    );
    consumer.shutdown(Duration::from_secs(2)).await;
    relaying.shutdown(Duration::from_secs(2)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_relays_publish_each_event_once_in_order_per_aggregate() {
    let dir = tempfile::tempdir().unwrap();
    let url = frevix_platform::db::sqlite_url(&dir.path().join("producer.db"));
    let first_db = reconnect(&url).await;
    let second_db = reconnect(&url).await;
    let bus = EventBus::connect(&config()).await.unwrap();
    let (outbox, first) = bus.producer("identity", first_db.clone()).await.unwrap();
    let (_, second) = bus.producer("identity", second_db).await.unwrap();
    let relays = [first.clone().spawn(), second.spawn()];
    write_concurrently(&first_db, &outbox).await;
    wait_drained(&first).await;
    let mut tail = Tail::outbox(first_db.clone(), true).await.unwrap();
    let sequences = assert_in_order_per_aggregate(&mut tail).await;
    assert_eq!(
        sequences,
        (1..=200).collect::<Vec<u64>>(),
        "each event numbered once"
    );
    for relay in relays {
        relay.shutdown(Duration::from_secs(2)).await;
    }
}
