//! The checks before each send, asked in bulk. Every message needs its
//! conversation's members, blocks and resend check before it is written;
//! asked one by one, PostgreSQL planned and ran that statement for every
//! message, and planning alone cost about as much as running it. Lookups
//! that arrive while another is being answered are answered together by the
//! next statement (`store::sending::send_contexts`). A lone lookup goes at
//! once: nothing waits to fill a batch.
//!
//! If a batch fails, its lookups are asked again one by one, so each gets
//! its own answer or error.

use frevix_platform::error::ApiError;
use std::sync::Arc;

use sea_orm::DatabaseConnection;
use tokio::sync::{Mutex, mpsc, oneshot};

use crate::batch;
use crate::error::{MessagingError, Result};
use crate::store::sending::{self, Lookup, SendContext};

/// Lookups answered by one statement at most.
const MAX_BATCH: usize = 128;
/// Lookups waiting before `context` itself waits.
const QUEUE: usize = 4096;

struct Pending {
    lookup: Lookup,
    reply: oneshot::Sender<Result<Option<SendContext>>>,
}

/// Hands lookups to the askers and waits for the answer.
pub struct Lookups {
    queue: mpsc::Sender<Pending>,
}

impl Lookups {
    /// `askers` statements in flight at once.
    /// The tasks end once every `Lookups` is dropped and the queue is empty.
    pub fn start(
        db: DatabaseConnection,
        askers: usize,
    ) -> (Lookups, Vec<tokio::task::JoinHandle<()>>) {
        let (queue, receiver) = mpsc::channel(QUEUE);
        let receiver = Arc::new(Mutex::new(receiver));
        let tasks = (0..askers.max(1))
            .map(|_| tokio::spawn(run(db.clone(), receiver.clone())))
            .collect();
        (Lookups { queue }, tasks)
    }

    /// What a send of `lookup` needs to know; None when the conversation
    /// does not exist.
    pub async fn context(&self, lookup: Lookup) -> Result<Option<SendContext>> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Pending { lookup, reply })
            .await
            .map_err(|_| ApiError::ShuttingDown)?;
        answer.await.map_err(|_| ApiError::ShuttingDown)?
    }
}

async fn run(db: DatabaseConnection, receiver: Arc<Mutex<mpsc::Receiver<Pending>>>) {
    // None: messaging is shutting down.
    while let Some(batch) = batch::next(&receiver, MAX_BATCH).await {
        let lookups: Vec<Lookup> = batch.iter().map(|p| p.lookup.clone()).collect();
        match sending::send_contexts(&db, &lookups).await {
            Ok(contexts) => {
                for (pending, context) in batch.into_iter().zip(contexts) {
                    let _ = pending.reply.send(Ok(context));
                }
            }
            Err(_) => {
                for pending in batch {
                    let l = &pending.lookup;
                    let answer =
                        sending::send_context(&db, l.conversation, l.sender, &l.client_message_id)
                            .await
                            .map_err(MessagingError::from);
                    let _ = pending.reply.send(answer);
                }
            }
        }
    }
}
