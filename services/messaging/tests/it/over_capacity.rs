//! The send path past its capacity: a send that finds no turn is refused
//! at once — SendMessage with UNAVAILABLE `OVER_CAPACITY` and RetryInfo, a
//! Chat send frame with a `SendFailed` carrying the same code and details
//! and its client message id — and nothing of it is stored; a stream's
//! later frames wait for the refused one (never stored before it); sent
//! again later, each is stored once, in one gapless sequence.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::time::Duration;

use frevix_proto::messaging::v1 as pb;
use frevix_proto::messaging::v1::messaging_service_client::MessagingServiceClient;
use frevix_testkit::status::{reason, retry_after};
use frevix_testkit::{Backend, TestApp, TestUser, authed, on_both_backends};
use prost::Message as _;
use tokio::sync::mpsc;
use tokio_stream::StreamExt as _;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Code;
use tonic::transport::Channel;

use crate::support::{befriend, group};

const STREAMS: usize = 6;
const FRAMES: usize = 5;
const UNARY: usize = 20;

fn message(conversation: &str, client_id: &str) -> pb::SendMessageRequest {
    pb::SendMessageRequest {
        conversation_id: conversation.to_owned(),
        text: format!("message {client_id}"),
        client_message_id: client_id.to_owned(),
        ..Default::default()
    }
}

/// Opens `who`'s Chat stream, sends `FRAMES` frames at once and collects
/// each frame's answer: the client ids acknowledged and those refused.
async fn chat_burst(
    mut messaging: MessagingServiceClient<Channel>,
    who: TestUser,
    conversation: String,
) -> (Vec<String>, Vec<pb::SendFailed>) {
    let (frames, outgoing) = mpsc::channel(FRAMES + 1);
    let mut stream = messaging
        .chat(authed(&who.access_token, ReceiverStream::new(outgoing)))
        .await
        .unwrap()
        .into_inner();
    for i in 0..FRAMES {
        let id = format!("{}-chat-{i}", who.account_id);
        let frame = pb::chat_request::Frame::Send(message(&conversation, &id));
        frames
            .send(pb::ChatRequest {
                frame_id: String::new(),
                frame: Some(frame),
            })
            .await
            .unwrap();
    }
    let (mut acked, mut refused) = (Vec::new(), Vec::new());
    while acked.len() + refused.len() < FRAMES {
        let item = tokio::time::timeout(Duration::from_secs(10), stream.next())
            .await
            .expect("a frame went unanswered")
            .expect("the stream ended")
            .unwrap();
        match item.event {
            Some(pb::chat_response::Event::Ack(ack)) => acked.push(ack.client_message_id),
            Some(pb::chat_response::Event::Failed(failed)) => refused.push(failed),
            _ => {}
        }
    }
    (acked, refused)
}

async fn sends_past_capacity_are_refused_at_once_and_lose_nothing(backend: Backend) {
    let app = TestApp::spawn_with(backend, |config| {
        config.messaging.max_concurrent_sends = 1;
        config.messaging.send_wait_ms = 0;
        config.messaging.sends_per_minute = 100_000;
    })
    .await;
    let owner = app.register().await;
    let mut members = Vec::new();
    for _ in 0..STREAMS {
        let member = app.register().await;
        befriend(&app, &owner, &member).await;
        members.push(member);
    }
    let room = group(&app, &owner, &members.iter().collect::<Vec<_>>()).await;

    let unary: Vec<_> = (0..UNARY)
        .map(|i| {
            let mut messaging = app.messaging.clone();
            let request = authed(
                &owner.access_token,
                message(&room.id, &format!("unary-{i}")),
            );
            tokio::spawn(async move { messaging.send_message(request).await })
        })
        .collect();
    let bursts: Vec<_> = members
        .iter()
        .map(|member| {
            let burst = chat_burst(app.messaging.clone(), member.clone(), room.id.clone());
            tokio::spawn(burst)
        })
        .collect();
    let mut stored: BTreeSet<String> = BTreeSet::new();
    let mut again: Vec<(&TestUser, String)> = Vec::new();
    let mut refused_unary = 0;
    for (i, call) in unary.into_iter().enumerate() {
        match call.await.unwrap() {
            Ok(_) => {
                stored.insert(format!("unary-{i}"));
            }
            Err(status) => {
                assert_eq!(status.code(), Code::Unavailable, "{status:?}");
                assert_eq!(reason(&status), "OVER_CAPACITY");
                assert!(retry_after(&status).is_some(), "no retry advice");
                refused_unary += 1;
                again.push((&owner, format!("unary-{i}")));
            }
        }
    }
    let mut refused_frames = 0;
    for (burst, member) in bursts.into_iter().zip(&members) {
        let (acked, refused) = burst.await.unwrap();
        // Order is kept: once a frame is refused, none after it on the
        // stream is stored (each waits for the refused one to come again).
        let index = |id: &str| id.rsplit('-').next().unwrap().parse::<usize>().unwrap();
        let last_stored = acked.iter().map(|id| index(id)).max();
        let first_refused = refused.iter().map(|f| index(&f.client_message_id)).min();
        if let (Some(stored), Some(refused)) = (last_stored, first_refused) {
            assert!(
                stored < refused,
                "frame {stored} stored after {refused} was refused"
            );
        }
        stored.extend(acked);
        for failed in refused {
            assert_eq!(failed.code, Code::Unavailable as i32, "{failed:?}");
            assert!(
                failed.client_message_id.starts_with(&member.account_id),
                "the refusal names the frame: {failed:?}"
            );
            let details = tonic_types::pb::Status {
                code: failed.code,
                message: failed.message.clone(),
                details: failed.details.clone(),
            };
            let status =
                tonic::Status::with_details(Code::Unavailable, "", details.encode_to_vec().into());
            assert_eq!(reason(&status), "OVER_CAPACITY");
            assert!(
                retry_after(&status).is_some(),
                "no retry advice on the frame"
            );
            refused_frames += 1;
            again.push((member, failed.client_message_id));
        }
    }
    assert!(
        refused_unary > 0,
        "one turn, no wait: some call must be refused"
    );
    assert!(
        refused_frames > 0,
        "one turn, no wait: some frame must be refused"
    );

    // Nothing refused was stored.
    let listed = messages(&app, &owner, &room.id).await;
    let ids: BTreeSet<String> = listed.iter().map(|m| m.client_message_id.clone()).collect();
    assert_eq!(ids, stored);

    // Sent again when told, one at a time: every one stored once.
    for (who, id) in &again {
        let mut messaging = app.messaging.clone();
        loop {
            let request = authed(&who.access_token, message(&room.id, id));
            match messaging.send_message(request).await {
                Ok(_) => break,
                Err(status) => assert_eq!(reason(&status), "OVER_CAPACITY"),
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let listed = messages(&app, &owner, &room.id).await;
    let total = UNARY + STREAMS * FRAMES;
    let ids: BTreeSet<&str> = listed
        .iter()
        .map(|m| m.client_message_id.as_str())
        .collect();
    assert_eq!((listed.len(), ids.len()), (total, total), "each once");
    let sequences: Vec<i64> = listed.iter().map(|m| m.sequence).collect();
    assert_eq!(sequences, (1..=total as i64).collect::<Vec<_>>(), "no gap");
}

/// The group's messages, oldest first.
async fn messages(app: &TestApp, who: &TestUser, conversation: &str) -> Vec<pb::Message> {
    app.messaging
        .clone()
        .get_messages(authed(
            &who.access_token,
            pb::GetMessagesRequest {
                conversation_id: conversation.to_owned(),
                limit: 200,
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .messages
}

on_both_backends!(sends_past_capacity_are_refused_at_once_and_lose_nothing);
