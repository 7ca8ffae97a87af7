//! The channels between a client's stream and the tasks feeding it, with
//! boxed slots. tokio's bounded channel allocates its slots 32 at a time,
//! the first block when the channel is made; a slot of a `ChatResponse`
//! result is 432 bytes, so each channel of an open stream held 13.5 KiB of
//! empty slots before anything was sent, and a Chat stream has three (the
//! hub's live events, its feed, its answers). Boxed, a slot is 8 bytes, and
//! a message's box lives only while it waits.

use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::sync::mpsc;
use tokio_stream::Stream;

/// A bounded channel of `capacity` items of `T`, each boxed while queued.
pub fn channel<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    let (sender, receiver) = mpsc::channel(capacity);
    (Sender(sender), Receiver(receiver))
}

/// The sending half; clones send into the same channel.
pub struct Sender<T>(mpsc::Sender<Box<T>>);

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

/// The item was not sent: the receiver is gone (or, for `try_send`, the
/// channel is full).
#[derive(Debug)]
pub struct Closed;

impl<T> Sender<T> {
    /// Waits for room, then queues `item`.
    pub async fn send(&self, item: T) -> Result<(), Closed> {
        self.0.send(Box::new(item)).await.map_err(|_| Closed)
    }

    /// Queues `item` if there is room now (full or closed: not sent).
    pub fn try_send(&self, item: T) -> Result<(), Closed> {
        self.0.try_send(Box::new(item)).map_err(|_| Closed)
    }

    /// Resolves once the receiver is dropped.
    pub async fn closed(&self) {
        self.0.closed().await;
    }
}

/// The receiving half, also a stream of the items.
pub struct Receiver<T>(mpsc::Receiver<Box<T>>);

impl<T> Receiver<T> {
    /// The next item; `None` once every sender is dropped.
    pub async fn recv(&mut self) -> Option<T> {
        self.0.recv().await.map(|item| *item)
    }
}

impl<T> Stream for Receiver<T> {
    type Item = T;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.0.poll_recv(cx).map(|item| item.map(|item| *item))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio_stream::StreamExt as _;

    #[tokio::test]
    async fn items_arrive_in_order_and_the_stream_ends_with_the_senders() {
        let (sender, mut receiver) = channel::<[u8; 400]>(2);
        let other = sender.clone();
        sender.send([1; 400]).await.unwrap();
        other.send([2; 400]).await.unwrap();
        assert_eq!(receiver.recv().await.map(|item| item[0]), Some(1));
        drop((sender, other));
        assert_eq!(receiver.next().await.map(|item| item[0]), Some(2));
        assert_eq!(receiver.next().await, None);
    }

    #[tokio::test]
    async fn a_dropped_receiver_closes_the_channel() {
        let (sender, receiver) = channel::<u8>(1);
        drop(receiver);
        sender.closed().await;
        assert!(sender.send(1).await.is_err());
    }

    #[test]
    fn a_slot_is_a_pointer() {
        assert_eq!(
            std::mem::size_of::<Box<[u8; 400]>>(),
            std::mem::size_of::<usize>()
        );
    }
}
