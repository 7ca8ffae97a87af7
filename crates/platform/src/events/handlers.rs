//! Typed event handlers. A consumer says which events it handles by
//! implementing [`On<E>`] for each and listing them once:
//!
//! ```ignore
//! Handlers::new("marketplace-accounts", "identity", Accounts)
//!     .on::<UserRegistered>()
//!     .on::<AccountUpdated>()
//!     .start(bus, db)
//! ```
//!
//! The same list makes the subscription (the consumer is sent only these
//! types) and the dispatch (each event decoded into its type and handed to
//! its `On::on`), so the two cannot drift apart.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use prost::Name;
use sea_orm::DatabaseConnection;

use super::{
    Background, BusError, ConsumerSpec, EventBus, EventHandler, HandlerError, ReceivedEvent,
};
use crate::db::Txn;

/// Handles events of type `E`, in the transaction that records them applied.
#[async_trait::async_trait]
pub trait On<E>: Send + Sync + 'static {
    async fn on(&self, txn: &Txn, event: E, received: &ReceivedEvent) -> Result<(), HandlerError>;
}

/// What to do once the transaction that applied an event has committed
/// (tell live streams, for example); see [`EventHandler::committed`].
#[async_trait::async_trait]
pub trait AfterCommit: Send + Sync + 'static {
    async fn committed(&self, received: &ReceivedEvent);
}

type Future_<'a> = Pin<Box<dyn Future<Output = Result<(), HandlerError>> + Send + 'a>>;
type Dispatch<S> = for<'a> fn(&'a S, &'a Txn, &'a ReceivedEvent) -> Future_<'a>;
type Committed<S> =
    for<'a> fn(&'a S, &'a ReceivedEvent) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// One consumer's handlers, by event type.
pub struct Handlers<S> {
    spec: ConsumerSpec,
    state: S,
    routes: HashMap<String, Dispatch<S>>,
    after_commit: Option<Committed<S>>,
}

impl<S: Send + Sync + 'static> Handlers<S> {
    /// The durable consumer `name` of `producer`'s events, handled by `state`.
    pub fn new(name: impl Into<String>, producer: impl Into<String>, state: S) -> Self {
        Self {
            spec: ConsumerSpec::new(name, producer),
            state,
            routes: HashMap::new(),
            after_commit: None,
        }
    }

    /// Subscribes to `E` and hands each one to `state`'s `On<E>`.
    pub fn on<E>(mut self) -> Self
    where
        E: Name + Default + Send + 'static,
        S: On<E>,
    {
        self.spec.event_types.push(E::full_name());
        self.routes.insert(E::full_name(), dispatch::<S, E>);
        self
    }

    /// Calls `state`'s [`AfterCommit`] once each event's transaction has committed.
    pub fn after_commit(mut self) -> Self
    where
        S: AfterCommit,
    {
        self.after_commit = Some(committed::<S>);
        self
    }

    /// Changes the consumer's other settings (retries, inbox).
    pub fn with_spec(mut self, change: impl FnOnce(&mut ConsumerSpec)) -> Self {
        change(&mut self.spec);
        self
    }

    /// The subscription these handlers make.
    pub fn spec(&self) -> &ConsumerSpec {
        &self.spec
    }

    /// Starts consuming on `db` (where the inbox and the handlers' writes go).
    pub async fn start(
        self,
        bus: &EventBus,
        db: DatabaseConnection,
    ) -> Result<Background, BusError> {
        let package = format!("frevix.{}.", self.spec.producer);
        if let Some(foreign) = self
            .spec
            .event_types
            .iter()
            .find(|event_type| !event_type.starts_with(&package))
        {
            return Err(BusError::Nats(format!(
                "consumer {} reads {}'s stream but handles {foreign}",
                self.spec.name, self.spec.producer
            )));
        }
        let spec = self.spec.clone();
        bus.consume(spec, db, Arc::new(self)).await
    }
}

fn dispatch<'a, S, E>(state: &'a S, txn: &'a Txn, received: &'a ReceivedEvent) -> Future_<'a>
where
    S: On<E>,
    E: Name + Default + Send + 'static,
{
    Box::pin(async move {
        let event: E = received.decode()?;
        state.on(txn, event, received).await
    })
}

fn committed<'a, S: AfterCommit>(
    state: &'a S,
    received: &'a ReceivedEvent,
) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>> {
    state.committed(received)
}

#[async_trait::async_trait]
impl<S: Send + Sync + 'static> EventHandler for Handlers<S> {
    async fn handle(&self, txn: &Txn, event: &ReceivedEvent) -> Result<(), HandlerError> {
        match self.routes.get(event.event_type()) {
            Some(dispatch) => dispatch(&self.state, txn, event).await,
            // Not subscribed to: the transport filters these already.
            None => Ok(()),
        }
    }

    async fn committed(&self, event: &ReceivedEvent) {
        if let Some(after_commit) = self.after_commit {
            after_commit(&self.state, event).await;
        }
    }
}
