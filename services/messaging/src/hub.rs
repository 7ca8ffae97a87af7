//! Live fan-out inside one process: each subscribed stream registers a
//! bounded channel under its account, and committed messages and receipts
//! are offered to the members' channels. A stream that falls so far behind
//! that its channel is full is dropped and told to resync, so one slow
//! client never stalls the others. (Fan-out across replicas goes through
//! NATS subjects per user; that is the next step.)

use std::collections::HashMap;
use std::sync::Mutex;

use frevix_proto::messaging::v1 as pb;
use tokio::sync::mpsc;
use uuid::Uuid;

/// What a live stream is offered.
#[derive(Debug, Clone)]
pub enum Live {
    Message(pb::Message),
    Read(pb::ReadReceipt),
}

/// Channel capacity of one stream.
const BUFFER: usize = 1024;

/// The live streams of each account.
#[derive(Default)]
pub struct Hub {
    streams: Mutex<HashMap<Uuid, Vec<mpsc::Sender<Live>>>>,
}

impl Hub {
    /// Registers a stream of `account`.
    pub fn subscribe(&self, account: Uuid) -> mpsc::Receiver<Live> {
        let (sender, receiver) = mpsc::channel(BUFFER);
        if let Ok(mut streams) = self.streams.lock() {
            streams.entry(account).or_default().push(sender);
        }
        receiver
    }

    /// Offers `event` to every stream of `accounts`; full or closed streams
    /// are dropped (their receivers see the channel close).
    pub fn publish(&self, accounts: &[Uuid], event: &Live) {
        let Ok(mut streams) = self.streams.lock() else {
            return;
        };
        for account in accounts {
            if let Some(list) = streams.get_mut(account) {
                list.retain(|sender| sender.try_send(event.clone()).is_ok());
                if list.is_empty() {
                    streams.remove(account);
                }
            }
        }
    }
}
