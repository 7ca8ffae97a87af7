//! The in-process live seams: the all-in-one shape (one member, so a send
//! reaches nobody else and the sender's own delivery is all there is), and
//! tests that join several members to one network to stand for replicas.
//!
//! Channels are bounded like a broker's buffers: a listener that does not
//! keep up loses what overflows, as live messages may.

use std::collections::{HashMap, HashSet};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};

use bytes::Bytes;
use tokio::sync::mpsc;
use tokio_stream::Stream;
use tokio_stream::wrappers::ReceiverStream;

use super::{Fanout, Lease, LeaseChanges, Leases, Listener, LiveError};

/// What one listener or watcher may have waiting.
const BUFFER: usize = 1024;

/// A listener: its id, the member it belongs to and its channel.
type Ear = (u64, u64, mpsc::Sender<Bytes>);

/// Members sharing topics, as replicas share a broker.
#[derive(Clone, Default)]
pub struct LocalNetwork {
    topics: Arc<Mutex<HashMap<String, Vec<Ear>>>>,
    /// Ids of members and of listeners.
    next: Arc<AtomicU64>,
    members: Arc<AtomicU64>,
}

impl LocalNetwork {
    /// A new member: it hears what the others send, not what it sends.
    pub fn join(&self) -> LocalFanout {
        self.members.fetch_add(1, Ordering::Relaxed);
        LocalFanout {
            network: self.clone(),
            member: self.next.fetch_add(1, Ordering::Relaxed),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Vec<Ear>>> {
        self.topics.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn forget(&self, topic: &str, listener: u64) {
        let mut topics = self.lock();
        if let Some(ears) = topics.get_mut(topic) {
            ears.retain(|(id, _, _)| *id != listener);
            if ears.is_empty() {
                topics.remove(topic);
            }
        }
    }
}

/// A listener that leaves its topic when dropped (as an unsubscribe does).
struct LocalListener {
    network: LocalNetwork,
    topic: String,
    id: u64,
    receiver: ReceiverStream<Bytes>,
}

impl Stream for LocalListener {
    type Item = Bytes;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        Pin::new(&mut self.receiver).poll_next(cx)
    }
}

impl Drop for LocalListener {
    fn drop(&mut self) {
        self.network.forget(&self.topic, self.id);
    }
}

/// One member of a [`LocalNetwork`].
pub struct LocalFanout {
    network: LocalNetwork,
    member: u64,
}

#[async_trait::async_trait]
impl Fanout for LocalFanout {
    async fn listen(&self, topic: &str) -> Result<Listener, LiveError> {
        let (sender, receiver) = mpsc::channel(BUFFER);
        let id = self.network.next.fetch_add(1, Ordering::Relaxed);
        self.network
            .lock()
            .entry(topic.to_owned())
            .or_default()
            .push((id, self.member, sender));
        Ok(Box::pin(LocalListener {
            network: self.network.clone(),
            topic: topic.to_owned(),
            id,
            receiver: ReceiverStream::new(receiver),
        }))
    }

    async fn send(&self, topic: &str, payload: Bytes) -> Result<(), LiveError> {
        let topics = self.network.lock();
        for (_, member, sender) in topics.get(topic).into_iter().flatten() {
            // A full listener loses this payload.
            if *member != self.member {
                let _ = sender.try_send(payload.clone());
            }
        }
        Ok(())
    }

    fn solitary(&self) -> bool {
        self.network.members.load(Ordering::Relaxed) <= 1
    }
}

#[derive(Default)]
struct LeaseState {
    held: HashSet<String>,
    watchers: Vec<mpsc::Sender<Lease>>,
}

/// A lease set in this process.
#[derive(Clone, Default)]
pub struct LocalLeases {
    state: Arc<Mutex<LeaseState>>,
}

impl LocalLeases {
    fn lock(&self) -> MutexGuard<'_, LeaseState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn tell(state: &mut LeaseState, change: &Lease) {
        state.watchers.retain(|watcher| !watcher.is_closed());
        for watcher in &state.watchers {
            let _ = watcher.try_send(change.clone());
        }
    }
}

#[async_trait::async_trait]
impl Leases for LocalLeases {
    async fn hold(&self, key: &str) -> Result<(), LiveError> {
        let mut state = self.lock();
        state.held.insert(key.to_owned());
        Self::tell(&mut state, &Lease::Held(key.to_owned()));
        Ok(())
    }

    async fn release(&self, key: &str) -> Result<(), LiveError> {
        let mut state = self.lock();
        if state.held.remove(key) {
            Self::tell(&mut state, &Lease::Released(key.to_owned()));
        }
        Ok(())
    }

    async fn watch(&self) -> Result<LeaseChanges, LiveError> {
        let mut state = self.lock();
        let (sender, receiver) = mpsc::channel(BUFFER.max(state.held.len()));
        for key in &state.held {
            let _ = sender.try_send(Lease::Held(key.clone()));
        }
        state.watchers.push(sender);
        Ok(Box::pin(ReceiverStream::new(receiver)))
    }
}
