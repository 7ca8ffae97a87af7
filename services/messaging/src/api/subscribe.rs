//! Subscribe: the live feed. It registers with the hub first, then replays
//! from the database what the client lacks, then forwards live events. Each
//! conversation's last delivered sequence is tracked, so an event already
//! replayed is skipped and a gap (a message committed while another was
//! being announced) is filled from the database: nothing is lost, nothing
//! doubled, and every conversation stays in order.

use std::collections::HashMap;
use std::sync::Arc;

use frevix_platform::auth::{Guarded, guard};
use frevix_platform::error::FieldViolations;
use frevix_proto::messaging::v1 as pb;
use tonic::{Request, Status};
use uuid::Uuid;

use super::caller;
use super::feed_sink::FeedSink;
use crate::Inner;
use crate::convert;
use crate::domain::ConversationId;
use crate::error::{MessagingError, Result};
use crate::hub::{Live, Registration};
use crate::slots;
use crate::store;

pub type Feed = Guarded<FeedReceiver>;

/// What a feed sends: its events, or the status it ends with.
pub(crate) type FeedReceiver = slots::Receiver<std::result::Result<pb::SubscribeResponse, Status>>;

type Sink = FeedSink;

pub async fn subscribe(inner: Arc<Inner>, request: Request<pb::SubscribeRequest>) -> Result<Feed> {
    let me = caller(&request)?;
    let positions = parse_positions(&request.get_ref().positions)?;
    // Browsers cannot send on this stream: it ends when the token expires,
    // and the client comes back with a fresh one and its positions.
    let (sink, feed) = slots::channel(256);
    start(inner, me, positions, FeedSink::Subscribe(sink)).await;
    let (feed, _renewal) = guard(&request, feed).map_err(MessagingError::Stream)?;
    Ok(feed)
}

/// Positions a client may send: one per conversation it is in.
const MAX_POSITIONS: usize = 20_000;

/// Where a client stands in one conversation: its last sequence, and the
/// last change number it saw.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Stand {
    pub sequence: i64,
    pub changes: i64,
}

/// The client's positions by conversation.
pub(crate) fn parse_positions(positions: &[pb::Position]) -> Result<HashMap<Uuid, Stand>> {
    match usable_positions(positions)? {
        (parsed, None) => Ok(parsed),
        (_, Some(refused)) => Err(refused),
    }
}

/// The positions that parse, and the refusal naming those that do not
/// (a Chat Hello uses the first and reports the second); too many
/// positions is an error for the whole list.
pub(crate) fn usable_positions(
    positions: &[pb::Position],
) -> Result<(HashMap<Uuid, Stand>, Option<MessagingError>)> {
    let mut violations = FieldViolations::new();
    if !violations.check_len("positions", positions.len(), MAX_POSITIONS) {
        return Err(violations.into());
    }
    let mut parsed = HashMap::new();
    for (i, position) in positions.iter().enumerate() {
        let field = format!("positions[{i}].conversation_id");
        if let Some(id) =
            frevix_platform::ids::parse_uuid(&field, &position.conversation_id, &mut violations)
        {
            parsed.insert(
                id,
                Stand {
                    sequence: position.sequence.max(0),
                    changes: position.change_sequence.max(0),
                },
            );
        }
    }
    let refused = violations.finish(()).err().map(MessagingError::from);
    Ok((parsed, refused))
}

/// Starts `me`'s feed from `positions` into `sink`; it ends when the
/// sink's receiving end is dropped, or when the handle returned aborts it.
/// The feed is registered for live events before this returns, so
/// nothing that happens after the call is answered is missed.
pub(crate) async fn start(
    inner: Arc<Inner>,
    me: Uuid,
    positions: HashMap<Uuid, Stand>,
    sink: FeedSink,
) -> tokio::task::AbortHandle {
    let live = inner.hub.register(me).await;
    let task = async move {
        if let Err(error) = run(&inner, me, positions, live, &sink).await {
            tracing::warn!(account_id = %me, %error, "feed ended with an error");
            let _ = sink
                .send(Err(Status::unavailable(
                    "the feed failed; reconnect with your positions",
                )))
                .await;
        }
    };
    tokio::spawn(task).abort_handle()
}

fn event(
    event: pb::subscribe_response::Event,
) -> std::result::Result<pb::SubscribeResponse, Status> {
    Ok(pb::SubscribeResponse { event: Some(event) })
}

/// Where the feed stands: the last sequence sent per conversation, and
/// what others' messages were delivered since the last receipts went out
/// (the highest sequence and whose messages they were, per conversation).
struct Cursor {
    me: Uuid,
    last: HashMap<Uuid, i64>,
    delivered: HashMap<Uuid, (i64, Vec<Uuid>)>,
    /// When the pending receipts go out (none pending: no timer at all, so
    /// thousands of idle feeds cost no wake-ups).
    receipts_due: Option<tokio::time::Instant>,
}

impl Cursor {
    /// Sends one message; false if the client went away.
    async fn send(&mut self, sink: &Sink, message: pb::Message, conversation: Uuid) -> bool {
        let seq = message.sequence;
        if let Ok(sender) = Uuid::parse_str(&message.sender_id)
            && sender != self.me
        {
            self.receipts_due
                .get_or_insert_with(|| tokio::time::Instant::now() + DELIVERED_EVERY);
            let (up_to, senders) = self.delivered.entry(conversation).or_default();
            *up_to = seq;
            if !senders.contains(&sender) {
                senders.push(sender);
            }
        }
        self.last.insert(conversation, seq);
        sink.send(event(pb::subscribe_response::Event::Message(message)))
            .await
            .is_ok()
    }

    /// Sends every message of `conversation` after `after`; false if the
    /// client went away.
    async fn replay(
        &mut self,
        inner: &Inner,
        sink: &Sink,
        conversation: Uuid,
        after: i64,
    ) -> Result<bool> {
        let mut from = after;
        loop {
            let rows = store::messages_between(
                &inner.db,
                ConversationId(conversation),
                from,
                None,
                false,
                200,
            )
            .await?;
            for row in &rows {
                if !self.send(sink, convert::message(row), conversation).await {
                    return Ok(false);
                }
                from = row.seq;
            }
            if rows.len() < 200 {
                return Ok(true);
            }
        }
    }

    /// Where a conversation the feed has not seen yet starts: the member's
    /// read position (a conversation joined after the feed started).
    async fn start_of(&self, inner: &Inner, conversation: Uuid) -> Result<Option<i64>> {
        Ok(
            store::find_member(&inner.db, ConversationId(conversation), self.me)
                .await?
                .map(|member| member.last_read_seq),
        )
    }

    /// Tells the senders' feeds what reached this one. Receipts are live
    /// only: a sender who is offline learns of delivery from the read
    /// position later, which is stored.
    async fn flush_delivered(&mut self, inner: &Inner) {
        self.receipts_due = None;
        for (conversation, (seq, senders)) in std::mem::take(&mut self.delivered) {
            inner
                .hub
                .publish(
                    &senders,
                    Live::Delivered(pb::DeliveredReceipt {
                        conversation_id: conversation.to_string(),
                        recipient_id: self.me.to_string(),
                        up_to_sequence: seq,
                    }),
                )
                .await;
        }
    }
}

/// A feed's heartbeats: every `period`, the first after a random part of
/// it. Streams opened together (say, every phone reconnecting after a
/// deploy) would otherwise beat together: thousands of frames in the same
/// instant, every period, delaying the messages queued behind them.
fn heartbeats(period: std::time::Duration) -> tokio::time::Interval {
    use rand::Rng as _;
    let first = rand::thread_rng().gen_range(std::time::Duration::ZERO..=period);
    tokio::time::interval_at(tokio::time::Instant::now() + first, period)
}

fn too_many_streams() -> Status {
    frevix_platform::error::with_reason(
        tonic::Code::ResourceExhausted,
        "TOO_MANY_STREAMS",
        "this account opened more live streams than it may hold; the oldest, this one, was closed",
    )
}

/// How often delivered receipts are sent.
const DELIVERED_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

/// Sends `me` what it lacks since `positions`; false if the client went
/// away meanwhile.
async fn catch_up(
    inner: &Inner,
    positions: HashMap<Uuid, Stand>,
    feed: &mut Cursor,
    sink: &Sink,
) -> Result<bool> {
    let me = feed.me;
    // Only what the client lacks costs a query: a conversation it is up to
    // date in is just noted.
    for start in store::feed::feed_starts(&inner.db, me).await? {
        let conversation = start.conversation;
        let stand = positions.get(&conversation).copied();
        let from = stand.map_or(start.last_read_seq, |s| s.sequence);
        // Edits and deletes of messages the client already has.
        if let Some(stand) = stand
            && start.change_seq > stand.changes
        {
            for row in
                store::changed_since(&inner.db, ConversationId(conversation), stand.changes, from)
                    .await?
            {
                let changed = pb::MessageChanged {
                    change_sequence: row.changed_seq,
                    message: Some(convert::message(&row)),
                };
                if sink
                    .send(event(pb::subscribe_response::Event::Changed(changed)))
                    .await
                    .is_err()
                {
                    return Ok(false);
                }
            }
        }
        feed.last.insert(conversation, from);
        if start.last_seq > from && !feed.replay(inner, sink, conversation, from).await? {
            return Ok(false);
        }
    }
    Ok(true)
}

async fn run(
    inner: &Inner,
    me: Uuid,
    positions: HashMap<Uuid, Stand>,
    mut live: Registration,
    sink: &Sink,
) -> Result<()> {
    let mut feed = Cursor {
        me,
        last: HashMap::new(),
        delivered: HashMap::new(),
        receipts_due: None,
    };
    // Boxed: the catch-up's queries are large futures, and an idle feed
    // should not carry their space for its whole life.
    if !Box::pin(catch_up(inner, positions, &mut feed, sink)).await? {
        return Ok(());
    }
    let mut heartbeat = heartbeats(inner.heartbeat);
    loop {
        let receipts_due = feed.receipts_due;
        tokio::select! {
            next = live.receiver.recv() => match next {
                // Closed for a newer stream of the account: said so, and no
                // resync (the client would only close another).
                None if live.superseded() => {
                    let _ = sink.send(Err(too_many_streams())).await;
                    return Ok(());
                }
                // Dropped by the hub for falling behind: the client catches up.
                None => {
                    let _ = sink.send(event(pb::subscribe_response::Event::Resync(pb::Resync {}))).await;
                    return Ok(());
                }
                Some(Live::Message(message)) => {
                    let Ok(conversation) = Uuid::parse_str(&message.conversation_id) else { continue };
                    let have = match feed.last.get(&conversation) {
                        Some(have) => *have,
                        None => match Box::pin(feed.start_of(inner, conversation)).await? {
                            Some(start) => start.min(message.sequence - 1),
                            None => continue,
                        },
                    };
                    if message.sequence <= have {
                        continue;
                    }
                    let sent = if message.sequence == have + 1 {
                        feed.send(sink, message, conversation).await
                    } else {
                        Box::pin(feed.replay(inner, sink, conversation, have)).await?
                    };
                    if !sent {
                        return Ok(());
                    }
                }
                Some(Live::Conversation(change)) => {
                    if change.removed
                        && let Some(conversation) = change
                            .conversation
                            .as_ref()
                            .and_then(|c| Uuid::parse_str(&c.id).ok())
                    {
                        feed.last.remove(&conversation);
                    }
                    if sink.send(event(pb::subscribe_response::Event::Conversation(change))).await.is_err() {
                        return Ok(());
                    }
                }
                Some(other) => {
                    if sink.send(event(other)).await.is_err() {
                        return Ok(());
                    }
                }
            },
            () = tokio::time::sleep_until(receipts_due.unwrap_or_else(tokio::time::Instant::now)),
                if receipts_due.is_some() => {
                Box::pin(feed.flush_delivered(inner)).await;
            }
            _ = heartbeat.tick() => {
                let beat = pb::Heartbeat { time: Some(convert::timestamp(chrono::Utc::now())) };
                if sink.send(event(pb::subscribe_response::Event::Heartbeat(beat))).await.is_err() {
                    return Ok(());
                }
            }
            () = sink.closed() => return Ok(()),
        }
    }
}
