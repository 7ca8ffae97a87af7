//! A stand-in for the parts of Stripe's API that Frevix calls, for tests
//! and the local mesh. No emulator on the registries covers them (see
//! DESIGN.md §7), so this one is Frevix's own: stateful, in memory, and
//! honest about shape — every body it answers and every event it sends is
//! first parsed with async-stripe's own types ([`check`]).
//!
//! It covers payment intents (confirm with Stripe's test cards, decline,
//! 3-D Secure, capture, cancel), customers, setup intents and off-session
//! charges, refunds (never more than a charge has left), Connect Express
//! accounts and account links, transfers with `source_transaction` and
//! reversals, disputes, balance transactions, `Idempotency-Key` and the
//! `Stripe-Account` header, and signed webhooks with retries and faults a
//! test can inject ([`Faults`]).

mod api;
mod bodies;
mod call;
pub mod check;
mod form;
mod objects;
mod pages;
mod webhooks;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Notify;

pub use objects::Card;
pub use webhooks::{Delivered, Endpoint, signature};

use objects::Book;
use webhooks::Pending;

/// Ways a test makes the stand-in behave like a bad day at the provider.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// Share of API calls answered 500 before anything is done.
    pub fail_rate: f64,
    /// Share of API calls done but answered 500 (the answer lost on the
    /// way): only a retry with the same idempotency key tells what happened.
    pub lose_rate: f64,
    /// Share of API calls done but answered only after `stall` (past the
    /// caller's timeout, as a provider that hangs).
    pub stall_rate: f64,
    pub stall: Duration,
    /// Share of webhook deliveries sent twice.
    pub duplicate_rate: f64,
    /// Share of webhook attempts dropped (retried later, as after a
    /// timeout).
    pub drop_rate: f64,
    /// Deliver what is due newest first.
    pub reorder: bool,
    /// Hold each event this long before its first delivery.
    pub delay: Duration,
}

/// An event as a change leaves it, before it is numbered and signed.
#[derive(Debug, Clone)]
pub(crate) struct Event {
    pub kind: &'static str,
    pub object: serde_json::Value,
    /// A connected account's event (Connect webhooks carry `account`).
    pub account: Option<String>,
}

#[derive(Default)]
struct Hooks {
    endpoint: Option<Endpoint>,
    pending: std::collections::VecDeque<Pending>,
    delivered: Vec<Delivered>,
    /// Events the stand-in made that async-stripe could not parse (its own
    /// bug: never sent).
    malformed: Vec<String>,
}

struct Inner {
    base: String,
    book: Mutex<Book>,
    faults: Mutex<Faults>,
    hooks: Mutex<Hooks>,
    wake: Notify,
}

/// A running stand-in.
#[derive(Clone)]
pub struct StandIn {
    inner: Arc<Inner>,
}

/// Money the stand-in moved, by kind, for a test's checks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Totals {
    pub charges: usize,
    pub refunds: usize,
    pub transfers: usize,
    pub reversals: usize,
    pub charged: i64,
    pub refunded: i64,
    pub transferred: i64,
}

impl StandIn {
    /// Starts one on `addr` (port 0 for any); its deliveries run until the
    /// process ends.
    pub async fn start(addr: SocketAddr) -> std::io::Result<StandIn> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        let standin = StandIn {
            inner: Arc::new(Inner {
                base: format!("http://{local}/"),
                book: Mutex::new(Book::default()),
                faults: Mutex::new(Faults::default()),
                hooks: Mutex::new(Hooks::default()),
                wake: Notify::new(),
            }),
        };
        let router = api::router(standin.clone()).merge(pages::router(standin.clone()));
        tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, router).await {
                tracing::error!(%error, "the stripe stand-in stopped serving");
            }
        });
        tokio::spawn(standin.clone().deliver_forever());
        Ok(standin)
    }

    /// Where to point a Stripe client (`ClientBuilder::url`), ending in `/`.
    pub fn base(&self) -> &str {
        &self.inner.base
    }

    /// Sends events to `endpoint` from now on (and what waited for one).
    pub fn set_endpoint(&self, endpoint: Endpoint) {
        self.hooks().endpoint = Some(endpoint);
        self.inner.wake.notify_one();
    }

    pub fn set_faults(&self, faults: Faults) {
        *self.inner.faults.lock().unwrap_or_else(|e| e.into_inner()) = faults;
    }

    pub fn faults(&self) -> Faults {
        self.inner
            .faults
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Every event made so far and what became of it.
    pub fn deliveries(&self) -> Vec<Delivered> {
        self.hooks().delivered.clone()
    }

    /// Events that failed the shape check and were never sent: a test
    /// asserts there are none.
    pub fn malformed_events(&self) -> Vec<String> {
        self.hooks().malformed.clone()
    }

    /// How many events still wait for a 2xx.
    pub fn undelivered(&self) -> usize {
        self.hooks().pending.len()
    }

    /// The money moved so far.
    pub fn totals(&self) -> Totals {
        let book = self.lock();
        Totals {
            charges: book.charges.len(),
            refunds: book.refunds.len(),
            transfers: book.transfers.len(),
            reversals: book.transfers.values().map(|t| t.reversals.len()).sum(),
            charged: book.charges.values().map(|c| c.amount).sum(),
            refunded: book.refunds.values().map(|r| r.amount).sum(),
            transferred: book.transfers.values().map(|t| t.amount).sum(),
        }
    }

    /// Disputes `charge` as the cardholder's bank would; answers the
    /// dispute's id.
    pub fn dispute(&self, charge: &str) -> Option<String> {
        let mut events = call::Events::default();
        let id = api::open_dispute(&mut self.lock(), charge, &mut events);
        for event in events.0 {
            self.queue(event);
        }
        id
    }

    /// The disputes the bank has not decided yet, by id.
    pub fn open_disputes(&self) -> Vec<String> {
        self.lock()
            .disputes
            .values()
            .filter(|d| d.status == "needs_response")
            .map(|d| d.id.clone())
            .collect()
    }

    /// Closes `dispute`, won (the money stays) or lost.
    pub fn close_dispute(&self, dispute: &str, won: bool) -> bool {
        let mut events = call::Events::default();
        let closed = api::close_dispute(&mut self.lock(), dispute, won, &mut events);
        for event in events.0 {
            self.queue(event);
        }
        closed
    }

    fn lock(&self) -> MutexGuard<'_, Book> {
        self.inner.book.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn hooks(&self) -> MutexGuard<'_, Hooks> {
        self.inner.hooks.lock().unwrap_or_else(|e| e.into_inner())
    }
}
