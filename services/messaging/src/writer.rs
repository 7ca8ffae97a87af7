//! Group commit for sent messages. Sends that arrive while a transaction is
//! committing are written together by the next one: one BEGIN/COMMIT (one
//! WAL flush), one sequence update per conversation, one multi-row insert of
//! messages and one of their outbox events. The per-transaction cost that
//! bounded sends at a few hundred a second is shared by the whole batch, and
//! a lone send is written at once (nothing waits to fill a batch).
//!
//! A batch is all or nothing. When one fails (a resend of a stored message,
//! found by the unique client-id index, fails the whole batch), each send's
//! original is looked for: a resend is answered with it, and the others are
//! written again together, then, should that fail too, one per transaction,
//! so each gets its own answer and none is lost or doubled. A crowd of apps
//! resending after a lost connection thus costs a batch one retry, not a
//! transaction per message.
//! Writers take conversations' rows in id order, so two batches never wait on
//! each other in a cycle.

use frevix_platform::db::{Txn, is_unique_violation};
use frevix_platform::error::ApiError;
use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use frevix_platform::events::Outbox;
use frevix_proto::messaging::v1 as pb;
use sea_orm::DatabaseConnection;
use tokio::sync::{Mutex, mpsc, oneshot};
use uuid::Uuid;

use crate::domain::MediaId;
use crate::error::{MessagingError, Result};
use crate::store::{self, MessageRow};

/// Sends written by one transaction at most.
const MAX_BATCH: usize = 128;
/// Sends waiting for a writer before `write` itself waits.
const QUEUE: usize = 4096;

/// A checked send, ready to be stored: `row.seq` is assigned here.
pub struct NewMessage {
    pub row: MessageRow,
    /// The other members, named in the MessageSent event.
    pub recipients: Vec<Uuid>,
    /// Someone had archived the conversation: a new message brings it back.
    pub unarchive: bool,
    pub attachments: Vec<MediaId>,
}

/// A stored message, as the writer answers a send.
pub struct Written {
    pub row: MessageRow,
    /// The send was a resend: `row` is its original, stored before.
    pub resend: bool,
}

struct Pending {
    message: NewMessage,
    reply: oneshot::Sender<Result<Written>>,
}

/// Hands sends to the writers and waits for their commit.
pub struct Writer {
    queue: mpsc::Sender<Pending>,
}

impl Writer {
    /// `writers` transactions in flight at once: while some commit, others
    /// fill.
    /// The tasks end once every `Writer` is dropped and the queue is empty.
    pub fn start(
        db: DatabaseConnection,
        outbox: Outbox,
        writers: usize,
    ) -> (Writer, Vec<tokio::task::JoinHandle<()>>) {
        let (queue, receiver) = mpsc::channel(QUEUE);
        let receiver = Arc::new(Mutex::new(receiver));
        let tasks = (0..writers.max(1))
            .map(|_| tokio::spawn(run(db.clone(), outbox.clone(), receiver.clone())))
            .collect();
        (Writer { queue }, tasks)
    }

    /// Stores `message` (with its sequence and outbox event) and answers the
    /// stored row once its transaction has committed, or, for a resend, its
    /// original.
    pub async fn write(&self, message: NewMessage) -> Result<Written> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Pending { message, reply })
            .await
            .map_err(|_| ApiError::ShuttingDown)?;
        answer.await.map_err(|_| ApiError::ShuttingDown)?
    }
}

async fn run(
    db: DatabaseConnection,
    outbox: Outbox,
    receiver: Arc<Mutex<mpsc::Receiver<Pending>>>,
) {
    // None: messaging is shutting down.
    while let Some(batch) = frevix_platform::batch::next(&receiver, MAX_BATCH).await {
        write_batch(&db, &outbox, batch).await;
    }
}

async fn write_batch(db: &DatabaseConnection, outbox: &Outbox, mut batch: Vec<Pending>) {
    batch.sort_by_key(|p| p.message.row.conversation_id);
    if store_together(db, outbox, &mut batch).await {
        return;
    }
    // Resends are answered with their originals; the others go again.
    let mut rest = Vec::with_capacity(batch.len());
    for pending in batch {
        match original(db, &pending.message).await {
            Ok(Some(row)) => {
                let _ = pending.reply.send(Ok(Written { row, resend: true }));
            }
            Ok(None) => rest.push(pending),
            Err(error) => {
                let _ = pending.reply.send(Err(error));
            }
        }
    }
    if rest.len() > 1 && store_together(db, outbox, &mut rest).await {
        return;
    }
    for pending in rest {
        let answer = store_one(db, outbox, &pending.message).await;
        let _ = pending.reply.send(answer);
    }
}

/// Stores `batch` in one transaction and answers every send; false (and
/// nothing answered) when the transaction failed.
async fn store_together(
    db: &DatabaseConnection,
    outbox: &Outbox,
    batch: &mut Vec<Pending>,
) -> bool {
    let messages: Vec<&NewMessage> = batch.iter().map(|p| &p.message).collect();
    let Ok(rows) = store_all(db, outbox, &messages, Utc::now()).await else {
        return false;
    };
    for (pending, row) in batch.drain(..).zip(rows) {
        let _ = pending.reply.send(Ok(Written { row, resend: false }));
    }
    true
}

/// Stores one message on its own; a resend racing its original into the
/// unique client-id index is answered with the original.
async fn store_one(
    db: &DatabaseConnection,
    outbox: &Outbox,
    message: &NewMessage,
) -> Result<Written> {
    match store_all(db, outbox, &[message], Utc::now()).await {
        Ok(mut rows) => rows
            .pop()
            .map(|row| Written { row, resend: false })
            .ok_or_else(|| ApiError::ShuttingDown.into()),
        Err(MessagingError::Api(error)) if error.db_error().is_some_and(is_unique_violation) => {
            original(db, message)
                .await?
                .map(|row| Written { row, resend: true })
                .ok_or_else(|| ApiError::NotFound("conversation").into())
        }
        Err(error) => Err(error),
    }
}

/// The message this send's sender already stored with its client id.
async fn original(db: &DatabaseConnection, message: &NewMessage) -> Result<Option<MessageRow>> {
    let row = &message.row;
    Ok(store::find_by_client_id(
        db,
        row.conversation(),
        row.sender_id,
        &row.client_message_id,
    )
    .await?)
}

/// One transaction: sequences, messages, un-archiving, media links and the
/// MessageSent events of `messages` (sorted by conversation).
async fn store_all(
    db: &DatabaseConnection,
    outbox: &Outbox,
    messages: &[&NewMessage],
    now: DateTime<Utc>,
) -> Result<Vec<MessageRow>> {
    let mut per_conversation: BTreeMap<Uuid, i64> = BTreeMap::new();
    for message in messages {
        *per_conversation
            .entry(message.row.conversation_id)
            .or_default() += 1;
    }
    let txn = Txn::begin(db).await?;
    let counts: Vec<(Uuid, i64)> = per_conversation.into_iter().collect();
    let lasts = store::take_seqs(&txn, &counts, now).await?;
    if lasts.len() != counts.len() {
        return Err(ApiError::NotFound("conversation").into());
    }
    // The sequences each conversation's messages take, in batch order.
    let mut next: BTreeMap<Uuid, i64> = BTreeMap::new();
    for (conversation, last) in lasts {
        let count = counts
            .iter()
            .find(|(c, _)| *c == conversation)
            .map_or(0, |(_, n)| *n);
        next.insert(conversation, last - count + 1);
    }
    let mut rows = Vec::with_capacity(messages.len());
    for message in messages {
        let mut row = message.row.clone();
        let seq = next.entry(row.conversation_id).or_default();
        row.seq = *seq;
        *seq += 1;
        rows.push(row);
    }
    store::insert_messages(&txn, &rows).await?;
    let mut events = Vec::with_capacity(rows.len());
    for (message, row) in messages.iter().zip(&rows) {
        if message.unarchive {
            store::unarchive_all(&txn, row.conversation()).await?;
        }
        for media in &message.attachments {
            store::media::link(
                &txn,
                *media,
                store::media::CONVERSATION,
                row.conversation_id,
            )
            .await?;
        }
        events.push((
            row.conversation_id.to_string(),
            pb::MessageSent {
                message_id: row.id.to_string(),
                conversation_id: row.conversation_id.to_string(),
                sequence: row.seq,
                sender_id: row.sender_id.to_string(),
                recipient_ids: message.recipients.iter().map(ToString::to_string).collect(),
            },
        ));
    }
    outbox.publish_many(&txn, "conversation", &events).await?;
    txn.commit().await?;
    Ok(rows)
}
