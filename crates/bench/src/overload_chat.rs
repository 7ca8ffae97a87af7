//! Overload of chat sends: send frames on Chat streams (200 people in 100
//! conversations, one stream each; messaging its own process on CPU 1 as
//! in [`crate::overload`], on PostgreSQL) offered at half and at twice
//! what the send path serves with no limit in the way, with the send limit
//! fixed (`FREVIX_BENCH_SEND_CAPACITY`, default 64) and adaptive (4 to 256),
//! each with a wait of `FREVIX_BENCH_SEND_WAIT_MS` (default 2) for a turn.
//! Each stream sends as an app's outbox does: a refused send again after
//! the advised delay, in order with those held behind it.
//! A frame's time is from its sending to its answer on the stream: an
//! acknowledgement (served) or a `SendFailed` UNAVAILABLE (refused).

use std::time::{Duration, Instant};

use frevix_proto::messaging::v1::{self as pb, messaging_service_client::MessagingServiceClient};
use frevix_testkit::{Backend, TestApp, TestUser, authed};
use tokio::sync::mpsc;
use tokio_stream::StreamExt as _;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Code;
use tonic::transport::Channel;

use crate::overload::{Outcomes, SECONDS, env_or, report};

const PEOPLE: usize = 200;

/// One person's stream: where to send frames, what to answer them in.
struct Talker {
    frames: mpsc::Sender<pb::ChatRequest>,
    answers: tonic::Streaming<pb::ChatResponse>,
    conversation: String,
}

pub async fn run() {
    let capacity: usize = env_or("FREVIX_BENCH_SEND_CAPACITY", 64);
    let wait_ms: u64 = env_or("FREVIX_BENCH_SEND_WAIT_MS", 2);
    // The capacity with no limit in the way (as for GetMe).
    let Some(served) = sends(None, wait_ms, None).await else {
        return;
    };
    println!(
        "overload  chat sends capacity, no limit, {PEOPLE} streams sending back to back: {served:.0}/s"
    );
    sends(Some(capacity), wait_ms, Some(served)).await;
    sends(None, wait_ms, Some(served)).await;
}

/// With no `rate`, the sends served per second with every stream sending
/// back to back and no limit (4,096 at once); with one, sends offered at
/// half and at twice it, the limit fixed at `fixed` calls or adaptive.
async fn sends(fixed: Option<usize>, wait_ms: u64, rate: Option<f64>) -> Option<f64> {
    let adaptive = fixed.is_none() && rate.is_some();
    let capacity = match (fixed, rate) {
        (Some(calls), _) => calls,
        (None, Some(_)) => 256,
        (None, None) => 4_096,
    };
    let app = TestApp::spawn_with(Backend::Postgres, |config| {
        config.messaging.max_concurrent_sends = capacity;
        config.messaging.adaptive_sends = adaptive;
        config.messaging.send_wait_ms = wait_ms;
        config.messaging.sends_per_minute = 10_000_000;
        config.identity.rate_limits.sign_up_per_address = 1_000_000;
        config.identity.rate_limits.mail_per_address = 1_000_000;
        config.identity.rate_limits.code_per_address = 1_000_000;
        config.identity.rate_limits.login_per_address = 1_000_000;
        for entry in frevix::registry::SERVICES {
            entry.database_mut(config).max_connections = 10;
        }
    })
    .await;
    // As in `overload`: messaging its own process on CPU 1, the load on
    // CPU 0, when make bench names the binary.
    let binary = std::env::var("FREVIX_BENCH_FREVIX_BIN").ok();
    let media = format!("file://{}", app.config.data_dir.join("media").display());
    let (limit_env, adaptive_env, wait_env) = (
        capacity.to_string(),
        adaptive.to_string(),
        wait_ms.to_string(),
    );
    let process = match &binary {
        Some(binary) => Some(
            app.spawn_process_on(
                "messaging",
                std::path::Path::new(binary),
                &[
                    ("FREVIX_MESSAGING__MEDIA__STORE_URL", &media),
                    ("FREVIX_MESSAGING__DATABASE__MAX_CONNECTIONS", "10"),
                    ("FREVIX_MESSAGING__SENDS_PER_MINUTE", "10000000"),
                    ("FREVIX_MESSAGING__MAX_CONCURRENT_SENDS", &limit_env),
                    ("FREVIX_MESSAGING__ADAPTIVE_SENDS", &adaptive_env),
                    ("FREVIX_MESSAGING__SEND_WAIT_MS", &wait_env),
                    ("FREVIX_SERVER__MAX_CONCURRENT_STREAMS", "1024"),
                ],
                Some("1"),
            )
            .await,
        ),
        None => None,
    };
    let (channel, shape) = match &process {
        Some(process) => (
            process.channel.clone(),
            "messaging alone on CPU 1, load on CPU 0",
        ),
        None => (
            Channel::from_shared(app.url())
                .unwrap()
                .connect()
                .await
                .unwrap(),
            "all-in-one in the load's process",
        ),
    };
    let _pinned = process.as_ref().map(|_| crate::overload::Pinned::to("0"));
    let client = MessagingServiceClient::new(channel);
    let mut people = Vec::new();
    for _ in 0..PEOPLE {
        people.push(app.register().await);
    }
    let mut conversations = Vec::new();
    for pair in people.chunks(2) {
        let open = pb::OpenDirectConversationRequest {
            account_id: pair[1].account_id.clone(),
        };
        let conversation = loop {
            // Messaging learns of the accounts from identity's events.
            match client
                .clone()
                .open_direct_conversation(authed(&pair[0].access_token, open.clone()))
                .await
            {
                Ok(answer) => break answer.into_inner().conversation.unwrap().id,
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        };
        conversations.push(conversation.clone());
        conversations.push(conversation);
    }

    let Some(served) = rate else {
        let served = closed_loop(&client, &people, &conversations).await;
        drop(process);
        app.stop().await;
        return Some(served);
    };
    let limit = if adaptive {
        "an adaptive limit (4 to 256)".to_owned()
    } else {
        format!("{capacity} sends")
    };
    println!("overload  chat sends ({shape}), limit {limit}, {wait_ms} ms wait");
    let calm = open_loop(&client, &people, &conversations, served / 2.0).await;
    let crowd = open_loop(&client, &people, &conversations, served * 2.0).await;
    report(served, &calm, &crowd);
    drop(process);
    app.stop().await;
    None
}

async fn talkers(
    client: &MessagingServiceClient<Channel>,
    people: &[TestUser],
    conversations: &[String],
) -> Vec<Talker> {
    let mut talkers = Vec::new();
    for (person, conversation) in people.iter().zip(conversations) {
        let (frames, outgoing) = mpsc::channel(1024);
        let answers = client
            .clone()
            .chat(authed(&person.access_token, ReceiverStream::new(outgoing)))
            .await
            .unwrap()
            .into_inner();
        talkers.push(Talker {
            frames,
            answers,
            conversation: conversation.clone(),
        });
    }
    talkers
}

fn frame(conversation: &str, id: String) -> pb::ChatRequest {
    pb::ChatRequest {
        frame_id: String::new(),
        frame: Some(pb::chat_request::Frame::Send(pb::SendMessageRequest {
            conversation_id: conversation.to_owned(),
            text: "hello there, how is the logo going?".into(),
            client_message_id: id,
            ..Default::default()
        })),
    }
}

/// The answer to a send frame: its client id and whether it was stored.
async fn answer(answers: &mut tonic::Streaming<pb::ChatResponse>) -> Option<(String, Outcome)> {
    while let Some(Ok(item)) = answers.next().await {
        match item.event {
            Some(pb::chat_response::Event::Ack(ack)) => {
                return Some((ack.client_message_id, Outcome::Served));
            }
            Some(pb::chat_response::Event::Failed(failed)) => {
                let outcome = if failed.code == Code::Unavailable as i32 {
                    Outcome::Refused
                } else {
                    Outcome::Failed
                };
                return Some((failed.client_message_id, outcome));
            }
            _ => {}
        }
    }
    None
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Served,
    Refused,
    Failed,
}

/// Sends stored per second, each stream sending its next once the last
/// is answered.
async fn closed_loop(
    client: &MessagingServiceClient<Channel>,
    people: &[TestUser],
    conversations: &[String],
) -> f64 {
    let deadline = Instant::now() + Duration::from_secs(SECONDS);
    let started = Instant::now();
    let tasks: Vec<_> = talkers(client, people, conversations)
        .await
        .into_iter()
        .enumerate()
        .map(|(n, mut talker)| {
            tokio::spawn(async move {
                let mut served = 0u64;
                let mut i = 0u64;
                let mut id = format!("closed-{n}-{i}");
                while Instant::now() < deadline {
                    let sent = talker.frames.send(frame(&talker.conversation, id.clone()));
                    if sent.await.is_err() {
                        break;
                    }
                    match answer(&mut talker.answers).await {
                        Some((_, Outcome::Served)) => {
                            served += 1;
                            i += 1;
                            id = format!("closed-{n}-{i}");
                        }
                        // Refused: the same again (those after it wait for it).
                        Some((_, Outcome::Refused)) => {
                            tokio::time::sleep(Duration::from_millis(1)).await;
                        }
                        Some((_, Outcome::Failed)) | None => break,
                    }
                }
                served
            })
        })
        .collect();
    let mut served = 0;
    for task in tasks {
        served += task.await.unwrap();
    }
    served as f64 / started.elapsed().as_secs_f64()
}

/// New messages at `rate` per second over the streams in turn, each at
/// its time. Each stream behaves as an app's outbox: a send refused for
/// capacity is sent again after the advised 250 ms, with the sends after
/// it (refused too, held behind it), in order. Every attempt is timed
/// from its sending to its answer, by outcome.
async fn open_loop(
    client: &MessagingServiceClient<Channel>,
    people: &[TestUser],
    conversations: &[String],
    rate: f64,
) -> Outcomes {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut outboxes = Vec::new();
    let mut workers = Vec::new();
    for talker in talkers(client, people, conversations).await {
        let (new, fresh) = mpsc::unbounded_channel::<String>();
        outboxes.push(new);
        workers.push(tokio::spawn(outbox(talker, fresh, tx.clone())));
    }
    drop(tx);
    let total = (rate * SECONDS as f64) as usize;
    let interval = Duration::from_secs_f64(1.0 / rate.max(1.0));
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    for i in 0..total {
        ticks.tick().await;
        let _ = outboxes[i % outboxes.len()].send(format!("open-{i}"));
    }
    drop(outboxes);
    let mut outcomes = Outcomes::default();
    let deadline = Instant::now() + Duration::from_secs(60);
    while let Ok(Some((took, outcome))) = tokio::time::timeout_at(deadline.into(), rx.recv()).await
    {
        match outcome {
            Outcome::Served => outcomes.served.push(took),
            Outcome::Refused => outcomes.refused.push(took),
            Outcome::Failed => outcomes.failed += 1,
        }
    }
    for worker in workers {
        worker.abort();
    }
    outcomes.served.sort();
    outcomes.refused.sort();
    outcomes
}

/// One stream's outbox: sends what comes; after a refusal, holds new
/// messages back, sends the first refused one again after the advised
/// 250 ms and, once it is stored, the rest in order, each once the one
/// before is stored.
async fn outbox(
    mut talker: Talker,
    mut fresh: mpsc::UnboundedReceiver<String>,
    report: mpsc::UnboundedSender<(Duration, Outcome)>,
) {
    use std::collections::{HashMap, VecDeque};
    let mut sent: HashMap<String, Instant> = HashMap::new();
    let mut backlog: VecDeque<String> = VecDeque::new();
    let mut probe: Option<String> = None;
    let mut retry_at: Option<tokio::time::Instant> = None;
    let mut open = true;
    while open || !sent.is_empty() || !backlog.is_empty() {
        let retry = async {
            match retry_at {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        let mut to_send = Vec::new();
        tokio::select! {
            id = fresh.recv(), if open => match id {
                Some(id) if backlog.is_empty() && probe.is_none() => to_send.push(id),
                Some(id) => backlog.push_back(id),
                None => open = false,
            },
            answered = answer(&mut talker.answers) => {
                let Some((id, outcome)) = answered else { return };
                let Some(at) = sent.remove(&id) else { continue };
                let _ = report.send((at.elapsed(), outcome));
                let probed = probe.as_ref() == Some(&id);
                match outcome {
                    // The backlog goes one at a time, each once the last is stored.
                    Outcome::Served if probed => {
                        probe = backlog.pop_front();
                        to_send.extend(probe.clone());
                    }
                    Outcome::Refused => {
                        if probed {
                            probe = None;
                            backlog.push_front(id);
                        } else {
                            backlog.push_back(id);
                        }
                        retry_at.get_or_insert(tokio::time::Instant::now() + Duration::from_millis(250));
                    }
                    _ => {}
                }
            }
            () = retry => {
                retry_at = None;
                if probe.is_none() && let Some(id) = backlog.pop_front() {
                    probe = Some(id.clone());
                    to_send.push(id);
                }
            }
        }
        for id in to_send {
            sent.insert(id.clone(), Instant::now());
            let _ = talker.frames.send(frame(&talker.conversation, id)).await;
        }
    }
}
