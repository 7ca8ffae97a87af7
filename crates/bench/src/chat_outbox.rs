//! A talker of the chat bench sends as an app's outbox does, as the Chat
//! protocol asks of clients: sends go out as they are written; a send
//! refused for capacity (`SendFailed` UNAVAILABLE) holds its
//! conversation's later sends in the app (the server would refuse them
//! too, until the refused one is sent again), is sent again when the
//! refusal's `RetryInfo` says (doubled for each refusal in a row, at most
//! 4 s, with jitter), and once it is stored the held ones follow at once,
//! in order (should one be refused again, the server refuses those after
//! it too, so none lands before it). Other conversations go on meanwhile.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use frevix_proto::messaging::v1 as pb;
use rand::Rng;
use tokio::sync::mpsc;
use tokio_stream::StreamExt as _;

/// A new message for the outbox: (conversation, client message id).
pub type Fresh = (String, String);

/// One conversation's sends held in the app after a refusal.
#[derive(Default)]
struct Held {
    /// Refused sends, in the order they were sent.
    refused: VecDeque<String>,
    /// Sends written since, not sent yet.
    waiting: VecDeque<String>,
    /// The one sent again, until it is answered.
    probe: Option<String>,
    /// Refusals of the probe in a row.
    tries: u32,
    /// A resend is scheduled.
    scheduled: bool,
}

impl Held {
    fn next(&mut self) -> Option<String> {
        self.refused
            .pop_front()
            .or_else(|| self.waiting.pop_front())
    }
}

/// Runs one talker's outbox over its stream: `frames` is where its frames
/// go, `events` what the server answers. Every event is shown to `seen`
/// (for the figures); refusals are counted in `refusals`. Returns where
/// the talker's new messages go.
pub fn spawn(
    frames: mpsc::Sender<pb::ChatRequest>,
    mut events: tonic::Streaming<pb::ChatResponse>,
    refusals: Arc<AtomicU64>,
    mut seen: impl FnMut(&pb::chat_response::Event) + Send + 'static,
) -> mpsc::UnboundedSender<Fresh> {
    let (fresh_tx, mut fresh) = mpsc::unbounded_channel::<Fresh>();
    let (due_tx, mut due) = mpsc::unbounded_channel::<String>();
    tokio::spawn(async move {
        let mut held: HashMap<String, Held> = HashMap::new();
        // Client id → conversation, for the sends not answered yet.
        let mut in_flight: HashMap<String, String> = HashMap::new();
        let mut open = true;
        loop {
            let mut to_send: Vec<Fresh> = Vec::new();
            tokio::select! {
                written = fresh.recv(), if open => match written {
                    Some((conversation, id)) => match held.get_mut(&conversation) {
                        Some(waiting) => waiting.waiting.push_back(id),
                        None => to_send.push((conversation, id)),
                    },
                    None => open = false,
                },
                answer = events.next() => {
                    let Some(Ok(pb::ChatResponse { event: Some(event) })) = answer else {
                        return;
                    };
                    seen(&event);
                    match event {
                        pb::chat_response::Event::Failed(failed) => {
                            refusals.fetch_add(1, Ordering::Relaxed);
                            let id = failed.client_message_id;
                            let Some(conversation) = in_flight.remove(&id) else { continue };
                            let entry = held.entry(conversation.clone()).or_default();
                            if entry.probe.as_ref() == Some(&id) {
                                entry.probe = None;
                                entry.tries += 1;
                                entry.refused.push_front(id);
                            } else {
                                entry.refused.push_back(id);
                            }
                            if !entry.scheduled {
                                entry.scheduled = true;
                                let wait = backoff(retry_delay(&failed.details), entry.tries);
                                let due = due_tx.clone();
                                tokio::spawn(async move {
                                    tokio::time::sleep(wait).await;
                                    let _ = due.send(conversation);
                                });
                            }
                        }
                        pb::chat_response::Event::Ack(ack) => {
                            let id = ack.client_message_id;
                            let Some(conversation) = in_flight.remove(&id) else { continue };
                            let Some(entry) = held.get_mut(&conversation) else { continue };
                            if entry.probe.as_ref() != Some(&id) {
                                continue;
                            }
                            if let Some(entry) = held.remove(&conversation) {
                                let Held { refused, waiting, .. } = entry;
                                for id in refused.into_iter().chain(waiting) {
                                    to_send.push((conversation.clone(), id));
                                }
                            }
                        }
                        _ => {}
                    }
                }
                Some(conversation) = due.recv() => {
                    if let Some(entry) = held.get_mut(&conversation) {
                        entry.scheduled = false;
                        if entry.probe.is_none() {
                            entry.probe = entry.next();
                            to_send.extend(entry.probe.clone().map(|id| (conversation, id)));
                        }
                    }
                }
            }
            for (conversation, id) in to_send {
                in_flight.insert(id.clone(), conversation.clone());
                let _ = frames.send(send_frame(conversation, id)).await;
            }
        }
    });
    fresh_tx
}

/// The server's advice, doubled for each refusal in a row (at most 4 s),
/// with jitter.
fn backoff(advice: Duration, tries: u32) -> Duration {
    let backoff = advice * 2u32.pow(tries.min(5));
    let jitter = rand::thread_rng().gen_range(0.5..1.5);
    backoff.min(Duration::from_secs(4)).mul_f64(jitter)
}

/// The pause a refusal's `RetryInfo` asks for (250 ms if it has none).
fn retry_delay(details: &[prost_types::Any]) -> Duration {
    details
        .iter()
        .filter(|any| any.type_url.ends_with("google.rpc.RetryInfo"))
        .find_map(|any| {
            <tonic_types::pb::RetryInfo as prost::Message>::decode(any.value.as_slice()).ok()
        })
        .and_then(|info| info.retry_delay)
        .and_then(|delay| Duration::try_from(delay).ok())
        .unwrap_or(Duration::from_millis(250))
}

/// The frame sending `client_id` in `conversation`.
fn send_frame(conversation: String, client_id: String) -> pb::ChatRequest {
    pb::ChatRequest {
        frame_id: String::new(),
        frame: Some(pb::chat_request::Frame::Send(pb::SendMessageRequest {
            conversation_id: conversation,
            text: "hello there, how is the logo going?".into(),
            client_message_id: client_id,
            ..Default::default()
        })),
    }
}
