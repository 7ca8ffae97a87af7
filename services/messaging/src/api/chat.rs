//! Chat: the native clients' bidirectional stream (DESIGN's "Connect";
//! tonic's generated client already has a `connect` constructor). Outbound it carries
//! the same feed as Subscribe (one core for both paths); inbound, send
//! frames go through the same path as SendMessage and are answered with an
//! acknowledgement (or a failure) on the stream, read marks move the read
//! position, and pings get pongs.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use frevix_platform::auth::{Guarded, Renewal, guard};
use frevix_platform::malformed::inbound_status;
use frevix_proto::messaging::v1 as pb;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_stream::StreamExt as _;
use tonic::{Request, Status, Streaming};
use uuid::Uuid;

use frevix_platform::error::{ApiError, FieldViolations};
use frevix_platform::shed::Permit;

use super::admission::Holds;
use super::feed_sink::FeedSink;
use super::{caller, live, messages, subscribe};
use crate::Inner;
use crate::error::{MessagingError, Result};
use crate::slots;

pub type Stream = Guarded<slots::Receiver<std::result::Result<pb::ChatResponse, Status>>>;

type Out = slots::Sender<std::result::Result<pb::ChatResponse, Status>>;

fn event(event: pb::chat_response::Event) -> std::result::Result<pb::ChatResponse, Status> {
    Ok(pb::ChatResponse { event: Some(event) })
}

pub async fn chat(
    inner: Arc<Inner>,
    request: Request<Streaming<pb::ChatRequest>>,
) -> Result<Stream> {
    let me = caller(&request)?;
    let (out, stream) = slots::channel(256);
    let (stream, renewal) = guard(&request, stream).map_err(MessagingError::Stream)?;
    let mut inbound = request.into_inner();
    let task = async move {
        // Boxed: the start's futures (the Hello wait, the feed's start)
        // are not kept in the stream's task for its whole life.
        let Some((feed, pending)) = Box::pin(begin(&inner, me, &mut inbound, &out)).await else {
            return;
        };
        // Admitted frames are worked through in order by their own task,
        // so a frame arriving meanwhile is admitted or refused at once.
        let (queue, work) = mpsc::channel(QUEUE);
        tokio::spawn(work_through(inner.clone(), me, work, out.clone()));
        let mut holds = Holds::default();
        if let Some(frame) = pending {
            Box::pin(admit(&inner, frame, &queue, &mut holds, &out)).await;
        }
        while let Some(frame) = inbound.next().await {
            match frame {
                Ok(pb::ChatRequest {
                    frame: Some(pb::chat_request::Frame::Reauthenticate(fresh)),
                    ..
                }) => {
                    if !Box::pin(reauthenticate(&renewal, &fresh.access_token, &out)).await {
                        return;
                    }
                }
                Ok(frame) => Box::pin(admit(&inner, frame, &queue, &mut holds, &out)).await,
                Err(status) => {
                    // The client reset the stream or sent something
                    // unreadable: the stream ends with the reason, and its
                    // feed (and the presence it holds) ends now, not at the
                    // next write.
                    let _ = out.send(Err(inbound_status(status))).await;
                    feed.abort();
                    return;
                }
            }
        }
        // A half-close: the client sends no more frames but may still
        // listen (grpcurl does this), so the feed goes on until the
        // response is dropped.
    };
    tokio::spawn(task);
    Ok(stream)
}

/// Reads the stream's first frame and starts its feed: the feed's handle,
/// and the first frame when it was not a Hello (to be taken as any other);
/// None when the stream ended.
async fn begin(
    inner: &Arc<Inner>,
    me: Uuid,
    inbound: &mut Streaming<pb::ChatRequest>,
    out: &Out,
) -> Option<(tokio::task::AbortHandle, Option<pb::ChatRequest>)> {
    // A Hello, if the client starts with one, says where it stands; a
    // client that sends nothing still gets its feed (from its read
    // positions), so a listen-only stream sees heartbeats and messages.
    let first = match tokio::time::timeout(HELLO_WAIT, inbound.next()).await {
        Ok(first) => first,
        Err(_) => Some(Ok(pb::ChatRequest::default())),
    };
    let (positions, pending) = match first {
        Some(Ok(pb::ChatRequest { frame: None, .. })) => (Default::default(), None),
        Some(Ok(pb::ChatRequest {
            frame: Some(pb::chat_request::Frame::Hello(hello)),
            frame_id,
        })) => match subscribe::usable_positions(&hello.positions) {
            Ok((positions, None)) => (positions, None),
            // The usable positions are used; the client learns which were
            // not.
            Ok((positions, Some(refused))) => {
                let _ = out.send(event(frame_failed(frame_id, refused))).await;
                (positions, None)
            }
            Err(error) => {
                let _ = out.send(Err(tonic::Status::from(error))).await;
                return None;
            }
        },
        Some(Ok(frame)) => (Default::default(), Some(frame)),
        _ => return None,
    };
    let sink = FeedSink::Chat(out.clone());
    let feed = subscribe::start(inner.clone(), me, positions, sink).await;
    Some((feed, pending))
}

/// How long a stream waits for a first frame (a Hello) before starting
/// its feed from the read positions.
const HELLO_WAIT: std::time::Duration = std::time::Duration::from_millis(500);

/// Frames of one stream admitted and waiting their turn at most: past
/// this, a send frame is refused at once.
const QUEUE: usize = 32;

/// The longest `frame_id` a client may give a frame.
const MAX_FRAME_ID: usize = 64;
/// The longest Ping nonce, in bytes: it is echoed, so it is bounded.
const MAX_NONCE: usize = 64;

/// A frame admitted to the stream's queue; sends hold their turn (and
/// their frame id). Boxed, so the queue's empty slots are small (see
/// [`crate::slots`]).
enum Work {
    Send(Box<(pb::SendMessageRequest, String, Permit)>),
    Other(Box<pb::ChatRequest>),
}

/// Admits `frame` to the stream's queue, or refuses a send at once.
async fn admit(
    inner: &Inner,
    frame: pb::ChatRequest,
    queue: &mpsc::Sender<Work>,
    holds: &mut Holds,
    out: &Out,
) {
    use pb::chat_request::Frame;
    if frame.frame_id.chars().count() > MAX_FRAME_ID {
        tracing::info!("chat frame refused: frame_id too long");
        let mut violations = FieldViolations::new();
        violations.check_len("frame_id", frame.frame_id.chars().count(), MAX_FRAME_ID);
        let refused = frame_failed(String::new(), ApiError::from(violations).into());
        let _ = out.send(event(refused)).await;
        return;
    }
    let pb::ChatRequest { frame_id, frame } = frame;
    let send = match frame {
        Some(Frame::Send(send)) => send,
        Some(Frame::Ping(ping)) => {
            let answer = if ping.nonce.len() > MAX_NONCE {
                tracing::info!("chat frame refused: ping nonce too long");
                let mut violations = FieldViolations::new();
                violations.check_len("ping.nonce", ping.nonce.len(), MAX_NONCE);
                frame_failed(frame_id, ApiError::from(violations).into())
            } else {
                pb::chat_response::Event::Pong(pb::Pong { nonce: ping.nonce })
            };
            let _ = out.send(event(answer)).await;
            return;
        }
        frame => {
            let _ = queue
                .send(Work::Other(Box::new(pb::ChatRequest { frame_id, frame })))
                .await;
            return;
        }
    };
    if holds.blocks(&send) {
        // Held behind an earlier refusal, which was counted.
        tracing::debug!("send refused: an earlier one of its conversation was");
    } else if let Some(turn) = messages::turn(inner).await {
        match queue.try_send(Work::Send(Box::new((send, frame_id, turn)))) {
            Ok(()) => return,
            Err(mpsc::error::TrySendError::Full(Work::Send(admitted))) => {
                // The stream's own queue is full.
                let (send, frame_id, _) = *admitted;
                messages::REFUSED.note();
                holds.refused(&send);
                let _ = out.send(event(over_capacity(send, frame_id))).await;
                return;
            }
            // The worker is gone: the stream is ending.
            Err(_) => return,
        }
    }
    holds.refused(&send);
    let _ = out.send(event(over_capacity(send, frame_id))).await;
}

/// A send refused for capacity. Past capacity these come by the thousand
/// a second, each one's CPU taken from the sends served: the answer's
/// code, message and details are built once.
fn over_capacity(send: pb::SendMessageRequest, frame_id: String) -> pb::chat_response::Event {
    static REFUSAL: std::sync::LazyLock<(i32, String, Vec<prost_types::Any>)> =
        std::sync::LazyLock::new(|| {
            let status = Status::from(MessagingError::from(ApiError::OverCapacity));
            (
                status.code() as i32,
                status.message().to_owned(),
                frevix_platform::error::details_of(&status),
            )
        });
    let (code, message, details) = &*REFUSAL;
    pb::chat_response::Event::Failed(pb::SendFailed {
        client_message_id: send.client_message_id,
        code: *code,
        message: message.clone(),
        details: details.clone(),
        frame_id,
    })
}

/// Sends of one stream in progress at once, each to another conversation.
/// One at a time, a stream's throughput was one send per round through the
/// writer, and under load the turns its queued frames held sat idle.
const IN_FLIGHT: usize = 4;

/// Works through the stream's admitted frames: sends to different
/// conversations side by side (up to [`IN_FLIGHT`]), each conversation's in
/// the order sent; any other frame once everything before it is done, and
/// before anything after it.
async fn work_through(inner: Arc<Inner>, me: Uuid, mut work: mpsc::Receiver<Work>, out: Out) {
    let mut sends = Running::default();
    let mut waiting: VecDeque<Work> = VecDeque::new();
    let mut open = true;
    loop {
        sends.start_ready(&inner, me, &mut waiting);
        if !open && waiting.is_empty() && sends.tasks.is_empty() {
            return;
        }
        // A frame other than a send runs alone, once all before it ended.
        if sends.tasks.is_empty()
            && let Some(Work::Other(_)) = waiting.front()
            && let Some(Work::Other(frame)) = waiting.pop_front()
        {
            Box::pin(handle(&inner, me, *frame, &out)).await;
            continue;
        }
        tokio::select! {
            Some(done) = sends.tasks.join_next_with_id(), if !sends.tasks.is_empty() => {
                let reply = match done {
                    Ok((id, reply)) => {
                        sends.conversations.remove(&id);
                        reply
                    }
                    Err(error) => {
                        sends.conversations.remove(&error.id());
                        continue;
                    }
                };
                if out.send(event(reply)).await.is_err() {
                    // The stream is gone; sends under way still finish
                    // (their members are told).
                    sends.tasks.detach_all();
                    return;
                }
            }
            item = work.recv(), if open && waiting.len() < QUEUE => match item {
                Some(item) => waiting.push_back(item),
                None => open = false,
            },
        }
    }
}

/// A stream's sends under way, and the conversation of each.
#[derive(Default)]
struct Running {
    tasks: JoinSet<pb::chat_response::Event>,
    conversations: HashMap<tokio::task::Id, String>,
}

impl Running {
    /// Starts the waiting sends that may start now, in order: up to
    /// [`IN_FLIGHT`] at once, none to a conversation with an earlier send
    /// still running or waiting, none past a frame other than a send.
    fn start_ready(&mut self, inner: &Arc<Inner>, me: Uuid, waiting: &mut VecDeque<Work>) {
        let mut held: Vec<String> = Vec::new();
        let mut i = 0;
        while i < waiting.len() && self.tasks.len() < IN_FLIGHT {
            let conversation = match &waiting[i] {
                Work::Other(_) => return,
                Work::Send(admitted) => &admitted.0.conversation_id,
            };
            if held.contains(conversation) || self.conversations.values().any(|c| c == conversation)
            {
                held.push(conversation.clone());
                i += 1;
                continue;
            }
            let Some(Work::Send(admitted)) = waiting.remove(i) else {
                return;
            };
            let (send, frame_id, turn) = *admitted;
            let conversation = send.conversation_id.clone();
            let inner = inner.clone();
            let task = self.tasks.spawn(async move {
                match Box::pin(messages::send_admitted(&inner, me, &send, turn)).await {
                    Ok(message) => pb::chat_response::Event::Ack(pb::SendAck {
                        client_message_id: send.client_message_id,
                        message: Some(message),
                    }),
                    Err(error) => send_failed(send, frame_id, error),
                }
            });
            self.conversations.insert(task.id(), conversation);
        }
    }
}

/// Extends the stream's authorization; false (the stream ended with the
/// reason) when the token is refused.
async fn reauthenticate(renewal: &Renewal, token: &str, out: &Out) -> bool {
    match renewal.renew(token).await {
        Ok(expires_at) => {
            let renewed = pb::chat_response::Event::Reauthenticated(pb::Reauthenticated {
                expire_time: Some(prost_types::Timestamp {
                    seconds: expires_at.timestamp(),
                    nanos: 0,
                }),
            });
            out.send(event(renewed)).await.is_ok()
        }
        Err(error) => {
            tracing::info!(reason = error.reason(), "stream reauthentication refused");
            let _ = out.send(Err(error.into_status())).await;
            false
        }
    }
}

/// A refused send, as the client is told on the stream.
fn send_failed(
    send: pb::SendMessageRequest,
    frame_id: String,
    error: MessagingError,
) -> pb::chat_response::Event {
    let status = Status::from(error);
    pb::chat_response::Event::Failed(pb::SendFailed {
        client_message_id: send.client_message_id,
        code: status.code() as i32,
        message: status.message().to_owned(),
        details: frevix_platform::error::details_of(&status),
        frame_id,
    })
}

/// A refused frame other than a send, with what the unary RPC would say.
fn frame_failed(frame_id: String, error: MessagingError) -> pb::chat_response::Event {
    let status = Status::from(error);
    pb::chat_response::Event::FrameFailed(pb::FrameFailed {
        frame_id,
        code: status.code() as i32,
        message: status.message().to_owned(),
        details: frevix_platform::error::details_of(&status),
    })
}

/// A frame other than a send or a ping, in its turn.
async fn handle(inner: &Inner, me: Uuid, frame: pb::ChatRequest, out: &Out) {
    use pb::chat_request::Frame;
    let outcome = match frame.frame {
        Some(Frame::MarkRead(mark)) => messages::mark_read_as(inner, me, &mark).await,
        Some(Frame::Typing(typing)) => live::typing_as(inner, me, &typing).await,
        // A Hello after the first frame has nothing left to say.
        Some(Frame::Hello(_)) => Err(MessagingError::from(ApiError::FailedPrecondition {
            reason: "HELLO_NOT_FIRST",
            subject: "hello".into(),
            message: "a Hello is only read as the stream's first frame".into(),
        })),
        // Sends and pings are taken as they arrive; Reauthenticate by the
        // stream's loop.
        Some(Frame::Send(_) | Frame::Ping(_) | Frame::Reauthenticate(_)) | None => return,
    };
    if let Err(error) = outcome {
        let _ = out.send(event(frame_failed(frame.frame_id, error))).await;
    }
}
