//! The in-process transport of the all-in-one shape. The producer's outbox
//! table is the log: the relay numbers rows in commit order, and each
//! consumer reads the rows after its cursor, moving the cursor in the same
//! transaction as its handler's writes. Events therefore survive a restart,
//! and delivery semantics match JetStream's.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use tokio::sync::watch;

use super::consumer::{
    ConsumerSpec, Cursor, EventHandler, Outcome, apply_batch, apply_with_retries, load_cursor,
    store_dead_letter,
};
use super::envelope::ReceivedEvent;
use super::schema::outbox;
use super::{Background, EventsConfig, stopped};

struct Stream {
    db: DatabaseConnection,
    published: watch::Sender<u64>,
}

/// A consumer's name and where it keeps its cursor.
type Reader = (String, DatabaseConnection);

/// The producers of this process and their logs.
#[derive(Clone)]
pub struct InProcessBus {
    config: EventsConfig,
    streams: Arc<Mutex<HashMap<String, Stream>>>,
    /// The consumers of each producer.
    readers: Arc<Mutex<HashMap<String, Vec<Reader>>>>,
}

impl InProcessBus {
    pub fn new(config: EventsConfig) -> Self {
        Self {
            config,
            streams: Arc::new(Mutex::new(HashMap::new())),
            readers: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// The last position of `producer`'s log that every consumer of it in
    /// this process has read; `None` while it has no consumer.
    pub(crate) async fn read_by_all(&self, producer: &str) -> Result<Option<i64>, sea_orm::DbErr> {
        let readers = self
            .readers
            .lock()
            .map(|readers| readers.get(producer).cloned().unwrap_or_default())
            .unwrap_or_default();
        let mut lowest = None;
        for (name, db) in readers {
            let cursor = load_cursor(&db, &name).await?;
            lowest = Some(lowest.map_or(cursor, |low: i64| low.min(cursor)));
        }
        Ok(lowest)
    }

    pub fn config(&self) -> &EventsConfig {
        &self.config
    }

    pub(crate) fn register(&self, producer: &str, db: DatabaseConnection) {
        if let Ok(mut streams) = self.streams.lock() {
            streams
                .entry(producer.to_owned())
                .or_insert_with(|| Stream {
                    db,
                    published: watch::channel(0).0,
                });
        }
    }

    pub(crate) fn published(&self, producer: &str) {
        if let Ok(streams) = self.streams.lock()
            && let Some(stream) = streams.get(producer)
        {
            stream.published.send_modify(|n| *n = n.wrapping_add(1));
        }
    }

    fn stream(&self, producer: &str) -> Option<(DatabaseConnection, watch::Receiver<u64>)> {
        let streams = self.streams.lock().ok()?;
        let stream = streams.get(producer)?;
        Some((stream.db.clone(), stream.published.subscribe()))
    }

    pub(crate) fn consume(
        &self,
        spec: ConsumerSpec,
        db: DatabaseConnection,
        handler: Arc<dyn EventHandler>,
    ) -> Background {
        if let Ok(mut readers) = self.readers.lock() {
            readers
                .entry(spec.producer.clone())
                .or_default()
                .push((spec.name.clone(), db.clone()));
        }
        let bus = self.clone();
        Background::spawn(move |mut stop| async move {
            // The producer may be built after its consumers.
            let (log, mut published) = loop {
                if let Some(stream) = bus.stream(&spec.producer) {
                    break stream;
                }
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_millis(50)) => {}
                    () = stopped(&mut stop) => return,
                }
            };
            loop {
                if *stop.borrow() {
                    return;
                }
                let progressed = match consume_batch(&spec, &db, &log, handler.as_ref()).await {
                    Ok(count) => count > 0,
                    Err(error) => {
                        tracing::warn!(consumer = %spec.name, %error, "in-process consumer pass failed");
                        false
                    }
                };
                if progressed {
                    continue;
                }
                tokio::select! {
                    _ = published.changed() => {}
                    () = tokio::time::sleep(Duration::from_millis(500)) => {}
                    () = stopped(&mut stop) => return,
                }
            }
        })
    }
}

async fn consume_batch(
    spec: &ConsumerSpec,
    db: &DatabaseConnection,
    log: &DatabaseConnection,
    handler: &dyn EventHandler,
) -> Result<usize, sea_orm::DbErr> {
    let cursor = load_cursor(db, &spec.name).await?;
    let rows = outbox::Entity::find()
        .filter(outbox::Column::StreamSeq.gt(cursor))
        .order_by_asc(outbox::Column::StreamSeq)
        .limit(100)
        .all(log)
        .await?;
    let events: Result<Vec<ReceivedEvent>, _> = rows
        .iter()
        .map(|row| {
            let seq = u64::try_from(row.stream_seq.unwrap_or_default()).unwrap_or(0);
            ReceivedEvent::open(&row.envelope, seq, 1)
        })
        .collect();
    let mut failed_in_batch = None;
    if let (Ok(events), Some(last)) = (events, rows.last()) {
        let cursor = Cursor {
            consumer: &spec.name,
            stream_seq: last.stream_seq.unwrap_or_default(),
        };
        match apply_batch(db, spec, &events, handler, Some(cursor)).await? {
            Ok(()) => return Ok(rows.len()),
            Err(index) => failed_in_batch = Some(index),
        }
    }
    // One at a time: retries, dead letters, and the cursor after each event.
    for (index, row) in rows.iter().enumerate() {
        let stream_seq = row.stream_seq.unwrap_or_default();
        let cursor = Cursor {
            consumer: &spec.name,
            stream_seq,
        };
        let event = match ReceivedEvent::open(
            &row.envelope,
            u64::try_from(stream_seq).unwrap_or(0),
            1,
        ) {
            Ok(event) => event,
            Err(error) => {
                tracing::error!(consumer = %spec.name, %error, "undecodable event; dead-lettering");
                let placeholder = ReceivedEvent {
                    id: row.event_id,
                    envelope: Default::default(),
                    stream_seq: 0,
                    delivered: 1,
                };
                store_dead_letter(
                    db,
                    spec,
                    &placeholder,
                    &error.to_string(),
                    row.envelope.clone(),
                    Some(cursor),
                )
                .await?;
                continue;
            }
        };
        if let Outcome::DeadLetter(error) = apply_with_retries(
            db,
            spec,
            &event,
            handler,
            Some(cursor),
            first_attempt(failed_in_batch, index),
        )
        .await?
        {
            let cursor = Cursor {
                consumer: &spec.name,
                stream_seq,
            };
            store_dead_letter(db, spec, &event, &error, row.envelope.clone(), Some(cursor)).await?;
        }
    }
    Ok(rows.len())
}

/// The attempt an event starts at when going one by one: the event that
/// failed in the batch has used its first attempt there.
pub(crate) fn first_attempt(failed_in_batch: Option<usize>, index: usize) -> u32 {
    if failed_in_batch == Some(index) { 2 } else { 1 }
}
