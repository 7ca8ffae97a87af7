//! Subscribe: the live feed. It registers with the hub first, then replays
//! from the database what the client lacks, then forwards live events. Each
//! conversation's last delivered sequence is tracked, so an event already
//! replayed is skipped and a gap (a message committed while another was
//! being announced) is filled from the database: nothing is lost, nothing
//! doubled, and every conversation stays in order.

use std::collections::HashMap;
use std::sync::Arc;

use frevix_platform::error::FieldViolations;
use frevix_proto::messaging::v1 as pb;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Status};
use uuid::Uuid;

use super::caller;
use crate::Inner;
use crate::convert;
use crate::error::Result;
use crate::hub::Live;
use crate::store;

pub type Feed = ReceiverStream<std::result::Result<pb::SubscribeResponse, Status>>;

type Sink = mpsc::Sender<std::result::Result<pb::SubscribeResponse, Status>>;

pub async fn subscribe(inner: Arc<Inner>, request: Request<pb::SubscribeRequest>) -> Result<Feed> {
    let me = caller(&request)?;
    let positions = parse_positions(&request.get_ref().positions)?;
    Ok(ReceiverStream::new(start(inner, me, positions)))
}

/// The client's positions by conversation.
pub(crate) fn parse_positions(positions: &[pb::Position]) -> Result<HashMap<Uuid, i64>> {
    let mut violations = FieldViolations::new();
    let mut parsed = HashMap::new();
    for (i, position) in positions.iter().enumerate() {
        let field = format!("positions[{i}].conversation_id");
        if let Some(id) =
            frevix_platform::ids::parse_uuid(&field, &position.conversation_id, &mut violations)
        {
            parsed.insert(id, position.sequence.max(0));
        }
    }
    Ok(violations.finish(parsed)?)
}

/// Starts `me`'s feed from `positions`; it ends when the receiver is dropped.
pub(crate) fn start(
    inner: Arc<Inner>,
    me: Uuid,
    positions: HashMap<Uuid, i64>,
) -> mpsc::Receiver<std::result::Result<pb::SubscribeResponse, Status>> {
    let live = inner.hub.subscribe(me);
    let (sink, feed) = mpsc::channel(256);
    tokio::spawn(async move {
        if let Err(error) = run(&inner, me, positions, live, &sink).await {
            tracing::warn!(account_id = %me, %error, "feed ended with an error");
            let _ = sink
                .send(Err(Status::unavailable(
                    "the feed failed; reconnect with your positions",
                )))
                .await;
        }
    });
    feed
}

fn event(
    event: pb::subscribe_response::Event,
) -> std::result::Result<pb::SubscribeResponse, Status> {
    Ok(pb::SubscribeResponse { event: Some(event) })
}

/// Sends every message of `conversation` after `after`; false if the
/// client went away.
async fn replay(
    inner: &Inner,
    sink: &Sink,
    conversation: Uuid,
    after: i64,
    last: &mut HashMap<Uuid, i64>,
) -> Result<bool> {
    let mut from = after;
    loop {
        let rows = store::messages_between(&inner.db, conversation, from, None, false, 200).await?;
        for row in &rows {
            if sink
                .send(event(pb::subscribe_response::Event::Message(
                    convert::message(row),
                )))
                .await
                .is_err()
            {
                return Ok(false);
            }
            from = row.seq;
            last.insert(conversation, row.seq);
        }
        if rows.len() < 200 {
            return Ok(true);
        }
    }
}

async fn run(
    inner: &Inner,
    me: Uuid,
    positions: HashMap<Uuid, i64>,
    mut live: mpsc::Receiver<Live>,
    sink: &Sink,
) -> Result<()> {
    let mut last: HashMap<Uuid, i64> = HashMap::new();
    for member in store::memberships(&inner.db, me).await? {
        let from = positions
            .get(&member.conversation_id)
            .copied()
            .unwrap_or(member.last_read_seq);
        last.insert(member.conversation_id, from);
        if !replay(inner, sink, member.conversation_id, from, &mut last).await? {
            return Ok(());
        }
    }
    let mut heartbeat = tokio::time::interval(inner.heartbeat);
    heartbeat.tick().await;
    loop {
        tokio::select! {
            next = live.recv() => match next {
                // Dropped by the hub for falling behind: the client catches up.
                None => {
                    let _ = sink.send(event(pb::subscribe_response::Event::Resync(pb::Resync {}))).await;
                    return Ok(());
                }
                Some(Live::Message(message)) => {
                    let Ok(conversation) = Uuid::parse_str(&message.conversation_id) else { continue };
                    let have = last.get(&conversation).copied().unwrap_or(0);
                    if message.sequence <= have {
                        continue;
                    }
                    if message.sequence == have + 1 {
                        last.insert(conversation, message.sequence);
                        if sink.send(event(pb::subscribe_response::Event::Message(message))).await.is_err() {
                            return Ok(());
                        }
                    } else if !replay(inner, sink, conversation, have, &mut last).await? {
                        return Ok(());
                    }
                }
                Some(Live::Read(receipt)) => {
                    if sink.send(event(pb::subscribe_response::Event::Read(receipt))).await.is_err() {
                        return Ok(());
                    }
                }
            },
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
