//! Where a live feed writes: a Subscribe stream's channel, or a Chat
//! stream's answers directly. A Chat stream carries the same events in its
//! own envelope; writing them there, instead of into a channel that a task
//! of its own copies into the answers, saves each open Chat stream a task
//! and a channel (about 2.5 KiB of an idle stream's memory).

use frevix_proto::messaging::v1 as pb;
use tonic::Status;

use crate::slots::{self, Closed};

type Item<T> = std::result::Result<T, Status>;

/// A send under way ([`FeedSink::send`]).
pub(crate) type Sending<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), Closed>> + Send + 'a>>;

#[derive(Clone)]
pub(crate) enum FeedSink {
    Subscribe(slots::Sender<Item<pb::SubscribeResponse>>),
    Chat(slots::Sender<Item<pb::ChatResponse>>),
}

impl FeedSink {
    /// Waits for room, then queues `item`; `Closed` once the stream is gone.
    ///
    /// Boxed: a send holds its item (a message and its envelope) while it
    /// waits, and a feed awaits sends in several places; unboxed, every
    /// idle feed's task would keep room for the largest of them.
    pub fn send(&self, item: Item<pb::SubscribeResponse>) -> Sending<'_> {
        Box::pin(async move {
            match self {
                Self::Subscribe(sender) => sender.send(item).await,
                Self::Chat(sender) => match item {
                    Ok(pb::SubscribeResponse { event: None }) => Ok(()),
                    Ok(pb::SubscribeResponse { event: Some(event) }) => {
                        let event = Some(chat_event(event));
                        sender.send(Ok(pb::ChatResponse { event })).await
                    }
                    Err(status) => sender.send(Err(status)).await,
                },
            }
        })
    }

    /// Resolves once the stream's receiving end is dropped.
    pub async fn closed(&self) {
        match self {
            Self::Subscribe(sender) => sender.closed().await,
            Self::Chat(sender) => sender.closed().await,
        }
    }
}

/// A feed event in Chat's envelope.
fn chat_event(event: pb::subscribe_response::Event) -> pb::chat_response::Event {
    use pb::chat_response::Event as C;
    use pb::subscribe_response::Event as S;
    match event {
        S::Message(m) => C::Message(m),
        S::Read(r) => C::Read(r),
        S::Resync(r) => C::Resync(r),
        S::Heartbeat(h) => C::Heartbeat(h),
        S::Changed(c) => C::Changed(c),
        S::Delivered(d) => C::Delivered(d),
        S::Typing(t) => C::Typing(t),
        S::Presence(p) => C::Presence(p),
        S::Conversation(c) => C::Conversation(c),
        S::Notification(n) => C::Notification(n),
    }
}
