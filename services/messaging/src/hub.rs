//! Live fan-out. Each live stream registers a bounded channel under its
//! account; whatever happens (a committed message, a receipt, typing, a
//! presence change, a notification) is offered to the channels of the
//! accounts concerned.
//!
//! The hub always delivers to this process's streams directly. Other
//! replicas are reached through the platform's [`Fanout`], one topic per
//! account: a process listens to an account's topic while it holds at
//! least one of that account's streams, so a sender on one replica reaches
//! a recipient on another, and each event crosses the network only to the
//! replicas that need it (in the mesh, a NATS subject per account). The
//! fan-out never hands a replica back what it sent, so an event is not
//! delivered twice to the process that published it (nor decoded again:
//! the round trip through NATS was most of a local delivery's cost). In
//! the all-in-one shape nobody else listens, and the hub skips it.
//!
//! A stream whose channel is full is dropped and told to resync, so one
//! slow client never stalls the others; the feed then catches up from the
//! database. An account holds at most `max_streams` streams here: opening
//! one more closes its oldest, which is told why.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::slots;
use frevix_platform::live::Fanout;
use frevix_proto::messaging::v1 as pb;
use prost::Message as _;
use tokio_stream::StreamExt as _;
use uuid::Uuid;

/// What a live stream is offered.
pub type Live = pb::subscribe_response::Event;

/// One registered stream: its id, its channel, and whether it was closed
/// for a newer stream of the account.
type Stream = (u64, slots::Sender<Live>, Arc<AtomicBool>);

struct Registered {
    streams: Vec<Stream>,
    /// The task listening to the account's topic (when others may send).
    subscription: Option<tokio::task::AbortHandle>,
}

/// Something that wants to know when an account's first stream opens and
/// its last one closes (presence).
pub trait Watcher: Send + Sync + 'static {
    fn online(&self, account: Uuid, online: bool);
}

pub struct Hub {
    accounts: Mutex<HashMap<Uuid, Registered>>,
    next_id: AtomicU64,
    buffer: usize,
    max_streams: usize,
    fanout: Arc<dyn Fanout>,
    watcher: std::sync::OnceLock<Arc<dyn Watcher>>,
}

/// A registered stream; dropping it unregisters.
pub struct Registration {
    hub: Arc<Hub>,
    account: Uuid,
    id: u64,
    pub receiver: slots::Receiver<Live>,
    superseded: Arc<AtomicBool>,
}

impl Registration {
    /// Whether the hub closed this stream because its account opened too
    /// many (rather than because it fell behind).
    pub fn superseded(&self) -> bool {
        self.superseded.load(Ordering::Relaxed)
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.hub.leave(self.account, self.id);
    }
}

impl Hub {
    /// A hub reaching other replicas through `fanout`.
    pub fn new(buffer: usize, max_streams: usize, fanout: Arc<dyn Fanout>) -> Arc<Self> {
        Arc::new(Self {
            accounts: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
            buffer,
            max_streams: max_streams.max(1),
            fanout,
            watcher: std::sync::OnceLock::new(),
        })
    }

    pub fn set_watcher(&self, watcher: Arc<dyn Watcher>) {
        let _ = self.watcher.set(watcher);
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Uuid, Registered>> {
        self.accounts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn topic(account: Uuid) -> String {
        account.simple().to_string()
    }

    /// Registers a stream of `account`. It returns once the account's topic
    /// is listened to, so nothing published after this returns can be
    /// missed.
    pub async fn register(self: &Arc<Self>, account: Uuid) -> Registration {
        let (sender, receiver) = slots::channel(self.buffer);
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let superseded = Arc::new(AtomicBool::new(false));
        let first = {
            let mut accounts = self.lock();
            let entry = accounts.entry(account).or_insert_with(|| Registered {
                streams: Vec::new(),
                subscription: None,
            });
            while entry.streams.len() >= self.max_streams {
                // Dropping its sender ends the oldest feed, which reads the flag.
                let (_, _, closed) = entry.streams.remove(0);
                closed.store(true, Ordering::Relaxed);
                tracing::info!(%account, "too many live streams; the oldest is closed");
            }
            entry.streams.push((id, sender, superseded.clone()));
            entry.streams.len() == 1
        };
        if first {
            if !self.fanout.solitary() {
                self.listen(account).await;
            }
            if let Some(watcher) = self.watcher.get() {
                watcher.online(account, true);
            }
        }
        Registration {
            hub: self.clone(),
            account,
            id,
            receiver,
            superseded,
        }
    }

    async fn listen(self: &Arc<Self>, account: Uuid) {
        let mut listener = match self.fanout.listen(&Self::topic(account)).await {
            Ok(listener) => listener,
            Err(error) => {
                tracing::warn!(%account, %error, "cannot listen to the account's live topic");
                return;
            }
        };
        let hub = Arc::downgrade(self);
        let task = tokio::spawn(async move {
            while let Some(payload) = listener.next().await {
                let Some(hub) = hub.upgrade() else { return };
                match pb::SubscribeResponse::decode(payload) {
                    Ok(pb::SubscribeResponse { event: Some(event) }) => {
                        hub.deliver(&[account], &event);
                    }
                    Ok(_) => {}
                    Err(error) => tracing::warn!(%error, "undecodable live event"),
                }
            }
        });
        let mut accounts = self.lock();
        match accounts.get_mut(&account) {
            // Still wanted: keep the listener with the account.
            Some(entry) if entry.subscription.is_none() => {
                entry.subscription = Some(task.abort_handle());
            }
            // Gone meanwhile (or already subscribed): drop this one.
            _ => task.abort(),
        }
    }

    fn leave(&self, account: Uuid, id: u64) {
        let last = {
            let mut accounts = self.lock();
            let Some(entry) = accounts.get_mut(&account) else {
                return;
            };
            entry.streams.retain(|(stream, _, _)| *stream != id);
            if entry.streams.is_empty() {
                if let Some(subscription) = accounts.remove(&account).and_then(|e| e.subscription) {
                    subscription.abort();
                }
                true
            } else {
                false
            }
        };
        if last && let Some(watcher) = self.watcher.get() {
            watcher.online(account, false);
        }
    }

    /// Whether this process holds a stream of `account`.
    pub fn is_local(&self, account: Uuid) -> bool {
        self.lock().contains_key(&account)
    }

    /// The accounts with a stream here.
    pub fn local_accounts(&self) -> Vec<Uuid> {
        self.lock().keys().copied().collect()
    }

    /// Offers `event` to every stream of `accounts`, wherever they are.
    pub async fn publish(&self, accounts: &[Uuid], event: Live) {
        self.deliver(accounts, &event);
        if self.fanout.solitary() {
            return;
        }
        let payload: bytes::Bytes = pb::SubscribeResponse { event: Some(event) }
            .encode_to_vec()
            .into();
        for account in accounts {
            // The broker is unreachable: other processes' streams catch up
            // from the database on their next event or reconnect.
            if let Err(error) = self
                .fanout
                .send(&Self::topic(*account), payload.clone())
                .await
            {
                tracing::warn!(%account, %error, "live publish failed");
            }
        }
    }

    /// Offers `event` to this process's streams of `accounts`; full or
    /// closed streams are dropped (their receivers see the channel close).
    pub fn deliver(&self, accounts: &[Uuid], event: &Live) {
        let mut accounts_map = self.lock();
        for account in accounts {
            if let Some(entry) = accounts_map.get_mut(account) {
                entry
                    .streams
                    .retain(|(_, sender, _)| sender.try_send(event.clone()).is_ok());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use frevix_platform::live::LocalNetwork;

    use super::*;

    fn typing(account: Uuid) -> Live {
        Live::Typing(pb::Typing {
            conversation_id: Uuid::nil().to_string(),
            account_id: account.to_string(),
            typing: true,
        })
    }

    async fn received(registration: &mut Registration) -> Option<Live> {
        tokio::time::timeout(Duration::from_millis(300), registration.receiver.recv())
            .await
            .ok()
            .flatten()
    }

    #[tokio::test]
    async fn an_event_reaches_every_replica_holding_the_account_once() {
        let network = LocalNetwork::default();
        let a = Hub::new(8, 4, Arc::new(network.join()));
        let b = Hub::new(8, 4, Arc::new(network.join()));
        let (here, there, nowhere) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let mut on_a = a.register(here).await;
        let mut on_b = b.register(there).await;
        let mut also_on_b = b.register(here).await;
        a.publish(&[here, there, nowhere], typing(here)).await;
        assert!(received(&mut on_a).await.is_some(), "local stream");
        assert!(
            received(&mut on_b).await.is_some(),
            "other replica's stream"
        );
        assert!(
            received(&mut also_on_b).await.is_some(),
            "same account elsewhere"
        );
        // Exactly once each: nothing echoed back or repeated.
        assert!(received(&mut on_a).await.is_none());
        assert!(received(&mut on_b).await.is_none());
        // Once its last stream there closes, a replica stops hearing the account.
        drop(on_b);
        tokio::task::yield_now().await;
        assert!(!b.is_local(there));
    }

    #[tokio::test]
    async fn a_solitary_hub_delivers_locally() {
        let hub = Hub::new(8, 4, Arc::new(LocalNetwork::default().join()));
        let account = Uuid::now_v7();
        let mut stream = hub.register(account).await;
        hub.publish(&[account], typing(account)).await;
        assert!(received(&mut stream).await.is_some());
        assert!(received(&mut stream).await.is_none());
    }

    #[tokio::test]
    async fn too_many_streams_close_the_oldest() {
        let hub = Hub::new(8, 2, Arc::new(LocalNetwork::default().join()));
        let account = Uuid::now_v7();
        let mut first = hub.register(account).await;
        let _second = hub.register(account).await;
        let _third = hub.register(account).await;
        assert!(first.superseded());
        assert!(first.receiver.recv().await.is_none(), "its channel closed");
    }
}
