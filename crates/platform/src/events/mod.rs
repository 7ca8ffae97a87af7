//! The event backbone. A service writes its events into its own `outbox`
//! table in the same transaction as the state change ([`Outbox::publish`]);
//! a relay publishes them in order; consumers apply each event once, recording
//! it in their `inbox` in the handler's transaction. Two transports sit behind
//! the same outbox and consumers: NATS JetStream (the mesh) and in-process
//! (the all-in-one shape, where the outbox table itself is the log), so
//! delivery is at least once and deduplicated by event id in both.

mod consumer;
mod envelope;
mod handlers;
mod in_process;
mod jetstream;
mod outbox;
mod relay;
mod retention;
pub mod schema;
mod tail;

use std::sync::Arc;
use std::time::Duration;

use sea_orm::DatabaseConnection;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use consumer::{ConsumerSpec, EventHandler, HandlerError};
pub use envelope::{EnvelopeError, ReceivedEvent, consume_span, seal, subject};
pub use handlers::{AfterCommit, Handlers, On};
pub use in_process::InProcessBus;
pub use jetstream::JetStreamBus;
pub use outbox::Outbox;
pub use relay::{Relay, RelayError};
pub use retention::{Pruned, Retention};
pub use tail::{Tail, event_json};

use crate::config::ConfigError;

/// Where events go.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EventsConfig {
    /// `nats://host:4222` for JetStream; empty for the in-process transport
    /// (the all-in-one shape only).
    pub nats_url: String,
    /// First token of every subject and (upper-cased) of stream names.
    pub subject_prefix: String,
    /// JetStream replicas per stream (3 in Kubernetes).
    pub stream_replicas: usize,
    /// Window in which JetStream drops a re-published event id.
    pub duplicate_window_secs: u64,
    /// How long streams keep events.
    pub max_age_days: u64,
    /// Events a relay publishes per transaction.
    pub relay_batch: u64,
    /// How often a relay looks for rows committed by other processes.
    pub relay_poll_ms: u64,
}

impl Default for EventsConfig {
    fn default() -> Self {
        Self {
            nats_url: String::new(),
            subject_prefix: "frevix".to_owned(),
            stream_replicas: 1,
            duplicate_window_secs: 120,
            max_age_days: 30,
            relay_batch: 256,
            relay_poll_ms: 250,
        }
    }
}

impl EventsConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        let prefix_ok = !self.subject_prefix.is_empty()
            && self
                .subject_prefix
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !prefix_ok {
            return Err(ConfigError::invalid(
                "events.subject_prefix",
                "must be lower-case letters, digits and _",
            ));
        }
        if !(1..=5).contains(&self.stream_replicas) {
            return Err(ConfigError::invalid(
                "events.stream_replicas",
                "must be 1 to 5",
            ));
        }
        if self.relay_batch == 0 || self.relay_poll_ms == 0 {
            return Err(ConfigError::invalid(
                "events.relay_batch",
                "batch and poll must be positive",
            ));
        }
        Ok(())
    }

    /// The JetStream stream of `producer`, e.g. `FREVIX_IDENTITY`.
    pub fn stream_name(&self, producer: &str) -> String {
        format!("{}_{}", self.subject_prefix, producer).to_uppercase()
    }
}

/// The transport: JetStream or in-process.
#[derive(Clone)]
pub enum EventBus {
    JetStream(Arc<JetStreamBus>),
    InProcess(InProcessBus),
}

/// Why the bus could not start.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("nats: {0}")]
    Nats(String),
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
}

impl EventBus {
    /// JetStream when `nats_url` is set, in-process otherwise.
    pub async fn connect(config: &EventsConfig) -> Result<EventBus, BusError> {
        if config.nats_url.is_empty() {
            Ok(EventBus::InProcess(InProcessBus::new(config.clone())))
        } else {
            Ok(EventBus::JetStream(Arc::new(
                JetStreamBus::connect(config.clone()).await?,
            )))
        }
    }

    pub fn config(&self) -> &EventsConfig {
        match self {
            EventBus::JetStream(bus) => bus.config(),
            EventBus::InProcess(bus) => bus.config(),
        }
    }

    /// Makes `producer` a publisher: its stream exists and a relay runs.
    pub async fn producer(
        &self,
        producer: &'static str,
        db: DatabaseConnection,
    ) -> Result<(Outbox, Relay), BusError> {
        if let EventBus::JetStream(bus) = self
            && let Err(error) = bus.ensure_stream(producer).await
        {
            // Start anyway: the outbox keeps the events and the relay
            // creates the stream once NATS answers.
            tracing::warn!(producer, %error, "cannot create the event stream yet");
        }
        if let EventBus::InProcess(bus) = self {
            bus.register(producer, db.clone());
        }
        let outbox = Outbox::new(producer, self.config().subject_prefix.clone());
        let relay = Relay::new(producer, db, self.clone(), outbox.clone());
        Ok((outbox, relay))
    }

    /// Runs `handler` on the events of `spec.producer` until stopped.
    pub async fn consume(
        &self,
        spec: ConsumerSpec,
        db: DatabaseConnection,
        handler: Arc<dyn EventHandler>,
    ) -> Result<Background, BusError> {
        match self {
            EventBus::JetStream(bus) => bus.clone().consume(spec, db, handler).await,
            EventBus::InProcess(bus) => Ok(bus.consume(spec, db, handler)),
        }
    }
}

/// A background task that stops when asked.
pub struct Background {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Background {
    pub fn spawn<F, Fut>(run: F) -> Background
    where
        F: FnOnce(watch::Receiver<bool>) -> Fut,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(run(stopped));
        Background { stop, task }
    }

    /// Tasks that end on their own once their work does (workers whose
    /// queue closes when the server has drained): shutting down waits for
    /// them (at most the grace), then aborts what is left.
    pub fn tasks(handles: Vec<JoinHandle<()>>) -> Background {
        struct AbortOnDrop(Vec<tokio::task::AbortHandle>);
        impl Drop for AbortOnDrop {
            fn drop(&mut self) {
                for task in &self.0 {
                    task.abort();
                }
            }
        }
        Background::spawn(move |_stop| async move {
            let _abort = AbortOnDrop(handles.iter().map(JoinHandle::abort_handle).collect());
            for task in handles {
                let _ = task.await;
            }
        })
    }

    /// Asks the task to finish its current step and waits (at most `grace`).
    pub async fn shutdown(self, grace: Duration) {
        let _ = self.stop.send(true);
        let mut task = self.task;
        if tokio::time::timeout(grace, &mut task).await.is_err() {
            task.abort();
        }
    }

    /// Stops abruptly, as a killed process would.
    pub fn abort(self) {
        self.task.abort();
    }
}

/// Resolves when `stop` turns true.
pub(crate) async fn stopped(stop: &mut watch::Receiver<bool>) {
    while !*stop.borrow() {
        if stop.changed().await.is_err() {
            return;
        }
    }
}
