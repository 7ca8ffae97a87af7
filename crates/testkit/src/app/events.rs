//! What a test reads and writes on the event backbone through its app:
//! a producer's published events (from its outbox or its JetStream
//! stream), and events published as a producer would.

use std::time::{Duration, Instant};

use frevix::registry;
use frevix_platform::events::{JetStreamBus, Tail};

use super::TestApp;

impl TestApp {
    /// Waits (up to 10 s) for an event of type `E` from `producer` that
    /// satisfies `wanted`, reading the producer's stream from its start.
    pub async fn wait_for_event<E: prost::Name + Default>(
        &self,
        producer: &str,
        wanted: impl Fn(&E) -> bool,
    ) -> E {
        let mut tail = self.tail(producer).await;
        let deadline = Duration::from_secs(10);
        tokio::time::timeout(deadline, async {
            loop {
                let event = tail.next().await.unwrap();
                if let Ok(decoded) = event.decode::<E>()
                    && wanted(&decoded)
                {
                    return decoded;
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("no matching {} within {deadline:?}", E::full_name()))
    }

    /// Every event `producer` has published so far, in stream order.
    pub async fn published_events(
        &self,
        producer: &str,
    ) -> Vec<frevix_platform::events::ReceivedEvent> {
        let mut tail = self.tail(producer).await;
        let mut events = Vec::new();
        // The first event may be slow to come on a busy machine; after it,
        // a pause means the end of what was published.
        loop {
            let wait = if events.is_empty() { 2_000 } else { 500 };
            match tokio::time::timeout(Duration::from_millis(wait), tail.next()).await {
                Ok(Ok(event)) => events.push(event),
                _ => return events,
            }
        }
    }

    /// The `E` events `producer` has published, once there are `expected`
    /// of them (a read of the log can stop short while the machine is busy,
    /// so it is read again until then, for up to 15 s), checked again a
    /// moment later: still exactly `expected`, none doubled.
    pub async fn published_exactly<E: prost::Name + Default>(
        &self,
        producer: &str,
        expected: usize,
    ) -> Vec<E> {
        let read = || async {
            self.published_events(producer)
                .await
                .iter()
                .filter(|event| event.is::<E>())
                .map(|event| event.decode::<E>().unwrap())
                .collect::<Vec<E>>()
        };
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let events = read().await;
            if events.len() >= expected || Instant::now() >= deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        let events = read().await;
        assert_eq!(events.len(), expected, "{}", E::full_name());
        events
    }

    /// Publishes `event` as `producer` would, through this process's
    /// transport: through the outbox of `producer` itself when it is one of
    /// this app's services (so its consumers read it wherever they read
    /// that service's events), or else through a stand-in's outbox (a
    /// service not built yet, such as payments).
    pub async fn publish_as<E: prost::Name>(
        &self,
        producer: &'static str,
        aggregate_id: &str,
        event: &E,
    ) {
        let mut producers = self.fake_producers.lock().await;
        if !producers.contains_key(producer) {
            let db = match registry::service(producer) {
                Some(entry) => {
                    let url =
                        secrecy::ExposeSecret::expose_secret(&entry.database(&self.config).url)
                            .to_owned();
                    entry.connect(&url, 2).await.unwrap()
                }
                None => {
                    let dir = self
                        ._dir
                        .as_ref()
                        .map_or_else(std::env::temp_dir, |d| d.path().to_path_buf());
                    let name = format!("fake-{producer}-{}.db", uuid::Uuid::new_v4().simple());
                    let url = frevix_platform::db::sqlite_url(&dir.join(name));
                    frevix_platform::db::connect_and_migrate::<FakeProducer>(&url, 1)
                        .await
                        .unwrap()
                }
            };
            let (outbox, relay) = self.bus.producer(producer, db.clone()).await.unwrap();
            producers.insert(producer.to_owned(), (outbox, relay.spawn(), db));
        }
        let (outbox, _, db) = &producers[producer];
        let txn = frevix_platform::db::Txn::begin(db).await.unwrap();
        outbox
            .publish(&txn, "test", aggregate_id, event)
            .await
            .unwrap();
        txn.commit().await.unwrap();
    }

    async fn tail(&self, producer: &str) -> Tail {
        if self.config.events.nats_url.is_empty() {
            let entry = registry::service(producer)
                .unwrap_or_else(|| panic!("no outbox known for {producer}"));
            let url =
                secrecy::ExposeSecret::expose_secret(&entry.database(&self.config).url).to_owned();
            let db = sea_orm::Database::connect(url.as_str()).await.unwrap();
            Tail::outbox(db, true).await.unwrap()
        } else {
            let bus = JetStreamBus::connect(self.config.events.clone())
                .await
                .unwrap();
            Tail::jetstream(&bus, producer, true).await.unwrap()
        }
    }
}

/// The outbox table alone: the database of a producer a test stands in for.
struct FakeProducer;

#[async_trait::async_trait]
impl sea_orm_migration::MigratorTrait for FakeProducer {
    fn migrations() -> Vec<Box<dyn sea_orm_migration::MigrationTrait>> {
        vec![
            Box::new(frevix_platform::events::schema::OutboxTable),
            Box::new(frevix_platform::events::schema::OutboxPendingIndex),
        ]
    }
}
